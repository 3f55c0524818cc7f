"""Blind chat evaluation on the real tables (see tests/chat_eval/harness.py).

Two question sets, each written by someone who had not read the parser: tests/chat_eval/ and
tests/chat_eval/heldout/ (run through its wrapper, which skips questions naming a segment by
a part of its name that the segmentation no longer has). Both must stay at >= 95% accuracy
and no wrong answer on every table; the sets cannot be thinned out to pass (>= 60 questions,
>= 10 refusal-type ones each). Each table is segmented once for both sets.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EVAL_DIR = Path(__file__).resolve().parent / "chat_eval"
STEMS = ["mall_customers", "cc_general", "marketing_campaign", "customer_segmentation_train"]

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} is absent")


def _harness():
    spec = importlib.util.spec_from_file_location("chat_eval_harness", EVAL_DIR / "harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness():
    return _harness()


def _heldout():
    """The held-out wrapper's (patched) harness module."""
    spec = importlib.util.spec_from_file_location("chat_eval_heldout", EVAL_DIR / "heldout" / "run_heldout.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.harness


@pytest.fixture(scope="module")
def analyses():
    from explainers.analysis import analyse
    from segmenter.load import load_table

    cache = {}

    def get(stem):
        if stem not in cache:
            cache[stem] = analyse(load_table(DATA / f"{stem}.csv"))
        return cache[stem]

    return get


@pytest.fixture(scope="module")
def results(harness, analyses):
    """One full run per table and set, on the shared analyses."""
    cache = {}
    heldout = _heldout()

    def get(stem, which="first"):
        if (stem, which) not in cache:
            h = harness if which == "first" else heldout
            cache[stem, which] = h.evaluate(stem, analysis=analyses(stem), data_dir=DATA)
        return cache[stem, which]

    return get


@pytest.mark.parametrize("stem", STEMS)
def test_question_set_is_not_thinned(harness, stem):
    counts = harness.question_counts(harness.load_set(stem))
    assert counts["questions"] >= 60, counts
    assert counts["refusal_type"] >= 10, counts


@pytest.mark.parametrize("stem", STEMS)
def test_heldout_set_is_not_thinned(stem):
    harness = _heldout()
    counts = harness.question_counts(harness.load_set(stem))
    assert counts["questions"] >= 60, counts
    assert counts["refusal_type"] >= 10, counts


@pytest.mark.parametrize("which", ["first", "heldout"])
@pytest.mark.parametrize("stem", STEMS)
def test_chat_accuracy(harness, results, stem, which):
    if not (DATA / f"{stem}.csv").is_file():
        pytest.skip(f"{stem}.csv is absent")
    res = results(stem, which)
    report = harness.format_result(res)
    print(report)
    assert res["skipped"] < res["questions"], "every question was skipped"
    assert res["wrong"] == 0 and res["accuracy"] >= 0.95, (
        f"{stem}: accuracy {res['accuracy']:.1%}, wrong {res['wrong']}, refused "
        f"{res['refused']}\n{report}")
