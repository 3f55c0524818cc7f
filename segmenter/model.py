"""CustomerSegmenter: the estimator that runs load-validated table -> segments -> report.

``fit`` reads as the pipeline's list of named steps: infer the schema, sample, preprocess,
segment, assign every row in chunks, measure, profile, and build the report. Fitting
happens on a representative sample (all rows of small tables); every row is then
assigned with the fitted model, and the statistics are computed over the full table.
"""
from __future__ import annotations

import dataclasses
import importlib.util
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from . import algorithms as alg
from . import params
from .errors import ColumnError, DataError, NotFittedError, ParameterError
from .kchoice import PREFER_MIN_ROWS
from .derived import derived_columns
from .implausible import implausible_values
from .meanings import meanings_to_dict, ordinal_order
from .metrics import quality_metrics, stability
from .preprocess import CLIP_QUANTILES, Preprocessor
from .profile import profile_segments
from .report import NOISE_NAME, Segment, SegmentationReport
from .views import view_data
from .schema import ColumnKind, Schema, apply_schema, customer_ids, infer_schema, profile_values

Progress = Callable[[float, str], None]

#: Rows fitted per algorithm: the rest of the table is assigned to the fitted segments.
#: HDBSCAN at 20,000 rows agrees with a fit on all 100,000 rows at ARI 0.98 (0.97-0.99
#: over three tables and two samples each) and fits in ~0.5 s; 10,000 rows drop to
#: 0.94-0.98, 50,000 rows gain nothing measurable for 4x the time (bench/bench_scale.py).
FIT_SAMPLE_SIZE = {"kmeans": 50_000, "hdbscan": 20_000, "gmm": 30_000, "agglomerative": 5_000}
#: Rows used when all algorithms are compared on the same table.
COMPARE_SAMPLE_SIZE = 4000
#: Rows of the fit sample the stability refits use (each refit on 80% of them). Tables fitted
#: on at most this many rows are measured on all of them, as before; a 20,000-row HDBSCAN
#: sample took 1.0-2.3 s for three refits, about a tenth of a 100,000-row run, for one number.
#: The report says how many rows were used (``metrics["stability"]["rows"]``) and the spread
#: of the refits' ARI (``ari_std``).
STABILITY_SAMPLE_SIZE = 5000
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
#: "auto" keeps HDBSCAN only with at least this many segments (tables of PREFER_MIN_ROWS rows or
#: more) and none holding more than MAX_AUTO_SHARE of the customers.
MIN_AUTO_SEGMENTS = 3
MAX_AUTO_SHARE = 0.5
UNSTABLE_JACCARD = 0.6


def _no_progress(fraction: float, message: str) -> None:
    return None


COMPARISON_NOT_RUN = "not run (pass --compare)"


