"""Statistics of a column, segments ranked or listed by a column, the segmentation's quality, its columns."""
from __future__ import annotations

import math

from segmenter.constants import SILHOUETTE_BANDS, STABILITY_BANDS, band

from segmenter.meanings import ordinal_order

from .numbers import NumberBook
from .filters import report_year
from .results import STAT_WORDS, Base, OperationError, Result, says_no

FIDELITY_BANDS = ((0.9, "high"), (0.8, "acceptable"), (float("-inf"), "low"))
NUMERIC_STATS = ("mean", "median", "min", "max", "std")



def _check_feature(ops: Base, feature: str | None) -> str:
    if not feature or feature not in ops.vocab.columns:
        raise OperationError("unknown_column", words=[str(feature or "")])
    return feature


def _level_value(ops: Base, seg, feature: str, level: str) -> float | None:
    shares = ops.shares_of(seg, feature)
    return shares.get(level, 0.0 if shares else None)


def _need_level(ops: Base, feature: str) -> OperationError:
    return OperationError("need_level", label=ops.label(feature), levels=sorted(ops.shares_of(None, feature)))


def statistic(ops: Base, args: dict) -> Result:
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
    segments = [seg.id] if seg is not None else []
    if kind in ("categorical", "profile"):
        level = args.get("level")
        if level is not None:
            value = _level_value(ops, seg, feature, level)
            if value is None:
                raise OperationError("unknown_column", words=[level])
            ctx.update(mode="level", level=level,
                       value=ops.customer_share(value, seg, ops.level_source(seg, feature, level), book),
                       overall=ops.customer_share(ops.shares_of(None, feature).get(level, 0.0), None,
                                                  ops.level_source(None, feature, level), book)
                       if seg is not None else "")
        else:
            shares = ops.shares_of(seg, feature)
            ordered = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
            ctx.update(mode="distribution", values=[
                {"level": lv, "value": ops.customer_share(v, seg, ops.level_source(seg, feature, lv), book)}
                for lv, v in ordered])
        return ops.result("feature_statistic", args, "stat.md.j2", ctx, book, segments=segments, feature=feature)
    stats = (seg.numeric.get(feature) if seg is not None
             else (ops.report.overall.get("numeric") or {}).get(feature)) or {}
    overall = (ops.report.overall.get("numeric") or {}).get(feature) or {}
    if kind == "boolean":
        stat = "share"
    elif stat == "share" or stat not in NUMERIC_STATS + ("quartiles", "range", "total"):
        stat = "mean"
    src = f"{base}.numeric.{feature}"
    ctx["statistic"], ctx["stat_word"] = stat, STAT_WORDS.get(stat, stat)
    if stat in ("share",) + NUMERIC_STATS:
        key = "mean" if stat == "share" else stat
        if stats.get(key) is None:
            raise OperationError("no_values", label=ops.label(feature))
        if stat == "share":
            customers = ops.kind(feature) == "boolean"  # a share of customers, not of a 0-1 value
            shown = (lambda v, g, source: ops.customer_share(v, g, source, book)) if customers else \
                (lambda v, g, source: book.pct(v, source))
            # "never married" on a yes/no column: the share saying no
            no = says_no(ops.kind(feature), args.get("level"))

            def said(v: float, g, source: str) -> str:
                return shown(1.0 - v, g, f"1 - {source}") if no else shown(v, g, source)
            ctx.update(mode="share", answer="no" if no else "yes", value=said(stats[key], seg, f"{src}.{key}"))
            if seg is not None and overall.get("mean") is not None:
                ctx["overall"] = said(overall["mean"], None, f"overall.numeric.{feature}.mean")
        else:
            ctx.update(mode="numeric", value=ops.value(book, feature, stats[key], f"{src}.{key}"))
            if seg is not None and overall.get(key) is not None:
                ctx["overall"] = ops.value(book, feature, overall[key], f"overall.numeric.{feature}.{key}")
            if args.get("as_age") and ops.role(feature) == "birth_year":
                year = report_year(ops.report)  # asked as an age: say the age the birth year means
                ctx["age"] = {"year": book.year(year, "reference year (the table's latest date)"),
                              "value": book.number(year - stats[key], f"reference year - {src}.{key}"),
                              "overall": book.number(year - overall[key], f"reference year - overall.numeric."
                                                                          f"{feature}.{key}")
                              if seg is not None and overall.get(key) is not None else ""}
    elif stat in ("quartiles", "range"):
        keys = ("q1", "median", "q3") if stat == "quartiles" else ("min", "max")
        if any(stats.get(k) is None for k in keys):
            raise OperationError("no_values", label=ops.label(feature))
        ctx.update(mode=stat, values=[ops.value(book, feature, stats[k], f"{src}.{k}") for k in keys])
    else:  # total, from the customers table
        if ops.customers is None:
            raise OperationError("no_customers")
        frame = ops.customers
        column = frame[feature]
        if seg is not None:
            column = column[frame["__segment__"].to_numpy() == seg.id]
        where = f" where segment == {seg.id}" if seg is not None else ""
        ctx.update(mode="numeric", value=ops.value(book, feature, float(column.sum()),
                                                   f"customers: sum of {feature}{where}"))
    return ops.result("feature_statistic", args, "stat.md.j2", ctx, book, segments=segments, feature=feature)


