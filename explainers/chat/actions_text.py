"""Suggested marketing actions for segments, from :mod:`explainers.actions` (numbers recorded)."""
from __future__ import annotations

from .numbers import NumberBook, numbers_in_text
from .results import Base, OperationError, Result

Operations = Base  # the type every operation function takes

MAX_PER_SEGMENT = 3
MAX_SEGMENTS_ALL = 8


def record_text_numbers(text: str, source: str, book: NumberBook, ignore: tuple = ()) -> None:
    """Record the numbers another module already wrote into ``text`` (as shown)."""
    for value, _decimals, is_percent in numbers_in_text(text, ignore):
        book.items.append({"value": value / 100 if is_percent else value, "source": source,
                           "display": "", "kind": "percent" if is_percent else "number"})


def actions(ops: Operations, args: dict) -> Result:
    try:
        from ..actions import suggest_actions
    except ImportError as exc:  # pragma: no cover - the module ships with the package
        raise OperationError("unavailable") from exc
    segs = [int(s) for s in args.get("segments") or []]
    targets = [ops.seg(s) for s in segs] if segs else ops.real()[:MAX_SEGMENTS_ALL]
    per_segment = 1 if not segs and len(targets) > 1 else MAX_PER_SEGMENT
    book = NumberBook()
    ignore = tuple(s.name for s in ops.report.segments) + tuple(ops.vocab.label(f) for f in ops.report.features)
    blocks = []
    for seg in targets:
        items = []
        for i, action in enumerate(suggest_actions(ops.report, seg.id)[:per_segment]):
            source = f"actions: {ops.path(seg.id)} suggestion {i + 1}"
            record_text_numbers(f"{action.text} {action.because}", source, book, ignore)
            items.append({"text": action.text, "because": action.because})
        blocks.append({"segment": ops.seg_ref(seg, book), "actions": items})
    ctx = {"blocks": blocks, "all": not segs}
    return ops.result("suggest_actions", args, "actions.md.j2", ctx, book, segments=[s.id for s in targets])


__all__ = ["actions", "record_text_numbers"]
