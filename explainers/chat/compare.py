"""Compare two segments, or one segment with everyone, from the report's statistics."""
from __future__ import annotations

import math

from .numbers import NumberBook
from .results import MAX_TRAITS, Base, OperationError, Result, says_no

Operations = Base  # the type every operation function takes


def _spread(share: float) -> float:
    return math.sqrt(max(share * (1 - share), 1e-12))


def _gap(ops: Operations, a, b, feature: str) -> tuple[float, str | None]:
    """How far apart two segments are on a column (standardised), and the level that differs most."""
    kind = ops.kind(feature)
    if kind in ("categorical", "profile"):
        sa, sb = ops.shares_of(a, feature), ops.shares_of(b, feature)
        overall = ops.shares_of(None, feature)
        best, level = 0.0, None
        for lv in sorted(set(sa) | set(sb)):
            gap = abs(sa.get(lv, 0.0) - sb.get(lv, 0.0)) / _spread(overall.get(lv, 0.5))
            if gap > best:
                best, level = gap, lv
        return best, level
    ma, mb = (a.numeric.get(feature) or {}).get("mean"), (b.numeric.get(feature) or {}).get("mean")
    overall = (ops.report.overall.get("numeric") or {}).get(feature) or {}
    std = overall.get("std")
    if ma is None or mb is None:
        return 0.0, None
    if kind == "boolean":
        return abs(ma - mb) / _spread(overall.get("mean") or 0.5), None
    return (abs(ma - mb) / std if std else 0.0), None


def _pair_row(ops: Operations, a, b, feature: str, level: str | None, book: NumberBook) -> dict | None:
    kind = ops.kind(feature)
    if kind in ("categorical", "profile"):
        if level is None:
            _, level = _gap(ops, a, b, feature)
        if level is None:
            return None
        va = ops.shares_of(a, feature).get(level, 0.0)
        vb = ops.shares_of(b, feature).get(level, 0.0)
        return {"label": ops.label(feature), "level": level, "unit": "", "kind": "categorical",
                "a": ops.customer_share(va, a, ops.level_source(a, feature, level), book),
                "b": ops.customer_share(vb, b, ops.level_source(b, feature, level), book),
                "higher": "a" if va > vb else ("b" if vb > va else "")}
    va, vb = (a.numeric.get(feature) or {}).get("mean"), (b.numeric.get(feature) or {}).get("mean")
    if va is None or vb is None:
        return None
    if says_no(kind, level):  # "never married": the share saying no
        va, vb = 1.0 - va, 1.0 - vb
        return {"label": ops.label(feature), "level": "no", "unit": "", "kind": "categorical",
                "a": ops.customer_share(va, a, f"1 - {ops.path(a.id)}.numeric.{feature}.mean", book),
                "b": ops.customer_share(vb, b, f"1 - {ops.path(b.id)}.numeric.{feature}.mean", book),
                "higher": "a" if va > vb else ("b" if vb > va else "")}
    return {"label": ops.label(feature), "level": "", "unit": ops.unit(feature), "kind": ops.kind(feature),
            "a": ops.shown_mean(book, a, feature, va, f"{ops.path(a.id)}.numeric.{feature}.mean"),
            "b": ops.shown_mean(book, b, feature, vb, f"{ops.path(b.id)}.numeric.{feature}.mean"),
            "higher": "a" if va > vb else ("b" if vb > va else "")}


