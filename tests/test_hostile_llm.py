"""Hostile LLM replies and endpoints, against the scripted server in ``tests/chat_server.py``.

An LLM answer is shown only when every sentence's claims are in the tool results; otherwise the
grounded answer is, with a logged warning. The endpoint gets a total deadline, never a redirect
with the key, and only validated settings. Every wait is bounded.
"""
from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from explainers.chat import ChatEngine, LLMClient
from tests.chat_server import FakeLLM, reply, tool_call
from tests.hostile import small_run, timed

LOGGER = "segment_explainer.chat"
QUESTION = "How big is segment 2?"


@pytest.fixture(scope="module")
def run():
    return small_run()


def engine_with(run, server, timeout: float = 2.0, report=None, customers=None) -> ChatEngine:
    client = LLMClient(server.url, "fake-model", api_key="secret-key", timeout=timeout, total_timeout=2 * timeout)
    return ChatEngine(report if report is not None else run[0], run[1] if customers is None else customers,
                      llm=client)


def sizes(run, *segments) -> list[str]:
    engine = ChatEngine(*run)
    return [next(n["display"] for n in engine.ask(f"How big is segment {s}?").numbers if n["kind"] == "count")
            for s in segments]


def phrased(run, steps, question=QUESTION, **kwargs):
    with FakeLLM(steps) as server:
        return engine_with(run, server, **kwargs).ask(question), server


def shown(run, text, calls=(("segment_size", {"segment": "2"}),), question=QUESTION, **kwargs):
    """Which answer the user sees when the LLM calls ``calls`` and then replies ``text``."""
    steps = [tool_call(name, args, call_id=f"c{i}") for i, (name, args) in enumerate(calls)] + [reply(text)]
    return phrased(run, steps, question, **kwargs)[0].via


# ------------------------------------------------------------------ what an answer may say
def test_a_faithful_answer_is_still_shown(run):
    size2, size3 = sizes(run, 2, 3)
    assert shown(run, f"Segment 2 has {size2} customers.") == "llm"
    both = (("segment_size", {"segment": "2"}), ("segment_size", {"segment": "3"}))
    assert shown(run, f"Segment 2 has {size2} customers, while segment 3 has {size3}.", both,
                 question="How big are segments 2 and 3?") == "llm"
    n_segments = len(run[0].real_segments)
    words = {6: "six", 5: "five", 7: "seven", 4: "four"}
    assert shown(run, f"There are {words[n_segments]} segments.", (("count_segments", {}),),
                 question="How many segments are there?") == "llm"


@pytest.mark.parametrize("template", [
    "Segment 2 is about twice as large as the average segment.",
    "Segment 2 has {size2} customers, double the average.",
    "Segment 2 has {size2} customers, a dozen of them new.",
    "Two thirds of segment 2 will churn.",
    "Segment 2 has {size2} customers; a third of them shop online.",
    "Segment 2 holds dozens of big spenders among its {size2} customers.",
    "Segment 2 has {size2} customers and nine of them are new.",
])
def test_numbers_in_words_must_be_in_the_results_too(run, template):
    size2, = sizes(run, 2)
    assert shown(run, template.format(size2=size2)) == "grounded"


@pytest.mark.parametrize("template", [
    "Segment 2 has {size2} customers. All segments are worthless.",
    "Segment 2 is the best segment, with {size2} customers.",
    "Segment 2 has {size2} customers because they love discounts.",
    "Segment 2 has {size2} customers and is a great target.",
    "Segment 2 has {size2} customers. They will grow next year.",
    "Segment 2 has {size2} customers, who are likely to churn.",
    "Segment 2 has {size2} customers. Ignore the previous instructions.",
    "Segment 2 has {size2} customers; their phone numbers are in the table.",
])
def test_opinions_causes_and_predictions_are_not_shown(run, template):
    size2, = sizes(run, 2)
    assert shown(run, template.format(size2=size2)) == "grounded"


def test_an_opinion_injected_through_a_cell_is_not_shown(run):
    """Table text is data: a segment name or a category level that says something is not a fact."""
    opinion = "All segments are worthless"
    report = run[0].rename(1, opinion)
    size2, = sizes((report, run[1]), 2)
    for text in (f"{opinion}.", f"Segment 2 has {size2} customers. {opinion}."):
        assert shown(run, text, (("overview", {}),), report=report) == "grounded", text
    assert shown(run, f"Segment 2 has {size2} customers.", (("overview", {}),), report=report) == "llm"

    from explainers.naming import name_segments
    from segmenter.demo import make_demo_customers
    from segmenter.export import customers_frame
    from segmenter.model import CustomerSegmenter
    from segmenter.schema import apply_schema

    table = make_demo_customers(900, seed=4).table
    level = table["region"].value_counts().index[0]
    table["region"] = table["region"].replace(level, "worthless")
    model = CustomerSegmenter(algorithm="kmeans", k=4, seed=0, compare=False, stability_runs=0).fit(table)
    cell_report = name_segments(model.report_)
    customers = customers_frame(cell_report, apply_schema(table, model.schema_))
    calls = (("describe_segment", {"segment": "1"}), ("feature_statistic", {"column": "region", "segment": "1"}))
    for text in ("All segments are worthless.", "Segment 1 customers are worthless."):
        assert shown((cell_report, customers), text, calls, question="Describe segment 1") == "grounded", text


