"""Turn validated feature columns into the numeric matrix the clustering sees.

Every numeric column is imputed with its median, its extreme values are capped at the
0.5th and 99.5th percentiles of the fitted rows (so one income of 666,666 or a birth year
of 1893 cannot shape a segment; the statistics on the cards still use the values as they
are), it is log-transformed when it is a skewed, non-negative amount or count, and it is
standardised. Each categorical column is one-hot encoded and weighted so that in total it
carries :data:`CATEGORY_WEIGHT` of the variance of one numeric column, and yes/no columns
get the same weight: a two-level column splits customers into two tight clumps, which
distance-based clustering follows far more readily than any continuous column, so at full
weight segments became "all men" / "all women" (measured on the real tables, see
:data:`CATEGORY_WEIGHT`). Categories written as a scale ("Low", "Average", "High") are
encoded as one ordered number. A user weight multiplies a column's share. ``feature_map_``
maps every transformed column back to its original column (and level), so explanations
and cards speak in the user's column names.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from .errors import NotFittedError, ParameterError

#: A non-negative column whose sample skewness exceeds this is log-transformed.
SKEW_THRESHOLD = 1.0
#: Values outside these quantiles of the fitted rows are capped for segmenting.
CLIP_QUANTILES = (0.005, 0.995)
#: Variance of one categorical or yes/no column relative to one numeric column. At 1.0 the
#: four real tables gave 4 of 5 mall segments made of one gender and 4 of 4 automobile segments
#: pure in one level of a two-level column (k=4-5); at 0.25 (a weight of 0.5 on the scaled
#: encoding) no mall segment and at most one automobile segment was, while numeric behaviour
#: (income, spending score) still led (bench: tests/test_real_tables.py).
CATEGORY_WEIGHT = 0.5


def _is_skewed_amount(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    if not len(finite) or finite.min() < 0 or len(np.unique(finite[:5000])) <= 2:
        return False
    return bool(pd.Series(finite).skew() > SKEW_THRESHOLD)


def _float(frame: pd.DataFrame, column: str) -> np.ndarray:
    x = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(x), x, np.nan)


class Preprocessor(TransformerMixin, BaseEstimator):
    """Impute, cap extremes, log-transform skewed amounts, scale, and encode categoricals.

    Parameters
    ----------
    numeric : columns treated as numbers (datetime "days since" and booleans included).
    categorical : columns one-hot encoded (or ordinal-encoded, see ``ordinal``).
    binary : numeric columns that hold yes/no values (weighted like a categorical).
    ordinal : ``{column: levels low to high}`` for categoricals written as a scale.
    weights : ``{column: multiplier}`` set by the user (1 = the default share; 2 = twice).
    skew_threshold : skewness above which a non-negative column is log1p-transformed.
    category_weight : see :data:`CATEGORY_WEIGHT`.

    Attributes
    ----------
    log_columns_ : numeric columns that were log-transformed.
    clip_ : ``{column: (low, high)}`` caps applied before scaling.
    feature_map_ : one ``(original_column, level_or_None)`` per output column.
    feature_names_out_ : readable names of the output columns.
    """

    def __init__(self, numeric: tuple[str, ...] = (), categorical: tuple[str, ...] = (),
                 binary: tuple[str, ...] = (), ordinal: dict | None = None, weights: dict | None = None,
                 skew_threshold: float = SKEW_THRESHOLD, category_weight: float = CATEGORY_WEIGHT):
        self.numeric = numeric
        self.categorical = categorical
        self.binary = binary
        self.ordinal = ordinal
        self.weights = weights
        self.skew_threshold = skew_threshold
        self.category_weight = category_weight

    def _check_params(self) -> None:
        weights = dict(self.weights or {})
        bad = {c: w for c, w in weights.items() if not (isinstance(w, (int, float)) and np.isfinite(w) and w > 0)}
        if bad:
            raise ParameterError(f"Column weights must be positive numbers (0 leaves a column out before this "
                                 f"step); got {bad}.")
        unknown = sorted(set(weights) - set(self.numeric) - set(self.categorical))
        if unknown:
            raise ParameterError(f"Weights name columns that are not used to build segments: {unknown}.")
        if not (isinstance(self.category_weight, (int, float)) and self.category_weight > 0):
            raise ParameterError(f"category_weight must be a positive number; got {self.category_weight!r}.")

    def fit(self, X: pd.DataFrame, y=None) -> "Preprocessor":
        self._check_params()
        weights, ordinal = dict(self.weights or {}), dict(self.ordinal or {})
        numeric = list(self.numeric) + [c for c in self.categorical if c in ordinal]
        categorical = [c for c in self.categorical if c not in ordinal]
        values = {c: self._numbers(X, c, ordinal) for c in numeric}
        self.medians_ = {c: float(np.nanmedian(v)) if np.isfinite(v).any() else 0.0 for c, v in values.items()}
        self.clip_, self.log_columns_, self.centres_, self.scales_ = {}, [], {}, {}
        for c in numeric:
            v = np.where(np.isnan(values[c]), self.medians_[c], values[c])
            lo, hi = np.quantile(v, CLIP_QUANTILES) if len(v) else (0.0, 0.0)
            self.clip_[c] = (float(lo), float(hi))
            v = np.clip(v, lo, hi)
            if c not in ordinal and _is_skewed_amount(v) and self.skew_threshold is not None:
                self.log_columns_.append(c)
                v = np.log1p(v)
            # scale by the largest value first: values near 1e307 would overflow the variance
            big = float(np.max(np.abs(v))) if len(v) else 0.0
            big = big if np.isfinite(big) and big > 0 else 1.0
            centre, scale = float(np.mean(v / big)) * big, float(np.std(v / big)) * big
            self.centres_[c], self.scales_[c] = centre, scale if np.isfinite(scale) and scale > 1e-12 else 1.0
        self.column_weights_ = {c: float(weights.get(c, 1.0)) * (self.category_weight if c in self.binary else 1.0)
                                for c in numeric}
        self.levels_, self.level_weights_, self.modes_ = {}, {}, {}
        for c in categorical:
            col = X[c].astype(object)
            counts = col.value_counts(dropna=True)
            mode = counts.index[0] if len(counts) else None
            shares = col.fillna(mode).value_counts(normalize=True)
            spread = 1.0 - float((shares ** 2).sum())
            self.levels_[c] = [str(v) for v in sorted(map(str, counts.index))]
            self.modes_[c] = None if mode is None else str(mode)
            self.level_weights_[c] = (self.category_weight * float(weights.get(c, 1.0)) / np.sqrt(spread)
                                      if spread > 1e-9 else 0.0)
        self.numeric_in_, self.categorical_in_ = numeric, categorical
        self.feature_map_ = [(c, None) for c in numeric] + [(c, lv) for c in categorical for lv in self.levels_[c]]
        self.feature_names_out_ = [c if lvl is None else f"{c}={lvl}" for c, lvl in self.feature_map_]
        return self

    @staticmethod
    def _numbers(X: pd.DataFrame, column: str, ordinal: dict) -> np.ndarray:
        if column not in ordinal:
            return _float(X, column)
        order = {str(v).lower(): i for i, v in enumerate(ordinal[column])}
        return X[column].map(lambda v: order.get(str(v).lower(), np.nan) if pd.notna(v) else np.nan) \
            .to_numpy(dtype=float)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "feature_map_"):
            raise NotFittedError("This Preprocessor is not fitted yet: call fit first.")
        ordinal = dict(self.ordinal or {})
        n = len(X)
        out = np.empty((n, len(self.feature_map_)), dtype=np.float64)
        j = 0
        for c in self.numeric_in_:
            v = self._numbers(X, c, ordinal)
            v = np.clip(np.where(np.isnan(v), self.medians_[c], v), *self.clip_[c])
            if c in self.log_columns_:
                v = np.log1p(v)
            out[:, j] = (v - self.centres_[c]) / self.scales_[c] * self.column_weights_[c]
            j += 1
        for c in self.categorical_in_:
            text = X[c].astype(object).where(X[c].notna(), self.modes_[c]).astype(str).to_numpy()
            levels = self.levels_[c]
            out[:, j:j + len(levels)] = (text[:, None] == np.asarray(levels, dtype=object)[None, :]) \
                * self.level_weights_[c]
            j += len(levels)
        return np.ascontiguousarray(out)

    def original_columns(self) -> list[str]:
        """Original column of each output column, in output order."""
        return [c for c, _ in self.feature_map_]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self.feature_names_out_, dtype=object)
