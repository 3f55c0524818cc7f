"""Hostile table text and questions in what we write and show: CSV exports, segment numbers,
links in Markdown, and small counts in chat answers.
"""
from __future__ import annotations

import re

import csv
import io

import numpy as np
import pandas as pd
import pytest

from explainers.chat import ChatEngine
from explainers.chat.numbers import MIN_GROUP
from explainers.chat.render import md_text
from explainers.format import md_escape
from segmenter.export import neutralise_formula, safe_for_spreadsheet, write_assignments_csv
from tests.hostile import small_run

#: Cells a spreadsheet may run (or run once it drops the invisible first character).
RISKY = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\x00=HYPERLINK(\"http://x\",\"y\")", "\x1b=1", "\n=1",
         "\x7f=1", "\u200b=1+1", "\ufeff=1", " =1+1", "\u3000@SUM(1)", "\uff1d1+1", "\ufe6b1", "\x00",
         "\x0bcmd", "\u2028=1"]
PLAIN = ["Anna", "north", "C100001", "  spaced", "1,000", "Ève", "", "'quoted"]


@pytest.fixture(scope="module")
def run():
    return small_run()


def test_control_led_and_hidden_led_cells_are_neutralised_in_csv_exports(tmp_path):
    frame = pd.DataFrame({"id": RISKY + PLAIN, "n": range(len(RISKY) + len(PLAIN))})
    text = safe_for_spreadsheet(frame).to_csv(index=False)
    cells = [row[0] for row in csv.reader(io.StringIO(text, newline=""))][1:]
    assert len(cells) == len(RISKY) + len(PLAIN)
    for original, written in zip(RISKY + PLAIN, cells, strict=True):
        if original in RISKY:  # a bare carriage return would end the row: it is a line feed
            assert written == "'" + original.replace("\r", "\n"), repr(original)
        else:
            assert written == original, repr(original)
    assert neutralise_formula(3) == 3 and neutralise_formula(None) is None


