"""Segmentation core: planted personas recovered, determinism, assignment, metrics."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmenter import algorithms as alg
from segmenter.demo import make_demo_customers
from segmenter.errors import NotFittedError, ParameterError
from segmenter.model import CustomerSegmenter
from segmenter.preprocess import Preprocessor
from segmenter.schema import apply_schema


def _ari(demo, report) -> float:
    return adjusted_rand_score(demo.persona, report.assignments["segment"].to_numpy())


def test_kmeans_auto_k_recovers_planted_personas(demo, kmeans_model):
    report = kmeans_model.report_
    ari = _ari(demo, report)
    print(f"K-Means auto-k: k={report.params['k']} ARI={ari:.3f}")
    assert report.params["k"] == len(demo.personas)
    assert ari >= 0.9
    chosen = max(report.k_curve, key=lambda p: p["silhouette"])
    assert chosen["k"] == report.params["k"]
    assert {p["k"] for p in report.k_curve} == set(range(2, 13))
    assert all("inertia" in p for p in report.k_curve)


def test_hdbscan_recovers_personas_with_little_noise(demo, hdbscan_model):
    report = hdbscan_model.report_
    ari = _ari(demo, report)
    noise = report.metrics["noise_fraction"]
    print(f"HDBSCAN: segments={report.metrics['n_segments']} ARI={ari:.3f} noise={noise:.3f}")
    assert ari >= 0.9
    assert noise <= 0.10
    assert report.metrics["n_segments"] == len(demo.personas)
    noise_seg = report.segment(alg.NOISE)
    assert noise_seg.is_noise and noise_seg.name == "Unassigned"
    assert noise_seg.size == int((report.assignments.segment == -1).sum())
    assert report.params["min_samples"] != report.params["min_cluster_size"]
    assert "dbcv" in report.metrics
    assert len(report.cluster_tree) > 0
    assert all(s.persistence is not None for s in report.real_segments)


@pytest.mark.parametrize("algorithm", ["gmm", "agglomerative"])
def test_other_algorithms_recover_personas(demo, algorithm):
    model = CustomerSegmenter(algorithm=algorithm, seed=0, stability_runs=0, compare=False).fit(demo.table)
    assert _ari(demo, model.report_) >= 0.9


def test_auto_picks_an_algorithm_and_says_why(demo):
    model = CustomerSegmenter(algorithm="auto", seed=0, stability_runs=0, compare=False).fit(demo.table)
    params = model.report_.params
    assert model.report_.algorithm in ("kmeans", "hdbscan")
    assert params["auto_reason"]
    assert set(params["auto_candidates"]) == {"kmeans", "hdbscan"}


def test_same_seed_same_result_and_different_seed_runs(demo):
    table = demo.table.iloc[:1500]
    a = CustomerSegmenter(algorithm="kmeans", seed=3, stability_runs=1, compare=False).fit(table).report_
    b = CustomerSegmenter(algorithm="kmeans", seed=3, stability_runs=1, compare=False).fit(table).report_
    assert a.to_json() == b.to_json()
    h1 = CustomerSegmenter(algorithm="hdbscan", seed=3, stability_runs=1, compare=False).fit(table).report_
    h2 = CustomerSegmenter(algorithm="hdbscan", seed=3, stability_runs=1, compare=False).fit(table).report_
    assert h1.to_json() == h2.to_json()


def test_fixed_k_is_respected(demo):
    report = CustomerSegmenter(algorithm="kmeans", k=4, stability_runs=0, compare=False).fit(demo.table).report_
    assert report.params["k"] == 4
    assert len(report.real_segments) == 4
    assert report.params["k_choice"]["basis"] == "fixed"
    # the curve is still drawn for a given k, so the user sees how 4 compares with the rest
    assert [p["k"] for p in report.k_curve] == list(range(2, 13))
    assert all(p["silhouette"] is not None and p["stability"] is not None for p in report.k_curve)


def test_segments_are_numbered_by_size(kmeans_model):
    sizes = [s.size for s in kmeans_model.report_.real_segments]
    assert [s.id for s in kmeans_model.report_.real_segments] == list(range(1, len(sizes) + 1))
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize("fixture", ["kmeans_model", "hdbscan_model"])
def test_assigning_the_fitted_customers_reproduces_their_labels(request, demo, fixture):
    model = request.getfixturevalue(fixture)
    fitted = model.report_.assignments
    again = model.assign(demo.table)
    assert list(again["id"]) == list(fitted["id"])
    agreement = (again["segment"].to_numpy() == fitted["segment"].to_numpy()).mean()
    print(f"{fixture}: assign agrees with fit labels on {agreement:.3%}")
    assert agreement >= (0.999 if fixture == "kmeans_model" else 0.95)


def test_new_customers_are_assigned_to_their_persona(kmeans_model):
    new = make_demo_customers(600, seed=42)
    out = kmeans_model.assign(new.table)
    assert adjusted_rand_score(new.persona, out["segment"]) >= 0.9
    assert out["probability"].between(0, 1).all()


def test_fit_on_sample_assigns_every_row(demo):
    model = CustomerSegmenter(algorithm="kmeans", fit_sample_size=1000, stability_runs=0,
                              compare=False).fit(demo.table)
    report = model.report_
    assert report.n_fit_rows == 1000 and report.n_rows == len(demo.table)
    assert len(report.assignments) == len(demo.table)
    assert _ari(demo, report) >= 0.9
    assert sum(s.size for s in report.segments) == len(demo.table)


def test_hdbscan_min_cluster_size_is_scaled_to_the_sample(demo):
    model = CustomerSegmenter(algorithm="hdbscan", min_cluster_size=200, fit_sample_size=2500,
                              stability_runs=0, compare=False).fit(demo.table)
    assert model.report_.params["min_cluster_size"] == 100


def test_metrics_and_comparison_are_reported(kmeans_model):
    m = kmeans_model.report_.metrics
    assert -1 <= m["silhouette"] <= 1 and m["davies_bouldin"] > 0 and m["calinski_harabasz"] > 0
    assert 0.9 <= m["stability_ari"] <= 1.0
    assert set(m["stability"]["segment_jaccard"]) == {str(s.id) for s in kmeans_model.report_.real_segments}
    algos = [c["algorithm"] for c in kmeans_model.report_.comparison]
    assert algos == ["kmeans", "hdbscan", "gmm", "agglomerative"]
    assert all("silhouette" in c for c in kmeans_model.report_.comparison)


def test_stability_detects_structureless_data():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(600, 4)), columns=list("abcd"))
    report = CustomerSegmenter(algorithm="kmeans", k=5, stability_runs=3, compare=False).fit(table).report_
    structured = 1.0
    assert report.metrics["stability_ari"] < structured - 0.1
    assert report.metrics["silhouette"] < 0.25


def test_bad_parameters_are_refused(demo):
    with pytest.raises(ParameterError, match="algorithm='dbscan': expected one of 'auto'"):
        CustomerSegmenter(algorithm="dbscan").fit(demo.table.iloc[:200])
    with pytest.raises(ParameterError, match="number of segments"):
        CustomerSegmenter(k=1).fit(demo.table.iloc[:200])
    with pytest.raises(NotFittedError, match="not fitted"):
        CustomerSegmenter().assign(demo.table)


def test_preprocessing_maps_every_column_back(kmeans_model, demo):
    pre = kmeans_model.preprocessor_
    features = apply_schema(demo.table, kmeans_model.schema_)
    X = pre.transform(features)
    assert X.shape[1] == len(pre.feature_map_) == len(pre.feature_names_out_)
    assert set(pre.original_columns()) == set(kmeans_model.schema_.features)
    for column in kmeans_model.schema_.categorical:
        levels = [lvl for c, lvl in pre.feature_map_ if c == column]
        assert set(levels) == set(features[column].dropna().unique())
    assert "annual_spend" in pre.log_columns_ and "age" not in pre.log_columns_
    assert np.isfinite(X).all()


def test_categorical_weight_is_a_set_share_of_one_numeric_column():
    """A categorical (any number of levels) and a yes/no column each carry CATEGORY_WEIGHT**2 of
    the variance of one numeric column, so neither can outweigh a behaviour column."""
    from segmenter.preprocess import CATEGORY_WEIGHT

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(list("abcde"), 2000),
                          "flag": (rng.random(2000) < 0.3).astype(float)})
    pre = Preprocessor(("x", "flag"), ("c",), binary=("flag",)).fit(frame)
    X = pre.transform(frame)
    numeric_var, flag_var = X[:, 0].var(), X[:, 1].var()
    categorical_var = X[:, 2:].var(axis=0).sum()
    assert categorical_var == pytest.approx(CATEGORY_WEIGHT ** 2 * numeric_var, rel=0.02)
    assert flag_var == pytest.approx(CATEGORY_WEIGHT ** 2 * numeric_var, rel=0.02)
    doubled = Preprocessor(("x", "flag"), ("c",), binary=("flag",), weights={"c": 2.0}).fit(frame).transform(frame)
    assert doubled[:, 2:].var(axis=0).sum() == pytest.approx(4 * categorical_var, rel=0.02)


def test_stability_on_a_big_fit_sample_uses_a_stated_subsample():
    """Fits on more than STABILITY_SAMPLE_SIZE rows measure stability on that many, and say so."""
    from segmenter.model import STABILITY_SAMPLE_SIZE

    demo = make_demo_customers(STABILITY_SAMPLE_SIZE + 2000, seed=4)
    for algorithm in ("kmeans", "hdbscan"):
        report = CustomerSegmenter(algorithm=algorithm, k=6 if algorithm == "kmeans" else None, seed=0,
                                   stability_runs=2).fit(demo.table).report_
        stab = report.metrics["stability"]
        assert (stab["rows"], stab["of_rows"]) == (STABILITY_SAMPLE_SIZE, len(demo.table)), algorithm
        assert stab["ari_mean"] >= 0.9 and stab["ari_std"] is not None, (algorithm, stab)
        assert set(stab["segment_jaccard"]) == {str(s.id) for s in report.real_segments}
