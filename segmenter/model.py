"""CustomerSegmenter: the estimator that runs load-validated table -> segments -> report.

``fit`` reads as the pipeline's list of named steps: infer the schema, sample, preprocess,
segment, assign every row in chunks, measure, profile, and build the report. Fitting
happens on a representative sample (all rows of small tables); every row is then
assigned with the fitted model, and the statistics are computed over the full table.
"""
from __future__ import annotations

import importlib.util
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from . import algorithms as alg
from .errors import ColumnError, DataError, NotFittedError, ParameterError
from .metrics import quality_metrics, stability
from .preprocess import Preprocessor
from .profile import profile_segments
from .report import NOISE_NAME, Segment, SegmentationReport
from .schema import Schema, apply_schema, customer_ids, infer_schema

Progress = Callable[[float, str], None]

#: Rows fitted per algorithm: the rest of the table is assigned to the fitted segments.
#: HDBSCAN at 20,000 rows agrees with a fit on all 100,000 rows at ARI 0.98 (0.97-0.99
#: over three tables and two samples each) and fits in ~0.5 s; 10,000 rows drop to
#: 0.94-0.98, 50,000 rows gain nothing measurable for 4x the time (bench/bench_scale.py).
FIT_SAMPLE_SIZE = {"kmeans": 50_000, "hdbscan": 20_000, "gmm": 30_000, "agglomerative": 5_000}
#: Rows used when all algorithms are compared on the same table.
COMPARE_SAMPLE_SIZE = 4000
ASSIGN_CHUNK_ROWS = 100_000
#: BLAS/OpenMP threads while fitting and assigning. On this shared 2-core machine two
#: threads waited on each other: a K-Means fit on 50,000 rows took 1.2-14 s with two
#: threads and 0.85 s with one (measured); one thread also leaves a core for the app.
THREADS = 1
#: A stratifying column may have at most this many different values.
MAX_STRATA = 100
PROJECTION_POINTS = 3000
#: Methods for the 2-D map of customers. UMAP (optional package umap-learn) separates
#: segments far better on the map (silhouette of the planted personas 0.82 vs 0.50 with
#: PCA on the demo table) but takes 10-25 s on 2 cores, so PCA stays the default.
PROJECTIONS = ("pca", "umap")
SMALL_SEGMENT_SHARE = 0.03
UNSTABLE_JACCARD = 0.6


def _no_progress(fraction: float, message: str) -> None:
    return None


