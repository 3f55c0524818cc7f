"""The report contract: profile numbers, JSON round trip, renaming, model files, exports."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmenter.errors import DataError, ModelFileError, ParameterError
from segmenter.export import assignments_frame, neutralise_formula, write_assignments_csv
from segmenter.persist import load_model, save_model
from segmenter.report import SegmentationReport
from segmenter.schema import apply_schema

REQUIRED_KEYS = {"schema_version", "algorithm", "params", "n_rows", "features", "excluded_columns",
                 "metrics", "segments", "explanation"}


def test_report_json_has_the_contract_keys(kmeans_model):
    data = json.loads(kmeans_model.report_.to_json())
    assert REQUIRED_KEYS <= set(data)
    seg = data["segments"][0]
    assert {"id", "name", "size", "share", "numeric", "categorical", "drivers"} <= set(seg)
    assert {"mean", "median", "q1", "q3", "effect_size", "overall_mean"} <= set(seg["numeric"]["age"])
    assert set(seg["categorical"]["preferred_channel"]) == {"web", "store", "app"}
    assert all({"column", "reason"} == set(e) for e in data["excluded_columns"])
    assert "surrogate_fidelity" in data["explanation"]


@pytest.mark.parametrize("fixture", ["kmeans_model", "hdbscan_model"])
def test_report_round_trips_through_json_without_loss(request, fixture):
    report = request.getfixturevalue(fixture).report_
    text = report.to_json()
    back = SegmentationReport.from_json(text)
    assert back.to_json() == text
    pd.testing.assert_frame_equal(back.assignments, report.assignments, check_dtype=False)
    assert back.segment(1).numeric["age"] == report.segment(1).numeric["age"]


def test_profile_numbers_match_pandas(demo, kmeans_model):
    report = kmeans_model.report_
    features = apply_schema(demo.table, kmeans_model.schema_)
    labels = report.assignments["segment"].to_numpy()
    for seg in report.real_segments:
        rows = features[labels == seg.id]
        rest = features[labels != seg.id]
        spend = seg.numeric["annual_spend"]
        assert spend["mean"] == pytest.approx(rows["annual_spend"].mean())
        assert spend["median"] == pytest.approx(rows["annual_spend"].median())
        assert spend["q3"] == pytest.approx(rows["annual_spend"].quantile(0.75))
        assert spend["rest_mean"] == pytest.approx(rest["annual_spend"].mean())
        assert spend["overall_mean"] == pytest.approx(features["annual_spend"].mean())
        shares = rows["preferred_channel"].value_counts(normalize=True)
        for level, share in shares.items():
            assert seg.categorical["preferred_channel"][level] == pytest.approx(share)
        assert seg.size == len(rows)
        assert seg.share == pytest.approx(len(rows) / len(features))


def test_distinguishing_features_follow_the_planted_personas(demo, kmeans_model):
    report = kmeans_model.report_
    labels = report.assignments["segment"].to_numpy()
    for i, persona in enumerate(demo.personas):
        seg_id = pd.Series(labels[demo.persona == i]).mode().iloc[0]
        top = report.segment(int(seg_id)).distinguishing[:len(persona.drivers) + 1]
        found = {(d["feature"], d["direction"]) for d in top}
        for planted in persona.drivers:
            assert (planted.feature, planted.direction) in found, (persona.name, top)


def test_rename_returns_a_new_report(kmeans_model):
    report = kmeans_model.report_
    renamed = report.rename(2, "  VIP   Fans ")
    assert renamed.segment(2).name == "VIP Fans"
    assert report.segment(2).name != "VIP Fans"
    assert assignments_frame(renamed).query("segment == 2")["segment_name"].eq("VIP Fans").all()
    with pytest.raises(ParameterError, match="already called"):
        renamed.rename(3, "vip fans")
    with pytest.raises(ParameterError, match="empty"):
        report.rename(1, "   ")
    with pytest.raises(ParameterError, match="no segment 99"):
        report.rename(99, "x")


def test_foreign_json_is_refused():
    with pytest.raises(DataError, match="schema_version"):
        SegmentationReport.from_dict({"hello": 1})
    with pytest.raises(DataError, match="not valid JSON"):
        SegmentationReport.from_json("{not json")


@pytest.mark.parametrize("fixture", ["kmeans_model", "hdbscan_model"])
def test_model_save_load_assigns_the_same(request, demo, tmp_path, fixture):
    model = request.getfixturevalue(fixture)
    path = save_model(model, tmp_path / "model.skops")
    loaded, extras = load_model(path)
    assert extras == {}
    new = demo.table.sample(300, random_state=1)
    pd.testing.assert_frame_equal(loaded.assign(new), model.assign(new))


def test_model_files_that_could_run_code_are_refused(tmp_path):
    import skops.io as sio

    evil = tmp_path / "evil.skops"
    sio.dump({"format": "segment-explainer-model", "x": pd.Timedelta(1)}, evil)
    with pytest.raises(ModelFileError, match="never holds"):
        load_model(evil)
    garbage = tmp_path / "garbage.skops"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFileError):
        load_model(garbage)
    with pytest.raises(ModelFileError, match="No model file"):
        load_model(tmp_path / "missing.skops")


def test_assignments_csv_is_formula_safe(tmp_path):
    from segmenter.model import CustomerSegmenter

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"customer_id": [f"=cmd|' /C calc'!A{i}" if i % 2 else f"+{i}" for i in range(120)],
                          "a": rng.normal(size=120), "b": rng.normal(size=120)})
    report = CustomerSegmenter(algorithm="kmeans", k=2, stability_runs=0, compare=False).fit(table).report_
    report = report.rename(1, "=HYPERLINK(\"http://x\")")
    path = write_assignments_csv(report, tmp_path / "a.csv")
    back = pd.read_csv(path, dtype=str)
    assert list(back.columns) == ["customer_id", "segment", "segment_name", "probability"]
    for column in ("customer_id", "segment_name"):
        assert not back[column].str.match(r"^[=+\-@]").any()
    assert back["customer_id"].iloc[1].startswith("'=cmd")
    assert neutralise_formula("-5") == "'-5" and neutralise_formula(-5) == -5


def test_assignments_without_id_column_use_row_numbers():
    from segmenter.model import CustomerSegmenter

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    report = CustomerSegmenter(algorithm="kmeans", k=2, stability_runs=0, compare=False).fit(table).report_
    frame = assignments_frame(report)
    assert frame.columns[0] == "row"
    assert frame["row"].tolist() == list(range(100))
