"""A person's corrections of column meanings (and weights) reach every surface.

A table with planted segments has one column whose name says nothing ("Var_7") and which
alone separates one segment. Relabelling it ("wine spend"), giving it name words and a role
must change the segment's name, the persona card, the actions and the chat; a weight of 0
must leave a column out; the edit table, the files written for ``--meanings`` and the LLM's
proposals are checked like any other input.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import app_session as sup
from explainers.analysis import analyse
from explainers.cards import render_card_markdown
from explainers.chat import ChatEngine
from explainers.label_proposals import propose_labels
from segmenter.errors import ColumnError, ParameterError
from segmenter.meanings import (apply_overrides, meaning_rows, overrides_from_rows, read_overrides,
                                write_overrides)
from segmenter.schema import infer_schema
from tests.chat_server import FakeLLM, reply

WINE = {"Var_7": {"label": "wine spend", "role": "money", "unit": "currency",
                  "names": {"higher": ["Wine-Loving", "adj"], "lower": ["Wine-Shy", "adj"]}}}


def planted_table(n: int = 900, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three segments: group 2 is high on Var_7 only; group 1 is older; group 0 earns more."""
    rng = np.random.default_rng(seed)
    group = np.repeat([0, 1, 2], n // 3)
    table = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "Var_7": np.where(group == 2, 900, 60) * rng.lognormal(0, 0.15, n),
        "age": np.where(group == 1, 67, 34) + rng.normal(0, 4, n),
        "income": np.where(group == 0, 95_000, 42_000) * rng.lognormal(0, 0.12, n),
        "notes_code": rng.integers(0, 5, n),
    })
    return table, group


@pytest.fixture(scope="module")
def runs():
    table, group = planted_table()
    settings = dict(algorithm="kmeans", k=3, seed=0, compare=False, stability_runs=0)
    plain = analyse(table, **settings)
    edited = analyse(table, meanings=WINE, **settings)
    return table, group, plain, edited


def _wine_segment(analysis, group, table):
    seg = analysis.report.assignments.set_index("id")["segment"].reindex(table["customer_id"]).to_numpy()
    return int(pd.Series(seg[group == 2]).mode()[0])


def test_a_relabelled_column_names_the_segment_and_reads_on_the_card(runs):
    table, group, plain, edited = runs
    s_plain, s_edit = _wine_segment(plain, group, table), _wine_segment(edited, group, table)
    plain_name = next(s.name for s in plain.report.segments if s.id == s_plain)
    edited_seg = next(s for s in edited.report.segments if s.id == s_edit)
    assert "Wine" not in plain_name and "Wine-Loving" in edited_seg.name, (plain_name, edited_seg.name)
    card = render_card_markdown(edited.report, s_edit)
    assert "wine spend" in card and "Var_7" not in card and "var 7" not in card.lower()
    assert edited.report.meaning("Var_7").source == "user"
    assert edited.report.params["meanings_changed"] == ["Var_7"]
    # the same assignments: a label changes words, never segments
    assert (plain.report.assignments["segment"].to_numpy() == edited.report.assignments["segment"].to_numpy()).all()


def test_the_chat_speaks_the_corrected_label(runs):
    table, group, plain, edited = runs
    engine = ChatEngine.from_analysis(edited, llm_from_env=False)
    answer = engine.ask("Which segment has the highest wine spend?")
    assert answer.operation == "rank_segments" and answer.args["feature"] == "Var_7"
    assert f"segment {_wine_segment(edited, group, table)})" in answer.text
    before = ChatEngine.from_analysis(plain, llm_from_env=False).ask("Which segment has the highest wine spend?")
    assert not before.answered  # the table itself never says "wine"


def test_a_weight_of_zero_leaves_a_column_out_and_weights_are_recorded():
    table, _ = planted_table(600)
    out = analyse(table, algorithm="kmeans", k=3, seed=0, compare=False, stability_runs=0,
                  weights={"notes_code": 0, "income": 2})
    assert "notes_code" not in out.report.features and "income" in out.report.features
    assert out.report.params["weights"] == {"notes_code": 0, "income": 2}