class CustomerSegmenter:
    """Segment a customer table and describe every segment.

    Parameters
    ----------
    algorithm : "auto", "kmeans", "hdbscan", "gmm" or "agglomerative". "auto" fits
        HDBSCAN and K-Means and keeps HDBSCAN only when it leaves at most 20% of the
        customers unassigned and separates its segments at least as well (silhouette).
    k : fixed number of segments (K-Means, GMM, agglomerative); None chooses it.
    k_range : range of k tried when choosing automatically.
    min_cluster_size, min_samples : HDBSCAN settings for the whole table; None chooses.
    seed : random seed; the same seed and table give the same result.
    features, exclude, types, id_column : column choices, see :func:`infer_schema`.
    fit_sample_size : rows to fit on; None uses :data:`FIT_SAMPLE_SIZE`.
    stratify : column whose levels keep their shares in the fit sample (e.g. a region);
        None samples uniformly. Either way the sample is seeded and every row is assigned.
    stability_runs : refits on 80% resamples used to measure stability (0 to skip).
    compare : also fit every algorithm on a sample and report their metrics side by side.
    projection : the 2-D map of customers: "pca" (fast, the default) or "umap" (needs the
        umap-learn package; slower, but keeps segments apart on the map).

    Attributes
    ----------
    schema_, preprocessor_, fit_ (the ClusterFit), algorithm_, report_
    """

    def __init__(self, algorithm: str = "auto", k: int | None = None,
                 k_range: tuple[int, int] = (2, 12), min_cluster_size: int | None = None,
                 min_samples: int | None = None, seed: int = 0, features: list | None = None,
                 exclude: list | None = None, types: dict | None = None,
                 id_column: str | None = None, fit_sample_size: int | None = None,
                 stability_runs: int = 3, compare: bool = True, stratify: str | None = None,
                 projection: str = "pca"):
        self.algorithm = algorithm
        self.k = k
        self.k_range = k_range
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.seed = seed
        self.features = features
        self.exclude = exclude
        self.types = types
        self.id_column = id_column
        self.fit_sample_size = fit_sample_size
        self.stability_runs = stability_runs
        self.compare = compare
        self.stratify = stratify
        self.projection = projection

    # ------------------------------------------------------------------ checks
    def _validate_params(self, n_rows: int) -> None:
        if self.algorithm not in alg.ALGORITHMS:
            raise ParameterError(f"Unknown algorithm '{self.algorithm}'; choose one of "
                                 f"{', '.join(alg.ALGORITHMS)}.")
        lo, hi = self.k_range
        if not (2 <= lo <= hi):
            raise ParameterError(f"k_range={self.k_range} must satisfy 2 <= low <= high.")
        if self.k is not None and not (2 <= int(self.k) <= min(50, n_rows - 1)):
            raise ParameterError(f"k={self.k}: the number of segments must be between 2 and "
                                 f"{min(50, n_rows - 1)} for a table of {n_rows} rows.")
        if self.min_cluster_size is not None and not (2 <= self.min_cluster_size <= n_rows // 2):
            raise ParameterError(f"min_cluster_size={self.min_cluster_size} must be between 2 and "
                                 f"half the rows ({n_rows // 2}).")
        if self.min_samples is not None and self.min_samples < 1:
            raise ParameterError(f"min_samples={self.min_samples} must be at least 1.")
        if self.fit_sample_size is not None and self.fit_sample_size < 50:
            raise ParameterError(f"fit_sample_size={self.fit_sample_size} must be at least 50.")
        if self.projection not in PROJECTIONS:
            raise ParameterError(f"Unknown map '{self.projection}'; choose one of {', '.join(PROJECTIONS)}.")
        if self.projection == "umap" and importlib.util.find_spec("umap") is None:
            raise ParameterError("The UMAP map needs the umap-learn package (pip install umap-learn); "
                                 "or use the PCA map, which needs nothing more.")

    def _fit_rows(self, table: pd.DataFrame, size: int) -> np.ndarray:
        """The seeded (optionally stratified) sample of rows the algorithm is fitted on."""
        if self.stratify is None:
            return alg._sample_rows(len(table), size, self.seed)
        if self.stratify not in table.columns:
            raise ColumnError(f"stratify='{self.stratify}' is not a column of the table; the columns "
                              f"are {', '.join(map(str, table.columns[:20]))}.")
        codes, levels = pd.factorize(table[self.stratify], use_na_sentinel=False)
        if len(levels) > MAX_STRATA:
            raise ParameterError(f"stratify='{self.stratify}' has {len(levels):,} different values; "
                                 f"choose a column with a few levels, such as a region or channel "
                                 f"(at most {MAX_STRATA}).")
        return alg.stratified_sample_rows(codes, size, self.seed)

    # ---------------------------------------------------------------- fitting
    def fit(self, table: pd.DataFrame, progress: Progress | None = None) -> "CustomerSegmenter":
        """Fit on ``table`` and build ``report_``. Returns self."""
        with threadpool_limits(limits=THREADS):
            return self._fit(table, progress or _no_progress)

    def _fit(self, table: pd.DataFrame, progress: Progress) -> "CustomerSegmenter":
        progress(0.0, "Checking the table")
        schema = infer_schema(table, features=self.features, exclude=self.exclude,
                              types=self.types, id_column=self.id_column)
        n = len(table)
        self._validate_params(n)
        features = apply_schema(table, schema)
        algorithm = "kmeans" if self.algorithm == "auto" else self.algorithm
        size = self.fit_sample_size or FIT_SAMPLE_SIZE["hdbscan" if self.algorithm == "auto" else algorithm]
        fit_rows = self._fit_rows(table, size)

        progress(0.05, "Preparing features")
        numeric = schema.numeric + schema.boolean + schema.datetime
        numeric = [c for c in schema.features if c in numeric]
        categorical = [c for c in schema.features if c in schema.categorical]
        pre = Preprocessor(tuple(numeric), tuple(categorical)).fit(features.iloc[fit_rows])
        X_fit = pre.transform(features.iloc[fit_rows])

        progress(0.15, "Finding segments")
        fit = self._fit_algorithm(X_fit, n)
        self.schema_, self.preprocessor_, self.fit_, self.algorithm_ = schema, pre, fit, fit.algorithm

        progress(0.45, "Assigning every customer")
        labels, proba = self._assign_matrix_rows(features, fit_rows, fit, progress)

        progress(0.55, "Measuring quality")
        metrics = quality_metrics(X_fit, fit.labels, fit.algorithm, self.seed)
        if self.stability_runs:
            progress(0.6, "Measuring stability on resamples")
            stab = stability(X_fit, fit, self._refitter(fit, n), self._assigner(fit.algorithm),
                             runs=self.stability_runs, seed=self.seed)
            metrics["stability_ari"] = stab["ari_mean"]
            metrics["stability"] = stab
        if self.compare:
            progress(0.7, "Measuring the other algorithms for comparison")
        comparison = self._compare(X_fit, n, metrics["n_segments"]) if self.compare else []

        progress(0.75, "Profiling segments")
        prof = profile_segments(features, labels, numeric, categorical)
        ids = customer_ids(table, schema)
        assignments = pd.DataFrame({"id": ids.astype(str).to_numpy(), "segment": labels,
                                    "probability": np.round(proba, 4)})
        if self.projection == "umap":
            progress(0.8, "Drawing the map of customers (UMAP)")
        self.report_ = self._build_report(schema, fit, metrics, prof, assignments, comparison,
                                          X_fit, fit_rows, n, table)
        progress(1.0, "Segmentation done")
        return self

    def _fit_algorithm(self, X: np.ndarray, n_rows: int) -> alg.ClusterFit:
        if self.algorithm != "auto":
            return self._fit_one(self.algorithm, X, n_rows)
        km = self._fit_one("kmeans", X, n_rows)
        hd = self._fit_one("hdbscan", X, n_rows)
        km_m = quality_metrics(X, km.labels, "kmeans", self.seed)
        hd_m = quality_metrics(X, hd.labels, "hdbscan", self.seed)
        keep_hd = (hd_m["n_segments"] >= 2 and hd_m["noise_fraction"] <= 0.2
                   and (hd_m["silhouette"] or -1) >= (km_m["silhouette"] or -1))
        chosen = hd if keep_hd else km
        reason = ("HDBSCAN found well-separated segments and left few customers unassigned"
                  if keep_hd else "K-Means separated the customers better than HDBSCAN")
        candidates = {"kmeans": km_m, "hdbscan": hd_m}
        return alg.ClusterFit(**{**chosen.__dict__, "params": {
            **chosen.params, "auto_reason": reason, "auto_candidates": candidates}})

    def _fit_one(self, algorithm: str, X: np.ndarray, n_rows: int) -> alg.ClusterFit:
        if algorithm == "hdbscan":
            scale = len(X) / n_rows
            mcs = None if self.min_cluster_size is None else max(2, round(self.min_cluster_size * scale))
            return alg.fit_hdbscan(X, mcs, self.min_samples, self.seed)
        return alg.FITTERS[algorithm](X, self.k, tuple(self.k_range), self.seed)

    def _refitter(self, fit: alg.ClusterFit, n_rows: int):
        params = fit.params

        def refit(X: np.ndarray) -> alg.ClusterFit:
            if fit.algorithm == "hdbscan":
                return alg.fit_hdbscan(X, params["min_cluster_size"], params["min_samples"], self.seed)
            return alg.FITTERS[fit.algorithm](X, params["k"], tuple(self.k_range), self.seed + 1)
        return refit

    @staticmethod
    def _assigner(algorithm: str):
        return lambda other, X: alg.assign(other.model, algorithm, X)[0]

    def _compare(self, X: np.ndarray, n_rows: int, n_segments: int) -> list:
        """Fit every algorithm on one sample; k-based ones use the chosen number of segments."""
        rows = alg._sample_rows(len(X), COMPARE_SAMPLE_SIZE, self.seed)
        Xs = X[rows]
        k = max(2, n_segments)
        out = []
        for name in ("kmeans", "hdbscan", "gmm", "agglomerative"):
            try:
                fit = (self._fit_one(name, Xs, n_rows) if name == "hdbscan"
                       else alg.FITTERS[name](Xs, k, tuple(self.k_range), self.seed))
            except (ValueError, MemoryError) as exc:  # one algorithm failing must not sink the run
                out.append({"algorithm": name, "error": str(exc)})
                continue
            out.append({"algorithm": name, "rows": int(len(Xs)),
                        **quality_metrics(Xs, fit.labels, name, self.seed)})
        return out

    def _assign_matrix_rows(self, features: pd.DataFrame, fit_rows: np.ndarray,
                            fit: alg.ClusterFit, progress: Progress = _no_progress
                            ) -> tuple[np.ndarray, np.ndarray]:
        """Labels of every row: the fitted rows keep theirs, the rest are assigned in chunks."""
        n = len(features)
        labels = np.empty(n, dtype=np.int32)
        proba = np.empty(n, dtype=float)
        labels[fit_rows], proba[fit_rows] = fit.labels, fit.probabilities
        rest = np.setdiff1d(np.arange(n), fit_rows, assume_unique=True)

        def overall(fraction: float, message: str) -> None:
            done = len(fit_rows) + round(fraction * len(rest))
            progress(0.45 + 0.1 * done / n, f"Assigned {done:,} of {n:,} customers")

        labels[rest], proba[rest] = self._label_features(features, overall, rows=rest)
        return labels, proba

    # ------------------------------------------------------------- reporting
    def _build_report(self, schema: Schema, fit: alg.ClusterFit, metrics: dict, prof: dict,
                      assignments: pd.DataFrame, comparison: list, X_fit: np.ndarray,
                      fit_rows: np.ndarray, n: int, table: pd.DataFrame) -> SegmentationReport:
        jaccard = metrics.get("stability", {}).get("segment_jaccard", {})
        persistence = {i + 1: p for i, p in enumerate(fit.persistence)}
        segments = []
        for seg_id, stats in sorted(prof["segments"].items(), key=lambda kv: (kv[0] == -1, kv[0])):
            is_noise = seg_id == alg.NOISE
            flags = ["noise"] if is_noise else []
            if not is_noise and stats["share"] < SMALL_SEGMENT_SHARE:
                flags.append("small")
            stab = jaccard.get(str(seg_id))
            if stab is not None and stab < UNSTABLE_JACCARD:
                flags.append("unstable")
            segments.append(Segment(
                id=int(seg_id), name=NOISE_NAME if is_noise else f"Segment {seg_id}",
                size=stats["size"], share=stats["share"], is_noise=is_noise,
                numeric=stats["numeric"], categorical=stats["categorical"],
                categorical_lift=stats["categorical_lift"], distinguishing=stats["distinguishing"],
                stability=stab, persistence=persistence.get(seg_id), flags=flags))
        params = {"algorithm_requested": self.algorithm, "seed": self.seed,
                  "k_range": list(self.k_range), "fit_sample_size": int(len(fit_rows)),
                  "stratify": self.stratify,
                  **fit.params}
        summary = {
            "n_rows": n, "n_columns": int(table.shape[1]),
            "columns": [{"name": c.name, "kind": c.kind, "reason": c.reason,
                         "missing_share": c.missing_share, "n_unique": c.n_unique}
                        for c in schema.columns],
            "reference_date": schema.reference_date,
            "log_transformed": list(self.preprocessor_.log_columns_),
        }
        return SegmentationReport(
            algorithm=fit.algorithm, params=params, n_rows=n, n_fit_rows=int(len(fit_rows)),
            id_column=schema.id_column, features=list(schema.features),
            feature_types={c: schema.kind_of(c) for c in schema.features},
            excluded_columns=schema.excluded, data_summary=summary, metrics=metrics,
            segments=segments, overall=prof["overall"], assignments=assignments,
            k_curve=fit.k_curve, comparison=comparison,
            projection=self._projection(X_fit, fit.labels, assignments["id"].to_numpy()[fit_rows]),
            cluster_tree=fit.cluster_tree)

    def _projection(self, X: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> dict:
        """Up to PROJECTION_POINTS customers on a 2-D map (PCA, or UMAP when asked for)."""
        rows = alg._sample_rows(len(X), PROJECTION_POINTS, self.seed)
        extra: dict = {}
        if self.projection == "umap":
            import umap

            xy = umap.UMAP(n_components=2, random_state=self.seed, n_jobs=1).fit_transform(X[rows])
        else:
            pca = PCA(n_components=2, random_state=self.seed).fit(X)
            xy = pca.transform(X[rows])
            extra["explained_variance"] = pca.explained_variance_ratio_.round(4).tolist()
        return {"method": self.projection, "x": np.round(xy[:, 0], 4).tolist(),
                "y": np.round(xy[:, 1], 4).tolist(), "segment": labels[rows].tolist(),
                "id": [str(i) for i in ids[rows]], **extra}

    # ------------------------------------------------------------- assigning
    def _check_fitted(self) -> None:
        if not hasattr(self, "fit_"):
            raise NotFittedError("This CustomerSegmenter is not fitted yet: call fit(table) first.")

    def transform(self, table: pd.DataFrame) -> np.ndarray:
        """The preprocessed matrix of new customers (same columns as the fitted table)."""
        self._check_fitted()
        return self.preprocessor_.transform(apply_schema(table, self.schema_))

    def assign(self, table: pd.DataFrame, progress: Progress | None = None) -> pd.DataFrame:
        """Assign new customers to the fitted segments, in chunks.

        Returns a frame with ``id``, ``segment`` (-1 = Unassigned) and ``probability``.
        """
        self._check_fitted()
        if len(table) == 0:
            raise DataError("There are no customers to assign: the table has no rows.")
        with threadpool_limits(limits=THREADS):
            return self._assign(table, progress or _no_progress)

    def _assign(self, table: pd.DataFrame, progress: Progress) -> pd.DataFrame:
        features = apply_schema(table, self.schema_)
        labels, proba = self._label_features(features, progress)
        ids = customer_ids(table, self.schema_)
        return pd.DataFrame({"id": ids.astype(str).to_numpy(), "segment": labels,
                             "probability": np.round(proba, 4)})

    def _label_features(self, features: pd.DataFrame, progress: Progress = _no_progress,
                        rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Segment and membership strength of validated feature rows (all, or ``rows``), in chunks."""
        n = len(features) if rows is None else len(rows)
        labels = np.empty(n, dtype=np.int32)
        proba = np.empty(n, dtype=float)
        for start in range(0, n, ASSIGN_CHUNK_ROWS):
            stop = min(start + ASSIGN_CHUNK_ROWS, n)
            chunk = features.iloc[start:stop] if rows is None else features.iloc[rows[start:stop]]
            X = self.preprocessor_.transform(chunk)
            labels[start:stop], proba[start:stop] = alg.assign(self.fit_.model, self.algorithm_, X)
            progress(stop / n, f"Assigned {stop:,} of {n:,} customers")
        return labels, proba
