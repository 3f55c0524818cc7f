"""Counting customers with conditions, from the customers table (never from guesses).

Counts under :data:`MIN_COUNT_SHOWN` are said as "fewer than 5", and counts that leave fewer
than 5 out as "all but fewer than 5" (their share is not given, since it would give the count
away): a chat open to many people must not let anyone find one customer by narrowing
conditions until a single row is left. None at all is "fewer than 5" too: telling 0 from 1
would tell whether one customer with a value exists.
"""
from __future__ import annotations

import numpy as np

from .filters import Condition, combined_mask
from .numbers import MIN_GROUP, NumberBook
from .results import OP_WORDS, Base, OperationError, Result

#: Smallest count an answer shows as a number; smaller non-zero counts read "fewer than 5".
MIN_COUNT_SHOWN = MIN_GROUP


def _source(c: Condition) -> str:
    if c.op == "between":
        return f"{c.column} between {c.value} and {c.value2}"
    if c.op in ("is_true", "is_false"):
        return f"{c.column} is {'true' if c.op == 'is_true' else 'false'}"
    if c.op in ("is_level", "not_level", "in"):
        return f"{c.column} {'==' if c.op == 'is_level' else '!=' if c.op == 'not_level' else 'in'} level"
    return f"{c.column} {c.op} {c.value}"


def _phrase(ops: Base, c: Condition, book: NumberBook) -> dict:
    label = ops.label(c.column)
    if c.op in ("is_true", "is_false"):
        return {"kind": "flag", "label": label, "yes": c.op == "is_true", "op": "", "value": "", "value2": "",
                "unit": ""}
    if c.op in ("is_level", "not_level", "in"):
        value = " or ".join(f"'{v}'" for v in c.value) if c.op == "in" else f"'{c.value}'"
        return {"kind": "level", "label": label, "yes": c.op != "not_level", "op": "", "value": value,
                "value2": "", "unit": ""}
    value = ops.value(book, c.column, float(c.value), "question: threshold")
    value2 = ops.value(book, c.column, float(c.value2), "question: threshold") if c.value2 is not None else ""
    return {"kind": "compare", "label": label, "yes": True, "op": OP_WORDS[c.op], "value": value,
            "value2": value2, "unit": ops.unit(c.column)}


def count(ops: Base, args: dict) -> Result:
    """How many customers (in a segment) meet the conditions, joined by "and" or "or"."""
    if ops.customers is None:
        raise OperationError("no_customers")
    book = NumberBook()
    conditions = [Condition(**c) for c in args.get("conditions") or []]
    missing = [c.column for c in conditions if c.column not in ops.customers.columns]
    if missing:
        raise OperationError("unknown_column", words=missing)
    join = "or" if args.get("join") == "or" else "and"
    frame = ops.customers
    seg_id = args.get("segment")
    base_mask = np.ones(len(frame), dtype=bool)
    seg_ref = None
    if seg_id is not None:
        seg = ops.seg(seg_id)
        base_mask = frame["__segment__"].to_numpy() == seg.id
        seg_ref = ops.seg_ref(seg, book)
    mask = base_mask & combined_mask(frame, conditions, join)
    sources = [_source(c) for c in conditions]
    where = " and ".join(([f"segment == {seg_id}"] if seg_id is not None else [])
                         + ([f" {join} ".join(sources)] if sources else [])) or "all customers"
    base, n = int(base_mask.sum()), int(mask.sum())
    hidden = bool(conditions) and (n < MIN_COUNT_SHOWN or base - n < MIN_COUNT_SHOWN)
    ctx = {"segment": seg_ref, "conditions": [_phrase(ops, c, book) for c in conditions], "join": join,
           "count": book.group_count(n, base, f"customers: count where {where}") if hidden
           else book.count(n, f"customers: count where {where}"),
           "base": book.count(base, "customers: count where " + (f"segment == {seg_id}" if seg_id is not None
                                                                 else "all customers")),
           "share": book.pct(n / base, f"customers: share where {where}") if base and conditions and not hidden
           else "", "as_share": bool(args.get("as_share")) and not hidden}
    return ops.result("count_customers", args, "count.md.j2", ctx, book,
                      segments=[seg_id] if seg_id is not None else [],
                      feature=conditions[0].column if conditions else None)


__all__ = ["count", "MIN_COUNT_SHOWN"]
