"""New customers checked row by row before they are assigned to fitted segments.

A table of new customers may hold a few rows the segments cannot take: an age of 'abc', an
amount of -5 where the segments were made from amounts of zero or more, 1e308, a region the
segments never saw, '90' on a share written from 0 to 1. :func:`check_new_customers` finds
them and returns the rows that can be assigned and, for every other row, which column holds
what, in plain words; the good rows are then assigned and the bad ones reported
(by the command line and the web front end), instead of one cell failing the whole batch
or being filled in silently. Empty cells are not problems: they are filled in like the
table the segments were made from, as always.

The checks use what the fitted model kept: the schema (kinds, levels, yes/no values, date
formats, meanings with their scale) and the range of every numeric column in the fitted
table (the report's overall minimum and maximum).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .cells import parse_dates, parse_numbers, text_codes
from .errors import ColumnError
from .schema import _FALSY, _TRUTHY, OTHER, ColumnKind, Schema, missing_columns_message

#: A number whose size is above this is never a customer's value (1e308 is refused, not printed).
MAX_MAGNITUDE = 1e15
#: A value further than this many times the fitted range beyond it is refused as a typo.
FAR_OUTSIDE = 100.0
#: Problems listed in one message (the CLI's problems file lists all of them).
SHOWN_PROBLEMS = 10
SHOWN_LEVELS = 8
_TEXT_CHARS = 30


@dataclass(frozen=True)
class RowProblem:
    """One cell that keeps its row from being assigned."""

    row: int  # 0-based position in the table checked
    customer: str  # the customer's ID, or "row N" (1-based) without an ID column
    column: str
    problem: str  # plain words: what was found and what was expected

    @property
    def line(self) -> str:
        return f"{self.customer}, {self.column}: {self.problem}"


@dataclass(frozen=True, eq=False)
class RowCheck:
    """The rows that can be assigned (values as read: '90%' on a 0-1 share is 0.9) and the problems."""

    table: pd.DataFrame
    problems: tuple[RowProblem, ...]
    good_rows: np.ndarray  # positions of ``table``'s rows in the table checked
    n_rows: int

    @property
    def n_refused(self) -> int:
        return self.n_rows - len(self.good_rows)

    def summary(self, limit: int = SHOWN_PROBLEMS) -> str:
        """'2 of 25 customers were not assigned: C1, age: ...; C7, region: ...'."""
        if not self.problems:
            return ""
        lines = [p.line for p in self.problems[:limit]]
        more = len(self.problems) - len(lines)
        tail = f"; and {more:,} more problem{'s' if more != 1 else ''}" if more > 0 else ""
        who = (f"{self.n_refused:,} of {self.n_rows:,} customers" if self.n_rows > 1 else "The customer")
        verb = "was" if self.n_refused == 1 else "were"
        return f"{who} {verb} not assigned: " + "; ".join(lines) + tail + "."

    def frame(self) -> pd.DataFrame:
        """One line per problem: row (1-based), customer, column, problem."""
        return pd.DataFrame([[p.row + 1, p.customer, p.column, p.problem] for p in self.problems],
                            columns=["row", "customer", "column", "problem"])


def _num(value: float) -> str:
    return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.3g}"


def _width(lo: float, hi: float) -> float:
    return max(hi - lo, abs(hi), abs(lo), 1.0)


def _quoted(text: str) -> str:
    text = str(text)
    return f"'{text[:_TEXT_CHARS]}…'" if len(text) > _TEXT_CHARS else f"'{text}'"


def _customers(table: pd.DataFrame, schema: Schema) -> np.ndarray:
    if schema.id_column and schema.id_column in table.columns:
        ids = table[schema.id_column].astype(object).where(table[schema.id_column].notna(), None)
        return np.array([f"row {i + 1}" if v in (None, "") else f"row {i + 1} ({str(v)[:40]})"
                         for i, v in enumerate(ids)], dtype=object)
    return np.array([f"row {i + 1}" for i in range(len(table))], dtype=object)


def _cells(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    try:
        return text_codes(s)
    except TypeError as exc:
        raise ColumnError(f"'{s.name}' holds lists or other nested values, not one value per customer") from exc


def _numeric(name: str, s: pd.Series, schema: Schema, span: tuple | None) -> tuple[dict, pd.Series | None]:
    """{row: problem} of a numeric column, and the column as read when '%' was read on a 0-1 share."""
    meaning = schema.meanings.get(name)
    unit_share = bool(meaning is not None and tuple(getattr(meaning, "scale", ()) or ()) == (0, 1))
    problems: dict[int, str] = {}
    rewritten = None
    if ptypes.is_bool_dtype(s.dtype):
        return problems, None
    if ptypes.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        texts = None  # shown from the number itself
        percent = np.zeros(len(s), bool)
        unreadable = np.isinf(values)
    else:
        codes, distinct = _cells(s)
        parsed = np.append(parse_numbers(distinct), np.nan)[codes]
        texts = np.append(distinct, "")[codes]
        percent = np.array([str(t).rstrip().endswith("%") for t in texts], bool)
        unreadable = (codes >= 0) & ~np.isfinite(parsed)
        values = np.where(percent & unit_share, parsed / 100.0, parsed)
        if unit_share and percent.any():
            rewritten = pd.Series(np.where(codes >= 0, values, np.nan), index=s.index, dtype=float)
    lo, hi = span if span else (None, None)

    def shown(i: int) -> str:
        return _quoted(texts[i] if texts is not None else _num(float(values[i])) if np.isfinite(values[i])
                       else str(values[i]))

    for i in np.flatnonzero(unreadable):
        problems[int(i)] = f"{shown(i)} is not a number"
    # only values that can break a check are looked at one by one
    suspect = np.isfinite(values) & ~unreadable & (
        (np.abs(values) > MAX_MAGNITUDE) | ((values < 0) if lo is not None and lo >= 0 else False)
        | ((values > 1) if unit_share and hi is not None and hi <= 1 else False)
        | ((values > hi + FAR_OUTSIDE * _width(lo, hi)) | (values < lo - FAR_OUTSIDE * _width(lo, hi))
           if lo is not None and hi is not None else False))
    for i in np.flatnonzero(suspect):
        v, shown_i = float(values[i]), shown(i)
        if abs(v) > MAX_MAGNITUDE:
            problems[int(i)] = f"{shown_i} is far too large to be a customer's value"
        elif lo is not None and lo >= 0 and v < 0:
            problems[int(i)] = (f"{shown_i} is below zero, but {name} had no values below zero when the segments "
                                "were made")
        elif unit_share and hi is not None and hi <= 1 and v > 1 and not percent[i]:
            problems[int(i)] = (f"{shown_i} is above 1, but {name} is a share written from 0 to 1 (write "
                                f"{_num(v / 100)} or {_num(v)}%)" if v <= 100 else
                                f"{shown_i} is above 1, but {name} is a share written from 0 to 1")
        elif lo is not None and hi is not None:
            width = _width(lo, hi)
            if v > hi + FAR_OUTSIDE * width or v < lo - FAR_OUTSIDE * width:
                problems[int(i)] = (f"{shown_i} is far outside the values of {name} when the segments were made "
                                    f"({_num(lo)} to {_num(hi)})")
    return problems, rewritten


def _text_problems(name: str, s: pd.Series, kind: str, info, schema: Schema, folds: bool) -> dict:
    problems: dict[int, str] = {}
    if kind == ColumnKind.DATETIME and ptypes.is_datetime64_any_dtype(s.dtype):
        return problems
    codes, distinct = _cells(s)
    if not len(distinct):
        return problems
    if kind == ColumnKind.CATEGORICAL:
        if folds:  # rare levels counted as "Other" when the segments were made: so does a new one
            return problems
        bad = ~pd.Index(distinct, dtype=object).isin(info.levels)
        known = ", ".join(info.levels[:SHOWN_LEVELS]) + (", ..." if len(info.levels) > SHOWN_LEVELS else "")
        words = [f"{_quoted(t)} was not seen in {name} when the segments were made (known: {known})"
                 for t in distinct]
    elif kind == ColumnKind.BOOLEAN:
        if not (ptypes.is_object_dtype(s.dtype) or ptypes.is_string_dtype(s.dtype)):
            return problems  # True/False or 0/1 as numbers: read as they were when fitted
        low = pd.Index(distinct, dtype=object).str.lower()
        allowed = {v.lower() for v in info.levels} | set(_TRUTHY) | set(_FALSY)
        bad = ~low.isin(allowed)
        pair = " or ".join(f"'{v}'" for v in info.levels) or "yes or no"
        words = [f"{_quoted(t)} is not yes or no (write {pair})" for t in distinct]
    elif kind == ColumnKind.DATETIME:
        if info.date_format is None:
            return problems
        bad = np.asarray(parse_dates(distinct, info.date_format).isna())
        words = [f"{_quoted(t)} is not a date (e.g. 2024-05-31)" for t in distinct]
    else:
        return problems
    for code in np.flatnonzero(bad):
        for i in np.flatnonzero(codes == code):
            problems[int(i)] = words[code]
    return problems


def check_new_customers(table: pd.DataFrame, schema: Schema, ranges: dict | None = None,
                        folded: set | frozenset = frozenset()) -> RowCheck:
    """Check every new customer's cells against what the segments were made from.

    ``ranges`` maps numeric columns to the (min, max) of the fitted table; ``folded`` names the
    categorical columns whose rare levels counted as "Other" (a new level is then one more
    rare level, not a problem). A table without a column the segments need raises
    :class:`ColumnError` (nothing can be assigned); every other problem is per row.
    """
    missing = [f for f in schema.features if f not in table.columns]
    if missing:
        raise ColumnError(missing_columns_message(missing))
    ranges = ranges or {}
    found: dict[int, list[tuple[str, str]]] = {}
    checked = table
    for name in schema.features:
        s = table[name]
        if isinstance(s, pd.DataFrame):
            raise ColumnError(f"This table has more than one column named '{name}'")
        info = schema.column(name)
        if info.kind == ColumnKind.NUMERIC:
            span = ranges.get(name)
            span = tuple(float(v) for v in span) if span and all(v is not None for v in span) else None
            problems, rewritten = _numeric(name, s, schema, span)
            if rewritten is not None:
                checked = checked.copy() if checked is table else checked
                checked[name] = rewritten
        else:
            problems = _text_problems(name, s, info.kind, info, schema, name in folded)
        for i, words in problems.items():
            found.setdefault(i, []).append((name, words))
    customers = _customers(table, schema)
    problems = tuple(RowProblem(i, str(customers[i]), c, w) for i in sorted(found) for c, w in found[i])
    good = np.setdiff1d(np.arange(len(table)), np.fromiter(found, dtype=int, count=len(found)))
    return RowCheck(checked.iloc[good], problems, good, len(table))


def fitted_ranges(overall_numeric: dict) -> dict:
    """{column: (min, max)} from a report's ``overall["numeric"]``."""
    return {c: (s.get("min"), s.get("max")) for c, s in (overall_numeric or {}).items()
            if isinstance(s, dict) and s.get("min") is not None and s.get("max") is not None}


__all__ = ["RowProblem", "RowCheck", "check_new_customers", "fitted_ranges", "missing_columns_message",
           "OTHER"]
