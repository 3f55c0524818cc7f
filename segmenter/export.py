"""Files a run writes: report.json, assignments.csv (spreadsheet-safe), customers.parquet.

Cells that a spreadsheet would run as a formula (text starting with = + - @, tab or
carriage return) are prefixed with a single quote, the OWASP-recommended neutraliser.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .constants import ID_COLUMN, SEGMENT_COLUMN
from .report import SegmentationReport

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """Make one cell inert for Excel/Sheets; non-text values pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with every text cell and column name neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_formula)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
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
