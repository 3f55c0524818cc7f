"""Correctness of the fast path: sampled fits, chunked and vectorised assignment, stratified samples.

Nothing here is timed; speed is measured by ``bench/bench_scale.py``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmenter import algorithms as alg
from segmenter import model as model_module
from segmenter.demo import make_demo_customers
from segmenter.errors import ColumnError, ParameterError
from segmenter.model import CustomerSegmenter

FAST = {"seed": 0, "stability_runs": 0, "compare": False}


@pytest.fixture(scope="module")
def big():
    return make_demo_customers(20_000, seed=1)


@pytest.fixture(scope="module")
def hdbscan_sampled(big):
    return CustomerSegmenter(algorithm="hdbscan", fit_sample_size=5000, **FAST).fit(big.table)


@pytest.mark.parametrize("algorithm, min_ari", [("hdbscan", 0.95), ("kmeans", 0.99)])
def test_fit_on_a_sample_agrees_with_a_fit_on_every_row(big, algorithm, min_ari):
    sampled = CustomerSegmenter(algorithm=algorithm, fit_sample_size=5000, **FAST).fit(big.table)
    full = CustomerSegmenter(algorithm=algorithm, fit_sample_size=len(big.table), **FAST).fit(big.table)
    assert sampled.report_.n_fit_rows == 5000 and full.report_.n_fit_rows == len(big.table)
    labels = sampled.report_.assignments["segment"]
    agreement = adjusted_rand_score(full.report_.assignments["segment"], labels)
    print(f"{algorithm}: sampled (5,000 of 20,000 rows) vs full fit ARI = {agreement:.4f}")
    assert agreement >= min_ari
    assert adjusted_rand_score(big.persona, labels) >= 0.9


def test_statistics_cover_every_row_not_only_the_sample(big, hdbscan_sampled):
    report = hdbscan_sampled.report_
    assert report.n_rows == len(big.table) and len(report.assignments) == len(big.table)
    assert sum(s.size for s in report.segments) == len(big.table)
    counts = report.assignments["segment"].value_counts()
    assert {s.id: s.size for s in report.segments} == {int(k): int(v) for k, v in counts.items()}


def test_vectorised_approximate_predict_equals_the_hdbscan_library(big, hdbscan_sampled):
    import hdbscan

    fitted = hdbscan_sampled.fit_.model
    X = hdbscan_sampled.transform(big.table.iloc[:6000])
    Z = fitted.pca.transform(X)
    far = np.random.default_rng(0).normal(0, 6, (500, Z.shape[1]))  # mostly noise
    for points in (Z, far, Z[:1]):
        theirs = hdbscan.approximate_predict(fitted.model, points)
        ours = alg.approximate_predict(fitted.model, points)
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_allclose(ours[1], theirs[1], rtol=0, atol=1e-12)
    assert (alg.approximate_predict(fitted.model, far)[0] == alg.NOISE).mean() > 0.5


def test_fitted_rows_keep_their_labels_and_the_rest_match_assign(big, hdbscan_sampled):
    report = hdbscan_sampled.report_
    again = hdbscan_sampled.assign(big.table)
    fit_rows = alg._sample_rows(len(big.table), 5000, 0)
    rest = np.setdiff1d(np.arange(len(big.table)), fit_rows)
    np.testing.assert_array_equal(report.assignments["segment"].to_numpy()[fit_rows],
                                  hdbscan_sampled.fit_.labels)
    np.testing.assert_array_equal(report.assignments["segment"].to_numpy()[rest],
                                  again["segment"].to_numpy()[rest])


@pytest.mark.parametrize("algorithm", ["hdbscan", "kmeans", "gmm"])
def test_chunked_assignment_equals_one_shot(big, algorithm, monkeypatch):
    model = CustomerSegmenter(algorithm=algorithm, fit_sample_size=3000, k=6 if algorithm != "hdbscan" else None,
                              **FAST).fit(big.table.iloc[:8000])
    table = big.table.iloc[8000:]
    one_shot = model.assign(table)
    monkeypatch.setattr(model_module, "ASSIGN_CHUNK_ROWS", 777)
    seen = []
    chunked = model.assign(table, progress=lambda f, m: seen.append(f))
    pd.testing.assert_frame_equal(chunked, one_shot)
    assert len(seen) == -(-len(table) // 777) and seen == sorted(seen) and seen[-1] == 1.0


def test_fit_reports_progress_while_assigning(big):
    seen = []
    CustomerSegmenter(algorithm="kmeans", k=6, fit_sample_size=2000, **FAST).fit(
        big.table, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and 0.0 <= fractions[0] and fractions[-1] == 1.0
    assert sum(m.startswith("Assigned ") for _, m in seen) >= 1


def test_stratified_sample_keeps_each_level_share():
    groups = np.random.default_rng(3).choice(["north", "south", "east", "west"], 10_000, p=[.55, .3, .1, .05])
    rows = alg.stratified_sample_rows(groups, 1001, seed=0)
    assert len(rows) == 1001 and len(np.unique(rows)) == 1001 and (np.diff(rows) > 0).all()
    for level in np.unique(groups):
        expected = (groups == level).mean() * 1001
        assert abs((groups[rows] == level).sum() - expected) < 1
    np.testing.assert_array_equal(rows, alg.stratified_sample_rows(groups, 1001, seed=0))
    assert not np.array_equal(rows, alg.stratified_sample_rows(groups, 1001, seed=1))
    np.testing.assert_array_equal(alg.stratified_sample_rows(groups[:500], 1001, seed=0), np.arange(500))


def test_segmenter_stratifies_its_fit_sample(big):
    table = big.table
    model = CustomerSegmenter(algorithm="kmeans", k=6, fit_sample_size=1000, stratify="preferred_channel", **FAST)
    rows = model._fit_rows(table, 1000)
    shares = table["preferred_channel"].iloc[rows].value_counts(dropna=False)
    expected = table["preferred_channel"].value_counts(dropna=False) * 1000 / len(table)
    assert (shares.reindex(expected.index) - expected).abs().max() < 1
    report = model.fit(table).report_
    assert report.params["stratify"] == "preferred_channel" and report.n_fit_rows == 1000


def test_stratify_errors_are_plain():
    table = make_demo_customers(600, seed=0).table
    with pytest.raises(ColumnError, match="stratify='nope' is not a column"):
        CustomerSegmenter(stratify="nope", fit_sample_size=100, **FAST).fit(table)
    with pytest.raises(ParameterError, match="different values"):
        CustomerSegmenter(stratify="customer_id", fit_sample_size=100, **FAST).fit(table)


def test_hdbscan_keeps_only_the_signal_components(big, hdbscan_sampled):
    """Signal-free columns have PCA eigenvalues near 1 or below; only the planted directions are kept.

    The six personas span 3 directions with eigenvalues of about 1.9-2.4; the next one is 1.0
    (yes/no columns such as app_user weigh a quarter of a numeric column, so they no longer lift a
    fourth direction above the 1.1 cut)."""
    assert hdbscan_sampled.fit_.params["reduced_dimensions"] == 3
    X = hdbscan_sampled.transform(big.table.iloc[:5000])
    pca = alg.reduce_dimensions(X)
    assert (pca.explained_variance_ > alg.KAISER_EIGENVALUE).all()
    assert pca.n_components_ == 3