def comparison_note(comparison: list, asked: bool) -> str:
    """What the report says about the side-by-side comparison of algorithms."""
    if not asked:
        return COMPARISON_NOT_RUN
    rows = max((int(c.get("rows", 0)) for c in comparison), default=0)
    return f"run: {len(comparison)} algorithms fitted on the same {rows:,} sampled rows"


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
    compare : also fit every algorithm on a sample of :data:`COMPARE_SAMPLE_SIZE` rows and report
        their metrics side by side (``report_.comparison``). Off by default: it fits three more
        algorithms for a table the user rarely reads; ``report_.params["comparison"]`` says
        whether it was run (``cli.py run --compare``).
    projection : the 2-D map of customers: "pca" (fast, the default) or "umap" (needs the
        umap-learn package; slower, but keeps segments apart on the map).
    weights : ``{column: weight}``: 1 is a column's default say in the segments, 2 doubles it,
        0 leaves the column out.
    meanings : corrections of the inferred column meanings (see :mod:`segmenter.meanings`).
    drop_implausible : leave out the rows holding implausible values (birth year before 1900,
        placeholder incomes, ...; see :mod:`segmenter.implausible`) instead of only flagging them.

    Attributes
    ----------
    schema_, preprocessor_, fit_ (the ClusterFit), algorithm_, report_
    """

    def __init__(self, algorithm: str = "auto", k: int | None = None,
                 k_range: tuple[int, int] = (2, 12), min_cluster_size: int | None = None,
                 min_samples: int | None = None, seed: int = 0, features: list | None = None,
                 exclude: list | None = None, types: dict | None = None,
                 id_column: str | None = None, fit_sample_size: int | None = None,
                 stability_runs: int = 3, compare: bool = False, stratify: str | None = None,
                 projection: str = "pca", weights: dict | None = None, meanings: dict | None = None,
                 drop_implausible: bool = False):
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
        self.weights = weights
        self.meanings = meanings
        self.drop_implausible = drop_implausible

    # ------------------------------------------------------------------ checks
    def get_params(self) -> dict:
        """The parameters set in ``__init__`` (scikit-learn's convention)."""
        return {name: getattr(self, name) for name in params.CONSTRAINTS}

    def _validate_params(self, n_rows: int, columns: list) -> None:
        """Every parameter against :data:`segmenter.params.CONSTRAINTS`, before any work."""
        values = self.get_params()
        values["k_range"] = tuple(self.k_range) if isinstance(self.k_range, (list, tuple)) else self.k_range
        params.validate(values)
        params.validate_for_rows(values, n_rows)
        if self.projection == "umap" and importlib.util.find_spec("umap") is None:
            raise ParameterError("The UMAP map needs the umap-learn package (pip install umap-learn); "
                                 "or use the PCA map, which needs nothing more.")
        unknown = sorted(set(self.weights or {}) - {str(c) for c in columns})
        if unknown:
            raise ColumnError(f"weights name columns that are not in the table: {unknown}; the columns are "
                              f"{', '.join(map(str, columns[:20]))}.")

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
        self._validate_params(len(table), list(table.columns))
        zero = [c for c, w in (self.weights or {}).items() if w == 0]
        schema = infer_schema(table, features=self.features, exclude=[*(self.exclude or []), *zero],
                              types=self.types, id_column=self.id_column, meanings=self.meanings)
        features = apply_schema(table, schema)
        findings, implausible = implausible_values(features, schema.meanings,
                                                   {c: schema.kind_of(c) for c in schema.features})
        dropped = 0
        if self.drop_implausible and implausible.any():
            dropped = int(implausible.sum())
            table, features = table.loc[~implausible], features.loc[~implausible]
            params.validate_for_rows(self.get_params(), len(table))
        self.kept_index_ = table.index  # the rows segmented (all of them unless some were dropped)
        n = len(table)
        algorithm = "kmeans" if self.algorithm == "auto" else self.algorithm
        size = self.fit_sample_size or FIT_SAMPLE_SIZE["hdbscan" if self.algorithm == "auto" else algorithm]
        fit_rows = self._fit_rows(table, size)

        progress(0.05, "Preparing features")
        pre = self._preprocessor(schema).fit(features.iloc[fit_rows])
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
            rows = alg._sample_rows(len(X_fit), STABILITY_SAMPLE_SIZE, self.seed + 3)
            stab = stability(X_fit[rows], dataclasses.replace(fit, labels=fit.labels[rows]),
                             self._refitter(fit, len(X_fit)), self._assigner(fit.algorithm),
                             runs=self.stability_runs, seed=self.seed)
            stab.update(rows=int(len(rows)), of_rows=int(len(X_fit)))
            metrics["stability_ari"] = stab["ari_mean"]
            metrics["stability"] = stab
        if self.compare:
            progress(0.7, "Measuring the other algorithms for comparison")
        comparison = self._compare(X_fit, n, metrics["n_segments"]) if self.compare else []

        progress(0.75, "Profiling segments")
        numeric, categorical = self._numeric_and_categorical(schema)
        prof = profile_segments(features, labels, numeric, categorical)
        views = view_data(features, labels, prof, numeric, categorical,
                          {c: schema.kind_of(c) for c in schema.features}, self.seed)
        derived, self.derived_meanings_ = derived_columns(features, schema.meanings)
        if len(derived.columns):  # described per segment, never a feature (nor a name word)
            more = profile_segments(derived, labels, list(derived.columns), [])
            for seg_id, stats in more["segments"].items():
                prof["segments"][seg_id]["numeric"].update(stats["numeric"])
            prof["overall"]["numeric"].update(more["overall"]["numeric"])
        extra = profile_values(table, schema)
        outcome = profile_segments(extra, labels, [], list(extra.columns)) if len(extra.columns) else None
        ids = customer_ids(table, schema)
        assignments = pd.DataFrame({"id": ids.astype(str).to_numpy(), "segment": labels,
                                    "probability": np.round(proba, 4)})
        if self.projection == "umap":
            progress(0.8, "Drawing the map of customers (UMAP)")
        checks = {"implausible": [f.to_dict() for f in findings], "implausible_rows": int(implausible.sum()),
                  "dropped_rows": dropped}
        self.report_ = self._build_report(schema, fit, metrics, prof, assignments, comparison,
                                          X_fit, fit_rows, n, table, checks, outcome).replace(views=views)
        progress(1.0, "Segmentation done")
        return self

    @staticmethod
    def _numeric_and_categorical(schema: Schema) -> tuple[list, list]:
        numeric = set(schema.numeric + schema.boolean + schema.datetime)
        return [c for c in schema.features if c in numeric], [c for c in schema.features if c in schema.categorical]

    def _preprocessor(self, schema: Schema) -> Preprocessor:
        """Columns by kind, yes/no columns weighted like categories, scales in words as ordered numbers."""
        numeric, categorical = self._numeric_and_categorical(schema)
        ordinal = {c: order for c in categorical
                   if (order := ordinal_order(schema.column(c).levels)) is not None}
        weights = {c: float(w) for c, w in (self.weights or {}).items() if w and c in schema.features}
        return Preprocessor(tuple(numeric), tuple(categorical), binary=tuple(schema.boolean),
                            ordinal=ordinal or None, weights=weights or None)

    def _fit_algorithm(self, X: np.ndarray, n_rows: int) -> alg.ClusterFit:
        if self.algorithm != "auto":
            return self._fit_one(self.algorithm, X, n_rows)
        km = self._fit_one("kmeans", X, n_rows)
        hd = self._fit_one("hdbscan", X, n_rows)
        km_m = quality_metrics(X, km.labels, "kmeans", self.seed)
        hd_m = quality_metrics(X, hd.labels, "hdbscan", self.seed)
        shares = np.bincount(hd.labels[hd.labels != alg.NOISE]) / len(hd.labels)
        useful = hd_m["n_segments"] >= (MIN_AUTO_SEGMENTS if n_rows >= PREFER_MIN_ROWS else 2) \
            and shares.max(initial=0) <= MAX_AUTO_SHARE
        keep_hd = (useful and hd_m["noise_fraction"] <= 0.2
                   and (hd_m["silhouette"] or -1) >= (km_m["silhouette"] or -1))
        chosen = hd if keep_hd else km
        if keep_hd:
            reason = "HDBSCAN found well-separated segments and left few customers unassigned"
        elif not useful:
            reason = (f"HDBSCAN found {hd_m['n_segments']} segment(s)" + (
                f", one holding {shares.max(initial=0):.0%} of the customers" if shares.max(initial=0) > MAX_AUTO_SHARE
                else "") + ", too coarse to act on, so K-Means was used")
        else:
            reason = "K-Means separated the customers better than HDBSCAN"
        candidates = {"kmeans": km_m, "hdbscan": hd_m}
        return alg.ClusterFit(**{**chosen.__dict__, "params": {
            **chosen.params, "auto_reason": reason, "auto_candidates": candidates}})

    def _fit_one(self, algorithm: str, X: np.ndarray, n_rows: int, curve: bool = True) -> alg.ClusterFit:
        if algorithm == "hdbscan":
            scale = len(X) / n_rows
            mcs = None if self.min_cluster_size is None else max(2, round(self.min_cluster_size * scale))
            if mcs is None and self.min_samples is None and curve:
                return alg.fit_hdbscan_useful(X, self.seed)
            return alg.fit_hdbscan(X, mcs, self.min_samples, self.seed)
        return alg.FITTERS[algorithm](X, self.k, tuple(self.k_range), self.seed, n_rows=n_rows, curve=curve)

    def _refitter(self, fit: alg.ClusterFit, n_fit_rows: int):
        """Refits for stability; HDBSCAN's smallest segment scaled to the rows refitted (as is,
        on 80% of the whole fit sample)."""
        params = fit.params

        def refit(X: np.ndarray) -> alg.ClusterFit:
            if fit.algorithm == "hdbscan":
                mcs = max(2, round(params["min_cluster_size"] * len(X) / (0.8 * n_fit_rows)))
                return alg.fit_hdbscan(X, mcs, params["min_samples"], self.seed)
            return alg.FITTERS[fit.algorithm](X, params["k"], tuple(self.k_range), self.seed + 1, curve=False)
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
                fit = (self._fit_one(name, Xs, n_rows, curve=False) if name == "hdbscan"
                       else alg.FITTERS[name](Xs, k, tuple(self.k_range), self.seed, curve=False))
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
                      fit_rows: np.ndarray, n: int, table: pd.DataFrame, checks: dict,
                      outcome: dict | None) -> SegmentationReport:
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
                stability=stab, persistence=persistence.get(seg_id), flags=flags,
                profile=(outcome["segments"][seg_id]["categorical"] if outcome else {})))
        params = {"algorithm_requested": self.algorithm, "seed": self.seed,
                  "k_range": list(self.k_range), "fit_sample_size": int(len(fit_rows)),
                  "stratify": self.stratify, "weights": dict(self.weights or {}),
                  "meanings_changed": sorted(c for c, m in schema.meanings.items() if m.source != "inferred"),
                  "drop_implausible": bool(self.drop_implausible),
                  "comparison": comparison_note(comparison, self.compare),
                  **fit.params}
        summary = {
            "n_rows": n, "n_columns": int(table.shape[1]),
            "columns": [{"name": c.name, "kind": c.kind, "reason": c.reason,
                         "missing_share": c.missing_share, "n_unique": c.n_unique}
                        for c in schema.columns],
            "reference_date": schema.reference_date,
            "log_transformed": list(self.preprocessor_.log_columns_),
            "capped": {c: list(v) for c, v in self.preprocessor_.clip_.items()},
            "cap_quantiles": list(CLIP_QUANTILES), "category_weight": self.preprocessor_.category_weight,
            "weights": dict(self.preprocessor_.weights or {}), "ordinal": dict(self.preprocessor_.ordinal or {}),
            **checks,
        }
        overall = dict(prof["overall"])
        if outcome:
            overall["profile"] = outcome["overall"]["categorical"]
        return SegmentationReport(
            algorithm=fit.algorithm, params=params, n_rows=n, n_fit_rows=int(len(fit_rows)),
            id_column=schema.id_column, features=list(schema.features),
            feature_types={c: schema.kind_of(c) for c in schema.features},
            excluded_columns=schema.excluded, data_summary=summary, metrics=metrics,
            segments=segments, overall=overall, assignments=assignments,
            meanings=meanings_to_dict({**schema.meanings, **self.derived_meanings_}),
            profile_columns=list(schema.profile), derived_columns=list(self.derived_meanings_),
            k_curve=fit.k_curve, comparison=comparison,
            projection=self._projection(X_fit, fit.labels, assignments["id"].to_numpy()[fit_rows]),
            cluster_tree=fit.cluster_tree)

    def _projection(self, X: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> dict:
        """Up to PROJECTION_POINTS customers on a 2-D map (PCA, or UMAP when asked for)."""
        rows = alg._sample_rows(len(X), PROJECTION_POINTS, self.seed)
        extra: dict = {}
        if X.shape[1] < 2:  # one usable column: a strip along it, spread vertically so points do not hide
            xy = np.column_stack([X[rows, 0], np.random.default_rng(self.seed).uniform(-1, 1, len(rows))])
            return {"method": "strip", "x": np.round(xy[:, 0], 4).tolist(), "y": np.round(xy[:, 1], 4).tolist(),
                    "segment": labels[rows].tolist(), "id": [str(i) for i in ids[rows]]}
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