def _segment_values(ops: Base, feature: str, level: str | None, stat: str, segments: list) -> list:
    kind = ops.kind(feature)
    values = []
    for seg in segments:
        if kind in ("categorical", "profile"):
            v = _level_value(ops, seg, feature, level)
            src = ops.level_source(seg, feature, level)
        else:
            v = (seg.numeric.get(feature) or {}).get(stat)
            src = f"{ops.path(seg.id)}.numeric.{feature}.{stat}"
            if v is not None and says_no(kind, level):
                v, src = 1.0 - v, f"1 - {src}"
        if v is not None and math.isfinite(v):
            values.append((seg, float(v), src))
    return values


def _shown(ops: Base, book: NumberBook, feature: str, value: float, source: str, seg=None) -> str:
    """A segment's (or everyone's, ``seg=None``) value; shares of customers as bounds when small."""
    if ops.kind(feature) in ("categorical", "profile", "boolean"):
        return ops.customer_share(value, seg, source, book)
    return ops.value(book, feature, value, source)


def _overall(ops: Base, book: NumberBook, feature: str, level: str | None, stat: str) -> str:
    if ops.kind(feature) in ("categorical", "profile"):
        v = ops.shares_of(None, feature).get(level)
        kind = "categorical" if ops.kind(feature) == "categorical" else "profile"
        return ops.customer_share(v, None, f"overall.{kind}.{feature}.{level}", book) if v is not None else ""
    v = ((ops.report.overall.get("numeric") or {}).get(feature) or {}).get(stat)
    if v is None:
        return ""
    if says_no(ops.kind(feature), level):
        return _shown(ops, book, feature, 1.0 - v, f"1 - overall.numeric.{feature}.{stat}")
    return _shown(ops, book, feature, v, f"overall.numeric.{feature}.{stat}")


def _level_of(ops: Base, feature: str, level: str | None) -> str | None:
    """The level a ranking measures: the one asked for, "yes" of a yes/no outcome, the top of a
    scale written in words ("High" of Low/Average/High), else ask which."""
    if ops.kind(feature) not in ("categorical", "profile") or level is not None:
        return level
    levels = set(ops.shares_of(None, feature))
    if levels and levels <= {"yes", "no"}:
        return "yes"
    order = ordinal_order(levels)
    if order is not None:
        return next(lv for lv in levels if lv.lower() == order[-1])
    raise _need_level(ops, feature)


def rank(ops: Base, args: dict) -> Result:
    """Segments ordered by one column (mean or median; share for yes/no columns and levels)."""
    feature = _check_feature(ops, args.get("feature"))
    kind = ops.kind(feature)
    level = _level_of(ops, feature, args.get("level"))
    stat = "median" if args.get("statistic") == "median" and kind in ("numeric", "datetime") else "mean"
    among = [int(s) for s in args.get("among") or []]
    values = _segment_values(ops, feature, level, stat, [ops.seg(s) for s in among] if among else ops.real())
    if not values:
        raise OperationError("no_values", label=ops.label(feature))
    by_count = args.get("by") == "count" and kind in ("categorical", "profile")
    if by_count:  # "the most women": how many, not which share
        values = [(seg, v * seg.size, src, v) for seg, v, src in values]
    lowest = args.get("direction") == "lowest"
    values.sort(key=lambda t: (t[1], -t[0].size) if lowest else (-t[1], -t[0].size))
    limit = args.get("limit")
    shown = values[: int(limit)] if limit else values
    book = NumberBook()
    if by_count:
        rows = [{**ops.seg_ref(seg, book),
                 "value": f"{book.group_count(round(v), seg.size, f'{src} * {ops.path(seg.id)}.size')} "
                 f"customers ({ops.customer_share(share, seg, src, book)})"} for seg, v, src, share in shown]
    else:
        rows = [{**ops.seg_ref(seg, book), "value": _shown(ops, book, feature, v, src, seg)}
                for seg, v, src in shown]
    ctx = {"label": ops.label(feature), "level": level or "", "kind": "categorical" if kind == "profile" else kind,
           "unit": ops.unit(feature), "direction": "lowest" if lowest else "highest", "stat_word": STAT_WORDS[stat],
           "top": rows[0], "rows": rows, "tied": len(values) > 1 and values[0][1] == values[1][1],
           "overall": "" if by_count else _overall(ops, book, feature, level, stat), "limited": bool(limit),
           "by_count": by_count, "answer": "no" if says_no(kind, level) else ""}
    args = {**args, "level": level}
    return ops.result("rank_segments", args, "rank.md.j2", ctx, book, segments=[values[0][0].id], feature=feature)


