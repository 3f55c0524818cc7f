"""Choosing k for use; HDBSCAN's retries; parameters checked before any work; implausible values;
extreme and hostile numbers through preprocessing."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmenter import algorithms as alg
from segmenter.errors import ParameterError
from segmenter.implausible import implausible_values
from segmenter.kchoice import choose_k
from segmenter.model import CustomerSegmenter
from segmenter.preprocess import Preprocessor
from segmenter.schema import apply_schema, infer_schema

FAST = {"stability_runs": 0, "compare": False}


def _blobs(n: int, centres: int, seed: int = 0, spread: float = 0.6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centre = rng.normal(0, 6, (centres, 3))
    which = rng.integers(0, centres, n)
    x = centre[which] + rng.normal(0, spread, (n, 3))
    return pd.DataFrame(x, columns=["a", "b", "c"]).assign(truth=which)


@pytest.mark.parametrize("planted", [4, 5, 6])
def test_planted_number_of_segments_is_found(planted):
    table = _blobs(3000, planted, seed=planted)
    report = CustomerSegmenter(algorithm="kmeans", **FAST).fit(table.drop(columns="truth")).report_
    assert len(report.real_segments) == planted
    assert report.params["k_choice"]["basis"] == "useful"
    assert {p["k"] for p in report.params["k_choice"]["runners_up"]} <= set(range(3, 9))


def _point(k, sil, lo=0.1, hi=0.3, stab=0.95):
    return {"k": k, "silhouette": sil, "min_share": lo, "max_share": hi, "stability": stab}


def test_two_segments_only_when_nothing_else_holds_up():
    curve = [_point(2, 0.40, 0.45, 0.55), _point(3, 0.30), _point(4, 0.28), _point(5, 0.25)]
    k, why = choose_k(curve, n_rows=5000)
    assert k == 3 and why["basis"] == "useful" and why["best_separated"] == 2
    # two segments always leave one with at least half the customers: never "useful"; with every
    # larger k lopsided too, the best stable k of the preferred range is kept and the basis says so
    unusable = [_point(2, 0.40, 0.45, 0.55)] + [_point(k, 0.3 - k / 50, 0.01, 0.6) for k in range(3, 9)]
    k, why = choose_k(unusable, n_rows=5000)
    assert k == 3 and why["basis"] == "stable"
    assert choose_k([_point(2, 0.40, 0.45, 0.55)], n_rows=5000)[1]["basis"] == "only_two"


def test_unstable_or_lopsided_k_loses_to_a_useful_one():
    curve = [_point(3, 0.25), _point(4, 0.35, stab=0.3), _point(5, 0.33, lo=0.01), _point(6, 0.30)]
    k, why = choose_k(curve, n_rows=5000)
    assert k == 6 and [p["k"] for p in why["runners_up"]] == [3]


def test_ties_go_to_more_segments_when_they_stay_firm():
    curve = [_point(3, 0.232, stab=0.98), _point(5, 0.228, stab=0.88), _point(6, 0.228, stab=0.98),
             _point(7, 0.231, stab=0.70)]
    assert choose_k(curve, n_rows=9000)[0] == 6


def test_small_tables_may_have_two_segments():
    curve = [_point(2, 0.5, 0.4, 0.6), _point(3, 0.3, 0.01, 0.5)]
    k, why = choose_k(curve, n_rows=120)
    assert (k, why["basis"]) == (2, "stable")
    assert choose_k(curve, n_rows=5000)[0] == 3  # a larger table prefers 3-8 segments


def test_hdbscan_retries_when_too_many_are_unassigned():
    rng = np.random.default_rng(3)
    dense = rng.normal(0, 0.3, (600, 2)) + np.repeat([[0, 0], [5, 5], [0, 6]], 200, axis=0)
    X = np.vstack([dense, rng.uniform(-4, 10, (1200, 2))])
    fit = alg.fit_hdbscan_useful(X)
    tries = fit.params["tries"]
    assert tries[0]["noise_fraction"] > alg.MAX_USEFUL_NOISE
    assert np.mean(fit.labels == alg.NOISE) <= alg.MAX_USEFUL_NOISE or len(tries) == len(alg.HDBSCAN_RETRIES) + 1
    assert len(tries) >= 2


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 2.5}, "k=2.5: expected empty"),
    ({"k": True}, "k=True"),
    ({"seed": 2**40}, "seed=1099511627776: expected a whole number from 0 to"),
    ({"seed": -1}, "seed=-1"),
    ({"k_range": (5, 3)}, "k_range=\\(5, 3\\)"),
    ({"weights": {"a": -1}}, "weights="),
    ({"algorithm": "dbscan"}, "algorithm='dbscan'"),
])
def test_bad_parameters_get_our_error_before_any_work(kwargs, match, monkeypatch):
    import segmenter.model as model

    monkeypatch.setattr(model, "infer_schema", lambda *a, **k: (_ for _ in ()).throw(AssertionError("work done")))
    with pytest.raises(ParameterError, match=match):
        CustomerSegmenter(**kwargs, **FAST).fit(_blobs(200, 3).drop(columns="truth"))


def test_k_above_the_rows_is_refused_before_any_work():
    with pytest.raises(ParameterError, match="a table of 30 rows can have at most 29 segments"):
        CustomerSegmenter(k=40, **FAST).fit(_blobs(30, 3).drop(columns="truth"))


def test_weights_for_unknown_columns_are_refused():
    from segmenter.errors import ColumnError

    with pytest.raises(ColumnError, match="weights name columns that are not in the table: \\['nope'\\]"):
        CustomerSegmenter(weights={"nope": 2}, **FAST).fit(_blobs(200, 3).drop(columns="truth"))


def test_weights_change_the_say_of_a_column():
    rng = np.random.default_rng(5)
    table = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 500), rng.normal(8, 1, 500)],
                          "y": np.r_[rng.normal(0, 1, 250), rng.normal(8, 1, 500), rng.normal(0, 1, 250)]})
    by_x = CustomerSegmenter(algorithm="kmeans", k=2, weights={"y": 0.1}, **FAST).fit(table).report_
    by_y = CustomerSegmenter(algorithm="kmeans", k=2, weights={"x": 0}, **FAST).fit(table).report_
    truth_x = (np.arange(1000) >= 500).astype(int)
    truth_y = ((np.arange(1000) >= 250) & (np.arange(1000) < 750)).astype(int)
    from sklearn.metrics import adjusted_rand_score as ari

    assert ari(truth_x, by_x.assignments["segment"]) > 0.95
    assert ari(truth_y, by_y.assignments["segment"]) > 0.95 and "x" not in by_y.features
    assert by_x.data_summary["weights"] == {"y": 0.1}


def test_implausible_values_are_flagged_and_can_be_dropped():
    rng = np.random.default_rng(6)
    n = 400
    table = pd.DataFrame({"Year_Birth": rng.integers(1940, 2000, n), "Income": rng.normal(50000, 9000, n).round(),
                          "share_online": rng.random(n)})
    table.loc[:2, "Year_Birth"] = [1893, 1899, 1900]
    table.loc[3, "Income"] = 666666
    table.loc[4, "share_online"] = 1.5
    schema = infer_schema(table)
    findings, rows = implausible_values(apply_schema(table, schema), schema.meanings,
                                        {c: schema.kind_of(c) for c in schema.features})
    by_rule = {f.rule: f for f in findings}
    assert by_rule["birth year before 1900"].count == 2 and 1893.0 in by_rule["birth year before 1900"].examples
    assert any("placeholder" in r and f.count == 1 for r, f in by_rule.items())
    assert any("share outside 0-1" in r for r in by_rule)
    assert rows.sum() == 4
    kept = CustomerSegmenter(algorithm="kmeans", k=3, drop_implausible=True, **FAST).fit(table).report_
    assert kept.n_rows == n - 4 and kept.data_summary["dropped_rows"] == 4
    flagged = CustomerSegmenter(algorithm="kmeans", k=3, **FAST).fit(table).report_
    assert flagged.n_rows == n and flagged.data_summary["implausible_rows"] == 4


def test_extreme_values_are_capped_and_never_become_nan():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"big": np.r_[rng.normal(1e307, 1e306, 300), [np.inf]],
                          "amount": np.r_[rng.gamma(2, 50, 300), [1e9]]})
    pre = Preprocessor(("big", "amount"), ()).fit(frame)
    X = pre.transform(frame)
    assert np.isfinite(X).all()
    assert pre.clip_["amount"][1] < 1e9 and X[-1, 1] == pytest.approx(X[:, 1].max())
    hostile = pd.DataFrame({"big": [np.nan, -1e308], "amount": [-50.0, np.nan]})  # negative amount on a log column
    assert np.isfinite(pre.transform(hostile)).all()


def test_a_single_usable_column_segments_and_maps_as_a_strip():
    rng = np.random.default_rng(8)
    table = pd.DataFrame({"spend": np.r_[rng.normal(10, 1, 300), rng.normal(40, 2, 300), rng.normal(90, 3, 300)]})
    report = CustomerSegmenter(algorithm="kmeans", **FAST).fit(table).report_
    assert len(report.real_segments) == 3
    assert report.projection["method"] == "strip" and len(report.projection["x"]) == len(report.projection["y"])


@pytest.mark.parametrize("case", ["random", "singleton", "two_singletons"])
def test_curve_silhouette_equals_sklearn(case):
    """The curve's one-matrix-product silhouette is sklearn's silhouette_score, singletons included."""
    from sklearn.metrics import pairwise_distances, silhouette_score

    from segmenter.kchoice import _silhouette

    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 6))
    labels = {"random": rng.integers(0, 5, 400), "singleton": np.r_[np.zeros(399, int), [7]],
              "two_singletons": np.r_[rng.integers(0, 3, 398), [5, 9]]}[case]
    assert _silhouette(pairwise_distances(X), labels) == pytest.approx(silhouette_score(X, labels), abs=1e-12)
    assert _silhouette(pairwise_distances(X), np.zeros(400, int)) is None


def test_kmeans_curve_inertia_is_the_partitions_own():
    """The elbow's inertia (from the curve's labels, no refit) is what K-Means reports for that fit."""
    from sklearn.cluster import KMeans

    from segmenter.algorithms import _kmeans_extra

    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(c, 0.3, size=(150, 3)) for c in (0, 3, 6)])
    model = KMeans(3, n_init=2, random_state=0).fit(X)
    assert _kmeans_extra(X, 3, 0, model.labels_)["inertia"] == pytest.approx(model.inertia_, rel=1e-6)
