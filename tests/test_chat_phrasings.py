"""Chat phrasings found by blind question set 2 (tests/chat_eval/blind2/RESULTS_first_run.md), on a
planted table whose answers pandas computes: the yes/no column's "no" side, direction words inside
segment names, counted things ("2 kids"), a bare number before a second comparison, a follow-up
share of a count, words of columns this table lacks, and label levels in an agreement question."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from explainers.chat import ChatEngine


def _planted(n: int = 900, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    age = np.choose(group, [rng.normal(28, 3, n), rng.normal(56, 4, n), rng.normal(41, 3, n)])
    income = np.choose(group, [rng.normal(35, 5, n), rng.normal(75, 6, n), rng.normal(110, 8, n)])
    kids = np.choose(group, [np.zeros(n, int), rng.integers(1, 3, n), rng.integers(0, 2, n)])
    married = np.where(np.choose(group, [rng.random(n) < 0.1, rng.random(n) < 0.95, rng.random(n) < 0.5]),
                       "Yes", "No")
    label = np.array(list("ABCD"))[np.choose(group, [rng.integers(0, 2, n), rng.integers(2, 4, n),
                                                     rng.integers(0, 4, n)])]
    return pd.DataFrame({"Age": age.round(), "Annual Income (k$)": income.round(), "Kidhome": kids,
                         "Ever_Married": married, "Segmentation": label})


@pytest.fixture(scope="module")
def planted():
    from explainers.analysis import analyse

    table = _planted()
    analysis = analyse(table, algorithm="kmeans", k=3, seed=0, compare=False, stability_runs=0)
    report = analysis.report
    segment = np.asarray(report.assignments["segment"])
    return table, segment, report, ChatEngine.from_analysis(analysis, llm_from_env=False)


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def test_never_married_is_the_no_side_of_the_yes_no_column(planted):
    table, segment, report, engine = planted
    no = (table["Ever_Married"] == "No").mean()
    text = engine.ask("what share of all customers never married").text
    assert _pct(no) in text and "no" in text, text
    ranked = engine.ask("which segment has the highest share of never married customers").text
    per_seg = {s: (table["Ever_Married"][segment == s] == "No").mean() for s in set(segment) if s >= 0}
    top = max(per_seg, key=per_seg.get)
    assert f"(segment {top})" in ranked.split("\n")[0] and _pct(per_seg[top]) in ranked.split("\n")[0], ranked


def test_direction_words_inside_a_segment_name_are_not_the_question(planted):
    table, segment, report, engine = planted
    older = max((s for s in report.segments if not s.is_noise),
                key=lambda s: table["Age"][segment == s.id].mean())
    other = next(s for s in report.segments if not s.is_noise and s.id != older.id)
    renamed = ChatEngine(report.rename(other.id, "Younger Thrifty Customers"), engine.customers)
    text = renamed.ask(f"who has a higher age: younger thrifty customers or segment {older.id}?").text
    assert re.match(rf"\*\*.*\*\* \(segment {older.id}\) has the higher", text), text


def test_a_counted_thing_after_have_is_an_exact_count(planted):
    table, _, _, engine = planted
    text = engine.ask("how many customers have 2 kids at home?").text
    assert f"{int((table['Kidhome'] == 2).sum()):,}" in text, text


def test_a_bare_number_before_a_second_comparison_is_the_age(planted):
    table, _, _, engine = planted
    gold = int(((table["Age"] > 50) & (table["Annual Income (k$)"] > 70)).sum())
    text = engine.ask("how many customers over 50 earn more than 70k").text
    assert f"{gold:,} of the" in text, text


def test_what_share_is_that_after_a_count(planted):
    table, segment, report, engine = planted
    sid = report.segments[0].id if not report.segments[0].is_noise else report.segments[1].id
    conv = engine.conversation()
    conv.ask(f"tell me about segment {sid}")
    conv.ask("how many of them earn more than 70k?")
    text = conv.ask("and what share is that?").text
    share = (table["Annual Income (k$)"][segment == sid] > 70).mean()
    assert text.startswith(_pct(share)) or _pct(share) in text.split("\n")[0], text
    assert "customers" in text and "has " not in text.split(".")[0], text


def test_a_column_word_this_table_lacks_is_refused_not_fixed_into_another_word():
    from explainers.analysis import analyse

    table = _planted(300).drop(columns=["Kidhome"])  # no kids column: "kids" is not a typo of "kinds"
    engine = ChatEngine.from_analysis(analyse(table, algorithm="kmeans", k=3, seed=0, compare=False,
                                              stability_runs=0), llm_from_env=False)
    for question in ("how many of the older customers have kids?", "how many customers over 60 have kids"):
        ans = engine.ask(question)
        assert not ans.answered and "personal" not in ans.text, (question, ans.text)


def test_label_levels_in_an_agreement_question(planted):
    _, _, _, engine = planted
    text = engine.ask("do these segments match the sales team's A-D labels?").text
    assert "adjusted Rand index" in text, text
