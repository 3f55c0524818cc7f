"""Describe each segment against the whole table, in the table's own units.

Numbers are computed on the validated feature columns (before scaling): numeric
columns give mean, median, quartiles, min/max and a standardised effect size
(Cohen's d of the segment against everyone else); categorical columns give level
shares and lift. Ranking features by absolute effect size gives a model-free list of
what sets a segment apart, which the SHAP drivers are cross-checked against.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .algorithms import NOISE

STATS = ("mean", "median", "q1", "q3", "min", "max", "std")


def _clean(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _numeric_block(values: pd.DataFrame, labels: np.ndarray) -> tuple[dict, dict]:
    """Per-segment and overall numeric statistics plus effect sizes."""
    grouped = values.groupby(labels, sort=True)
    per = {
        "mean": grouped.mean(), "median": grouped.median(), "q1": grouped.quantile(0.25),
        "q3": grouped.quantile(0.75), "min": grouped.min(), "max": grouped.max(),
        "std": grouped.std(ddof=1), "count": grouped.count(), "sum": grouped.sum(),
        "sumsq": (values ** 2).groupby(labels, sort=True).sum(),
    }
    overall = {
        "mean": values.mean(), "median": values.median(), "q1": values.quantile(0.25),
        "q3": values.quantile(0.75), "min": values.min(), "max": values.max(),
        "std": values.std(ddof=1),
    }
    n_all, s_all, ss_all = values.count(), values.sum(), (values ** 2).sum()
    overall_out = {c: {k: _clean(overall[k][c]) for k in STATS} for c in values.columns}
    segments: dict = {}
    for seg in per["mean"].index:
        n_s, s_s, ss_s = per["count"].loc[seg], per["sum"].loc[seg], per["sumsq"].loc[seg]
        n_r = n_all - n_s
        mean_s = s_s / n_s.where(n_s > 0)
        mean_r = (s_all - s_s) / n_r.where(n_r > 0)
        var_s = (ss_s - n_s * mean_s ** 2) / (n_s - 1).where(n_s > 1)
        var_r = ((ss_all - ss_s) - n_r * mean_r ** 2) / (n_r - 1).where(n_r > 1)
        pooled = np.sqrt(((n_s - 1) * var_s.clip(lower=0) + (n_r - 1) * var_r.clip(lower=0))
                         / (n_all - 2))
        effect = (mean_s - mean_r) / pooled.where(pooled > 1e-12)
        segments[int(seg)] = {
            c: {**{k: _clean(per[k].loc[seg, c]) for k in STATS},
                "overall_mean": overall_out[c]["mean"], "overall_median": overall_out[c]["median"],
                "rest_mean": _clean(mean_r[c]), "effect_size": _clean(effect[c]),
                "missing_share": _clean(1 - n_s[c] / per_size(labels, seg))}
            for c in values.columns
        }
    return segments, overall_out


def per_size(labels: np.ndarray, seg: int) -> int:
    return int((labels == seg).sum())


def _categorical_block(values: pd.DataFrame, labels: np.ndarray) -> tuple[dict, dict, dict]:
    """Per-segment level shares, lifts and standardised share differences."""
    shares_out: dict = {}
    lift_out: dict = {}
    overall_out: dict = {}
    effects: dict = {}
    for column in values.columns:
        col = values[column].astype(object).where(values[column].notna(), "(missing)")
        table = pd.crosstab(labels, col)
        overall = table.sum(axis=0) / table.values.sum()
        overall_out[column] = {str(k): float(v) for k, v in overall.items()}
        totals = table.sum(axis=1)
        for seg in table.index:
            seg_share = table.loc[seg] / totals.loc[seg]
            rest = (table.sum(axis=0) - table.loc[seg])
            rest_share = rest / max(int(rest.sum()), 1)
            spread = np.sqrt((overall * (1 - overall)).clip(lower=1e-12))
            shares_out.setdefault(int(seg), {})[column] = {str(k): float(v) for k, v in seg_share.items()}
            lift_out.setdefault(int(seg), {})[column] = {
                str(k): float(seg_share[k] / overall[k]) for k in seg_share.index if overall[k] > 0}
            effects.setdefault(int(seg), {})[column] = ((seg_share - rest_share) / spread).to_dict()
    return shares_out, lift_out, {"overall": overall_out, "effects": effects}


def profile_segments(features: pd.DataFrame, labels: np.ndarray, numeric: list[str],
                     categorical: list[str]) -> dict:
    """Profile every segment (noise included) against the whole table.

    Returns a JSON-ready dict: ``overall`` statistics and ``segments`` keyed by id, each
    with ``size``, ``share``, ``numeric``, ``categorical``, ``categorical_lift`` and
    ``distinguishing`` (features ranked by absolute effect size); ``level_effects`` holds the
    standardised share difference of every category level per segment (for the views).
    """
    labels = np.asarray(labels)
    n = len(labels)
    num_seg, num_overall = _numeric_block(features[numeric], labels) if numeric else ({}, {})
    cat_shares, cat_lift, cat_extra = (_categorical_block(features[categorical], labels)
                                       if categorical else ({}, {}, {"overall": {}, "effects": {}}))
    ids, counts = np.unique(labels, return_counts=True)
    segments = {}
    for seg, size in zip(ids.tolist(), counts.tolist()):
        ranked = []
        for column, stats in num_seg.get(seg, {}).items():
            if stats["effect_size"] is not None:
                ranked.append({"feature": column, "effect_size": stats["effect_size"],
                               "direction": "higher" if stats["effect_size"] > 0 else "lower"})
        for column, level_effects in cat_extra["effects"].get(seg, {}).items():
            level, value = max(level_effects.items(), key=lambda kv: kv[1])
            if np.isfinite(value):
                ranked.append({"feature": column, "effect_size": float(value),
                               "direction": "higher", "level": str(level)})
        ranked.sort(key=lambda d: (-abs(d["effect_size"]), d["feature"]))
        segments[seg] = {
            "size": int(size), "share": float(size / n), "is_noise": seg == NOISE,
            "numeric": num_seg.get(seg, {}), "categorical": cat_shares.get(seg, {}),
            "categorical_lift": cat_lift.get(seg, {}), "distinguishing": ranked,
        }
    level_effects = {int(seg): {col: {str(level): float(v) for level, v in levels.items()}
                                for col, levels in cols.items()}
                     for seg, cols in cat_extra["effects"].items()}
    return {"overall": {"numeric": num_overall, "categorical": cat_extra["overall"]},
            "segments": segments, "level_effects": level_effects}
