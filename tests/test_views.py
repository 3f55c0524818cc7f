"""The analyst views: data stored at fit time (segmenter/views.py) and the figures built from it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explainers.plots import (NOISE_COLOUR, algorithms_figure, all_figures, correlation_figure,
                              dendrogram_figure, distributions_figure, effects_heatmap_figure,
                              k_curve_figure, map_figure, segment_boxes_figure, segment_colour)
from segmenter.demo import make_demo_customers
from segmenter.model import CustomerSegmenter
from segmenter.profile import profile_segments
from segmenter.report import SegmentationReport
from segmenter.views import MAX_HEATMAP, MIN_GROUP, view_data

HOSTILE = "<img src=x onerror=alert(1)>"


def _text(fig) -> str:
    return " ".join(a.text.replace("<br>", " ") for a in fig.layout.annotations) + " " + \
        (fig.layout.title.text or "").replace("<br>", " ") + " " + (fig.layout.title.subtitle.text or "").replace("<br>", " ")


def _cell(report, segment_id: int, feature: str, level: str | None = None) -> float:
    """The effect-size heatmap's value for one segment and column (from the figure itself)."""
    fig = effects_heatmap_figure(report)
    eff = report.views["effects"]
    col = next(i for i, c in enumerate(eff["columns"]) if c["feature"] == feature and c.get("level") == level)
    row = [s for s in eff["segments"] if s in {x.id for x in report.segments}].index(segment_id)
    return fig.data[0].z[row][col]


@pytest.fixture(scope="module")
def ward():
    table = make_demo_customers(1500, seed=3).table
    return CustomerSegmenter(algorithm="agglomerative", k=6, seed=0, stability_runs=0).fit(table).report_


def test_effect_heatmap_has_the_planted_drivers(kmeans_model):
    report = kmeans_model.report_
    real = report.real_segments
    spenders = max(real, key=lambda s: s.numeric["annual_spend"]["mean"])
    young = min(real, key=lambda s: s.numeric["age"]["mean"])
    store = max(real, key=lambda s: s.categorical["preferred_channel"].get("store", 0))
    assert _cell(report, spenders.id, "annual_spend") > 1  # planted higher
    assert _cell(report, young.id, "age") < -1  # planted lower
    assert _cell(report, store.id, "preferred_channel", "store") > 1  # planted level
    assert _cell(report, spenders.id, "annual_spend") == pytest.approx(
        min(2.0, spenders.numeric["annual_spend"]["effect_size"]), abs=1e-3)  # colour capped at 2
    hover = effects_heatmap_figure(report).data[0].text
    assert all("standard deviations" in t for row in hover for t in row)
    eff = report.views["effects"]
    assert len(eff["columns"]) <= MAX_HEATMAP and eff["of"] >= len(eff["columns"])
    signal_free = {"household_size", "region", "gender"}
    assert not signal_free & {c["feature"] for c in eff["columns"][:8]}  # most different first


def test_correlation_of_planted_columns(kmeans_model):
    report = kmeans_model.report_
    corr = report.views["correlation"]
    cols = corr["columns"]
    value = corr["values"][cols.index("age")][cols.index("online_share")]
    assert value < -0.5  # young shoppers buy online, old ones in store (planted)
    assert abs(corr["values"][cols.index("household_size")][cols.index("age")]) < 0.1  # signal-free
    fig = correlation_figure(report)
    assert fig.data[0].z[cols.index("age")][cols.index("online_share")] == pytest.approx(value)
    assert len(fig.data[0].x) == len(cols) and fig.data[0].zmin == -1