def test_edit_rows_report_only_changes_and_refuse_bad_values():
    table, _ = planted_table(300)
    meanings = infer_schema(table).meanings
    rows = meaning_rows(meanings)
    assert {r["column"] for r in rows} >= {"Var_7", "age", "income"}
    assert overrides_from_rows(meanings, rows) == {}  # nothing edited, nothing changed
    edited = [dict(r, label="wine spend") if r["column"] == "Var_7" else r for r in rows]
    assert overrides_from_rows(meanings, edited) == {"Var_7": {"label": "wine spend"}}
    for change, error in (({"role": "wizard"}, ParameterError), ({"unit": "parsecs"}, ParameterError),
                          ({"label": "  "}, ParameterError), ({"label": "x" * 200}, ParameterError)):
        bad = [dict(r, **change) if r["column"] == "age" else r for r in rows]
        with pytest.raises(error):
            overrides_from_rows(meanings, bad)
    with pytest.raises(ColumnError, match="not in the table"):
        overrides_from_rows(meanings, rows + [{"column": "nope", "label": "x"}])


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_written_meanings_file_reads_back_without_changing_anything(tmp_path, suffix):
    table, _ = planted_table(300)
    meanings = infer_schema(table).meanings
    path = write_overrides(meanings, tmp_path / f"meanings{suffix}")
    again = apply_overrides(meanings, read_overrides(path))
    assert all(again[c].source == "inferred" and again[c] == meanings[c] for c in meanings)
    text = path.read_text(encoding="utf-8").replace("var 7", "wine spend")
    path.write_text(text, encoding="utf-8")
    changed = apply_overrides(meanings, read_overrides(path))
    assert changed["Var_7"].label == "wine spend" and changed["Var_7"].source == "user"
    assert [c for c in changed if changed[c].source == "user"] == ["Var_7"]


def test_the_cli_takes_meanings_weights_and_implausible_rows(tmp_path, capsys):
    from cli import main

    table, _ = planted_table(600)
    table.loc[:4, "age"] = 190.0  # impossible ages
    csv = tmp_path / "t.csv"
    table.to_csv(csv, index=False)
    assert main(["meanings", str(csv), "--out", str(tmp_path / "m.json")]) == 0
    printed = capsys.readouterr().out
    assert "Var_7" in printed and "age" in printed
    data = json.loads((tmp_path / "m.json").read_text())
    data["Var_7"]["label"] = "wine spend"
    (tmp_path / "m.json").write_text(json.dumps(data))
    code = main(["run", str(csv), "--algorithm", "kmeans", "--k", "3", "--meanings", str(tmp_path / "m.json"),
                 "--weight", "notes_code=0", "--drop-implausible", "--quiet", "--out", str(tmp_path / "out")])
    assert code == 0
    from segmenter.report import SegmentationReport

    report = SegmentationReport.from_json((tmp_path / "out" / "report.json").read_text())
    assert report.meaning("Var_7").label == "wine spend" and "notes_code" not in report.features
    assert report.data_summary["dropped_rows"] == 5 and report.n_rows == 595
    assert main(["run", str(csv), "--weight", "income", "--out", str(tmp_path / "o2")]) == 2
    assert "--weight expects COLUMN=WEIGHT" in capsys.readouterr().err
    assert main(["run", str(csv), "--meanings", str(tmp_path / "none.json"), "--out", str(tmp_path / "o3")]) == 2