def per_segment(ops: Base, args: dict) -> Result:
    """One statistic of a column for every segment, in segment order ("average income per segment")."""
    feature = _check_feature(ops, args.get("feature"))
    kind = ops.kind(feature)
    book = NumberBook()
    stat = args.get("statistic") or "mean"
    if kind in ("categorical", "profile") and args.get("level") is None:
        levels = set(ops.shares_of(None, feature))
        if not (levels and levels <= {"yes", "no"}):
            rows = []
            for seg in ops.real():
                shares = ops.shares_of(seg, feature)
                ordered = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
                rows.append({**ops.seg_ref(seg, book), "value": ", ".join(
                    f"{lv} {ops.customer_share(v, seg, ops.level_source(seg, feature, lv), book)}"
                    for lv, v in ordered)})
            ctx = {"label": ops.label(feature), "level": "", "kind": "distribution", "unit": "", "stat_word": "",
                   "rows": rows, "overall": ""}
            return ops.result("per_segment", args, "per_segment.md.j2", ctx, book,
                              segments=[s.id for s in ops.real()], feature=feature)
    level = _level_of(ops, feature, args.get("level"))
    if kind in ("numeric", "datetime") and stat not in NUMERIC_STATS:
        stat = "mean"
    if kind == "boolean":
        stat = "mean"
    values = _segment_values(ops, feature, level, stat, ops.real())
    if not values:
        raise OperationError("no_values", label=ops.label(feature))
    rows = [{**ops.seg_ref(seg, book), "value": _shown(ops, book, feature, v, src)} for seg, v, src in values]
    ctx = {"label": ops.label(feature), "level": level or "", "kind": "categorical" if kind == "profile" else kind,
           "unit": ops.unit(feature), "stat_word": STAT_WORDS.get(stat, stat), "rows": rows,
           "overall": _overall(ops, book, feature, level, stat), "answer": "no" if says_no(kind, level) else ""}
    return ops.result("per_segment", {**args, "level": level}, "per_segment.md.j2", ctx, book,
                      segments=[s.id for s in ops.real()], feature=feature)


def quality(ops: Base, args: dict) -> Result:
    """Silhouette, unassigned share, stability and explanation fidelity in plain words; for one
    segment also its own stability and how well the explanation model recognises it."""
    report = ops.report
    m = report.metrics or {}
    book = NumberBook()
    silhouette = m.get("silhouette")
    stability = (m.get("stability") or {}).get("ari_mean", m.get("stability_ari"))
    explanation = report.explanation or {}
    fidelity = explanation.get("surrogate_fidelity")
    noise = m.get("noise_fraction")
    ctx = {
        "n_segments": book.count(len(ops.real()), "metrics.n_segments"), "algorithm": report.algorithm,
        "silhouette": book.score(silhouette, "metrics.silhouette") if silhouette is not None else "",
        "silhouette_band": band(silhouette, SILHOUETTE_BANDS),
        "noise": book.pct(noise, "metrics.noise_fraction") if noise else "",
        "stability": book.score(stability, "metrics.stability.ari_mean") if stability is not None else "",
        "stability_band": band(stability, STABILITY_BANDS),
        "fidelity": book.pct(fidelity, "explanation.surrogate_fidelity") if fidelity is not None else "",
        "fidelity_band": band(fidelity, FIDELITY_BANDS),
        "unstable": [s.name for s in ops.real() if "unstable" in s.flags],
        "small": [s.name for s in ops.real() if "small" in s.flags], "segment": None,
        "k": _k_choice(ops, book) if args.get("k") or not args.get("segments") else None,
    }
    segs = [int(s) for s in args.get("segments") or []]
    focus = []
    if segs:
        seg = ops.seg(segs[0])
        focus = [seg.id]
        f1 = (explanation.get("f1_by_segment") or {}).get(str(seg.id))
        ctx["segment"] = {
            **ops.seg_ref(seg, book), "size": book.count(seg.size, f"{ops.path(seg.id)}.size"),
            "share": book.pct(seg.share, f"{ops.path(seg.id)}.share"),
            "stability": book.score(seg.stability, f"{ops.path(seg.id)}.stability") if seg.stability is not None
            else "", "stability_band": band(seg.stability, STABILITY_BANDS),
            "f1": book.pct(f1, f"explanation.f1_by_segment.{seg.id}") if f1 is not None else "",
            "flags": [f for f in ("small", "unstable") if f in seg.flags]}
    return ops.result("quality", args, "quality.md.j2", ctx, book, segments=focus)


