"""Decide what each column of a customer table is, and turn it into model-ready features.

``infer_schema`` gives every column a kind and a plain-words reason (shown to the marketer);
``apply_schema`` turns any table with the same columns into numbers and labels for
scikit-learn, parsing text exactly as inference did.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from segmenter.cells import (PARSE_SHARE, code_counts, date_words, find_date_format, float_values,
                             parse_dates, parse_numbers, text_codes)
from segmenter.errors import (
    ColumnError, DuplicateColumnsError, ModelFileError, NoFeaturesError, ParameterError, TooFewRowsError,
)
from segmenter.meanings import (ColumnMeaning, ValueProfile, apply_overrides, infer_meaning, meanings_from_dict,
                                relate_meanings,
                                meanings_to_dict, text_shares)


class ColumnKind:
    """The kinds a column can have (plain strings, so schemas stay JSON-safe)."""

    ID = "id"                    # one key per customer: reported, never a feature
    NUMERIC = "numeric"          # numbers, used as they are (infinite values count as missing)
    CATEGORICAL = "categorical"  # a few text levels; rare levels fold into "Other"
    BOOLEAN = "boolean"          # two values (yes/no, 0/1, ...), used as 0/1
    DATETIME = "datetime"        # dates, used as days before Schema.reference_date
    PROFILE = "profile"          # an existing label or outcome: shown per segment, never a feature
    EXCLUDED = "excluded"        # not used; ColumnInfo.reason says why
    FEATURES = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME)
    ALL = (ID, *FEATURES, PROFILE, EXCLUDED)


OTHER = "Other"
_TRUE_FALSE = (("yes", "no"), ("true", "false"), ("y", "n"), ("1", "0"), ("t", "f"))
_TRUTHY, _FALSY = frozenset(t for t, _ in _TRUE_FALSE), frozenset(f for _, f in _TRUE_FALSE)
_ID_ALONE = frozenset({"id", "uuid", "guid"})
_ID_SUFFIX = frozenset({"id", "key", "no", "nr", "num", "number", "code", "ref", "reference"})
_ID_ENTITY = frozenset({"customer", "client", "user", "member", "account", "cust", "person", "contact",
                        "subscriber", "buyer", "shopper"})
# Tried in order; on a tie the first wins, so day-first beats month-first ("04-09-2012" = 4 Sep).


@dataclass(frozen=True)
class ColumnInfo:
    """What one column is and why."""

    name: str
    kind: str
    reason: str  # why this kind, in plain words
    missing_share: float
    n_unique: int
    levels: tuple[str, ...] = ()  # categorical: kept levels (others fold into "Other"); boolean: (true, false)
    true_value: str | None = None  # for booleans stored as text: the value meaning yes
    date_format: str | None = None  # for dates stored as text: the format found, reused on new data


@dataclass(frozen=True, eq=False)
class Schema:
    """The kind of every column of a table, in table order."""

    columns: tuple[ColumnInfo, ...]
    id_column: str | None
    reference_date: str | None  # ISO date used for datetime "days since"
    meanings: dict = field(default_factory=dict)  # column -> ColumnMeaning (every column)

    def _names(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    @property
    def features(self) -> list[str]:
        """Names of the kept feature columns, in table order."""
        return self._names(*ColumnKind.FEATURES)

    numeric = property(lambda self: self._names(ColumnKind.NUMERIC), doc="Numeric feature names.")
    categorical = property(lambda self: self._names(ColumnKind.CATEGORICAL), doc="Categorical feature names.")
    boolean = property(lambda self: self._names(ColumnKind.BOOLEAN), doc="Boolean feature names.")
    datetime = property(lambda self: self._names(ColumnKind.DATETIME), doc="Datetime feature names.")
    profile = property(lambda self: self._names(ColumnKind.PROFILE),
                       doc="Label/outcome columns shown per segment but never used to build segments.")

    @property
    def excluded(self) -> list[dict[str, str]]:
        """``{"column": name, "reason": why}`` for every excluded column."""
        return [{"column": c.name, "reason": c.reason} for c in self.columns if c.kind == ColumnKind.EXCLUDED]

    def column(self, name: str) -> ColumnInfo:
        for c in self.columns:
            if c.name == name:
                return c
        raise ColumnError(f"there is no column '{name}'; the columns are {[c.name for c in self.columns]}")

    def kind_of(self, name: str) -> str:
        return self.column(name).kind

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; ``Schema.from_dict`` restores it exactly."""
        return {"columns": [{**asdict(c), "levels": list(c.levels)} for c in self.columns],
                "id_column": self.id_column, "reference_date": self.reference_date,
                "meanings": meanings_to_dict(self.meanings)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schema:
        try:
            columns = tuple(ColumnInfo(**{**c, "levels": tuple(c.get("levels", ()))}) for c in d["columns"])
            return cls(columns=columns, id_column=d["id_column"], reference_date=d["reference_date"],
                       meanings=meanings_from_dict(d.get("meanings")))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ModelFileError(f"the saved column description is damaged or from another program ({exc})") from exc


def value_profile(series: pd.Series) -> ValueProfile:
    """What one column's values look like (as the schema inference sees them)."""
    return _Column(series).profile()


def _is_id_name(name: str) -> bool:
    """'id', 'customer_id', 'CustomerID', 'CUST_ID', 'client_no', 'user_key', ..."""
    tokens = {t.lower() for t in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", name)}
    flat = re.sub(r"[^a-z]", "", name.lower())
    if flat in _ID_ALONE or any(flat in (e + s, s + e) for e in _ID_ENTITY for s in _ID_SUFFIX):
        return True
    return bool(tokens & _ID_ENTITY) and bool(tokens & _ID_SUFFIX) and tokens <= (_ID_ENTITY | _ID_SUFFIX)


class _Column:
    """One column seen as numbers, dates or text, with its blanks and distinct values counted."""

    def __init__(self, s: pd.Series):
        self.series, self.n, self.has_inf = s, len(s), False
        self.x = self.dates = self.codes = self.texts = None
        if ptypes.is_bool_dtype(s.dtype):
            self.base, self.x = "bool", float_values(s)
        elif ptypes.is_timedelta64_dtype(s.dtype) or (ptypes.is_numeric_dtype(s.dtype)
                                                       and not ptypes.is_complex_dtype(s.dtype)):
            raw = float_values(s, keep_inf=True)
            self.base, self.has_inf = "number", bool(np.isinf(raw).any())
            self.x = np.where(np.isfinite(raw), raw, np.nan)
        elif ptypes.is_datetime64_any_dtype(s.dtype):
            self.base, self.dates = "date", s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
        else:
            try:
                self.codes, self.texts = text_codes(s)
                self.base = "text"
            except TypeError:
                self.base = "nested"
        if self.x is not None:
            filled = self.x[~np.isnan(self.x)]
            self.n_missing, self.n_unique = self.n - len(filled), len(pd.unique(filled))
        elif self.dates is not None:
            self.n_missing, self.n_unique = int(self.dates.isna().sum()), int(self.dates.nunique())
        elif self.codes is not None:
            self.n_missing, self.n_unique = int((self.codes < 0).sum()), len(self.texts)
        else:
            filled = s.dropna()
            self.n_missing, self.n_unique = self.n - len(filled), int(filled.map(repr).nunique())
        self.missing_share = self.n_missing / self.n if self.n else 1.0

    def text(self) -> tuple[np.ndarray, np.ndarray]:
        if self.codes is None:
            self.codes, self.texts = text_codes(self.series)
        return self.codes, self.texts

    def unique_per_row(self) -> bool:
        return self.n_missing == 0 and self.n_unique == self.n

    def profile(self) -> ValueProfile:
        """What the values look like, for :func:`segmenter.meanings.infer_meaning`."""
        filled = self.n - self.n_missing
        base = dict(base=self.base, n=self.n, n_filled=filled, n_unique=self.n_unique)
        if self.x is not None:
            finite = self.x[~np.isnan(self.x)]
            if not len(finite):
                return ValueProfile(**base)
            return ValueProfile(**base, lo=float(finite.min()), hi=float(finite.max()),
                                whole=bool(np.all(finite == np.round(finite))),
                                in_unit=float(np.mean((finite >= 0) & (finite <= 1))))
        if self.dates is not None:
            years = self.dates.dropna().dt.year
            return ValueProfile(**base, year_lo=int(years.min()) if len(years) else None,
                                year_hi=int(years.max()) if len(years) else None)
        if self.codes is None:
            return ValueProfile(**base)
        codes, texts = self.text()
        counts = code_counts(codes, len(texts))
        top = np.argsort(-counts, kind="stable")[:30]
        return ValueProfile(**base, levels=tuple(str(texts[i]).lower() for i in top), **text_shares(texts, counts))

    def running_index(self) -> bool:
        """A whole-number column holding exactly 0..n-1 or 1..n."""
        if self.base != "number" or not self.unique_per_row() or self.n < 2:
            return False
        lo, hi = np.min(self.x), np.max(self.x)
        return bool(np.all(self.x == np.round(self.x))) and lo in (0, 1) and hi == lo + self.n - 1


# ----------------------------------------------------------------------------- one column's kind
def _pct(share: float) -> str:
    return f"{share * 100:.0f}%" if share * 100 >= 1 or share == 0 else f"{share * 100:.2g}%"


def _info(name: str, col: _Column, kind: str, reason: str, **extra: Any) -> ColumnInfo:
    return ColumnInfo(name=name, kind=kind, reason=reason, missing_share=float(col.missing_share),
                      n_unique=int(col.n_unique), **extra)


def _bad_example(texts: np.ndarray, counts: np.ndarray, ok: np.ndarray) -> str:
    bad = np.flatnonzero(~ok & (counts > 0))
    return repr(str(texts[bad[np.argmax(counts[bad])]])) if len(bad) else "''"


def _boolean(name: str, col: _Column, forced: bool) -> ColumnInfo | None:
    """A boolean when the column holds two yes/no-like values or two numbers (any two if forced)."""
    tag, kind = (" (set by you)" if forced else ""), ColumnKind.BOOLEAN
    if col.base == "bool":
        return _info(name, col, kind, "true/false values" + tag, levels=("True", "False"))
    if col.base in ("date", "nested"):
        return None
    codes, texts = col.text()
    low = pd.Index(texts).str.lower().unique()
    numbers = parse_numbers(texts)
    if len(low) > 2:
        return None
    if col.base == "number" or (len(low) == len(texts) and not np.isnan(numbers).any()):
        order = np.argsort(-numbers)
        hi, lo = texts[order[0]], texts[order[-1]]
        levels = (hi, lo) if hi != lo else (hi,)
        if set(levels) <= {"0", "1"}:
            return _info(name, col, kind, "two values only (0 and 1)" + tag, levels=levels)
        return _info(name, col, kind, f"two values only ({lo} and {hi}); {hi} counts as yes" + tag,
                     levels=levels, true_value=hi)
    pair = next(((t, f) for t, f in _TRUE_FALSE if set(low) == {t, f}), None)
    if pair is None and not forced:
        return None
    if pair is None:  # any two values: the rarer one means "yes"
        counts = pd.Series(code_counts(codes, len(texts)), index=pd.Index(texts).str.lower()).groupby(level=0).sum()
        pair = tuple(sorted(counts.index, key=lambda v: (counts[v], v))) + ("",)
    return _info(name, col, kind, f"yes/no values; '{pair[0]}' counts as yes" + tag,
                 levels=tuple(v for v in pair[:2] if v), true_value=pair[0])


def _categorical(name: str, col: _Column, forced: bool, max_levels: int, rare_share: float) -> ColumnInfo:
    codes, texts = col.text()
    counts = code_counts(codes, len(texts))
    kept = sorted(np.flatnonzero(counts >= rare_share * counts.sum()), key=lambda i: (-counts[i], texts[i]))
    if forced and len(kept) + (len(kept) < len(texts)) > max_levels:
        kept = kept[:max_levels - 1]  # forced: keep the most common levels, the rest is "Other"
    folded = len(texts) - len(kept)
    if not kept or len(kept) + (folded > 0) > max_levels:
        return _info(name, col, ColumnKind.EXCLUDED, f"free text or too many distinct values ({len(texts):,})")
    reason = f"text with {len(texts):,} values" + (" (set by you)" if forced else "") \
        + (f"; {folded:,} rarer ones count as '{OTHER}'" if folded else "")
    return _info(name, col, ColumnKind.CATEGORICAL, reason, levels=tuple(str(texts[i]) for i in kept))


def _as_numbers(name: str, col: _Column, forced: bool) -> ColumnInfo | None:
    tag = " (set by you)" if forced else ""
    if col.base in ("bool", "number"):
        return _info(name, col, ColumnKind.NUMERIC, "numbers" + tag)
    if col.base != "text":
        if forced:
            raise ColumnError(f"'{name}' holds {'dates' if col.base == 'date' else 'nested values'}, not numbers; "
                              "choose another type for it")
        return None
    codes, texts = col.text()
    counts, ok = code_counts(codes, len(texts)), ~np.isnan(parse_numbers(texts))
    if counts[ok].sum() >= PARSE_SHARE * counts.sum():
        return _info(name, col, ColumnKind.NUMERIC, "numbers stored as text" + tag)
    if forced:
        raise ColumnError(f"'{name}' cannot be read as numbers: {_pct(1 - counts[ok].sum() / counts.sum())} of its "
                          f"values are not numbers (e.g. {_bad_example(texts, counts, ok)}). Fix those values or "
                          "choose another type for the column.")
    return None


def _latest(dates) -> pd.Timestamp | None:
    """The latest date that is not in the future: one typo such as 9999-12-31 must not become
    the reference every "days since" is counted from."""
    values = pd.DatetimeIndex(pd.Series(dates).dropna())
    values = values[values <= pd.Timestamp.now() + pd.Timedelta(days=1)]
    return values.max() if len(values) else None


def _as_dates(name: str, col: _Column, forced: bool) -> tuple[ColumnInfo | None, pd.Timestamp | None]:
    """A datetime ColumnInfo and the latest date, or (None, None) when the text is not dates."""
    tag = " (set by you)" if forced else ""
    if col.base == "date":
        return _info(name, col, ColumnKind.DATETIME, "dates" + tag), _latest(col.dates)
    if col.base in ("nested", "bool"):
        raise ColumnError(f"'{name}' does not hold dates; choose another type for it")
    codes, texts = col.text()
    counts = code_counts(codes, len(texts))
    fmt, share = find_date_format(texts, counts, forced)
    if fmt is not None and share >= PARSE_SHARE:
        return (_info(name, col, ColumnKind.DATETIME, date_words(fmt) + tag, date_format=fmt),
                _latest(parse_dates(texts, fmt)))
    if forced:
        ok = np.asarray(parse_dates(texts, fmt).notna()) if fmt else np.zeros(len(texts), bool)
        raise ColumnError(f"'{name}' cannot be read as dates: {_pct(1 - share)} of its values are not dates "
                          f"(e.g. {_bad_example(texts, counts, ok)}). Fix those values or choose another type.")
    return None, None


def _auto(name: str, col: _Column, max_levels: int, rare_share: float,
          max_missing: float) -> tuple[ColumnInfo, pd.Timestamp | None]:
    """The kind of a column nobody gave a type to, following the rules in order."""
    excluded, filled = ColumnKind.EXCLUDED, col.n - col.n_missing
    if col.missing_share > max_missing:
        return _info(name, col, excluded, f"is {_pct(col.missing_share)} empty"), None
    if col.n_unique == 1:
        blanks = " (apart from blanks)" if col.n_missing else ""
        return _info(name, col, excluded, "has the same value in every row" + blanks), None
    if col.base == "nested":
        return _info(name, col, excluded, "holds lists or other nested values"), None
    if _is_id_name(name) and col.n_unique == filled > 2:
        why = f"looks like an ID column but {col.n_missing:,} rows have no value" if col.n_missing \
            else "looks like a second ID column (unique per row)"
        return _info(name, col, excluded, why), None
    if col.running_index():
        return _info(name, col, excluded, "is a running row number (0..n-1 or 1..n)"), None
    if col.base in ("bool", "number"):
        return (_as_numbers(name, col, False) if col.n_unique > 2 else _boolean(name, col, False)), None
    if col.base == "date":
        return _as_dates(name, col, False)
    info = _boolean(name, col, False) or _as_numbers(name, col, False)
    if info is not None:
        return info, None
    info, latest = _as_dates(name, col, False)
    if info is not None:
        return info, latest
    if col.n_unique == filled > 2:
        return _info(name, col, excluded, "free text / unique per row"), None
    return _categorical(name, col, False, max_levels, rare_share), None


def _forced(name: str, col: _Column, kind: str, max_levels: int,
            rare_share: float) -> tuple[ColumnInfo, pd.Timestamp | None]:
    """The kind the user asked for, or a ColumnError when the values cannot take it."""
    if kind == ColumnKind.NUMERIC:
        return _as_numbers(name, col, True), None
    if kind == ColumnKind.DATETIME:
        return _as_dates(name, col, True)
    if kind == ColumnKind.BOOLEAN:
        info = _boolean(name, col, True)
        if info is None:
            raise ColumnError(f"'{name}' cannot be a yes/no column: it has {col.n_unique:,} different values and a "
                              "yes/no column has at most two. Choose another type for it.")
        return info, None
    if col.base == "nested":
        raise ColumnError(f"'{name}' holds lists or other nested values; it cannot be categorical")
    return _categorical(name, col, True, max_levels, rare_share), None


# ----------------------------------------------------------------------------- the table
def _check_arguments(df: pd.DataFrame, features: list[str] | None, exclude: list[str] | None,
                     types: dict[str, str] | None, id_column: str | None) -> list[str]:
    names = list(df.columns)
    if not all(isinstance(n, str) for n in names):
        raise ColumnError(f"column names must be text; found {[n for n in names if not isinstance(n, str)][:5]}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DuplicateColumnsError(f"the table has more than one column named {repeated}; give each a unique name")
    for label, given in (("features", features), ("exclude", exclude), ("types", types),
                         ("id_column", None if id_column is None else [id_column])):
        unknown = [g for g in (given or []) if g not in names]
        if unknown:
            raise ColumnError(f"{label} names columns that are not in the table: {unknown}; "
                              f"the available columns are {names}")
    for col, kind in (types or {}).items():
        if kind not in ColumnKind.ALL:
            raise ColumnError(f"the type given for '{col}' is '{kind}'; choose one of {list(ColumnKind.ALL)}")
    forced_ids = sorted({c for c, k in (types or {}).items() if k == ColumnKind.ID} | {id_column} - {None})
    if len(forced_ids) > 1:
        raise ColumnError(f"only one ID column is possible; you named {forced_ids}")
    return names


def _pick_id(names: list[str], cols: dict[str, _Column], id_column: str | None,
             taken: set[str]) -> tuple[str | None, str]:
    """The ID column and why: the user's choice, else a unique ID-named column, else a 1..n row number."""
    if id_column is not None:
        col = cols[id_column]
        if not col.unique_per_row():
            raise ColumnError(f"'{id_column}' cannot be the ID column: an ID needs a different, filled-in value in "
                              f"every row, but it has {col.n_unique:,} distinct values and {col.n_missing:,} blanks "
                              f"in {col.n:,} rows. Choose another column or leave the ID out.")
        return id_column, "the ID column you chose"
    free = [n for n in names if n not in taken and cols[n].unique_per_row()]
    by_name = [n for n in free if _is_id_name(n)]
    if by_name:
        return by_name[0], "unique for every row and named like an ID"
    by_content = [n for n in free if _looks_like_codes(cols[n]) or (_is_entity_name(n) and _whole_numbers(cols[n]))]
    if by_content:
        return by_content[0], "a different short code in every row (letters and digits in one pattern), so it is " \
            "used as the customer ID"
    by_index = [n for n in free if cols[n].running_index()]
    return (by_index or [None])[0], "counts the rows (0..n-1 or 1..n), so it is used as a row ID"


def _looks_like_codes(col: _Column) -> bool:
    """Unique, short, code-like text: 'S105488', 'AB-20931', '20931X' (one pattern for all rows)."""
    if col.base != "text" or col.n < 3:
        return False
    profile = col.profile()
    return profile.code_share >= 0.95 and profile.code_lengths <= 2


def _whole_numbers(col: _Column) -> bool:
    return col.base == "number" and col.n >= 3 and bool(np.all(col.x == np.round(col.x)))


def _is_entity_name(name: str) -> bool:
    """A name that is only a customer word ('account', 'member', 'subscriber_ref')."""
    tokens = {t.lower() for t in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", name)}
    return bool(tokens) and bool(tokens & _ID_ENTITY) and tokens <= (_ID_ENTITY | _ID_SUFFIX)


def _duplicate_of(df: pd.DataFrame, name: str, col: _Column, info: ColumnInfo, seen: dict) -> str | None:
    """The earlier feature column that column ``name`` repeats, or None; ``seen`` collects the
    feature columns met so far, keyed by a hash of their content.

    One hash per column instead of comparing every pair (2,000 columns took 48 s, 8,000 about
    8 minutes): columns ``Series.equals`` calls equal hash alike (0.0 and -0.0, and every NaN, are
    made alike first), and a shared hash is confirmed with ``equals``. Prior validation is assumed:
    ``name`` is a column whose kind was inferred, not set by the user.
    """
    if info.kind not in ColumnKind.FEATURES:
        return None
    values = df[name]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
        x = values.to_numpy()
        values = pd.Series(np.where(np.isnan(x), np.nan, x + 0.0))
    try:
        digest = hash(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
    except (TypeError, ValueError):  # values pandas cannot hash: compared with every look-alike
        digest = None
    key = (col.base, col.n_unique, col.n_missing, digest)
    twin = next((other for other in seen.get(key, ()) if df[other].equals(df[name])), None)
    if twin is None:
        seen.setdefault(key, []).append(name)
    return twin


def infer_schema(
    df: pd.DataFrame,
    *,
    features: list[str] | None = None,
    exclude: list[str] | None = None,
    types: dict[str, str] | None = None,
    id_column: str | None = None,
    min_rows: int = 20,
    max_levels: int = 20,
    rare_share: float = 0.01,
    max_missing: float = 0.6,
    meanings: dict | None = None,
) -> Schema:
    """Give every column a kind (id, numeric, categorical, boolean, datetime, profile, excluded),
    a reason and a meaning (:mod:`segmenter.meanings`).

    Parameters
    ----------
    df : the customer table, one row per customer.
    features : keep only these columns as features (others are excluded; the ID is still found).
    exclude : columns never to use.
    types : force a kind per column, e.g. ``{"zip": "categorical"}``; beats automatic exclusion
        except for columns with no values. Forcing a kind the values cannot take is an error.
    id_column : the customer ID column; found from its name (or a 1..n row number) if not given.
    min_rows : fewer rows than this raise ``TooFewRowsError``.
    max_levels : most distinct text values (after folding rare ones into "Other") for a categorical.
    rare_share : text values in fewer than this share of filled rows fold into "Other".
    max_missing : columns with a larger empty share are excluded.
    meanings : corrections of the inferred meanings, ``{column: {"label": ..., "role": ...}}``
        (see :func:`segmenter.meanings.apply_overrides`). A column whose role is "personal" is
        left out and one whose role is "outcome" is shown per segment only, unless ``types``
        or ``features`` name it.
    """
    if not (isinstance(min_rows, int) and min_rows >= 1 and isinstance(max_levels, int) and max_levels >= 2
            and 0 <= rare_share < 0.5 and 0 < max_missing <= 1):
        raise ParameterError("expected min_rows >= 1, max_levels >= 2, 0 <= rare_share < 0.5 and 0 < max_missing "
                             f"<= 1; got {min_rows}, {max_levels}, {rare_share}, {max_missing}")
    names = _check_arguments(df, features, exclude, types, id_column)
    types, exclude = dict(types or {}), set(exclude or [])
    id_column = id_column or next((c for c, k in types.items() if k == ColumnKind.ID), None)
    cols = {name: _Column(df[name]) for name in names}
    id_column, id_reason = _pick_id(names, cols, id_column, set(types) | exclude | set(features or []))

    infos: list[ColumnInfo] = []
    latest: list[pd.Timestamp] = []
    seen: dict = {}  # feature columns by content hash (see _duplicate_of)
    for name in names:
        col, kind, last = cols[name], types.get(name), None
        if name == id_column:
            info = _info(name, col, ColumnKind.ID, id_reason)
        elif name in exclude or kind == ColumnKind.EXCLUDED:
            info = _info(name, col, ColumnKind.EXCLUDED, "excluded by you")
        elif features is not None and name not in features:
            info = _info(name, col, ColumnKind.EXCLUDED, "not in your chosen features")
        elif col.n_missing == col.n:
            info = _info(name, col, ColumnKind.EXCLUDED,
                         "has no usable values" + (" (all values are infinite)" if col.has_inf else ""))
        elif kind is not None:
            info, last = _forced(name, col, kind, max_levels, rare_share)
        else:
            info, last = _auto(name, col, max_levels, rare_share, max_missing)
            twin = _duplicate_of(df, name, col, info, seen)
            if twin is not None:
                info, last = _info(name, col, ColumnKind.EXCLUDED, f"duplicates column '{twin}'"), None
        infos.append(info)
        if last is not None and not pd.isna(last):
            latest.append(last)

    ref = max(latest) if latest else None
    ref = None if ref is None else ref.date().isoformat() if ref == ref.normalize() else ref.isoformat()
    infos = [replace(i, reason=f"{i.reason}; used as days before {ref}") if i.kind == ColumnKind.DATETIME else i
             for i in infos]
    chosen = set(types) | set(features or [])
    infos, found = _with_meanings(infos, cols, chosen, meanings)
    schema = Schema(columns=tuple(infos), id_column=id_column, reference_date=ref, meanings=found)
    if len(df) < min_rows:
        raise TooFewRowsError(f"the table has {len(df):,} rows; segmentation needs at least {min_rows:,} "
                              "— load a table with more customers")
    if not schema.features:
        why = "; ".join(f"'{e['column']}' {e['reason']}" for e in schema.excluded[:5])
        more = f" (and {len(schema.excluded) - 5} more)" if len(schema.excluded) > 5 else ""
        raise NoFeaturesError(f"no column can be used to build segments: {why or 'the table has only an ID'}{more}. "
                              "Add columns that describe customers, or set their types yourself.")
    return schema


def _with_meanings(infos: list[ColumnInfo], cols: dict[str, _Column], chosen: set[str],
                   overrides: dict | None) -> tuple[list[ColumnInfo], dict[str, ColumnMeaning]]:
    """Infer every column's meaning; personal data is left out and labels/outcomes become profile-only
    (unless the user chose the column), with the reason said."""
    meanings = relate_meanings({i.name: infer_meaning(i.name, cols[i.name].profile(), i.kind) for i in infos})
    meanings = apply_overrides(meanings, overrides)
    out = []
    for info in infos:
        role, usable = meanings[info.name].role, info.kind in ColumnKind.FEATURES and info.name not in chosen
        if role == "personal" and info.kind != ColumnKind.ID and (usable or info.kind == ColumnKind.EXCLUDED):
            why = meanings[info.name].ambiguity.removeprefix("left out because ") or "it holds personal data"
            info = replace(info, kind=ColumnKind.EXCLUDED, reason=f"personal data ({why}): left out, never shown")
        elif role == "outcome" and usable and info.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            info = replace(info, kind=ColumnKind.PROFILE, reason=(
                f"looks like an existing label or outcome ({info.reason}): shown per segment, not used to build "
                "them (set its type to use it)"))
        out.append(info)
    return out, meanings


# ----------------------------------------------------------------------------- applying
def _text_of(name: str, s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    try:
        return text_codes(s)
    except TypeError as exc:
        raise ColumnError(f"'{name}' holds lists or other nested values it did not hold before") from exc


def _transform(name: str, s: pd.Series, info: ColumnInfo, reference: str | None) -> np.ndarray:
    """One column as model input; text is parsed once per distinct value, then spread by code."""
    if info.kind == ColumnKind.NUMERIC:
        if ptypes.is_datetime64_any_dtype(s.dtype):
            raise ColumnError(f"'{name}' now holds dates, but it held numbers when the segments were built")
        if ptypes.is_bool_dtype(s.dtype) or ptypes.is_numeric_dtype(s.dtype) or ptypes.is_timedelta64_dtype(s.dtype):
            return float_values(s)
        codes, texts = _text_of(name, s)
        return np.append(parse_numbers(texts), np.nan)[codes]
    if info.kind == ColumnKind.DATETIME:
        ref = pd.Timestamp(reference)
        if ptypes.is_datetime64_any_dtype(s.dtype):
            dates = s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
            return ((ref - dates) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
        codes, texts = _text_of(name, s)
        fmt = info.date_format or find_date_format(texts, code_counts(codes, len(texts)), True)[0]
        days = (ref - parse_dates(texts, fmt)) / pd.Timedelta(days=1) if fmt else np.full(len(texts), np.nan)
        return np.append(np.asarray(days, dtype=float), np.nan)[codes]
    codes, texts = _text_of(name, s)
    if info.kind == ColumnKind.BOOLEAN:
        low, true = pd.Index(texts, dtype=object).str.lower(), (info.true_value or "").lower()
        false = [v.lower() for v in info.levels if v.lower() != true] if true else []
        value = np.select([low == true, low.isin(false), low.isin(_TRUTHY), low.isin(_FALSY)], [1.0, 0.0, 1.0, 0.0],
                          np.nan)  # the fitted values first, then plain yes/no words
        return np.append(value, np.nan)[codes]
    known = pd.Index(texts, dtype=object).isin(info.levels)
    return np.append(np.where(known, texts, OTHER).astype(object), np.nan)[codes]


def missing_columns_message(missing: list[str]) -> str:
    """The columns a table of new customers lacks, as a sentence (never a Python list)."""
    one = len(missing) == 1
    shown = ", ".join(f"'{str(c)[:60]}'" for c in missing[:8]) + (
        f" and {len(missing) - 8:,} more" if len(missing) > 8 else "")
    return (f"This table lacks {'a column' if one else 'columns'} the segments were made from: {shown}. "
            f"Add {'it' if one else 'them'} with the same {'name' if one else 'names'} and try again.")


def apply_schema(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """A new table with exactly ``schema.features``, as scikit-learn input.

    Numeric, boolean (0/1) and datetime (days before ``schema.reference_date``) columns become
    float64 with NaN for missing; categorical columns hold text (object dtype), levels not kept
    at fit time as "Other" and missing as NaN. Works on new tables with the same columns; extra
    columns are ignored.
    """
    missing = [f for f in schema.features if f not in df.columns]
    if missing:
        raise ColumnError(missing_columns_message(missing))
    out = {}
    for name in schema.features:
        s = df[name]
        if isinstance(s, pd.DataFrame):
            raise DuplicateColumnsError(f"the table has more than one column named '{name}'")
        info = schema.column(name)
        out[name] = pd.Series(_transform(name, s, info, schema.reference_date), index=df.index,
                              dtype=object if info.kind == ColumnKind.CATEGORICAL else np.float64)
    return pd.DataFrame(out, index=df.index)


_YES_NO = {"1": "yes", "0": "no", "true": "yes", "false": "no", "yes": "yes", "no": "no", "y": "yes", "n": "no"}


def profile_values(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The label/outcome columns (kind "profile") as text levels, for per-segment shares.

    Yes/no outcomes read "yes"/"no"; rare levels count as "Other", as for categoricals;
    missing stays missing. Columns the table no longer has are skipped.
    """
    out = {}
    for name in schema.profile:
        if name not in df.columns:
            continue
        info = schema.column(name)
        codes, texts = _text_of(name, df[name])
        low = [str(t).lower() for t in texts]
        if len(texts) <= 2 and all(v in _YES_NO for v in low):
            mapped = np.array([_YES_NO[v] for v in low], dtype=object)
        else:
            mapped = np.where(pd.Index(texts, dtype=object).isin(info.levels) | (not info.levels), texts, OTHER)
        out[name] = pd.Series(np.append(np.asarray(mapped, dtype=object), np.nan)[codes], index=df.index,
                              dtype=object)
    return pd.DataFrame(out, index=df.index)


def customer_ids(df: pd.DataFrame, schema: Schema) -> pd.Series:
    """The ID column as text, or the 0-based row number when the table has no ID column."""
    if schema.id_column is None:
        return pd.Series(np.arange(len(df)), index=df.index, name="row")
    if schema.id_column not in df.columns:
        raise ColumnError(f"This table has no ID column '{schema.id_column}' (the column that names each customer "
                          "when the segments were made); add it with the same name and try again")
    codes, texts = _text_of(schema.id_column, df[schema.id_column])
    return pd.Series(np.append(texts, np.nan)[codes], index=df.index, name=schema.id_column, dtype="str")
