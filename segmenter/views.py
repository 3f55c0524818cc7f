"""What the analyst views need, computed once at profile time and bounded in size.

The plots read only the report, so everything a chart shows beyond the per-segment
profile is computed here and stored in ``SegmentationReport.views``:

* ``columns``: the distribution of each column over the whole table (a histogram for
  numbers and dates, level shares for categories and yes/no columns), for at most
  :data:`MAX_COLUMNS` columns, those that differ most between segments first;
* ``correlation``: rank (Spearman) correlations between at most :data:`MAX_HEATMAP`
  numeric columns;
* ``quantiles``: 5th, 25th, 50th, 75th and 95th percentiles per segment of the
  :data:`MAX_TRAITS` numeric columns that differ most between segments (segments with fewer
  than :data:`MIN_GROUP` customers are left out and listed);
* ``effects``: a segment x column matrix of standardised differences (Cohen's d for numbers,
  the standardised share difference for a category level), at most :data:`MAX_HEATMAP` columns.

Counts under :data:`MIN_GROUP` are never stored: a histogram bar or a level with 1-4
customers (or that leaves 1-4 out) has ``count`` None and ``small`` True.
Everything is a list of plain values (JSON keys are strings, so segment ids are list items).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .algorithms import NOISE

#: Smallest group whose count, share or quantiles are shown (the chat's rule too).
MIN_GROUP = 5
#: Columns whose distribution is stored (the most different between segments first).
MAX_COLUMNS = 40
#: Columns of the correlation and effect-size heatmaps.
MAX_HEATMAP = 30
#: Numeric columns with per-segment quantiles (box plots).
MAX_TRAITS = 8
#: Bars of a numeric histogram; levels of a category before the rest are summed.
BINS = 30
MAX_LEVELS = 20
#: Rows used for the rank correlation (a seeded sample of bigger tables).
CORRELATION_ROWS = 20_000
#: Histograms span these quantiles; values beyond them are counted in the end bars.
RANGE_QUANTILES = (0.005, 0.995)
QUANTILES = (("p05", 0.05), ("q1", 0.25), ("median", 0.5), ("q3", 0.75), ("p95", 0.95))
MISSING = "(missing)"


def _finite(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _shown(count: int, total: int) -> dict:
    """A count and share, or neither when the count (or what it leaves out) is under MIN_GROUP."""
    small = 0 < count < MIN_GROUP or 0 < total - count < MIN_GROUP
    return {"count": None if small else int(count), "share": None if small else float(count / total),
            "small": bool(small)}


def _histogram(values: pd.Series) -> dict:
    vals = values.dropna().to_numpy(dtype=float)
    vals = vals[np.isfinite(vals)]
    out = {"missing_share": float(1 - len(vals) / max(len(values), 1)), "n": int(len(vals))}
    if not len(vals):
        return {**out, "edges": [], "bars": [], "clipped": False}
    lo, hi = np.quantile(vals, RANGE_QUANTILES)
    if lo == hi:
        lo, hi = float(vals.min()), float(vals.max())
    whole = np.all(np.mod(vals, 1) == 0)
    if whole and hi - lo <= 2 * BINS:
        edges = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.0, 1.0)
    elif lo == hi:
        edges = np.array([lo - 0.5, hi + 0.5])
    else:
        edges = np.linspace(lo, hi, BINS + 1)
    counts, _ = np.histogram(np.clip(vals, edges[0], edges[-1]), edges)
    bars = []
    for c in counts.tolist():
        small = 0 < c < MIN_GROUP
        bars.append({"count": None if small else int(c), "small": small})
    return {**out, "edges": np.round(edges, 6).tolist(), "bars": bars,
            "clipped": bool(vals.min() < edges[0] or vals.max() > edges[-1])}


def _levels(values: pd.Series, kind: str) -> dict:
    if kind == "boolean":
        col = values.map({1.0: "yes", 0.0: "no", True: "yes", False: "no"})
    else:
        col = values.astype(object)
    col = col.where(values.notna(), MISSING)
    counts = col.astype(str).value_counts(sort=True)
    total = int(counts.sum())
    top, rest = counts.iloc[:MAX_LEVELS], counts.iloc[MAX_LEVELS:]
    levels = [{"level": str(k), **_shown(int(v), total)} for k, v in top.items()]
    if len(rest):
        levels.append({"level": f"{len(rest)} other levels", **_shown(int(rest.sum()), total)})
    return {"levels": levels, "n": total}


def _rank(prof: dict, effects: list[dict]) -> list[str]:
    """Features by their largest |difference| in any real segment (ties: table order)."""
    best: dict[str, float] = {}
    for cand in effects:
        values = [abs(v) for seg, v in zip(cand["_segments"], cand["_values"]) if seg != NOISE and v is not None]
        best[cand["feature"]] = max(best.get(cand["feature"], 0.0), max(values, default=0.0))
    return sorted(best, key=lambda f: -best[f])


def _effect_candidates(prof: dict, numeric: list, categorical: list, seg_ids: list) -> list[dict]:
    """One candidate column per numeric feature and per category level, with d per segment
    (numbers: Cohen's d; levels: the standardised share difference, both from the profile)."""
    out = []
    for f in numeric:
        values = [_finite((prof["segments"][s]["numeric"].get(f) or {}).get("effect_size")) for s in seg_ids]
        out.append({"feature": f, "_segments": seg_ids, "_values": values})
    effects = prof.get("level_effects") or {}
    for f in categorical:
        levels = list(dict.fromkeys(lv for s in seg_ids for lv in (effects.get(s) or {}).get(f, {})))
        for level in levels:
            values = [_finite(((effects.get(s) or {}).get(f) or {}).get(level)) for s in seg_ids]
            out.append({"feature": f, "level": level, "_segments": seg_ids, "_values": values})
    return out


def view_data(features: pd.DataFrame, labels: np.ndarray, prof: dict, numeric: list,
              categorical: list, kinds: dict, seed: int = 0) -> dict:
    """Everything the views need beyond the profile; see the module docstring."""
    labels = np.asarray(labels)
    sizes = {int(s): int(v["size"]) for s, v in prof["segments"].items()}
    seg_ids = sorted(sizes, key=lambda s: (s == NOISE, s))
    small = [s for s in seg_ids if sizes[s] < MIN_GROUP]
    candidates = _effect_candidates(prof, numeric, categorical, seg_ids)
    ranked = _rank(prof, candidates)
    order = ranked + [f for f in [*numeric, *categorical] if f not in ranked]

    shown = order[:MAX_COLUMNS]
    columns = []
    for f in shown:
        kind = kinds.get(f, "numeric")
        if kind in ("categorical", "boolean"):
            columns.append({"column": f, "kind": kind, **_levels(features[f], kind)})
        else:
            columns.append({"column": f, "kind": kind, **_histogram(features[f])})

    numeric_order = [f for f in order if f in set(numeric)]
    corr_cols = numeric_order[:MAX_HEATMAP]
    correlation = {"columns": corr_cols, "values": [], "of": len(numeric_order), "method": "spearman"}
    if len(corr_cols) >= 2:
        rows = features[corr_cols]
        if len(rows) > CORRELATION_ROWS:
            pick = np.sort(np.random.default_rng(seed).choice(len(rows), CORRELATION_ROWS, replace=False))
            rows = rows.iloc[pick]
        matrix = rows.rank().corr(method="pearson", min_periods=MIN_GROUP).to_numpy()
        correlation["values"] = [[_finite(v) for v in row] for row in np.round(matrix, 4)]
        correlation["rows"] = int(len(rows))

    traits = [f for f in numeric_order if kinds.get(f) != "boolean"][:MAX_TRAITS]
    quantiles = {"features": traits, "segments": [], "omitted": small, "min_size": MIN_GROUP}
    keep = [s for s in seg_ids if s not in small]
    if traits and keep:
        mask = np.isin(labels, keep)
        grouped = features.loc[mask, traits].groupby(labels[mask])
        qs = {name: grouped.quantile(q) for name, q in QUANTILES}
        for s in keep:
            quantiles["segments"].append({"id": int(s), "stats": {
                f: {name: _finite(qs[name].loc[s, f]) for name, _ in QUANTILES} for f in traits}})

    cand_rank = sorted(candidates, key=lambda c: -max((abs(v) for seg, v in zip(seg_ids, c["_values"])
                                                      if seg != NOISE and v is not None), default=0.0))
    top = cand_rank[:MAX_HEATMAP]
    effects = {"columns": [{"feature": c["feature"], **({"level": c["level"]} if "level" in c else {})}
                           for c in top],
               "segments": seg_ids, "omitted": small, "of": len(candidates),
               "values": [[None if s in small else (None if c["_values"][i] is None else round(c["_values"][i], 4))
                           for c in top] for i, s in enumerate(seg_ids)]}
    return {"columns": columns, "columns_of": len(order), "correlation": correlation,
            "quantiles": quantiles, "effects": effects, "min_group": MIN_GROUP}


__all__ = ["view_data", "MIN_GROUP", "MAX_COLUMNS", "MAX_HEATMAP", "MAX_TRAITS"]
