"""What a question asks: an operation and its arguments (plain JSON values)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, eq=False)
class Intent:
    """An operation name and its arguments; ``_``-prefixed arguments are context for follow-ups."""

    operation: str
    args: dict = field(default_factory=dict)


def refuse(reason: str, **details) -> Intent:
    return Intent("refuse", {"reason": reason, **details})


__all__ = ["Intent", "refuse"]