def test_distributions_never_show_a_count_under_five(hdbscan_model):
    report = hdbscan_model.report_
    columns = report.views["columns"]
    assert {c["column"] for c in columns} == set(report.features)  # 16 columns: all of them
    for col in columns:
        counts = [b["count"] for b in col.get("bars", [])] + [lv["count"] for lv in col.get("levels", [])]
        assert all(c is None or c == 0 or c >= MIN_GROUP for c in counts), col["column"]
        if col["kind"] == "categorical":
            assert sum(lv["share"] or 0 for lv in col["levels"]) <= 1 + 1e-9
        if "bars" in col:
            assert sum(b["count"] or 0 for b in col["bars"]) <= col["n"] == report.n_rows - round(
                col["missing_share"] * report.n_rows)
    fig = distributions_figure(report)
    assert len(fig.data) == 12 and "12 of 16" in _text(fig)
    channel = next(c for c in columns if c["column"] == "preferred_channel")
    trace = fig.data[[c["column"] for c in columns].index("preferred_channel")]
    assert list(trace.y) == pytest.approx([100 * lv["share"] for lv in channel["levels"]])


def test_boxes_come_from_stored_quantiles_and_unassigned_is_grey(hdbscan_model):
    report = hdbscan_model.report_
    q = report.views["quantiles"]
    fig = segment_boxes_figure(report)
    first = q["features"][0]
    boxes = [t for t in fig.data if t.xaxis in ("x", None)]
    stored = {p["id"]: p["stats"][first] for p in q["segments"]}
    assert len(boxes) == len(stored)
    for trace in boxes:
        seg = next(s for s in report.segments if s.name == trace.name)
        assert trace.q1[0] == pytest.approx(stored[seg.id]["q1"]) and trace.upperfence[0] == pytest.approx(stored[seg.id]["p95"])
        assert trace.marker.color == segment_colour(seg)
    noise = next((s for s in report.segments if s.is_noise), None)
    if noise is not None and noise.size >= MIN_GROUP:
        assert any(t.name == "Unassigned" and t.marker.color == NOISE_COLOUR for t in fig.data)
    # the planted lapsed customers: the longest time since the last order
    lapsed = max(report.real_segments, key=lambda s: s.numeric["days_since_last_order"]["median"])
    medians = {p["id"]: p["stats"]["days_since_last_order"]["median"] for p in q["segments"]}
    assert max(medians, key=medians.get) == lapsed.id


def test_small_segments_are_left_out_of_boxes_and_heatmap():
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"a": np.r_[rng.normal(0, 1, 60), [9, 9.5, 10.0]],
                             "b": rng.normal(0, 1, 63), "c": rng.choice(["x", "y"], 63)})
    labels = np.r_[np.ones(30, int), 2 * np.ones(30, int), [3, 3, 3]]
    prof = profile_segments(features, labels, ["a", "b"], ["c"])
    views = view_data(features, labels, prof, ["a", "b"], ["c"], {"a": "numeric", "b": "numeric",
                                                                  "c": "categorical"})
    assert views["quantiles"]["omitted"] == [3] and {p["id"] for p in views["quantiles"]["segments"]} == {1, 2}
    row = views["effects"]["segments"].index(3)
    assert all(v is None for v in views["effects"]["values"][row])
    bars = next(c for c in views["columns"] if c["column"] == "a")["bars"]
    assert any(b["small"] and b["count"] is None for b in bars)  # the 3 outliers


def test_one_row_per_segment_does_not_crash():
    features = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [4.0, 1, 3, 2]})
    labels = np.array([1, 2, 3, 4])
    prof = profile_segments(features, labels, ["a", "b"], [])
    views = view_data(features, labels, prof, ["a", "b"], [], {"a": "numeric", "b": "numeric"})
    assert views["quantiles"]["segments"] == [] and views["quantiles"]["omitted"] == [1, 2, 3, 4]
    assert all(b["count"] in (None, 0) for c in views["columns"] for b in c["bars"])


def test_wide_table_heatmaps_are_capped_and_say_so():
    rng = np.random.default_rng(1)
    labels = rng.integers(1, 4, 400)
    features = pd.DataFrame({f"c{i}": rng.normal(labels * (i % 7) / 5, 1) for i in range(70)})
    cols = list(features.columns)
    prof = profile_segments(features, labels, cols, [])
    views = view_data(features, labels, prof, cols, [], {c: "numeric" for c in cols})
    assert len(views["correlation"]["columns"]) == MAX_HEATMAP and views["correlation"]["of"] == 70
    assert len(views["effects"]["columns"]) == MAX_HEATMAP and views["effects"]["of"] == 70
    strongest = {c["feature"] for c in views["effects"]["columns"]}
    assert "c6" in strongest and "c0" not in strongest  # c0 carries no signal, c6 the most


