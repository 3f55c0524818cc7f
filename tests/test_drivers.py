"""SHAP drivers and local explanations, checked against the demo's planted personas."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from explainers.drivers import (LOW_FIDELITY, Surrogate, explain_customer, explain_segments,
                                fit_surrogate)
from explainers.format import fmt_number
from explainers.local_text import local_explanation_text
from segmenter.algorithms import stratified_sample_rows
from segmenter.demo import PERSONAS, SIGNAL_FREE
from segmenter.errors import ModelFileError, ParameterError

PLANTED_RECOVERY_BAR = 0.8
FIDELITY_BAR = 0.9


@pytest.fixture(scope="module")
def kmeans(kmeans_explained):
    return kmeans_explained


@pytest.fixture(scope="module")
def hdbscan(hdbscan_explained):
    return hdbscan_explained


@pytest.fixture(scope="module", params=["kmeans", "hdbscan"])
def run(request):
    return request.getfixturevalue(request.param)


def _main_segment(run, demo, persona_index: int) -> int:
    """The (non-noise) segment holding most of a persona's customers."""
    labels = run["customers"]["__segment__"].to_numpy()[demo.persona == persona_index]
    labels = labels[labels >= 0]
    return int(np.bincount(labels).argmax())


# ------------------------------------------------------------------ planted truth
def test_planted_drivers_are_recovered(run, demo):
    report = run["report"]
    found, total, misses = 0, 0, []
    for i, persona in enumerate(PERSONAS):
        segment = report.segment(_main_segment(run, demo, i))
        top = segment.drivers[:max(3, len(persona.drivers))]
        listed = {(d["feature"], d["direction"], d.get("level")) for d in top}
        for planted in persona.drivers:
            total += 1
            if (planted.feature, planted.direction, planted.level) in listed:
                found += 1
            else:
                misses.append((persona.name, planted.feature, planted.direction, [d["feature"] for d in top]))
    recovery = found / total
    print(f"\n[{report.algorithm}] planted driver recovery {found}/{total} = {recovery:.0%}; "
          f"fidelity (macro-F1) {report.explanation['surrogate_fidelity']:.4f}, "
          f"accuracy {report.explanation['accuracy']:.4f}; misses: {misses}")
    assert recovery >= PLANTED_RECOVERY_BAR, misses


def test_signal_free_columns_never_in_top_three(run):
    for segment in run["report"].segments:
        top = [d["feature"] for d in segment.drivers[:3]]
        assert not set(top) & set(SIGNAL_FREE), (segment.id, top)


def test_fidelity_kmeans(kmeans):
    assert kmeans["report"].explanation["surrogate_fidelity"] >= FIDELITY_BAR


def test_fidelity_hdbscan(hdbscan):
    """surrogate_fidelity is macro-F1 over the explained (real) segments; Unassigned, which has
    no shape of its own, is reported beside it in the all-groups figure."""
    exp = hdbscan["report"].explanation
    segments_f1 = np.mean([v for k, v in exp["f1_by_segment"].items() if k != "-1"])
    print(f"\n[hdbscan] fidelity (real segments) {exp['surrogate_fidelity']:.4f}, all groups "
          f"{exp['macro_f1_all_groups']:.4f}, Unassigned F1 {exp['f1_by_segment'].get('-1')}, "
          f"accuracy {exp['accuracy']:.4f}")
    assert exp["surrogate_fidelity"] == pytest.approx(segments_f1, abs=1e-4)
    assert exp["surrogate_fidelity"] >= FIDELITY_BAR
    assert exp["accuracy"] >= FIDELITY_BAR
    assert exp["macro_f1_all_groups"] < exp["surrogate_fidelity"]
    assert exp["low_fidelity"] is False


# ------------------------------------------------------------------ report contract
def test_explanation_in_report_json(run):
    data = json.loads(run["report"].to_json())
    exp = data["explanation"]
    assert exp["method"] == "shap_tree_surrogate" and exp["surrogate"] == "lightgbm"
    assert 0.0 <= exp["surrogate_fidelity"] <= 1.0
    assert exp["low_fidelity"] == (exp["surrogate_fidelity"] < LOW_FIDELITY)
    assert exp["rows_trained"] > 0 and 0 < exp["rows_explained"] <= 2000 + 50 * len(data["segments"])
    for item in exp["disagreements"]:
        assert set(item) == {"segment", "feature", "shap_rank", "profile_rank"}


