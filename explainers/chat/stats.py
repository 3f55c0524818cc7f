"""Statistic of a column, ranking segments by a column, and how good the segmentation is."""
from __future__ import annotations

import math

from .numbers import NumberBook
from .operations import STAT_WORDS, OperationError, Operations, Result

SILHOUETTE_BANDS = ((0.5, "strong"), (0.25, "reasonable"), (0.0, "weak"), (-2.0, "poor"))
STABILITY_BANDS = ((0.8, "high"), (0.6, "moderate"), (-2.0, "low"))
FIDELITY_BANDS = ((0.9, "high"), (0.8, "acceptable"), (-2.0, "low"))
NUMERIC_STATS = ("mean", "median", "min", "max", "std")


def _band(value: float | None, bands: tuple) -> str:
    if value is None or not math.isfinite(value):
        return "unknown"
    return next(word for limit, word in bands if value >= limit)


def _check_feature(ops: Operations, feature: str | None) -> str:
    if not feature or feature not in ops.report.features:
        raise OperationError("unknown_column", words=[str(feature or "")])
    return feature


def _level_value(ops: Operations, seg, feature: str, level: str) -> float | None:
    shares = (seg.categorical.get(feature) if seg is not None
              else (ops.report.overall.get("categorical") or {}).get(feature)) or {}
    return shares.get(level, 0.0 if shares else None)


def statistic(ops: Operations, args: dict) -> Result:
    """One statistic of one column, in one segment (or for everyone) next to everyone's."""
    feature = _check_feature(ops, args.get("feature"))
    seg_id = args.get("segment")
    seg = ops.seg(seg_id) if seg_id is not None else None
    base = ops.path(seg.id) if seg is not None else "overall"
    book = NumberBook()
    kind = ops.kind(feature)
    stat = args.get("statistic") or "mean"
    ctx = {"segment": ops.seg_ref(seg, book) if seg is not None else None, "label": ops.label(feature),
           "unit": ops.unit(feature), "statistic": stat, "stat_word": STAT_WORDS.get(stat, stat),
           "level": "", "value": "", "overall": "", "values": [], "mode": "numeric"}
    if kind == "categorical":
        level = args.get("level")
        overall_shares = (ops.report.overall.get("categorical") or {}).get(feature) or {}
        if level is not None:
            value = _level_value(ops, seg, feature, level)
            if value is None:
                raise OperationError("unknown_column", words=[level])
            ctx.update(mode="level", level=level,
                       value=ops.customer_share(value, seg, f"{base}.categorical.{feature}.{level}", book),
                       overall=ops.customer_share(overall_shares.get(level, 0.0), None,
                                                  f"overall.categorical.{feature}.{level}", book)
                       if seg is not None else "")
        else:
            shares = (seg.categorical.get(feature) if seg is not None else overall_shares) or {}
            ordered = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
            ctx.update(mode="distribution", values=[
                {"level": lv, "value": ops.customer_share(v, seg, f"{base}.categorical.{feature}.{lv}", book)}
                for lv, v in ordered])
        return ops.result("feature_statistic", args, "stat.md.j2", ctx, book,
                          segments=[seg.id] if seg is not None else [], feature=feature)
    stats = (seg.numeric.get(feature) if seg is not None
             else (ops.report.overall.get("numeric") or {}).get(feature)) or {}
    overall = (ops.report.overall.get("numeric") or {}).get(feature) or {}
    pct = ops.as_percent(feature)
    if kind == "boolean":
        stat = "share"
    src = f"{base}.numeric.{feature}" if seg is not None else f"overall.numeric.{feature}"
    if stat == "share" or (stat not in NUMERIC_STATS and stat not in ("quartiles", "range", "total")):
        stat = "share" if kind == "boolean" else "mean"
    ctx["statistic"], ctx["stat_word"] = stat, STAT_WORDS.get(stat, stat)
    if stat in ("share",) + NUMERIC_STATS:
        key = "mean" if stat == "share" else stat
        if stats.get(key) is None:
            raise OperationError("no_values", label=ops.label(feature))
        share_of_customers = stat == "share" and kind == "boolean"
        ctx.update(mode="share" if stat == "share" else "numeric",
                   value=ops.customer_share(stats[key], seg, f"{src}.{key}", book) if share_of_customers
                   else book.value(stats[key], f"{src}.{key}", pct))
        if seg is not None and key in ("mean", "median") and overall.get(key) is not None:
            ctx["overall"] = ops.customer_share(overall[key], None, f"overall.numeric.{feature}.{key}", book) \
                if share_of_customers else book.value(overall[key], f"overall.numeric.{feature}.{key}", pct)
    elif stat in ("quartiles", "range"):
        keys = ("q1", "median", "q3") if stat == "quartiles" else ("min", "max")
        if any(stats.get(k) is None for k in keys):
            raise OperationError("no_values", label=ops.label(feature))
        ctx.update(mode=stat, values=[book.value(stats[k], f"{src}.{k}", pct) for k in keys])
    else:  # total, from the customers table
        if ops.customers is None:
            raise OperationError("no_customers")
        frame = ops.customers
        column = frame[feature]
        if seg is not None:
            column = column[frame["__segment__"].to_numpy() == seg.id]
        where = f" where segment == {seg.id}" if seg is not None else ""
        ctx.update(mode="numeric", value=book.number(float(column.sum()), f"customers: sum of {feature}{where}"))
    return ops.result("feature_statistic", args, "stat.md.j2", ctx, book,
                      segments=[seg.id] if seg is not None else [], feature=feature)