def compare(ops: Operations, args: dict) -> Result:
    segs = [int(s) for s in args.get("segments") or []]
    if not segs:
        raise OperationError("need_segment")
    feature = args.get("feature")
    if feature is not None and feature not in ops.vocab.columns:
        raise OperationError("unknown_column", words=[str(feature)])
    book = NumberBook()
    a = ops.seg(segs[0])
    ctx = {"a": ops.seg_ref(a, book), "a_size": book.count(a.size, f"{ops.path(a.id)}.size"),
           "a_share": book.pct(a.share, f"{ops.path(a.id)}.share"), "everyone": len(segs) < 2,
           "b": None, "b_size": "", "b_share": "", "rows": [], "feature": bool(feature)}
    if len(segs) < 2 or segs[1] == segs[0]:
        if feature:
            row = ops.trait(a, feature, args.get("level"), book)
            rows = [row] if row else []
        else:
            rows, _ = ops.traits_of(a, book)
        ctx.update(everyone=True, rows=rows)
        return ops.result("compare_segments", args, "compare.md.j2", ctx, book, segments=[a.id], feature=feature)
    b = ops.seg(segs[1])
    ctx.update(b=ops.seg_ref(b, book), b_size=book.count(b.size, f"{ops.path(b.id)}.size"),
               b_share=book.pct(b.share, f"{ops.path(b.id)}.share"))
    if feature:
        chosen = [(feature, args.get("level"))]
    else:
        gaps = sorted(((_gap(ops, a, b, f), f) for f in ops.report.features), key=lambda t: (-t[0][0], t[1]))
        chosen = [(f, lv) for (g, lv), f in gaps if g > 0][:MAX_TRAITS]
    rows = [r for r in (_pair_row(ops, a, b, f, lv, book) for f, lv in chosen) if r]
    ctx["rows"] = rows
    return ops.result("compare_segments", args, "compare.md.j2", ctx, book, segments=[a.id, b.id],
                      feature=feature)


def larger_of(ops: Operations, args: dict) -> Result:
    """Of two segments, the one with more customers (or the higher value of a column) first."""
    segs = [int(s) for s in args.get("segments") or []][:2]
    if len(segs) < 2:
        raise OperationError("need_segment")
    a, b = ops.seg(segs[0]), ops.seg(segs[1])
    feature, level = args.get("feature"), args.get("level")
    book = NumberBook()
    if feature is None:
        va, vb = float(a.size), float(b.size)
        shown = lambda seg, v: book.count(v, f"{ops.path(seg.id)}.size")  # noqa: E731
        what = {"label": "customers", "kind": "size"}
    else:
        if feature not in ops.vocab.columns:
            raise OperationError("unknown_column", words=[str(feature)])
        kind = ops.kind(feature)
        stat = "median" if args.get("statistic") == "median" and kind in ("numeric", "datetime") else "mean"
        if kind in ("categorical", "profile"):
            if level is None:
                levels = set(ops.shares_of(None, feature))
                if not (levels and levels <= {"yes", "no"}):
                    raise OperationError("need_level", label=ops.label(feature), levels=sorted(levels))
                level = "yes"
            va, vb = ops.shares_of(a, feature).get(level, 0.0), ops.shares_of(b, feature).get(level, 0.0)
            shown = lambda seg, v: book.pct(v, ops.level_source(seg, feature, level))  # noqa: E731
        else:
            va, vb = (a.numeric.get(feature) or {}).get(stat), (b.numeric.get(feature) or {}).get(stat)
            if va is None or vb is None:
                raise OperationError("no_values", label=ops.label(feature))
            shown = lambda seg, v: (book.pct(v, f"{ops.path(seg.id)}.numeric.{feature}.{stat}")  # noqa: E731
                                    if kind == "boolean" else
                                    ops.value(book, feature, v, f"{ops.path(seg.id)}.numeric.{feature}.{stat}"))
        what = {"label": ops.label(feature), "kind": kind, "level": level or "",
                "stat_word": "median" if stat == "median" else "average", "unit": ops.unit(feature)}
    first, second = (a, va), (b, vb)
    smaller = bool(args.get("smaller"))
    if (vb > va) != smaller and vb != va:
        first, second = second, first
    ctx = {"what": {"level": "", "unit": "", "stat_word": "", **what}, "smaller": smaller, "tied": va == vb,
           "first": {**ops.seg_ref(first[0], book), "value": shown(first[0], first[1])},
           "second": {**ops.seg_ref(second[0], book), "value": shown(second[0], second[1])}}
    return ops.result("larger_of", args, "larger_of.md.j2", ctx, book, segments=[first[0].id, second[0].id],
                      feature=feature)


__all__ = ["compare", "larger_of"]
