"""Hostile tables: thousands of columns, and workbooks that claim the whole 16,384 x 1,048,576 grid.

Every timed block is bounded (``tests/hostile.py``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmenter.errors import TooLargeError
from segmenter.load import LoadLimits, load_table
from segmenter.schema import ColumnKind, infer_schema
from tests.hostile import timed, xlsx_with_dimension

CAP = LoadLimits().max_columns


def same_looking_columns(n_rows: int, n_cols: int, seed: int = 0) -> pd.DataFrame:
    """Columns that all look alike (0-9 digits, no blanks): the old check compared every pair."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.integers(0, 10, size=(n_rows, n_cols)), columns=[f"c{i}" for i in range(n_cols)])


def test_duplicate_columns_of_a_wide_table_are_found_in_linear_time():
    df = same_looking_columns(500, 4000)
    df["c3999"] = df["c17"]
    with timed(30) as t:
        schema = infer_schema(df)
    assert t.seconds < 8.0, f"{t.seconds:.1f} s"  # before: 48 s for 2,000 columns, ~13 min for 4,000
    twins = {c.name: c.reason for c in schema.columns if "duplicates" in c.reason}
    assert twins == {"c3999": "duplicates column 'c17'"}


def test_duplicates_are_the_same_ones_as_before():
    rng = np.random.default_rng(4)
    n = 200
    base = {"a": rng.normal(size=n), "k": rng.integers(0, 4, n), "t": rng.choice(["x", "y", "z"], n)}
    zeros = np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n))
    holes = np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))
    df = pd.DataFrame({
        "a": base["a"], "a_again": base["a"].copy(), "a_third": base["a"].copy(),
        "z": zeros, "z_negative_zero": np.where(zeros == 0.0, -0.0, zeros),  # equals() calls them equal
        "h": holes, "h_again": holes.copy(),
        "k": base["k"], "k_as_float": base["k"].astype(float),  # equals() does not (other dtype)
        "t": base["t"], "t_again": base["t"].copy(), "t_other": np.roll(base["t"], 1),
        "forced": base["a"].copy(), "after_forced": base["a"].copy(),
    })
    df["holes_again_other_nan"] = np.where(np.isnan(holes), float("nan") * -1, holes)
    schema = infer_schema(df, types={"forced": "numeric"})
    twins = {c.name: c.reason.split("'")[1] for c in schema.columns if c.reason.startswith("duplicates column")}
    assert twins == {"a_again": "a", "a_third": "a", "z_negative_zero": "z", "h_again": "h",
                     "holes_again_other_nan": "h", "t_again": "t", "after_forced": "a"}
    assert schema.column("k_as_float").kind != ColumnKind.EXCLUDED
    assert schema.column("forced").kind == ColumnKind.NUMERIC


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx", "frame"])
def test_more_columns_than_the_limit_are_refused_with_a_clear_message(tmp_path, fmt):
    df = same_looking_columns(3, CAP + 1)
    path = tmp_path / f"wide.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "parquet":
        df.to_parquet(path)
    elif fmt == "xlsx":
        df.to_excel(path, index=False)
    source = df if fmt == "frame" else path
    with timed(30) as t, pytest.raises(TooLargeError) as caught:
        load_table(source)
    assert t.seconds < 10.0
    message = str(caught.value)
    assert "2,000" in message and "columns" in message and ("2,001 columns" in message or "column 2,001" in message)
    assert "keep the columns that describe customers" in message
    assert load_table(df.iloc[:, :CAP]).shape == (3, CAP)  # at the limit: accepted


def test_a_15_kb_workbook_claiming_the_whole_grid_loads_at_once(tmp_path):
    path = xlsx_with_dimension(tmp_path / "grid.xlsx")
    assert path.stat().st_size < 16_000
    app = LoadLimits(max_bytes=50 * 2**20, max_rows=100_000, max_unpacked_bytes=512 * 2**20)
    for limits in (app, LoadLimits()):
        with timed(30) as t:
            table = load_table(path, limits=limits)
        assert t.seconds < 2.0, f"{t.seconds:.1f} s"  # before: 65 s (app limits) and 97 s
        assert list(table.columns) == ["customer_id", "visits", "basket", "tier"] and len(table) == 300


def test_a_workbook_value_past_the_column_limit_is_refused(tmp_path):
    import openpyxl

    path = tmp_path / "far.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "spend"])
    for i in range(30):
        ws.append([f"C{i}", float(i)])
    ws.cell(row=5, column=CAP + 5, value="stray")
    wb.save(path)
    with pytest.raises(TooLargeError, match="column 2,001 or further; the limit is 2,000 columns"):
        load_table(path)
    assert load_table(path, limits=LoadLimits(max_columns=CAP + 5)).shape[1] == 3  # 'Unnamed: 2004' kept