def rank(ops: Operations, args: dict) -> Result:
    """Segments ordered by one column (mean or median; share for yes/no columns and levels)."""
    feature = _check_feature(ops, args.get("feature"))
    kind = ops.kind(feature)
    level = args.get("level")
    if kind == "categorical" and level is None:
        levels = sorted(((ops.report.overall.get("categorical") or {}).get(feature) or {}))
        raise OperationError("need_level", label=ops.label(feature), levels=levels)
    stat = "median" if args.get("statistic") == "median" and kind in ("numeric", "datetime") else "mean"
    among = [int(s) for s in args.get("among") or []]
    segments = [ops.seg(s) for s in among] if among else ops.real()
    pct = kind in ("categorical", "boolean") or ops.as_percent(feature)
    values = []
    for seg in segments:
        if kind == "categorical":
            v = _level_value(ops, seg, feature, level)
            src = f"{ops.path(seg.id)}.categorical.{feature}.{level}"
        else:
            v = (seg.numeric.get(feature) or {}).get(stat)
            src = f"{ops.path(seg.id)}.numeric.{feature}.{stat}"
        if v is not None and math.isfinite(v):
            values.append((seg, float(v), src))
    if not values:
        raise OperationError("no_values", label=ops.label(feature))
    lowest = args.get("direction") == "lowest"
    values.sort(key=lambda t: (t[1], -t[0].size) if lowest else (-t[1], -t[0].size))
    limit = args.get("limit")
    shown = values[: int(limit)] if limit else values
    book = NumberBook()
    shares = kind in ("categorical", "boolean")  # shares of each segment's customers

    def shown_value(seg, v: float, src: str) -> str:
        return ops.customer_share(v, seg, src, book) if shares else book.value(v, src, pct)

    rows = [{**ops.seg_ref(seg, book), "value": shown_value(seg, v, src)} for seg, v, src in shown]
    if kind == "categorical":
        overall_v = ((ops.report.overall.get("categorical") or {}).get(feature) or {}).get(level)
        overall_src = f"overall.categorical.{feature}.{level}"
    else:
        overall_v = ((ops.report.overall.get("numeric") or {}).get(feature) or {}).get(stat)
        overall_src = f"overall.numeric.{feature}.{stat}"
    ctx = {"label": ops.label(feature), "level": level or "", "kind": kind, "unit": ops.unit(feature),
           "direction": "lowest" if lowest else "highest", "stat_word": STAT_WORDS[stat],
           "top": rows[0], "rows": rows, "tied": len(values) > 1 and values[0][1] == values[1][1],
           "overall": shown_value(None, overall_v, overall_src) if overall_v is not None else "",
           "limited": bool(limit)}
    return ops.result("rank_segments", args, "rank.md.j2", ctx, book, segments=[values[0][0].id], feature=feature)


def quality(ops: Operations, args: dict) -> Result:
    """Silhouette, unassigned share, stability and explanation fidelity in plain words."""
    report = ops.report
    m = report.metrics or {}
    book = NumberBook()
    silhouette = m.get("silhouette")
    stability = (m.get("stability") or {}).get("ari_mean", m.get("stability_ari"))
    fidelity = (report.explanation or {}).get("surrogate_fidelity")
    noise = m.get("noise_fraction")
    ctx = {
        "n_segments": book.count(len(ops.real()), "metrics.n_segments"), "algorithm": report.algorithm,
        "silhouette": book.score(silhouette, "metrics.silhouette") if silhouette is not None else "",
        "silhouette_band": _band(silhouette, SILHOUETTE_BANDS),
        "noise": book.pct(noise, "metrics.noise_fraction") if noise else "",
        "stability": book.score(stability, "metrics.stability.ari_mean") if stability is not None else "",
        "stability_band": _band(stability, STABILITY_BANDS),
        "fidelity": book.pct(fidelity, "explanation.surrogate_fidelity") if fidelity is not None else "",
        "fidelity_band": _band(fidelity, FIDELITY_BANDS),
        "unstable": [s.name for s in ops.real() if "unstable" in s.flags],
        "small": [s.name for s in ops.real() if "small" in s.flags],
    }
    return ops.result("quality", args, "quality.md.j2", ctx, book)


__all__ = ["statistic", "rank", "quality"]