def test_assignments_of_a_table_with_hostile_ids_are_spreadsheet_safe(tmp_path):
    from segmenter.model import CustomerSegmenter

    rng = np.random.default_rng(0)
    n = 60
    ids = [f"{RISKY[i % len(RISKY)]}#{i}" for i in range(n)]
    table = pd.DataFrame({"customer_id": ids, "spend": np.repeat([10.0, 100.0, 1000.0], n // 3) + rng.normal(0, 1, n),
                          "visits": np.repeat([1.0, 5.0, 20.0], n // 3) + rng.normal(0, 0.3, n)})
    model = CustomerSegmenter(algorithm="kmeans", k=3, id_column="customer_id", compare=False,
                              stability_runs=0).fit(table)
    path = write_assignments_csv(model.report_, tmp_path / "assignments.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        written = [row[0] for row in csv.reader(fh)][1:]
    stored = [str(i) for i in model.report_.assignments["id"]]  # ids as read (surrounding spaces stripped)
    assert [w.removeprefix("'") for w in written] == [i.replace("\r", "\n") for i in stored]
    for lead in ("\x00", "\x1b", "\x7f", "\u200b", "\ufeff", "=", "@", "+", "-", "\uff1d"):
        hits = [w for w, i in zip(written, stored, strict=True) if i.startswith(lead)]
        assert hits and all(w.startswith("'") for w in hits), (lead, hits)


def test_segment_minus_one_is_the_unassigned_group_not_segment_one(run, hdbscan_report):
    kmeans = ChatEngine(*run)
    answer = kmeans.ask("How big is segment -1?")
    assert answer.operation == "unassigned" and "segment 1)" not in answer.text  # K-Means: no such group
    noisy = ChatEngine(hdbscan_report)
    noise = next(s for s in hdbscan_report.segments if s.is_noise)
    answer = noisy.ask("How big is segment -1?")
    assert answer.operation == "unassigned" and f"{noise.size:,}" in answer.text
    refused = kmeans.ask("How big is segment -3?")
    assert refused.args["reason"] == "no_such_segment" and "segment -3" in refused.text
    count = kmeans.ask("How many customers have an annual spend above -100?")
    assert count.args["conditions"][0]["value"] == -100.0  # the sign of a threshold is kept too


@pytest.mark.parametrize("escape", [md_escape, md_text])
def test_web_and_mail_addresses_from_table_text_are_not_links_in_markdown(escape):
    import re

    for text in ("https://evil.example", "HTTP://EVIL.EXAMPLE/x", "ftp://evil.example", "www.evil.example",
                 "WWW.Evil.Example", "visit www.evil.example now", "bob@evil.example", "javascript://x"):
        out = escape(text)
        assert not re.search(r"(?i)[a-z0-9]://|(?<![a-z0-9\\])www\.|\w@\w", out), (text, out)
        assert re.sub(r"\\(.)", r"\1", out) == text  # reads the same once rendered
    assert escape("St. Louis, 3.5 stars") == "St. Louis, 3.5 stars"


# ------------------------------------------------------------------ small counts
def _values(answer) -> set:
    return {round(float(n["value"]), 6) for n in answer.numbers}


def test_counts_under_the_minimum_group_are_fewer_than_5_and_nothing_gives_them_away(run):
    report, customers = run
    engine = ChatEngine(report, customers)
    seg4 = customers["__segment__"] == 4
    nonbinary = int((seg4 & (customers["gender"] == "non-binary")).sum())
    assert 0 < nonbinary < MIN_GROUP  # the table this test relies on
    answer = engine.ask("How many customers in segment 4 are non-binary?")
    assert answer.operation == "count_customers"
    assert answer.text.startswith("Fewer than 5 of the 197") or "fewer than 5 of the 197" in answer.text.lower()
    assert "%" not in answer.text  # no share: share x 197 would give the count back
    assert float(nonbinary) not in _values(answer)

    complement = engine.ask("How many customers in segment 4 are not non-binary?")
    assert "all but fewer than 5 of the 197" in complement.text.lower() and "%" not in complement.text
    assert float(197 - nonbinary) not in _values(complement)

    share = engine.ask("What share of segment 4 is non-binary?")
    assert "under 2.5%" in share.text.lower() and round(nonbinary / 197, 6) not in _values(share)
    for question in ("Describe segment 4", "Compare segment 4 and segment 2 on gender",
                     "Which segment has the most non-binary customers?"):
        text = engine.ask(question).text
        assert not re.search(r"(?<![\d.])1(?:\.0)?%", text), (question, text)  # 1% / 1.0%, not 31% or 11%


def test_a_range_filter_probing_one_value_counts_fewer_than_5(run):
    report, customers = run
    engine = ChatEngine(report, customers)
    value = float(customers["annual_spend"].round(0).iloc[11])
    exact = int((customers["annual_spend"].between(value, value + 1)).sum())
    assert exact < MIN_GROUP
    answer = engine.ask(f"How many customers have an annual spend between {value:.0f} and {value + 1:.0f}?")
    assert answer.operation == "count_customers" and "fewer than 5" in answer.text.lower()
    assert float(exact) not in _values(answer) or exact == MIN_GROUP
    big = engine.ask("How many customers have an annual spend above 1000?")  # large counts stay exact
    assert f"{int((customers['annual_spend'] > 1000).sum()):,}" in big.text


@pytest.mark.parametrize("n", [5, 6, 9, 40, 197, 2011, 4999, 100_000])
def test_a_bounded_share_is_true_for_every_hidden_count_and_never_over_100_percent(n):
    from explainers.chat.numbers import NumberBook

    for k in sorted({*range(0, min(5, n + 1)), *range(max(0, n - 4), n + 1)}):
        book = NumberBook()
        shown = book.group_share(k / n, n, "test")
        value = float(shown.split()[-1].rstrip("%")) / 100
        if shown.startswith("under"):
            assert k / n < value, (n, k, shown)
        elif shown.startswith("over"):
            assert k / n > value and value < 1.0, (n, k, shown)
        else:
            assert 5 <= k <= n - 5, (n, k, shown)