def _k_choice(ops: Base, book: NumberBook) -> dict | None:
    """Why this number of segments: the basis of the choice and the runners-up (segmenter.kchoice)."""
    why = (ops.report.params or {}).get("k_choice") or {}
    if not why.get("basis"):
        return None
    point = why.get("point") or {}
    runners = [{"k": book.count(r["k"], "params.k_choice.runners_up.k"),
                "silhouette": book.score(r["silhouette"], "params.k_choice.runners_up.silhouette")}
               for r in why.get("runners_up") or [] if r.get("silhouette") is not None]
    lo, hi = why.get("share_bounds") or (0.03, 0.4)
    return {"basis": why["basis"], "k": book.count(why.get("k") or len(ops.real()), "params.k"),
            "silhouette": book.score(point["silhouette"], "params.k_choice.point.silhouette")
            if point.get("silhouette") is not None else "",
            "stability": book.score(point["stability"], "params.k_choice.point.stability")
            if point.get("stability") is not None else "",
            "lo": book.pct(lo, "params.k_choice.share_bounds.0"), "hi": book.pct(hi, "params.k_choice.share_bounds.1"),
            "best": book.count(why["best_separated"], "params.k_choice.best_separated")
            if why.get("best_separated") else "", "runners_up": runners}


def agreement(ops: Base, args: dict) -> Result:
    """How far the segments agree with an existing label column (the sales team's A-D): adjusted
    Rand index and the label most common in each segment."""
    from sklearn.metrics import adjusted_rand_score

    feature = _check_feature(ops, args.get("feature"))
    if ops.customers is None or feature not in ops.customers.columns:
        raise OperationError("no_customers")
    frame = ops.customers
    known = frame[feature].notna().to_numpy()
    book = NumberBook()
    ari = float(adjusted_rand_score(frame["__segment__"].to_numpy()[known], frame[feature].astype(str)[known]))
    rows = []
    for seg in ops.real():
        shares = ops.shares_of(seg, feature)
        if shares:
            level = max(shares, key=lambda lv: (shares[lv], lv))
            rows.append({**ops.seg_ref(seg, book), "level": level,
                         "share": ops.customer_share(shares[level], seg, ops.level_source(seg, feature, level),
                                                     book)})
    ctx = {"label": ops.label(feature), "ari": book.score(ari, f"customers: adjusted Rand index of segments and "
                                                              f"{feature}"), "rows": rows,
           "band": "close" if ari >= 0.5 else "partial" if ari >= 0.2 else "loose"}
    return ops.result("label_agreement", args, "agreement.md.j2", ctx, book, feature=feature)


def columns(ops: Base, args: dict) -> Result:
    """The columns the segments were built on (with what each means), the label/outcome columns
    shown per segment, and the columns left out with their reasons."""
    report = ops.report
    book = NumberBook()
    used = [{"label": ops.label(c), "column": c, "role": (report.meaning(c).role if report.meaning(c) else "")}
            for c in report.features]
    profile = [{"label": ops.label(c), "column": c} for c in report.profile_columns or []]
    left_out = [{"column": str(e.get("column", "")), "reason": str(e.get("reason", ""))}
                for e in report.excluded_columns]
    ctx = {"used": used, "profile": profile, "left_out": left_out,
           "n_used": book.count(len(used), "features: count"), "n_rows": book.count(report.n_rows, "n_rows")}
    return ops.result("columns", args, "columns.md.j2", ctx, book)


__all__ = ["statistic", "rank", "per_segment", "quality", "columns", "agreement"]
