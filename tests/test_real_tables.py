"""The four real tables nobody here wrote, through every algorithm: what a marketer reads must hold.

For each table and algorithm: every word of every segment name is backed by the card's numbers
(direction, effect size, a real gap, a clear majority for a category word); no two names are the
same or differ only in word order; no ratio is shown on a base near zero; no trait under the
threshold is listed as a difference; and every segment of a table with actionable columns gets a
specific action. With the default settings (``auto``): 3-8 segments unless the report says why,
no segment under 2% or over 50% of the customers without a caveat, and at most one segment pure
in one level of a two-level column unless another column explains it. Skips without the data.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from explainers.actions import MIN_EFFECT, suggest_actions
from explainers.analysis import analyse
from explainers.cards import TRAIT_EFFECT, build_card
from explainers.format import NEAR_ZERO
from explainers.naming import NAME_EFFECT, NAME_LEVEL_SHARE, TIEBREAK_EFFECT, real_gap
from segmenter.load import load_table
from segmenter.schema import apply_schema

from conftest import SHARED_DATA

TABLES = ("mall_customers.csv", "cc_general.csv", "marketing_campaign.csv", "customer_segmentation_train.csv")
ALGORITHMS = ("auto", "kmeans", "hdbscan", "gmm", "agglomerative")
pytestmark = pytest.mark.heavy

_RUNS: dict = {}


def _run(file: str, algorithm: str):
    path = SHARED_DATA / file
    if not path.is_file():
        pytest.skip(f"no shared data at {SHARED_DATA}")
    key = (file, algorithm)
    if key not in _RUNS:
        table = load_table(path)
        _RUNS[key] = (table, analyse(table, algorithm=algorithm, seed=0, stability_runs=0, compare=False))
    return _RUNS[key]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("file", TABLES)
def test_names_cards_and_actions_hold_on_real_tables(file, algorithm):
    _, analysis = _run(file, algorithm)
    report = analysis.report
    problems = []
    substance = {}
    for s in report.real_segments:
        words = frozenset(re.sub(r" \(\d+\)$", "", s.name).lower().split())
        if words in substance:
            problems.append(f"'{s.name}' and '{substance[words]}' are the same in substance")
        substance[words] = s.name
        for t in s.name_traits:
            if t["direction"] == "level":
                share = s.categorical[t["feature"]][t["level"]]
                if share < NAME_LEVEL_SHARE:
                    problems.append(f"'{s.name}': '{t['word']}' for {share:.0%} {t['level']}")
                continue
            stats = s.numeric[t["feature"]] if t["feature"] in s.numeric else None
            if stats is None:  # an ordinal scale in words: its top/bottom level holds the majority
                if s.categorical[t["feature"]][t["level"]] < NAME_LEVEL_SHARE:
                    problems.append(f"'{s.name}': '{t['word']}' without a majority")
                continue
            bar = TIEBREAK_EFFECT if t.get("tiebreak") else NAME_EFFECT
            if abs(stats["effect_size"]) < bar or not real_gap(stats, report.feature_types[t["feature"]]):
                problems.append(f"'{s.name}': '{t['word']}' on d={stats['effect_size']:.2f}, "
                                f"{stats['mean']:.3g} vs {stats['rest_mean']:.3g}")
            if (stats["mean"] > stats["rest_mean"]) != (t["direction"] == "higher"):
                problems.append(f"'{s.name}': '{t['word']}' says {t['direction']} but the numbers disagree")
        card = build_card(report, s.id)
        for row in card.traits:
            if row.ratio:
                seg, overall = _trait_numbers(s, row, report)
                if seg is not None and min(abs(seg), abs(overall)) < NEAR_ZERO * max(abs(seg), abs(overall)):
                    problems.append(f"'{s.name}': ratio {row.ratio} on a base near zero ({row.label})")
        effects = {d["feature"]: abs(d["effect_size"]) for d in s.distinguishing}
        for row in card.traits:
            column = next((f for f in report.features if report.meaning(f).label == row.label), None)
            if column is not None and effects.get(column, 1.0) < TRAIT_EFFECT:
                problems.append(f"'{s.name}': '{row.label}' listed with |d|={effects[column]:.2f}")
        actions = suggest_actions(report, s.id)
        if all(a.rule_id in ("fallback", "mainstream") for a in actions):
            clear = [d for d in s.distinguishing if abs(d["effect_size"]) >= MIN_EFFECT]
            if actions[0].rule_id == "fallback" or clear:
                problems.append(f"'{s.name}': no specific action ({actions[0].rule_id})")
    print(f"\n{file} / {algorithm}: " + "; ".join(f"{s.name} ({s.share:.0%})" for s in report.real_segments))
    assert not problems, problems


def _trait_numbers(segment, row, report):
    for f in report.features:
        if report.meaning(f).label == row.label and f in segment.numeric:
            return segment.numeric[f]["mean"], segment.numeric[f]["overall_mean"]
    return None, None


def _pure_segments(table, analysis) -> list[tuple]:
    """Segments >= 95% in one level of a balanced two-level column that no other column explains."""
    schema = analysis.segmenter.schema_
    features = apply_schema(table, schema).reset_index(drop=True)
    labels = analysis.report.assignments["segment"].to_numpy()
    binary = [c for c in schema.features if features[c].dropna().nunique() == 2
              and features[c].value_counts(normalize=True).min() >= 0.15]
    out = []
    for seg in (s.id for s in analysis.report.real_segments):
        rows = labels == seg
        for c in binary:
            shares = features.loc[rows, c].value_counts(normalize=True)
            if not len(shares) or shares.iloc[0] < 0.95:
                continue
            level = shares.index[0]
            if not _explained_by_another(features, rows, c, level, schema):
                out.append((seg, c, level))
    return out


def _explained_by_another(features: pd.DataFrame, rows: np.ndarray, column: str, level, schema) -> bool:
    """Levels of another categorical column that each imply ``column == level`` (99% of the whole
    table) cover 90% of the segment: the purity follows from that column, not from this one.
    (Customer Segmentation: every Average or High spending score is married.)"""
    for other in schema.categorical:
        if other == column:
            continue
        implying = [lv for lv in features[other].dropna().unique()
                    if (features.loc[features[other] == lv, column].dropna() == level).mean() >= 0.99]
        if implying and features.loc[rows, other].isin(implying).mean() >= 0.9:
            return True
    return False


@pytest.mark.parametrize("file", TABLES)
def test_default_segmentation_is_usable(file):
    table, analysis = _run(file, "auto")
    report = analysis.report
    real = report.real_segments
    basis = (report.params.get("k_choice") or {}).get("basis")
    print(f"\n{file}: {report.algorithm}, {len(real)} segments "
          f"({', '.join(f'{s.share:.0%}' for s in real)}), k basis {basis}, "
          f"unassigned {report.metrics['noise_fraction']:.0%}")
    assert 3 <= len(real) <= 8 or basis not in (None, "useful")
    for s in real:
        kinds = {c.kind for c in build_card(report, s.id).caveats}
        if s.share < 0.02:
            assert "small" in kinds, s.name
        if s.share > 0.5:
            assert "large" in kinds, s.name
    pure = _pure_segments(table, analysis)
    assert len(pure) <= 1, pure


def test_label_column_is_profiled_not_used():
    table, analysis = _run("customer_segmentation_train.csv", "auto")
    report = analysis.report
    assert "Segmentation" not in report.features and report.profile_columns == ["Segmentation"]
    for s in report.real_segments:
        shares = s.profile["Segmentation"]
        rows = report.assignments["segment"].to_numpy() == s.id
        gold = table.loc[rows, "Segmentation"].value_counts(normalize=True, dropna=False)
        for level, share in shares.items():
            truth = gold.get(level if level == level else np.nan, 0.0)
            assert share == pytest.approx(truth), (s.id, level)
        card = build_card(report, s.id)
        assert [o.label for o in card.outcomes] == ["segmentation"]
