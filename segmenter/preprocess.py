"""Turn validated feature columns into the numeric matrix the clustering sees.

Numeric columns are imputed with the median, log-transformed when they are skewed,
non-negative amounts or counts, and standardised. Each categorical column is one-hot
encoded and weighted so that, in total, it carries the same variance as one numeric
column: a five-level column must not outweigh ``age``. ``feature_map_`` maps every
transformed column back to its original column (and level), so explanations and
cards can speak in the user's column names.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .errors import NotFittedError

#: A non-negative column whose sample skewness exceeds this is log-transformed.
SKEW_THRESHOLD = 1.0


def _is_skewed_amount(values: pd.Series) -> bool:
    finite = values.dropna()
    if finite.empty or finite.min() < 0 or finite.nunique() <= 2:
        return False
    return bool(finite.skew() > SKEW_THRESHOLD)


class Preprocessor(TransformerMixin, BaseEstimator):
    """Impute, log-transform skewed amounts, scale, and one-hot categoricals.

    Parameters
    ----------
    numeric : columns treated as numbers (datetime "days since" and booleans included).
    categorical : columns one-hot encoded.
    skew_threshold : skewness above which a non-negative column is log1p-transformed.

    Attributes
    ----------
    log_columns_ : numeric columns that were log-transformed.
    feature_map_ : one ``(original_column, level_or_None)`` per output column.
    feature_names_out_ : readable names of the output columns.
    """

    def __init__(self, numeric: tuple[str, ...] = (), categorical: tuple[str, ...] = (),
                 skew_threshold: float = SKEW_THRESHOLD):
        self.numeric = numeric
        self.categorical = categorical
        self.skew_threshold = skew_threshold

    def fit(self, X: pd.DataFrame, y=None) -> "Preprocessor":
        numeric, categorical = list(self.numeric), list(self.categorical)
        self.log_columns_ = [c for c in numeric if _is_skewed_amount(X[c])]
        plain = [c for c in numeric if c not in self.log_columns_]
        transformers, weights = [], {}
        if plain:
            transformers.append(("plain", Pipeline([
                ("impute", SimpleImputer(strategy="median")),
                ("scale", StandardScaler()),
            ]), plain))
        if self.log_columns_:
            transformers.append(("log", Pipeline([
                ("impute", SimpleImputer(strategy="median")),
                ("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                ("scale", StandardScaler()),
            ]), self.log_columns_))
        for i, column in enumerate(categorical):
            name = f"cat{i}"
            transformers.append((name, Pipeline([
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]), [column]))
            shares = X[column].fillna(X[column].mode().iloc[0]).value_counts(normalize=True)
            spread = 1.0 - float((shares ** 2).sum())
            weights[name] = 1.0 / np.sqrt(spread) if spread > 1e-9 else 0.0
        self.transformer_ = ColumnTransformer(
            transformers, transformer_weights=weights or None, sparse_threshold=0.0)
        self.transformer_.fit(X[numeric + categorical])

        feature_map: list[tuple[str, str | None]] = [(c, None) for c in plain + self.log_columns_]
        for i, column in enumerate(categorical):
            encoder = self.transformer_.named_transformers_[f"cat{i}"].named_steps["onehot"]
            feature_map += [(column, str(level)) for level in encoder.categories_[0]]
        self.feature_map_ = feature_map
        self.feature_names_out_ = [c if lvl is None else f"{c}={lvl}" for c, lvl in feature_map]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        try:
            check_is_fitted(self, "transformer_")
        except Exception as exc:
            raise NotFittedError("This Preprocessor is not fitted yet: call fit first.") from exc
        columns = list(self.numeric) + list(self.categorical)
        return np.ascontiguousarray(self.transformer_.transform(X[columns]), dtype=np.float64)

    def original_columns(self) -> list[str]:
        """Original column of each output column, in output order."""
        return [c for c, _ in self.feature_map_]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self.feature_names_out_, dtype=object)