def test_driver_fields(run):
    report = run["report"]
    for segment in report.segments:
        if segment.is_noise:
            assert segment.drivers == []
            continue
        assert segment.drivers, segment.id
        importances = [d["importance"] for d in segment.drivers]
        assert importances == sorted(importances, reverse=True)
        assert sum(importances) <= 1.0 + 1e-3
        for d in segment.drivers:
            assert d["feature"] in report.features
            assert d["direction"] in ("higher", "lower")
            assert d["shap_mean_abs"] > 0
            if report.feature_types[d["feature"]] == "categorical":
                assert d["level"] in segment.categorical[d["feature"]]
            else:
                assert "level" not in d
        assert ("driver_disagreement" in segment.flags) == any(
            x["segment"] == segment.id for x in report.explanation["disagreements"])


def test_input_report_is_not_changed(kmeans_model, kmeans):
    assert all(s.drivers == [] for s in kmeans_model.report_.segments)
    assert kmeans_model.report_.explanation.get("method") is None
    assert kmeans["report"] is not kmeans_model.report_


def test_directions_follow_segment_means(kmeans):
    for segment in kmeans["report"].real_segments:
        for d in segment.drivers:
            stats = segment.numeric.get(d["feature"])
            if stats is not None:
                assert (stats["mean"] > stats["rest_mean"]) == (d["direction"] == "higher")


# ------------------------------------------------------------------ SHAP itself
def _additivity(surrogate: Surrogate, X: np.ndarray) -> None:
    values, expected = surrogate.shap_values(X)
    assert values.shape == (len(X), X.shape[1], len(surrogate.classes))
    total = values.sum(axis=1) + expected
    margin = surrogate.margins(X)
    worst = np.unravel_index(np.argmax(np.abs(total - margin)), total.shape)
    assert np.allclose(total, margin, atol=1e-4), (
        f"SHAP sum + expected value = {total[worst]:.6f} but the model's raw output is "
        f"{margin[worst]:.6f} (row {worst[0]}, class {surrogate.classes[worst[1]]})")


def test_shap_additivity_multiclass(run):
    X = run["model"].preprocessor_.transform(run["customers"].iloc[:300][run["report"].features])
    _additivity(run["surrogate"], X)


def test_shap_additivity_binary(kmeans):
    customers, pre = kmeans["customers"], kmeans["model"].preprocessor_
    two = customers[customers["__segment__"].isin([1, 2])].iloc[:800]
    X = pre.transform(two[kmeans["report"].features])
    surrogate = fit_surrogate(X, two["__segment__"].to_numpy(), pre.feature_names_out_, pre.feature_map_)
    assert surrogate.classes == [1, 2]
    _additivity(surrogate, X)


def test_random_labels_give_low_fidelity(kmeans):
    customers = kmeans["customers"].iloc[:800].copy()
    rng = np.random.default_rng(1)
    customers["__segment__"] = rng.permutation(customers["__segment__"].to_numpy())
    report, _ = explain_segments(kmeans["report"], kmeans["model"], customers, seed=0)
    print(f"\nshuffled labels: fidelity {report.explanation['surrogate_fidelity']:.3f}")
    assert report.explanation["low_fidelity"] is True
    assert report.explanation["surrogate_fidelity"] < 0.5


def test_stratified_rows_keep_every_segment():
    labels = np.array([1] * 9000 + [2] * 990 + [3] * 10)
    rows = stratified_sample_rows(labels, 1000, seed=0, min_per_group=50)
    counts = {k: int((labels[rows] == k).sum()) for k in (1, 2, 3)}
    assert counts == {1: 900, 2: 99, 3: 10}
    assert np.array_equal(rows, stratified_sample_rows(labels, 1000, seed=0, min_per_group=50))


