"""The plain scripts ``bench/bench_cli.py`` runs against ``cli.py run``, each as its own process.

Usage: ``python bench/baselines.py plain-hdbscan|fast-hdbscan|kmeans-shap TABLE.csv LABELS.npy``

What a notebook does with the same CSV, on every row, no sampling:

* ``plain-hdbscan``: ``pd.read_csv`` (the date column parsed, the id dropped), median-impute +
  ``StandardScaler`` on the numbers, one-hot on the categories, ``hdbscan.HDBSCAN`` on the whole
  matrix with our settings (``min_cluster_size`` = 2% of the rows, ``min_samples`` = 5), so only
  sampling and our principal components differ.
* ``fast-hdbscan``: the same matrix and settings through ``fast_hdbscan.HDBSCAN`` (numba,
  parallel Boruvka; ``pip install fast_hdbscan``, a benchmark baseline only: requirements-dev.txt).
* ``kmeans-shap``: the same matrix, ``KMeans(6)``, a LightGBM classifier (our surrogate's settings)
  trained on every row and SHAP values of every row.

The labels go to LABELS.npy (for ARI against the planted personas). ``START <seconds>`` on stdout
is the time from the interpreter's start to the end of the imports, for the import share.
"""
from __future__ import annotations

import sys
import time

T0 = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

PLANTED_K = 6
MIN_SAMPLES = 5  # segmenter.algorithms.DEFAULT_MIN_SAMPLES
DATE_COLUMNS = ["signup_date"]
ID = "customer_id"


def frame_matrix(df: pd.DataFrame) -> tuple:
    """A notebook's matrix of ``df`` (dates as days before the latest, median-impute + scale the
    numbers, one-hot the categories): (frame with dates as days, matrix, numeric, categorical)."""
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = (df[c].max() - df[c]).dt.days.astype(float)
        elif pd.api.types.is_bool_dtype(df[c]):
            df[c] = df[c].astype(float)
    cat = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    num = [c for c in df.columns if c not in cat]
    ct = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(sparse_output=False, handle_unknown="ignore")), cat)])
    return df, np.ascontiguousarray(ct.fit_transform(df), dtype=np.float64), num, cat


def matrix(path: str) -> np.ndarray:
    return frame_matrix(pd.read_csv(path, parse_dates=DATE_COLUMNS).drop(columns=[ID]))[1]


def min_cluster_size(n: int) -> int:
    return int(max(10, round(0.02 * n)))  # segmenter.algorithms.default_min_cluster_size


def main(argv: list[str]) -> int:
    kind, path, labels_path = argv
    if kind == "plain-hdbscan":
        import hdbscan
    elif kind == "fast-hdbscan":
        import fast_hdbscan
    elif kind == "kmeans-shap":
        import shap
        from lightgbm import LGBMClassifier
        from sklearn.cluster import KMeans
    else:
        raise SystemExit(f"unknown baseline {kind!r}")
    print(f"START {time.perf_counter() - T0:.3f}", flush=True)
    X = matrix(path)
    mcs = min_cluster_size(len(X))
    if kind == "plain-hdbscan":
        labels = hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=MIN_SAMPLES).fit(X).labels_
    elif kind == "fast-hdbscan":
        labels = fast_hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=MIN_SAMPLES).fit(X).labels_
    else:
        labels = KMeans(n_clusters=PLANTED_K, random_state=0, n_init=1).fit(X).labels_
        model = LGBMClassifier(n_estimators=150, num_leaves=15, learning_rate=0.1, colsample_bytree=0.5,
                               min_child_samples=10, max_bin=63, n_jobs=1, verbose=-1).fit(X, labels)
        shap.TreeExplainer(model).shap_values(X)
    np.save(labels_path, np.asarray(labels))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
