"""Compare two segments, or one segment with everyone, from the report's statistics."""
from __future__ import annotations

import math

from .numbers import NumberBook
from .operations import MAX_TRAITS, OperationError, Operations, Result


def _spread(share: float) -> float:
    return math.sqrt(max(share * (1 - share), 1e-12))


def _gap(ops: Operations, a, b, feature: str) -> tuple[float, str | None]:
    """How far apart two segments are on a column (standardised), and the level that differs most."""
    kind = ops.kind(feature)
    if kind == "categorical":
        sa, sb = a.categorical.get(feature) or {}, b.categorical.get(feature) or {}
        overall = (ops.report.overall.get("categorical") or {}).get(feature) or {}
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
    if kind == "categorical":
        if level is None:
            _, level = _gap(ops, a, b, feature)
        if level is None:
            return None
        va = (a.categorical.get(feature) or {}).get(level, 0.0)
        vb = (b.categorical.get(feature) or {}).get(level, 0.0)
        return {"label": ops.label(feature), "level": level, "unit": "", "kind": "categorical",
                "a": ops.customer_share(va, a, f"{ops.path(a.id)}.categorical.{feature}.{level}", book),
                "b": ops.customer_share(vb, b, f"{ops.path(b.id)}.categorical.{feature}.{level}", book),
                "higher": "a" if va > vb else ("b" if vb > va else "")}
    va, vb = (a.numeric.get(feature) or {}).get("mean"), (b.numeric.get(feature) or {}).get("mean")
    if va is None or vb is None:
        return None
    pct = ops.as_percent(feature)

    def shown(seg, v: float) -> str:
        source = f"{ops.path(seg.id)}.numeric.{feature}.mean"
        return ops.customer_share(v, seg, source, book) if kind == "boolean" else book.value(v, source, pct)

    return {"label": ops.label(feature), "level": "", "unit": ops.unit(feature), "kind": ops.kind(feature),
            "a": shown(a, va), "b": shown(b, vb),
            "higher": "a" if va > vb else ("b" if vb > va else "")}


def compare(ops: Operations, args: dict) -> Result:
    segs = [int(s) for s in args.get("segments") or []]
    if not segs:
        raise OperationError("need_segment")
    feature = args.get("feature")
    if feature is not None and feature not in ops.report.features:
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


__all__ = ["compare"]