def test_dendrogram_has_its_leaves_and_the_cut(ward):
    gram = ward.params["dendrogram"]
    fig = dendrogram_figure(ward)
    leaves = fig.data[1]
    assert len(leaves.x) == len(gram["leaves"]) == 30
    assert sum(gram["leaf_sizes"]) == ward.n_fit_rows
    assert set(gram["leaf_segments"]) == {s.id for s in ward.real_segments}
    colours = {s.id: segment_colour(s) for s in ward.segments}
    assert list(leaves.marker.color) == [colours[s] for s in gram["leaf_segments"]]
    assert [s.y0 for s in fig.layout.shapes] == [gram["cut_height"]]
    assert max(max(d) for d in gram["dcoord"]) > gram["cut_height"] > 0
    text = " ".join(leaves.text) + " ".join(fig.layout.xaxis.ticktext)
    assert not any(f" {n} customers" in text for n in range(1, MIN_GROUP))


def test_dendrogram_only_for_ward(kmeans_model):
    fig = dendrogram_figure(kmeans_model.report_)
    assert len(fig.data) == 0 and "only drawn for agglomerative" in _text(fig)


def test_k_curve_when_k_is_given(ward):
    assert [p["k"] for p in ward.k_curve] == list(range(2, 13))
    fig = k_curve_figure(ward)
    assert list(fig.data[0].x) == list(range(2, 13)) and all(y is not None for y in fig.data[0].y)
    assert "your choice: 6" in _text(fig)


def test_comparison_table_has_calinski_harabasz_and_the_note(hdbscan_model):
    report = hdbscan_model.report_
    fig = algorithms_figure(report)
    head, cells = fig.data[0].header.values, fig.data[0].cells.values
    column = list(head).index("Calinski-Harabasz (higher = better)")
    hd = [r["algorithm"] for r in report.comparison].index("hdbscan")
    assert float(cells[column][hd].replace(",", "")) == pytest.approx(report.comparison[hd]["calinski_harabasz"], rel=0.01)
    assert "Unassigned are left out" in _text(fig)


def test_one_usable_column_gives_a_strip_and_clear_messages():
    table = pd.DataFrame({"spend": np.r_[np.random.default_rng(0).normal(10, 1, 150),
                                         np.random.default_rng(1).normal(30, 1, 150)]})
    report = CustomerSegmenter(algorithm="kmeans", seed=0, stability_runs=0).fit(table).report_
    fig = map_figure(report)
    assert report.projection["method"] == "strip" and "strip" in _text(fig)
    assert "spend" in fig.layout.xaxis.title.text and fig.layout.yaxis.visible is False
    assert "at least two numeric columns" in _text(correlation_figure(report))
    assert all(f.to_json() for _, f in all_figures(report))  # every view builds


def test_hostile_column_and_level_are_escaped():
    demo = make_demo_customers(600, seed=2)
    table = demo.table.rename(columns={"annual_spend": HOSTILE + "%{x}"})
    table["preferred_channel"] = table["preferred_channel"].replace("store", HOSTILE)
    report = CustomerSegmenter(algorithm="agglomerative", k=4, seed=0, stability_runs=0).fit(table).report_
    report = SegmentationReport.from_dict(report.to_dict())  # views survive the JSON round trip
    report = report.rename(1, HOSTILE)
    assert report.views["columns"]
    for key, fig in all_figures(report):
        text = fig.to_json()
        assert "<img" not in text and "\\u003cimg" not in text, key
        for trace in fig.data:
            assert "onerror" not in (getattr(trace, "hovertemplate", None) or ""), key
    assert "&lt;img" in effects_heatmap_figure(report).to_json()
