"""Columns derived from the table, never used to build segments: the total of spend per product.

A table that splits spending over products (wines, meat, fish ...) does not say what a customer
spends in all, yet "which segment spends the most?" asks exactly that. When two or more columns
are spend on a product in the same unit, their row-wise sum is profiled per segment as "total
spend" (a customer with every part missing has no total). It only describes segments; the
features stay as they are.
"""
from __future__ import annotations

import pandas as pd

from .meanings import ColumnMeaning

#: Name of the derived total (shown as "total spend"); chosen so it cannot be a table's column.
TOTAL_SPEND = "total spend (sum of product spend)"


def derived_columns(features: pd.DataFrame, meanings: dict) -> tuple[pd.DataFrame, dict]:
    """(the derived columns' values, their meanings); empty when the table has nothing to add up."""
    parts = [c for c in features.columns if c in meanings and meanings[c].has_tag("product")
             and meanings[c].has_tag("spend")]
    units = {meanings[c].unit for c in parts}
    if len(parts) < 2 or len(units) != 1 or TOTAL_SPEND in features.columns:
        return pd.DataFrame(index=features.index), {}
    values = features[parts].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=1)
    meaning = ColumnMeaning(
        column=TOTAL_SPEND, label="total spend", role="total", unit=units.pop(), tags=("spend", "derived"),
        words=("total spend", "total", "spend", "spending", "all products", "overall spend", "in total",
               "altogether", "valuable"),
        verbs=("spend", "spends", "spent", "spending", "buy", "buys", "bought"),
        high="spends more in all", low="spends less in all", names={},
        ambiguity=f"the sum of {', '.join(meanings[c].label for c in parts)}")
    return pd.DataFrame({TOTAL_SPEND: values}, index=features.index), {TOTAL_SPEND: meaning}


__all__ = ["derived_columns", "TOTAL_SPEND"]
