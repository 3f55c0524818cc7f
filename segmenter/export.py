"""Files a run writes: report.json, assignments.csv (spreadsheet-safe), customers.parquet.

Cells that a spreadsheet could run as a formula are prefixed with a single quote, the
OWASP-recommended neutraliser: text starting with = + - @, with a control or invisible
character (tab, carriage return, NUL, escape, a zero-width space, a byte-order mark: some
programs drop them and read what follows), or whose first visible character, once spaces and
such characters are skipped, is = + - @ in any width (a full-width ＝ counts as =). A carriage
return inside a cell becomes a line feed: CSV writers quote cells holding their own line ending
only, so a bare "\r" would end the row in a spreadsheet and start a new one with what follows.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .constants import ID_COLUMN, SEGMENT_COLUMN
from .report import SegmentationReport

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_MARKS = frozenset("=+-@")


def _hidden(ch: str) -> bool:
    """Spaces, control characters (Cc) and invisible format characters (Cf, e.g. U+200B, U+FEFF)."""
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf")


def formula_like(value: str) -> bool:
    """Whether a spreadsheet could read ``value`` as a formula (see the module docstring)."""
    if not value:
        return False
    if value.startswith(FORMULA_STARTS) or unicodedata.category(value[0]) in ("Cc", "Cf"):
        return True
    start = 0
    while start < len(value) and _hidden(value[start]):
        start += 1
    return start < len(value) and unicodedata.normalize("NFKC", value[start])[:1] in _FORMULA_MARKS


def neutralise_formula(value: object) -> object:
    """Make one cell inert for Excel/Sheets; non-text values pass through."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def safe_cell(value: object) -> object:
    """One cell as it may go into a CSV file: no bare carriage return, no formula."""
    if isinstance(value, str) and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return neutralise_formula(value)


#: Text that needs no change: it starts with an ASCII letter or digit and holds no carriage
#: return. Checked for a whole column at once; only the other cells go through :func:`safe_cell`
#: (a million customer ids: 0.5 s instead of 9 s).
_PLAIN_CELL = r"[A-Za-z0-9][^\r]*\Z"


def _safe_column(values: pd.Series) -> pd.Series:
    plain = values.str.match(_PLAIN_CELL, na=False) if values.dtype == object or \
        pd.api.types.is_string_dtype(values) else pd.Series(False, index=values.index)
    if plain.all():
        return values
    out = values.copy()
    rest = ~plain.to_numpy()
    out[rest] = values[rest].map(safe_cell)
    return out


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with every text cell and column name made safe (:func:`safe_cell`)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            try:
                out[column] = _safe_column(out[column])
            except (AttributeError, TypeError):  # cells .str cannot read: one by one
                out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def assignments_frame(report: SegmentationReport) -> pd.DataFrame:
    """id column (or ``row``), segment, segment_name, probability."""
    a = report.assignments
    id_name = report.id_column or "row"
    ids = a["id"] if report.id_column else a["id"].astype(int)
    names = report.names
    return pd.DataFrame({
        id_name: ids.to_numpy(),
        "segment": a["segment"].to_numpy(),
        "segment_name": a["segment"].map(names).to_numpy(),
        "probability": a["probability"].to_numpy(),
    })


def write_assignments_csv(report: SegmentationReport, path: str | Path) -> Path:
    path = Path(path)
    safe_for_spreadsheet(assignments_frame(report)).to_csv(path, index=False)
    return path


def customers_frame(report: SegmentationReport, features: pd.DataFrame) -> pd.DataFrame:
    """The validated feature columns with id and segment: what counting questions filter."""
    out = features.reset_index(drop=True).copy()
    out.insert(0, ID_COLUMN, report.assignments["id"].to_numpy())
    out[SEGMENT_COLUMN] = report.assignments["segment"].to_numpy().astype(np.int32)
    return out


def write_customers(report: SegmentationReport, features: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    customers_frame(report, features).to_parquet(path, index=False)
    return path
