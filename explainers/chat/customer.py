"""Which segment one customer is in, and why (local SHAP explanation when available)."""
from __future__ import annotations

import math

from segmenter.errors import SegmenterError

from .numbers import NumberBook
from .results import Base, OperationError, Result, Safe

Operations = Base  # the type every operation function takes

MAX_ROWS = 3


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def _local(ops: Operations, customer_id: str) -> Result | None:
    try:
        local = ops.local_explainer(customer_id)
    except SegmenterError as exc:
        raise OperationError("customer_error", message=str(exc)) from exc
    try:
        from ..local_text import local_explanation_text
    except ImportError:  # pragma: no cover - ships with the package
        return None
    book = NumberBook()
    base = f"customer[{customer_id}]"
    if _finite(local.probability):
        book.number(local.probability, f"{base}.probability")
    for i, c in enumerate(local.contributions):
        for key in ("value", "segment_typical", "overall_typical"):
            if _finite(c.get(key)):
                book.number(float(c[key]), f"{base}.contributions[{i}].{key}")
    if _finite(local.fidelity):
        book.number(local.fidelity, "explanation.surrogate_fidelity")
        from ..drivers import LOW_FIDELITY

        book.number(LOW_FIDELITY, "explanation: reliable fidelity threshold")
    text = local_explanation_text(ops.report, local)
    ctx = {"text": Safe(text.strip())}  # local_explanation_text escapes every table value already
    seg_ids = [local.segment_id] if local.segment_id in ops.index else []
    return ops.result("customer_segment", {"customer_id": customer_id}, "customer_local.md.j2", ctx, book,
                      segments=seg_ids)


def _row(ops: Operations, customer_id: str):
    frame = ops.customers
    if frame is None:
        a = ops.report.assignments
        hits = a.index[a["id"].astype(str) == customer_id]
        return None, (int(a.loc[hits[0], "segment"]) if len(hits) else None), hits
    hits = frame.index[frame["__id__"].astype(str) == customer_id]
    return (frame.loc[hits[0]] if len(hits) else None), (int(frame.loc[hits[0], "__segment__"]) if len(hits)
                                                          else None), hits


def customer(ops: Operations, args: dict) -> Result:
    customer_id = str(args.get("customer_id", ""))
    if ops.local_explainer is not None:
        result = _local(ops, customer_id)
        if result is not None:
            return result
    row, seg_id, hits = _row(ops, customer_id)
    if seg_id is None:
        raise OperationError("customer_not_found", customer_id=customer_id)
    book = NumberBook()
    seg = ops.seg(seg_id)
    a = ops.report.assignments
    probability = None
    match = a.index[a["id"].astype(str) == customer_id]
    if len(match) and "probability" in a:
        probability = float(a.loc[match[0], "probability"])
    rows = []
    if row is not None and not seg.is_noise:
        items = seg.drivers or seg.distinguishing
        for d in items:
            feature = d["feature"]
            if feature not in row.index or any(r["feature"] == feature for r in rows):
                continue
            value = row[feature]
            stats = seg.numeric.get(feature) or {}
            if ops.kind(feature) == "categorical" or stats.get("median") is None or not _finite(value):
                continue
            rows.append({"feature": feature, "label": ops.label(feature), "unit": ops.unit(feature),
                         "value": ops.value(book, feature, float(value), f"customers: {feature} of customer"),
                         "typical": ops.value(book, feature, stats["median"],
                                              f"{ops.path(seg.id)}.numeric.{feature}.median")})
            if len(rows) == MAX_ROWS:
                break
    ctx = {"customer_id": customer_id, "segment": ops.seg_ref(seg, book), "rows": rows,
           "probability": book.number(probability, f"assignments[{customer_id}].probability")
           if probability is not None and math.isfinite(probability) and not seg.is_noise else ""}
    return ops.result("customer_segment", {"customer_id": customer_id}, "customer.md.j2", ctx, book,
                      segments=[seg.id])


__all__ = ["customer", "Safe"]