# ------------------------------------------------------------------ persistence
def test_surrogate_round_trip_through_model_file(kmeans, tmp_path):
    from segmenter.persist import load_model, save_model

    path = save_model(kmeans["model"], tmp_path / "model.skops", extras=kmeans["surrogate"].to_extras())
    _, extras = load_model(path)
    again = Surrogate.from_extras(extras)
    X = kmeans["model"].preprocessor_.transform(kmeans["customers"].iloc[:500][kmeans["report"].features])
    assert np.array_equal(again.predict_proba(X), kmeans["surrogate"].predict_proba(X))
    assert again.classes == kmeans["surrogate"].classes
    assert again.feature_map == kmeans["surrogate"].feature_map


def test_shap_values_are_shap_tree_explainers(kmeans, tmp_path):
    """Our TreeSHAP (LightGBM's pred_contrib) gives exactly what shap.TreeExplainer gives for the
    surrogate, also once read back from a model file, and one customer's explanation after a
    reload is the same as before (nothing is cached on the surrogate)."""
    import pickle

    import shap

    from segmenter.persist import load_model, save_model

    report, customers, model, surrogate = kmeans["report"], kmeans["customers"], kmeans["model"], kmeans["surrogate"]
    X = model.preprocessor_.transform(customers.iloc[:200][report.features])
    values, expected = surrogate.shap_values(X)
    explainer = shap.TreeExplainer(surrogate.model.booster_)
    reference = np.asarray(explainer.shap_values(X), dtype=float)
    if reference.ndim == 2:  # binary: shap gives classes[1] only
        reference = np.stack([-reference, reference], axis=-1)
    assert values.shape == reference.shape == (200, X.shape[1], len(surrogate.classes))
    assert np.allclose(values, reference, atol=1e-9)
    assert np.allclose(expected[-1], np.atleast_1d(explainer.expected_value)[-1], atol=1e-9)
    ids = [str(customers["__id__"].iloc[i]) for i in (3, 40)]
    first = [explain_customer(report, surrogate, model, customers, cid) for cid in ids]
    assert pickle.loads(pickle.dumps(surrogate)).__dict__.keys() == surrogate.__dict__.keys()
    path = save_model(model, tmp_path / "model.skops", extras=surrogate.to_extras())
    again = Surrogate.from_extras(load_model(path)[1])
    assert np.allclose(again.shap_values(X)[0], values, atol=1e-9)
    assert [explain_customer(report, again, model, customers, cid).contributions for cid in ids] == \
        [f.contributions for f in first]


@pytest.mark.parametrize("extras", [{}, {"surrogate": {"model": "not a model"}}, {"surrogate": None}])
def test_damaged_extras_raise_model_file_error(extras):
    with pytest.raises(ModelFileError):
        Surrogate.from_extras(extras)


# ------------------------------------------------------------------ one customer
@pytest.mark.heavy
def test_local_explanation_names_planted_drivers(run, demo):
    report, customers = run["report"], run["customers"]
    shares = []
    for i, persona in enumerate(PERSONAS):
        main = _main_segment(run, demo, i)
        rows = np.flatnonzero((demo.persona == i) & (customers["__segment__"].to_numpy() == main))[:10]
        for row in rows:
            cid = customers["__id__"].iloc[row]
            local = explain_customer(report, run["surrogate"], run["model"], customers, cid)
            assert local.segment_id == main and not local.is_noise
            top = [c["feature"] for c in local.contributions][:max(3, len(persona.drivers))]
            # a planted value that is blank for this customer (2% of avg_order_value) cannot explain them
            planted = [d for d in persona.drivers if customers[d.feature].iloc[row] == customers[d.feature].iloc[row]]
            share = np.mean([d.feature in top for d in planted])
            assert share >= 2 / 3, (persona.name, cid, top)
            shares.append(share)
            for c in local.contributions:
                table_value = customers[c["feature"]].iloc[row]
                if isinstance(c["value"], str):
                    assert c["value"] == table_value and c["level"] == table_value
                elif c["value"] is None:
                    assert table_value != table_value  # NaN in the table
                else:
                    assert c["value"] == pytest.approx(float(table_value))
    print(f"\n[{report.algorithm}] planted drivers in a customer's top contributions: {np.mean(shares):.0%}")
    assert np.mean(shares) >= 0.9


