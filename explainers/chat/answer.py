"""One chat answer: Markdown-safe text, the operation behind it and every number with its source."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, eq=False)
class Answer:
    """One answer: Markdown-safe ``text``, the operation run, and every number with its source."""

    text: str
    operation: str
    args: dict
    numbers: list
    suggestions: list
    answered: bool
    via: str = "grounded"  # "grounded" or "llm" (LLM phrasing of grounded results)


__all__ = ["Answer"]
