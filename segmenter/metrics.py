"""Quality metrics of a segmentation, each computed on the segmented (non-noise) rows.

Silhouette and DBCV are quadratic in the rows, so they are measured on a seeded sample;
stability refits the algorithm on resamples and reports the agreement (ARI) with the
original labels, plus a per-segment Jaccard score used to flag unstable segments.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.metrics import (adjusted_rand_score, calinski_harabasz_score,
                             davies_bouldin_score, silhouette_score)

from .algorithms import NOISE, ClusterFit, _sample_rows

SILHOUETTE_ROWS = 5000
DBCV_ROWS = 1500


def quality_metrics(X: np.ndarray, labels: np.ndarray, algorithm: str, seed: int = 0) -> dict:
    """Silhouette, Davies-Bouldin, Calinski-Harabasz, noise fraction (and DBCV for HDBSCAN)."""
    keep = labels != NOISE
    n_segments = int(len(np.unique(labels[keep])))
    out: dict = {"n_segments": n_segments, "noise_fraction": float(1 - keep.mean())}
    if n_segments < 2:
        out.update(silhouette=None, davies_bouldin=None, calinski_harabasz=None)
        return out
    idx = _sample_rows(int(keep.sum()), SILHOUETTE_ROWS, seed)
    Xk, lk = X[keep][idx], labels[keep][idx]
    out["silhouette"] = float(silhouette_score(Xk, lk)) if len(np.unique(lk)) > 1 else None
    out["davies_bouldin"] = float(davies_bouldin_score(X[keep], labels[keep]))
    out["calinski_harabasz"] = float(calinski_harabasz_score(X[keep], labels[keep]))
    if algorithm == "hdbscan":
        out["dbcv"] = _dbcv(X, labels, seed)
    return out


def _dbcv(X: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
    from hdbscan.validity import validity_index

    idx = _sample_rows(len(X), DBCV_ROWS, seed)
    sub = labels[idx]
    if len(np.unique(sub[sub != NOISE])) < 2:
        return None
    try:
        value = validity_index(np.ascontiguousarray(X[idx], dtype=np.float64), sub)
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return None
    return float(value) if np.isfinite(value) else None


def stability(X: np.ndarray, fit: ClusterFit, refit: Callable[[np.ndarray], ClusterFit],
              assign: Callable[[ClusterFit, np.ndarray], np.ndarray], runs: int = 3,
              fraction: float = 0.8, seed: int = 0) -> dict:
    """Refit on ``runs`` resamples and compare with the original labels.

    Returns the mean ARI over runs and, per segment id, the mean best-match Jaccard
    similarity (1.0 = the segment reappears identically every time).
    """
    rng = np.random.default_rng(seed + 7919)
    n = len(X)
    aris: list[float] = []
    segments = [int(s) for s in np.unique(fit.labels) if s != NOISE]
    jaccards: dict[int, list[float]] = {s: [] for s in segments}
    for _ in range(runs):
        idx = np.sort(rng.choice(n, int(fraction * n), replace=False))
        other = refit(X[idx])
        relabels = assign(other, X)
        aris.append(float(adjusted_rand_score(fit.labels, relabels)))
        for s in segments:
            mine = fit.labels == s
            best = 0.0
            for t in np.unique(relabels[relabels != NOISE]):
                theirs = relabels == t
                union = np.logical_or(mine, theirs).sum()
                best = max(best, np.logical_and(mine, theirs).sum() / union if union else 0.0)
            jaccards[s].append(float(best))
    return {"ari_mean": float(np.mean(aris)) if aris else None,
            "ari_std": float(np.std(aris)) if aris else None, "runs": runs,
            "fraction": fraction,
            "segment_jaccard": {str(s): float(np.mean(v)) for s, v in jaccards.items()}}
