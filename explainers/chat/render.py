"""Render chat answers from the Jinja templates in ``templates/chat/``.

Templates hold the wording; every value arrives as a formatted string. Values are
Markdown-escaped on output (``finalize``), so text from the table (segment names, levels,
column names, customer ids) cannot inject links, HTML or formatting. Text that is already
safe Markdown is passed as :class:`~explainers.chat.customer.Safe`.
"""
from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..format import inert_links
from .results import Safe

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "chat"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def md_text(value: object) -> str:
    """Table text made inert in Markdown: HTML entities, emphasis/link/table characters escaped,
    line breaks collapsed (parentheses stay: without ``[...]`` they cannot form a link), bare
    web and e-mail addresses no longer linked (:func:`~explainers.format.inert_links`)."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return inert_links(_MD_SPECIAL.sub(r"\\\1", text))


def _finalize(value: object) -> str:
    if isinstance(value, Safe):
        return value
    return md_text(value)


def first_upper(value: object) -> str:
    """Upper-case the first letter only ("days since last order" -> "Days since last order")."""
    text = str(value)
    return text[:1].upper() + text[1:]


def environment() -> Environment:
    """A new environment (one per engine): StrictUndefined, Markdown-escaped values."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, finalize=_finalize)
    env.filters["first_upper"] = first_upper
    return env


def tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, no leading/trailing blank lines."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


class Renderer:
    """Renders :class:`~explainers.chat.operations.Result` contexts."""

    def __init__(self) -> None:
        self.env = environment()

    def render(self, template: str, context: dict) -> str:
        return tidy(self.env.get_template(template).render(**context))


__all__ = ["Renderer", "environment", "tidy", "md_text", "TEMPLATE_DIR"]