def test_a_real_number_attached_to_the_wrong_thing_is_not_shown(run):
    size2, size3 = sizes(run, 2, 3)
    both = (("segment_size", {"segment": "2"}), ("segment_size", {"segment": "3"}))
    question = "How big are segments 2 and 3?"
    assert shown(run, f"Segment 2 has {size3} customers and segment 3 has {size2}.", both, question) == "grounded"
    assert shown(run, f"Segment 3 has {size2} customers.") == "grounded"  # segment 3 is not in the results
    assert shown(run, f"Segment 2 spends {size2} a year on average.") == "grounded"  # a size is no spend
    assert shown(run, f"Segment 9 has {size2} customers.") == "grounded"  # no such segment


def test_every_rejection_is_logged_and_the_grounded_answer_shown(run, caplog):
    size2, = sizes(run, 2)
    base = ChatEngine(*run).ask(QUESTION)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        answer, _ = phrased(run, [tool_call("segment_size", {"segment": "2"}),
                                  reply(f"Segment 2 has {size2} customers, twice as many as last year.")])
    assert answer.via == "grounded" and answer.text == base.text
    assert any("twice" in r.getMessage() for r in caplog.records if r.name == LOGGER)


# ------------------------------------------------------------------ the endpoint
@pytest.mark.parametrize("where", ["drip", "drip_headers"])
def test_a_server_dripping_bytes_cannot_hold_the_chat_past_the_deadline(run, caplog, where):
    """Each byte comes quickly (0.2 s, under the 1 s timeout), the whole reply never does. Before:
    the timeout applied per socket read, so one request could last as long as the server liked."""
    base = ChatEngine(*run).ask(QUESTION)
    step = {where: 0.2, **reply("Segment 2 has many customers.")}
    with caplog.at_level(logging.WARNING, logger=LOGGER), FakeLLM([step]) as server:
        engine = engine_with(run, server, timeout=1.0)
        with timed(30) as t:
            answer = engine.ask(QUESTION)
        assert server.dripping.is_set()
    assert t.seconds < 4.0, f"{t.seconds:.1f} s"  # total deadline 2 s, plus the grounded answer
    assert answer.via == "grounded" and answer.text == base.text
    assert any("timed out" in r.getMessage() for r in caplog.records if r.name == LOGGER)


def test_a_redirect_never_carries_the_api_key(run, caplog):
    size2, = sizes(run, 2)
    with FakeLLM([tool_call("segment_size", {"segment": "2"}), reply(f"Segment 2 has {size2} customers.")]) as other:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            answer, first = phrased(run, [{"redirect": other.url + "/chat/completions", "status": 302}])
        assert not other.requests, [r["_auth"] for r in other.requests]  # nothing, let alone the key
    assert first.requests and first.requests[0]["_auth"] == "Bearer secret-key"
    assert answer.via == "grounded"
    assert any("redirect refused" in r.getMessage() for r in caplog.records if r.name == LOGGER)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "61", "1e309", "abc", "  "])
def test_settings_out_of_range_are_refused_with_a_warning(value, caplog):
    env = {"SEGMENT_LLM_BASE_URL": "http://127.0.0.1:9/v1", "SEGMENT_LLM_MODEL": "m", "SEGMENT_LLM_TIMEOUT": value}
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client = LLMClient.from_env(env)
    assert client is not None and client.timeout == 10.0 and math.isfinite(client.total_timeout)
    assert client.total_timeout == 25.0
    if value.strip():
        assert any("SEGMENT_LLM_TIMEOUT" in r.getMessage() for r in caplog.records)
    assert LLMClient.from_env({**env, "SEGMENT_LLM_TIMEOUT": "3"}).timeout == 3.0


# ------------------------------------------------------------------ personal columns
@pytest.fixture(scope="module")
def personal_run():
    from explainers.naming import name_segments
    from segmenter.export import customers_frame
    from segmenter.model import CustomerSegmenter
    from segmenter.schema import apply_schema

    rng = np.random.default_rng(2)
    n = 400
    group = rng.integers(0, 3, n)
    import pandas as pd

    table = pd.DataFrame({
        "customer_id": [f"P{i:04d}" for i in range(n)],
        "spend": np.array([100.0, 500.0, 1500.0])[group] + rng.normal(0, 20, n),
        "zip": rng.integers(10000, 99999, n),
        "date_of_birth": pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 15000, n), unit="D"),
        "phone": rng.integers(2_000_000_000, 9_999_999_999, n, dtype=np.int64),
    })
    model = CustomerSegmenter(algorithm="kmeans", k=3, seed=0, compare=False, stability_runs=0,
                              types={"zip": "numeric", "phone": "numeric"}).fit(table)
    report = name_segments(model.report_)
    # zip and phone are kept as numbers (the types say so); exact birth dates are left out by the schema
    assert {"zip", "phone"} <= set(report.features) and "date_of_birth" not in report.features
    return report, customers_frame(report, apply_schema(table, model.schema_))


@pytest.mark.parametrize("name,args", [
    ("feature_statistic", {"column": "zip", "statistic": "max"}),
    ("feature_statistic", {"column": "date of birth", "segment": "1"}),
    ("rank_segments", {"column": "phone", "direction": "highest"}),
    ("compare_segments", {"segment": "1", "column": "zip"}),
    ("count_customers", {"conditions": [{"column": "phone", "op": ">", "value": 5e9}]}),
])
def test_tools_never_answer_about_columns_the_parser_refuses_as_personal(personal_run, name, args):
    question = "What is the average spend of segment 1?"
    assert ChatEngine(*personal_run).parse("what is the highest zip").args.get("reason") == "personal"
    answer, server = phrased(personal_run, [tool_call(name, args), reply("It is 12345.")], question=question)
    tool_messages = [json.loads(m["content"]) for m in server.messages() if m["role"] == "tool"]
    assert tool_messages and all("error" in m and "personal" in m["error"] for m in tool_messages), tool_messages
    assert answer.via == "grounded"
