"""Values that cannot be right: birth years before 1900, shares above 100%, placeholder incomes.

:func:`implausible_values` checks the validated feature columns against their meanings and
returns one finding per column and rule (with a count and examples), plus the rows that hold
any of them. The findings are shown with the data profile and in the report; the user may leave
those rows out (``CustomerSegmenter(drop_implausible=True)``). Either way, extreme values
are capped before segmenting (:mod:`segmenter.preprocess`), so they cannot shape segments.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .meanings import CURRENT_YEAR, ColumnMeaning

#: A repeated-digit number (9999, 666666) this many times above the 99th percentile is a placeholder.
PLACEHOLDER_FACTOR = 2.0
MIN_PLACEHOLDER_DIGITS = 4


@dataclass(frozen=True)
class Finding:
    """One rule broken by some values of one column."""

    column: str
    rule: str  # plain words: "birth year before 1900"
    count: int
    examples: tuple  # up to three distinct values

    def to_dict(self) -> dict:
        return {"column": self.column, "rule": self.rule, "count": self.count, "examples": list(self.examples)}


def _repdigit(values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values), dtype=bool)
    whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) >= 10 ** (MIN_PLACEHOLDER_DIGITS - 1))
    for i in np.flatnonzero(whole):
        text = str(int(abs(values[i])))
        out[i] = len(set(text)) == 1
    return out


def _rules(meaning: ColumnMeaning | None, x: np.ndarray, kind: str) -> list[tuple[str, np.ndarray]]:
    role = meaning.role if meaning is not None else "measure"
    finite = np.isfinite(x)
    rules = []
    if kind == "datetime":
        # stored as days before the reference date: negative = after it, very large = before 1900
        return rules
    if role == "birth_year":
        rules.append(("birth year before 1900", finite & (x < 1900)))
        rules.append((f"birth year after {CURRENT_YEAR}", finite & (x > CURRENT_YEAR)))
    elif role == "age":
        rules.append(("age below 0 or above 110", finite & ((x < 0) | (x > 110))))
    elif meaning is not None and meaning.scale == (0, 1):
        rules.append(("share outside 0-1 (above 100%)", finite & ((x < 0) | (x > 1))))
    elif meaning is not None and len(meaning.scale) == 2 and role == "score":
        lo, hi = meaning.scale
        rules.append((f"score outside its scale {lo:g}-{hi:g}", finite & ((x < lo) | (x > hi))))
    if role in ("money", "income", "count", "household", "experience", "tenure", "recency") and finite.any():
        if np.mean(x[finite] >= 0) >= 0.99:
            rules.append(("negative value in a column that is otherwise never negative", finite & (x < 0)))
        q99 = float(np.quantile(x[finite], 0.99))
        if q99 > 0:
            rules.append(("placeholder-like value (repeated digits far above the rest)",
                          finite & _repdigit(x) & (x > PLACEHOLDER_FACTOR * q99)))
    return rules


def implausible_values(features: pd.DataFrame, meanings: dict, kinds: dict) -> tuple[list[Finding], np.ndarray]:
    """(findings, mask of rows holding any implausible value) for numeric-like feature columns."""
    mask = np.zeros(len(features), dtype=bool)
    found: list[Finding] = []
    for column in features.columns:
        kind = kinds.get(column, "numeric")
        if kind not in ("numeric", "datetime"):
            continue
        x = pd.to_numeric(features[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for rule, hit in _rules(meanings.get(column), x, kind):
            if hit.any():
                examples = tuple(float(v) for v in pd.unique(x[hit])[:3])
                found.append(Finding(column, rule, int(hit.sum()), examples))
                mask |= hit
    return found, mask


def table_findings(table: pd.DataFrame, schema) -> tuple[list[Finding], int]:
    """(findings, rows holding any) of a whole table under ``schema`` (a :class:`~segmenter.schema.Schema`):
    what the Data step shows before anything is segmented."""
    from .schema import apply_schema

    features = apply_schema(table, schema)
    found, mask = implausible_values(features, schema.meanings, {c: schema.kind_of(c) for c in schema.features})
    return found, int(mask.sum())


__all__ = ["Finding", "implausible_values", "table_findings"]
