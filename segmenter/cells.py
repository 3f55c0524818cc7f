"""Read table cells as text, numbers and dates, vectorised over a column's distinct values.

Inference and :func:`apply_schema` both parse through these functions, so new customers
are read exactly as the fitted table was.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

DATE_FORMATS = ("ISO8601", "%d-%m-%Y", "%m-%d-%Y", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y.%m.%d",
                 "%d-%m-%y", "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S",
                 "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M",
                 "%d.%m.%Y %H:%M:%S", "%d %b %Y", "%d-%b-%Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y")
YEAR_FORMATS = ("%Y", "%Y%m%d")  # only when the user says numbers are dates
PARSE_SHARE = 0.95  # share of filled cells that must parse for text to count as numbers/dates


def as_text(uniques: Any) -> np.ndarray:
    """Distinct values as stripped text; whole floats print as integers, NaN/inf as ''."""
    index = pd.Index(uniques)
    if not ptypes.is_float_dtype(index.dtype):
        return np.asarray(pd.Index(index.astype(str)).str.strip(), dtype=object)
    v = index.to_numpy(dtype=float)
    whole = np.isfinite(v) & (np.abs(v) < 2**53) & (v == np.round(v))
    text = np.where(whole, pd.Index(np.where(whole, v, 0).astype(np.int64)).astype(str),
                    pd.Index(v).astype(str)).astype(object)
    text[~np.isfinite(v)] = ""
    return text


def text_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes with -1 for missing/blank, distinct stripped texts). Raises TypeError for lists."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    codes2, texts = pd.factorize(as_text(uniques))
    texts = np.asarray(texts, dtype=object)
    keep = texts != ""
    renumber = np.where(keep, np.cumsum(keep) - 1, -1)
    return np.append(renumber[codes2], -1)[codes], texts[keep]  # code -1 picks the trailing -1


def code_counts(codes: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes[codes >= 0], minlength=n)


def float_values(s: pd.Series, keep_inf: bool = False) -> np.ndarray:
    """Float values of a bool/number/duration column, with inf as NaN (unless ``keep_inf``)."""
    x = (s / pd.Timedelta(days=1) if ptypes.is_timedelta64_dtype(s.dtype) else s).to_numpy(float, na_value=np.nan)
    return x if keep_inf else np.where(np.isfinite(x), x, np.nan)


def parse_numbers(texts: np.ndarray) -> np.ndarray:
    """Numbers from text such as '1,234.5', '$12', '12%' or, in a column without any '.', '3,25'."""
    t = pd.Series(texts, dtype=object).str.replace(r"^([+-]?)\s*[$€£¥]\s*", r"\1", regex=True)
    t = t.str.replace(r"\s*%$", "", regex=True)
    grouped = t.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?").fillna(False).to_numpy(bool)
    comma = t.str.fullmatch(r"[+-]?\d+,\d+").fillna(False).to_numpy(bool)
    if (comma & ~grouped).any() and not t.str.contains(".", regex=False).fillna(False).any():
        t, grouped = t.where(~comma, t.str.replace(",", ".", regex=False)), np.zeros(len(t), bool)  # decimal commas
    x = pd.to_numeric(t.where(~grouped, t.str.replace(",", "", regex=False)), errors="coerce").to_numpy(float)
    return np.where(np.isfinite(x), x, np.nan)


def parse_dates(texts: np.ndarray, fmt: str) -> pd.DatetimeIndex:
    """Dates from text with one format ('mixed'/'mixed-dayfirst' = pandas' free-form parser)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            options = {"format": "mixed", "dayfirst": fmt.endswith("dayfirst")} if fmt.startswith("mixed") \
                else {"format": fmt}
            return pd.DatetimeIndex(pd.to_datetime(texts, errors="coerce", utc=True, **options)).tz_convert(None)
        except (ValueError, TypeError, OverflowError):
            return pd.DatetimeIndex([pd.NaT] * len(texts))


def find_date_format(texts: np.ndarray, counts: np.ndarray, forced: bool) -> tuple[str | None, float]:
    """The format reading most cells (chosen on a sample of 2,000 values) and its share of cells."""
    def share(fmt: str, idx: np.ndarray) -> float:
        return counts[idx][np.asarray(parse_dates(texts[idx], fmt).notna())].sum() / max(counts[idx].sum(), 1)

    def weight(pattern: str) -> float:
        hit = pd.Series(texts[sample], dtype=object).str.contains(pattern, regex=True).to_numpy(bool)
        return counts[sample][hit].sum() / max(counts[sample].sum(), 1)

    sample = np.arange(min(len(texts), 2000))
    if not forced and weight(r"\d") < PARSE_SHARE:
        return None, 0.0
    formats = DATE_FORMATS + (YEAR_FORMATS if forced else ())
    if weight(r"(?<!\d)\d{4}(?!\d)") >= PARSE_SHARE:  # free-form parsing only when a year is written
        formats += ("mixed", "mixed-dayfirst")
    best = formats[int(np.argmax([share(f, sample) for f in formats]))]
    return best, share(best, np.arange(len(texts)))


def date_words(fmt: str | None) -> str:
    if fmt in (None, "ISO8601") or fmt.startswith("mixed"):
        return "dates" + (" in mixed formats" if fmt and fmt.startswith("mixed") else "")
    words = dict(d="day", m="month", b="month", B="month", Y="year", y="year", H="hour", M="minute", S="second")
    return "dates written as " + re.sub(r"%(\w)", lambda m: words.get(m.group(1), ""), fmt)