def test_the_app_glue_edits_meanings_and_weights():
    session = sup.demo_session()
    frame = sup.meaning_rows(session)
    assert list(frame.columns) == sup.MEANING_HEADERS and "annual_spend" in set(frame["Column"])
    frame.loc[frame["Column"] == "annual_spend", "Label"] = "yearly spend"
    frame.loc[frame["Column"] == "gender", "Weight"] = "0"
    edited = sup.with_meanings(session, frame, True)
    assert edited.schema.meanings["annual_spend"].label == "yearly spend"
    assert edited.choices.weights == {"gender": 0.0} and edited.choices.drop_implausible
    assert "gender" in {e["column"] for e in edited.schema.excluded} and "gender" in set(sup.meaning_rows(edited)["Column"])
    assert edited.choices.fit_params()["meanings"] == {"annual_spend": {"label": "yearly spend"}}
    assert session.schema.meanings["annual_spend"].label == "annual spend"  # the old session is untouched
    again = sup.with_choices(edited, "customer_id", [], [], {})
    assert again.choices.meanings == edited.choices.meanings  # column choices keep the corrections
    bad = frame.copy()
    bad.loc[bad["Column"] == "age", "Weight"] = "heavy"
    with pytest.raises(ParameterError, match="weight of 'age'"):
        sup.with_meanings(session, bad, False)
    bad.loc[bad["Column"] == "age", "Weight"] = "1e9"
    with pytest.raises(ParameterError, match="from 0"):
        sup.with_meanings(session, bad, False)


def test_implausible_values_are_listed_before_segmenting():
    table, _ = planted_table(300)
    table.loc[:2, "age"] = 250.0
    session = sup._start(table, "'t.csv'")
    text = sup.implausible_markdown(session)
    assert "Implausible values" in text and "age" in text and "3 with" in text


def _proposal_reply(items: list) -> dict:
    return reply(json.dumps({"columns": items}))


def test_llm_label_proposals_are_checked_and_personal_columns_never_sent():
    table, _ = planted_table(300)
    table["email"] = [f"person{i}@example.com" for i in range(len(table))]
    meanings = infer_schema(table).meanings
    assert meanings["email"].role == "personal"
    items = [{"column": "Var_7", "label": "Wine Spend", "role": "money", "unit": "currency"},
             {"column": "income", "role": "age"},  # incomes of 40,000 are no ages
             {"column": "age", "label": "<img src=x onerror=alert(1)>"},
             {"column": "age", "label": "see https://evil.example"},
             {"column": "ghost", "label": "a column that is not there"},
             {"column": "email", "label": "contact"},
             {"column": "notes_code", "unit": "parsecs"}]
    from explainers.chat import LLMClient

    with FakeLLM([_proposal_reply(items)]) as server:
        client = LLMClient(server.url, "fake", timeout=2.0, total_timeout=4.0)
        result = propose_labels(table, meanings, client)
        sent = json.dumps(server.requests[0]["messages"])
    assert {(p.column, p.field, p.value) for p in result.proposals} == {
        ("Var_7", "label", "wine spend"), ("Var_7", "role", "money"), ("Var_7", "unit", "currency")}
    why = {(r.column, r.field): r.why for r in result.rejected}
    assert "0 to 120" in why[("income", "role")]
    assert "plain text" in why[("age", "label")]
    assert ("ghost", "column") in why and ("email", "column") in why and ("notes_code", "unit") in why
    assert "email" not in sent and "example.com" not in sent and "C00001" not in sent
    with FakeLLM([{"status": 500}]) as server:
        failed = propose_labels(table, meanings, LLMClient(server.url, "fake", timeout=1.0, total_timeout=2.0))
    assert failed.error and not failed.proposals
    with FakeLLM([reply("Sure! Here are labels: wine, age.")]) as server:
        prose = propose_labels(table, meanings, LLMClient(server.url, "fake", timeout=1.0, total_timeout=2.0))
    assert prose.error and not prose.proposals


def test_the_app_fills_in_proposals_without_applying_them():
    from explainers.chat import LLMClient

    table, _ = planted_table(300)
    session = sup._start(table, "'t.csv'")
    with FakeLLM([_proposal_reply([{"column": "Var_7", "label": "wine spend"}])]) as server:
        client = LLMClient(server.url, "fake", timeout=2.0, total_timeout=4.0)
        frame, text = sup.propose_meanings(session, None, client=client)
    row = frame[frame["Column"] == "Var_7"].iloc[0]
    assert row["Label"] == "wine spend" and "proposed by the LLM" in row["Note"]
    assert "1 proposals" in text and session.schema.meanings["Var_7"].label != "wine spend"
    applied = sup.with_meanings(session, frame, False)
    assert applied.schema.meanings["Var_7"].label == "wine spend"
