"""Blind chat evaluation on the real tables (see tests/chat_eval/harness.py).

Expected to fail until the chat is good enough: accuracy >= 95% and no wrong answers on
every table. The question sets cannot be thinned out to pass: each must keep >= 60
questions and >= 10 refusal-type ones.
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


@pytest.fixture(scope="module")
def results(harness):
    """One analysis and one full run per table, shared by the tests below."""
    cache = {}

    def get(stem):
        if stem not in cache:
            cache[stem] = harness.evaluate(stem, data_dir=DATA)
        return cache[stem]

    return get


@pytest.mark.parametrize("stem", STEMS)
def test_question_set_is_not_thinned(harness, stem):
    counts = harness.question_counts(harness.load_set(stem))
    assert counts["questions"] >= 60, counts
    assert counts["refusal_type"] >= 10, counts


@pytest.mark.parametrize("stem", STEMS)
def test_chat_accuracy(harness, results, stem):
    if not (DATA / f"{stem}.csv").is_file():
        pytest.skip(f"{stem}.csv is absent")
    res = results(stem)
    report = harness.format_result(res)
    print(report)
    assert res["skipped"] < res["questions"], "every question was skipped"
    assert res["wrong"] == 0 and res["accuracy"] >= 0.95, (
        f"{stem}: accuracy {res['accuracy']:.1%}, wrong {res['wrong']}, refused "
        f"{res['refused']}\n{report}")