def test_local_contributions_sorted_and_typicals(kmeans):
    report, customers = kmeans["report"], kmeans["customers"]
    local = explain_customer(report, kmeans["surrogate"], kmeans["model"], customers, "C100001", top=4)
    assert len(local.contributions) == 4
    magnitudes = [abs(c["shap"]) for c in local.contributions]
    assert magnitudes == sorted(magnitudes, reverse=True)
    segment = report.segment(local.segment_id)
    for c in local.contributions:
        assert c["direction"] == ("pushes towards" if c["shap"] > 0 else "pushes away")
        if c["feature"] in segment.numeric:
            assert c["segment_typical"] == segment.numeric[c["feature"]]["median"]
            assert c["overall_typical"] == report.overall["numeric"][c["feature"]]["median"]
    row = customers.index[customers["__id__"] == "C100001"][0]
    assert local.probability == pytest.approx(report.assignments["probability"].iloc[row])
    text = local_explanation_text(report, local)
    assert text.startswith(f"Customer C100001 is in **{segment.name}**")
    assert "may be unreliable" not in text


def test_unknown_customer_raises_parameter_error(kmeans):
    with pytest.raises(ParameterError, match="No customer with id 'NOPE'"):
        explain_customer(kmeans["report"], kmeans["surrogate"], kmeans["model"], kmeans["customers"], "NOPE")


def test_noise_customer_is_explained_against_nearest_segment(hdbscan):
    report, customers = hdbscan["report"], hdbscan["customers"]
    cid = customers.loc[customers["__segment__"] == -1, "__id__"].iloc[0]
    local = explain_customer(report, hdbscan["surrogate"], hdbscan["model"], customers, cid)
    assert local.is_noise and local.segment_id == -1 and local.segment_name == "Unassigned"
    assert local.explained_segment_id != -1 and local.contributions
    X = hdbscan["model"].preprocessor_.transform(customers[customers["__id__"] == cid][report.features])
    proba = hdbscan["surrogate"].predict_proba(X)[0]
    real = [i for i, c in enumerate(hdbscan["surrogate"].classes) if c != -1]
    assert hdbscan["surrogate"].classes[max(real, key=lambda i: proba[i])] == local.explained_segment_id
    text = local_explanation_text(report, local)
    assert "fit no segment well" in text and f"closest segment is **{local.explained_segment_name}**" in text


def test_low_fidelity_caveat_and_hostile_text(kmeans):
    local = explain_customer(kmeans["report"], kmeans["surrogate"], kmeans["model"], kmeans["customers"],
                             "C100002")
    hostile = dataclasses.replace(local, fidelity=0.55, customer_id="{{ 7*7 }}",
                                  segment_name="{% raw %}<b>x</b>")
    text = local_explanation_text(kmeans["report"], hostile)
    assert "may be unreliable" in text and "55%" in text  # shares read as percentages everywhere
    assert "49" not in text.splitlines()[0]
    assert text.startswith("Customer {{ 7\\*7 }} is in **{% raw %}&lt;b&gt;x&lt;/b&gt;**")
    assert "<b>" not in text


@pytest.mark.parametrize("value, expected", [
    (0.8123, "0.81"), (24.46, "24"), (4213.4, "4,213"), (1234567.0, "1,234,567"), (None, "n/a"),
    (float("nan"), "n/a"), (-0.0001234, "-0.00012"), (0.0, "0"), (81.0, "81"),
    (3.0, "3"), (4.26, "4.3"), (9.96, "10"), (0.004, "0.004"), (-0.0, "0"),
])
def test_fmt_number(value, expected):
    assert fmt_number(value) == expected


def test_local_text_keeps_a_space_before_units(kmeans):
    """Markdown escaping must not glue units to numbers ("30years")."""
    import re

    rows = kmeans["customers"]
    for customer in rows["__id__"].iloc[:40]:
        local = explain_customer(kmeans["report"], kmeans["surrogate"], kmeans["model"], rows, customer)
        text = local_explanation_text(kmeans["report"], local)
        assert not re.search(r"\d(years|days)\b", text), text
        if any(c["feature"] == "age" for c in local.contributions):
            assert re.search(r"age: \d+ years", text), text
            return
    pytest.fail("no customer among the first 40 had age among their top contributions")
