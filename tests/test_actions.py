"""Suggested actions: transparent rules over column roles, cited numbers, honest fallbacks."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from explainers.actions import ACTION_RULES, MAINSTREAM, MIN_EFFECT, SuggestedAction, suggest_actions
from segmenter.meanings import ROLES
from segmenter.model import CustomerSegmenter


def _segment_most(report, feature: str, sign: int = 1, level: str | None = None):
    """The real segment that differs most on ``feature`` in direction ``sign``."""
    if level is not None:
        return max(report.real_segments, key=lambda s: s.categorical_lift[feature].get(level, 0))
    return max(report.real_segments, key=lambda s: sign * s.numeric[feature]["effect_size"])


def _rule_ids(report, segment) -> list[str]:
    return [a.rule_id for a in suggest_actions(report, segment.id)]


def test_rules_are_declared_data_over_roles():
    ids = [r.id for r in ACTION_RULES]
    assert len(ids) == len(set(ids))
    for rule in ACTION_RULES:
        assert rule.when and rule.action.endswith(".")
        assert rule.all_of or rule.any_of
        for cond in rule.all_of + rule.any_of + rule.none_of:
            assert cond.direction in ("higher", "lower") and (cond.roles or cond.tags)
            assert set(cond.roles) <= set(ROLES)


@pytest.mark.parametrize("feature, sign, level, rule", [
    ("annual_spend", 1, None, "vip"),
    ("discount_share", 1, None, "price_led"),
    ("returns_per_year", 1, None, "returns"),
    ("days_since_last_order", 1, None, "win_back"),
    ("app_user", 1, None, "app_first"),
    ("online_share", -1, None, "in_store"),
    ("avg_order_value", 1, None, "premium"),
    ("age", -1, None, "younger_audience"),
])
@pytest.mark.parametrize("which", ["kmeans_report", "hdbscan_report"])
def test_planted_personas_get_their_actions(request, which, feature, sign, level, rule):
    report = request.getfixturevalue(which)
    segment = _segment_most(report, feature, sign, level)
    assert rule in _rule_ids(report, segment)


def test_actions_cite_the_numbers_behind_them(kmeans_report):
    segment = _segment_most(kmeans_report, "annual_spend")
    vip = next(a for a in suggest_actions(kmeans_report, segment.id) if a.rule_id == "vip")
    spend = segment.numeric["annual_spend"]
    assert f"annual spend: {spend['mean']:,.0f} vs {spend['overall_mean']:,.0f}" in vip.because


def test_no_contradicting_suggestions(kmeans_report):
    for segment in kmeans_report.real_segments:
        ids = set(_rule_ids(kmeans_report, segment))
        assert not {"vip", "grow_spend"} <= ids
        assert not {"price_led", "premium"} <= ids
        assert not {"win_back", "repeat_nudge"} <= ids
        assert not {"older_audience", "younger_audience"} <= ids
        assert 1 <= len(ids) <= 4


def test_loyalty_invites_only_where_a_loyalty_programme_exists(kmeans_report):
    no_loyalty = kmeans_report.replace(meanings={c: {**m, "tags": [t for t in m["tags"] if t != "loyalty"]}
                                                 for c, m in kmeans_report.meanings.items()})
    for segment in no_loyalty.real_segments:
        assert "loyalty_invite" not in _rule_ids(no_loyalty, segment)


def test_noise_only_gets_manual_review(hdbscan_report):
    noise = next(s for s in hdbscan_report.segments if s.is_noise)
    actions = suggest_actions(hdbscan_report, noise.id)
    assert [a.rule_id for a in actions] == ["review_manually"]
    assert "fit no segment well" in actions[0].because
    assert f"{noise.size:,}" in actions[0].because


def _flattened(report, segment_id: int):
    segment = report.segment(segment_id)
    flat_numeric = {f: {**s, "effect_size": 0.0} for f, s in segment.numeric.items()}
    flat_lift = {f: {lv: 1.0 for lv in lifts} for f, lifts in segment.categorical_lift.items()}
    flat_shares = {f: dict((report.overall.get("categorical") or {}).get(f) or {}) for f in segment.categorical}
    return report.with_segment_updates({segment_id: {"numeric": flat_numeric, "categorical_lift": flat_lift,
                                                     "categorical": flat_shares, "distinguishing": []}})


def test_an_average_segment_is_told_so(kmeans_report):
    assert suggest_actions(_flattened(kmeans_report, 1), 1) == [MAINSTREAM]


def test_a_table_without_actionable_roles_says_what_to_add(kmeans_report):
    flat = _flattened(kmeans_report, 1)
    plain = flat.replace(meanings={c: {**m, "role": "measure", "tags": []} for c, m in flat.meanings.items()})
    (only,) = suggest_actions(plain, 1)
    assert only.rule_id == "fallback" and "Add such columns" in only.text


def test_a_clear_difference_without_a_rule_is_built_on(kmeans_report):
    segment = kmeans_report.segment(1)
    numeric = {f: {**s, "effect_size": 0.0} for f, s in segment.numeric.items()}
    numeric["household_size"] = {**numeric["household_size"], "effect_size": 1.2}
    report = _flattened(kmeans_report, 1).with_segment_updates({1: {
        "numeric": numeric, "distinguishing": [{"feature": "household_size", "effect_size": 1.2,
                                                "direction": "higher"}]}})
    report = report.replace(meanings={**report.meanings, "household_size": {
        **report.meanings["household_size"], "role": "measure", "tags": []}})
    (only,) = suggest_actions(report, 1)
    assert only.rule_id == "build_on_difference" and only.because.startswith("household size: ")


def test_effect_threshold_is_respected(kmeans_report):
    segment = _segment_most(kmeans_report, "discount_share")
    numeric = dict(segment.numeric)
    numeric["discount_share"] = {**numeric["discount_share"], "effect_size": MIN_EFFECT - 0.01}
    weaker = kmeans_report.with_segment_updates({segment.id: {"numeric": numeric}})
    assert "price_led" not in _rule_ids(weaker, weaker.segment(segment.id))


def test_rules_follow_roles_whatever_the_column_names():
    """Other tables' column names (coupons, recency, web purchases) trigger the same rules, and a
    column renamed beyond recognition still does once the user sets its role."""
    rng = np.random.default_rng(1)
    n = 400
    group = rng.random(n) < 0.5
    table = pd.DataFrame({
        "CouponUsageRate": np.where(group, rng.beta(16, 4, n), rng.beta(2, 16, n)).round(3),
        "RecencyDays": np.where(group, rng.normal(20, 5, n), rng.normal(300, 30, n)).round(),
        "NumWebPurchases": np.where(group, rng.poisson(8, n), rng.poisson(2, n)).astype(float),
        "zq17": np.where(group, rng.normal(2, 1, n), rng.normal(9, 1, n)).round(1),
    })
    model = CustomerSegmenter(algorithm="kmeans", k=2, seed=0, compare=False, stability_runs=0,
                              meanings={"zq17": {"role": "tenure", "label": "years with us"}}).fit(table)
    report = model.report_
    coupons = max(report.real_segments, key=lambda s: s.numeric["CouponUsageRate"]["effect_size"])
    lapsed = max(report.real_segments, key=lambda s: s.numeric["RecencyDays"]["effect_size"])
    assert coupons.id != lapsed.id
    assert {"price_led", "web", "onboarding"} <= set(_rule_ids(report, coupons))
    assert {"win_back", "anniversary"} <= set(_rule_ids(report, lapsed))
    because = next(a.because for a in suggest_actions(report, lapsed.id) if a.rule_id == "anniversary")
    assert because.startswith("years with us: ")


def test_mixed_evidence_suggests_no_channel_or_frequency_action():
    """Web visits lower but web and store purchases higher: neither 'online less' nor 'online more'."""
    rng = np.random.default_rng(2)
    n = 400
    group = rng.random(n) < 0.5
    table = pd.DataFrame({
        "NumWebVisitsMonth": np.where(group, rng.poisson(2, n), rng.poisson(8, n)).astype(float),
        "NumWebPurchases": np.where(group, rng.poisson(8, n), rng.poisson(2, n)).astype(float),
        "NumStorePurchases": np.where(group, rng.poisson(9, n), rng.poisson(3, n)).astype(float),
    })
    report = CustomerSegmenter(algorithm="kmeans", k=2, seed=0, compare=False, stability_runs=0).fit(table).report_
    for segment in report.real_segments:
        assert abs(segment.numeric["NumWebVisitsMonth"]["effect_size"]) >= MIN_EFFECT  # both traits are clear
        assert abs(segment.numeric["NumWebPurchases"]["effect_size"]) >= MIN_EFFECT
        assert not {"web", "in_store"} & set(_rule_ids(report, segment))


def test_suggested_action_is_plain_frozen_data():
    action = SuggestedAction("text", "because")
    assert dataclasses.is_dataclass(action) and action.rule_id == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        action.text = "other"
