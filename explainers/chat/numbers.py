"""Numbers in answers: formatted once here, each recorded with where it came from.

Every number an answer shows goes through a :class:`NumberBook`, which formats it and
records ``{value, source, display, kind}``; ``source`` is a path into the report
("segments[2].numeric.annual_spend.mean") or a description of a computation on the
customers table ("customers: count where ..."). :func:`numbers_in_text` and
:func:`unsupported_numbers` check free text (an LLM's phrasing) against such records.
"""
from __future__ import annotations

import math
import re
from types import MappingProxyType

from ..format import fmt_number, fmt_pct, meaning_of, value_text

#: The smallest number of customers an answer states exactly. A count under it reads "fewer than 5",
#: one that leaves fewer than it outside its group "all but fewer than 5", and a share of a group
#: that stands for such a count is a bound ("under 2.3%"), since share x group size would give it.
MIN_GROUP = 5
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(%|percent\b|k\b|m\b)?", re.I)
WORD_NUMBERS = MappingProxyType({
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "hundred": 100, "thousand": 1000, "million": 1_000_000})


def _pct_one_decimal(share: float) -> str:
    """A bound as a percentage with one decimal ("99.7%", "0.3%"), already rounded the safe way."""
    text = f"{share * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def fmt_value(value: float) -> str:
    """A plain number as everywhere else (:func:`explainers.format.fmt_number`)."""
    return fmt_number(value)


class NumberBook:
    """Formats numbers for one answer and records each one."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def _add(self, value: float, source: str, display: str, kind: str, scale: float = 1.0) -> str:
        item = {"value": float(value), "source": source, "display": display, "kind": kind}
        if scale != 1.0:
            item["scale"] = scale  # shown in other units ("$61k" for 61 in a k$ column)
        self.items.append(item)
        return display

    def column_value(self, report, feature: str, value: float, source: str) -> str:
        """A value of one column, formatted as the cards show it ('23%', '$61k', '1966')."""
        display = value_text(report, feature, value)
        if display.endswith("%"):
            meaning = meaning_of(report, feature)
            kind = "number" if meaning is not None and tuple(meaning.scale) == (0, 100) else "percent"
            return self._add(value, source, display, kind)
        meaning = meaning_of(report, feature)
        scale = 1000.0 if meaning is not None and meaning.unit in ("k$", "k€", "k£") else 1.0
        return self._add(value, source, display, "number", scale)

    def count(self, value: float, source: str) -> str:
        return self._add(value, source, f"{int(round(value)):,}", "count")

    def pct(self, share: float, source: str) -> str:
        return self._add(share, source, fmt_pct(share), "percent")

    def year(self, value: int, source: str) -> str:
        """A calendar year, written as years are ("2014", not "2,014")."""
        return self._add(int(value), source, str(int(value)), "number")

    def number(self, value: float, source: str) -> str:
        return self._add(value, source, fmt_value(value), "number")

    def score(self, value: float, source: str) -> str:
        return self._add(value, source, f"{value:.2f}", "score")

    def group_count(self, count: int, n: int, source: str) -> str:
        """How many of a group of ``n`` customers meet a condition, never an exact count under
        :data:`MIN_GROUP` on either side (the bound is what is recorded)."""
        if count < MIN_GROUP:
            return self._add(MIN_GROUP, f"{source} (fewer than)", f"fewer than {MIN_GROUP}", "count")
        if n - count < MIN_GROUP:
            return self._add(MIN_GROUP, f"{source} (all but fewer than)", f"all but fewer than {MIN_GROUP}",
                             "count")
        return self.count(count, source)

    def group_share(self, share: float, n: int, source: str) -> str:
        """A share of a group of ``n`` customers (a level's, a yes/no column's), as a bound when it
        stands for fewer than :data:`MIN_GROUP` customers, or for all but fewer than that."""
        k = round(float(share) * n)
        if n < MIN_GROUP:
            return self._add(1.0, f"{source} (group under {MIN_GROUP})", "an unstated share", "percent")
        # the bound as shown must hold for every hidden count (0..4 of n, or n-4..n): never "over 100%"
        if k < MIN_GROUP:
            bound = max(round(MIN_GROUP / n, 3), math.ceil((MIN_GROUP - 1) / n * 1000) / 1000)
            return self._add(bound, f"{source} (under)", f"under {_pct_one_decimal(bound)}", "percent")
        if n - k < MIN_GROUP:
            bound = min(round(1 - MIN_GROUP / n, 3), math.floor((n - MIN_GROUP + 1) / n * 1000) / 1000)
            return self._add(bound, f"{source} (over)", f"over {_pct_one_decimal(bound)}", "percent")
        return self.pct(share, source)

    def ident(self, seg_id: int, source: str) -> str:
        return self._add(seg_id, source, str(int(seg_id)), "id")

    def value(self, value: float, source: str, as_percent: bool) -> str:
        """A feature value: a percentage for yes/no and 0..1 columns, else a plain number."""
        return self.pct(value, source) if as_percent else self.number(value, source)

    def extend(self, other: "NumberBook") -> None:
        self.items.extend(other.items)


def numbers_in_text(text: str, ignore: tuple = ()) -> list[tuple[float, int, bool]]:
    """Numbers written in ``text`` as (value, decimals shown, is_percent).

    ``ignore`` holds strings (segment names, column names) whose digits are not numbers
    of the answer, e.g. "Spending Score (1-100)"; they are removed first.
    """
    text = text.replace("\\", "")
    for phrase in sorted((str(p).replace("\\", "") for p in ignore if p), key=len, reverse=True):
        text = text.replace(phrase, " ")
    out = []
    for match in _NUMBER.finditer(text):
        whole, frac, suffix = match.group(1), match.group(2) or "", (match.group(3) or "").lower()
        value = float(whole.replace(",", "") + ("." + frac if frac else ""))
        decimals = len(frac)
        if suffix in ("k", "m"):
            value *= 1e3 if suffix == "k" else 1e6
            decimals -= 3 if suffix == "k" else 6
        out.append((value, decimals, suffix in ("%", "percent")))
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in WORD_NUMBERS:
            out.append((float(WORD_NUMBERS[word]), 0, False))
    return out


def _close(shown: float, decimals: int, candidates: list[float]) -> bool:
    tolerance = 0.5 * 10 ** (-decimals) + 1e-9
    return any(math.isfinite(c) and abs(shown - c) <= tolerance * (1 + 1e-9) for c in candidates)


def supported(value: float, decimals: int, is_percent: bool, records: list[dict],
              extra: tuple = ()) -> bool:
    """Whether a shown number matches a recorded one within the rounding it is shown with."""
    plain, pcts = list(extra), []
    for r in records:
        v = float(r["value"])
        plain.append(v)
        if r.get("scale"):
            plain.append(v * float(r["scale"]))
        pcts.append(v * 100)
        if r.get("kind") != "percent":
            pcts.append(v)
        if r.get("kind") == "percent":
            plain.append(v * 100)
    return _close(value, decimals, pcts if is_percent else plain)


def unsupported_numbers(text: str, records: list[dict], ignore: tuple = (), extra: tuple = ()) -> list:
    """Numbers in ``text`` that no record supports (empty list = every number is grounded)."""
    return [(v, d, p) for v, d, p in numbers_in_text(text, ignore) if not supported(v, d, p, records, extra)]


__all__ = ["NumberBook", "MIN_GROUP", "fmt_pct", "fmt_value", "numbers_in_text", "supported",
           "unsupported_numbers"]
