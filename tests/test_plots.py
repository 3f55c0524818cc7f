"""Plotly figures: built from the report, right counts, escaped names, one offline file."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from explainers.plots import (NOISE_COLOUR, comparison_figure, drivers_figure, k_curve_figure,
                              map_figure, save_figures, sizes_figure, tree_figure)
from segmenter.errors import ParameterError

HOSTILE = "<img src=x onerror=alert(1)> %{x}"


@pytest.fixture(scope="module", params=["kmeans", "hdbscan"])
def report(request):
    return request.getfixturevalue(f"{request.param}_report")


class _Tags(HTMLParser):
    """Tags of a page (script bodies are not parsed as tags)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))


def _annotations(fig) -> str:
    return " ".join(a.text.replace("<br>", " ") for a in fig.layout.annotations)


def test_sizes_has_one_bar_per_segment(report):
    fig = sizes_figure(report)
    assert len(fig.data) == 1
    assert list(fig.data[0].x) == [s.size for s in report.segments]  # Unassigned included
    assert list(fig.data[0].y) == [s.name for s in report.segments]
    noise = [i for i, s in enumerate(report.segments) if s.is_noise]
    assert all(fig.data[0].marker.color[i] == NOISE_COLOUR for i in noise)
    assert fig.layout.legend.orientation == "h" and fig.layout.margin.l <= 20


def test_map_shows_every_projected_customer(report):
    fig = map_figure(report)
    assert sum(len(t.x) for t in fig.data) == len(report.projection["x"])
    names = {t.name for t in fig.data}
    assert names <= set(report.names.values())
    for trace in fig.data:
        if trace.name == "Unassigned":
            assert trace.marker.color == NOISE_COLOUR
    assert all(trace.hovertemplate == "%{text}<extra></extra>" for trace in fig.data)


def test_drivers_figure_shows_shap_importance_and_fidelity(report):
    seg = report.real_segments[0]
    fig = drivers_figure(report, seg.id)
    assert len(fig.data) == 1 and len(fig.data[0].x) == len(seg.drivers)
    assert list(fig.data[0].x) == pytest.approx([100 * d["importance"] for d in seg.drivers])
    fidelity = round(100 * report.explanation["surrogate_fidelity"])
    assert f"explanation fidelity {fidelity}%" in fig.layout.title.subtitle.text
    assert seg.name in fig.layout.title.text.replace("<br>", " ")


def test_drivers_figure_for_noise_and_missing_drivers(hdbscan_report, hdbscan_model):
    noise = next(s for s in hdbscan_report.segments if s.is_noise)
    assert "no drivers" in _annotations(drivers_figure(hdbscan_report, noise.id))
    bare = hdbscan_model.report_  # no SHAP run yet
    fig = drivers_figure(bare, 1)
    assert len(fig.data) == 0 and "not been computed" in _annotations(fig)
    assert "fidelity not measured" in fig.layout.title.subtitle.text


def test_comparison_figure(report):
    seg = report.real_segments[0]
    fig = comparison_figure(report, seg.id)
    assert 1 <= len(fig.data[0].x) <= 12
    strongest = max(abs(s["effect_size"]) for s in seg.numeric.values() if s["effect_size"] is not None)
    assert max(abs(v) for v in fig.data[0].x) >= strongest - 1e-9
    chosen = comparison_figure(report, seg.id, features=["age", "annual_spend", "preferred_channel"])
    assert len(chosen.data[0].x) == 3
    assert chosen.data[0].x[list(chosen.data[0].y).index("age")] == pytest.approx(
        seg.numeric["age"]["effect_size"])
    with pytest.raises(ParameterError, match="shoe_size"):
        comparison_figure(report, seg.id, features=["shoe_size"])


def test_k_curve(kmeans_report, hdbscan_report):
    fig = k_curve_figure(kmeans_report)
    ks = [p["k"] for p in kmeans_report.k_curve]
    assert len(fig.data) == 2 and list(fig.data[0].x) == ks
    assert fig.data[1].yaxis == "y2"  # inertia on the second axis
    assert [s.x0 for s in fig.layout.shapes] == [kmeans_report.params["k"]]
    assert f"chosen: {kmeans_report.params['k']}" in _annotations(fig)
    empty = k_curve_figure(hdbscan_report)
    assert len(empty.data) == 0 and "not chosen" in _annotations(empty)


