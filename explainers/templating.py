"""The one Jinja environment for the templates in ``templates/`` (cards, plots, local explanations).

Every environment is strict (``StrictUndefined``: a misspelt field fails instead of printing
nothing) and HTML templates (``*.html.j2``) are autoescaped. With ``markdown=True`` every
``{{ value }}`` is escaped for Markdown on output with :func:`~explainers.format.md_escape`,
except text wrapped in :class:`MarkdownSafe` (Markdown we rendered ourselves), so table text
such as ``[x](javascript:..)`` or ``<img onerror=..>`` stays inert wherever the output is shown.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .format import md_escape

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


class MarkdownSafe(str):
    """Markdown we rendered ourselves: not escaped again when placed in a larger document."""


def _md_finalize(value: object) -> str:
    return value if isinstance(value, MarkdownSafe) else md_escape(value)


def _is_html(name: str | None) -> bool:
    return bool(name) and name.endswith(".html.j2")


@lru_cache(maxsize=None)
def environment(markdown: bool = False) -> Environment:
    """The shared environment (built once per flavour; templates are compiled once).

    ``markdown=False``: HTML templates autoescaped, other output as is. ``markdown=True``: every
    value Markdown-escaped. Both: StrictUndefined, ``trim_blocks``/``lstrip_blocks``, trailing
    newline kept. Do not add filters or globals to it: it is shared.
    """
    options = {"finalize": _md_finalize} if markdown else {}
    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=_is_html,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True, **options)


__all__ = ["TEMPLATES_DIR", "MarkdownSafe", "environment"]
