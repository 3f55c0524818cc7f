"""Blind chat evaluation on the real tables (see tests/chat_eval/harness.py).

Question sets, each written by someone who had not read the parser (tests/chat_eval/, heldout/,
blind2/, blind3/; harness.SETS). Every set must stay at >= 95% accuracy and no wrong answer on every
table; the sets cannot be thinned out to pass (>= 60 questions, >= 10 refusal-type ones each, 8 for blind2).
Each table is segmented once for all sets.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EVAL_DIR = Path(__file__).resolve().parent / "chat_eval"
STEMS = ["mall_customers", "cc_general", "marketing_campaign", "customer_segmentation_train"]
#: The sets that must pass (each joined after its first, held-out run was recorded in RESULTS_first_run.md).
SETS = ["first", "heldout", "blind2", "blind3"]
#: Refusal-type questions each table's set must keep (blind2 was written with 8-9 per table).
MIN_REFUSALS = {"first": 10, "heldout": 10, "blind2": 8, "blind3": 10}

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} is absent")


def _harness():
    spec = importlib.util.spec_from_file_location("chat_eval_harness", EVAL_DIR / "harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness():
    return _harness()


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

    def get(stem, which="first"):
        if (stem, which) not in cache:
            cache[stem, which] = harness.evaluate(stem, analysis=analyses(stem), data_dir=DATA, which=which)
        return cache[stem, which]

    return get


@pytest.mark.parametrize("which", SETS)
@pytest.mark.parametrize("stem", STEMS)
def test_question_set_is_not_thinned(harness, stem, which):
    counts = harness.question_counts(harness.load_set(stem, which))
    assert counts["questions"] >= 60, counts
    assert counts["refusal_type"] >= MIN_REFUSALS[which], counts


@pytest.mark.parametrize("which", SETS)
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