def test_tree_figure(kmeans_report, hdbscan_report):
    fig = tree_figure(hdbscan_report)
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 1 and len(bars[0].y) == len(hdbscan_report.real_segments)
    assert list(bars[0].x) == [s.persistence for s in hdbscan_report.real_segments]
    icicle = next(t for t in fig.data if t.type == "icicle")
    value = dict(zip(icicle.ids, icicle.values))
    for node, parent in zip(icicle.ids, icicle.parents):  # "total" branch values must add up
        children = [value[c] for c, p in zip(icicle.ids, icicle.parents) if p == node]
        assert sum(children) <= value[node]
    assert len(icicle.ids) == len(hdbscan_report.cluster_tree) + 1
    other = tree_figure(kmeans_report)
    assert len(other.data) == 0 and "only available for HDBSCAN" in _annotations(other)


def test_hostile_names_are_escaped(kmeans_report):
    renamed = kmeans_report.rename(1, HOSTILE)
    figures = [sizes_figure(renamed), map_figure(renamed), drivers_figure(renamed, 1),
               comparison_figure(renamed, 1)]
    escaped = "&lt;img src=x onerror=alert(1)&gt; %{x}"
    for fig in figures:
        text = fig.to_json()
        assert "<img" not in text and "\\u003cimg" not in text
        for trace in fig.data:  # names never reach a hovertemplate, where %{...} would run
            assert "onerror" not in (trace.hovertemplate or "")
    assert escaped in list(figures[0].data[0].y)
    assert escaped in {t.name for t in figures[1].data}
    assert escaped in figures[2].layout.title.text.replace("<br>", " ")


def test_save_figures_writes_one_offline_file(hdbscan_report, tmp_path):
    paths = save_figures(hdbscan_report, tmp_path / "run")
    assert [p.name for p in paths] == ["plots.html"]
    page = paths[0].read_text(encoding="utf-8")
    tags = _Tags()
    tags.feed(page)
    assert [t for t, attrs in tags.seen if t == "link" or "src" in attrs or "href" in attrs] == []
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert len(page) > 1_000_000  # plotly.js is inlined
    # sizes, map, tree, algorithms, 4 analyst views, 2 per segment; no k curve, no dendrogram
    assert page.count("Plotly.newPlot") == 8 + 2 * len(hdbscan_report.real_segments)
    for key in ("sizes", "map", "tree", "drivers-1", "comparison-1", "algorithms", "distributions",
                "correlation", "effects", "boxes"):
        assert f'id="plot-{key}"' in page
    assert '<meta name="viewport"' in page


# ------------------------------------------------------------------ UMAP map (optional package)
@pytest.mark.heavy
def test_umap_map_keeps_planted_segments_apart_better_than_pca():
    pytest.importorskip("umap")
    from sklearn.metrics import silhouette_score

    from segmenter.demo import make_demo_customers
    from segmenter.model import CustomerSegmenter
    from segmenter.report import SegmentationReport

    demo = make_demo_customers(2500, seed=4)
    truth = dict(zip(demo.table["customer_id"].astype(str), demo.persona))
    scores = {}
    for method in ("pca", "umap"):
        report = CustomerSegmenter(algorithm="kmeans", k=6, stability_runs=0, compare=False,
                                   projection=method).fit(demo.table).report_
        proj = report.projection
        assert proj["method"] == method and len(proj["x"]) == len(proj["y"]) == 2500
        xy = list(zip(proj["x"], proj["y"]))
        scores[method] = silhouette_score(xy, [truth[i] for i in proj["id"]])
        fig = map_figure(SegmentationReport.from_dict(report.to_dict()))  # survives the JSON round trip
        assert ("UMAP" in fig.layout.xaxis.title.text) == (method == "umap")
        assert ("of the variation" in fig.layout.xaxis.title.text) == (method == "pca")
    print(f"\nmap silhouette of the planted personas: PCA {scores['pca']:.2f}, UMAP {scores['umap']:.2f}")
    assert scores["umap"] > scores["pca"] + 0.1


def test_map_choice_errors_are_plain(monkeypatch):
    import importlib.util

    from segmenter.demo import make_demo_customers
    from segmenter.model import CustomerSegmenter

    table = make_demo_customers(300, seed=0).table
    with pytest.raises(ParameterError, match="projection='tsne': expected one of 'pca', 'umap'"):
        CustomerSegmenter(projection="tsne", stability_runs=0, compare=False).fit(table)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a))
    with pytest.raises(ParameterError, match="umap-learn"):
        CustomerSegmenter(projection="umap", stability_runs=0, compare=False).fit(table)
