"""Clustering algorithms as plain functions with one return shape.

Every ``fit_*`` function takes the preprocessed matrix and returns a :class:`ClusterFit`;
:func:`assign` puts new rows into the fitted segments. Segment ids are 1..k ordered by
size (largest first), the numbers users see; :data:`NOISE` marks customers that fit no
segment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

from .kchoice import choose_k, k_curve

#: Label of customers that fit no segment well (HDBSCAN noise), shown as "Unassigned".
NOISE = -1

ALGORITHMS = ("auto", "kmeans", "hdbscan", "gmm", "agglomerative")

#: HDBSCAN runs on the principal components carrying clearly more variance than one input
#: column. A column unrelated to the others gives an eigenvalue of 1 plus sampling noise
#: (1.00-1.01 for the demo's signal-free columns at 20,000 rows), so the plain Kaiser cut at
#: exactly 1.0 kept 5 or 6 components depending on noise, and the extra noise dimensions
#: split or merged segments (ARI vs planted truth 0.54-0.98); the margin keeps the 4 signal
#: components (eigenvalues 1.16-2.45), ARI 0.94-0.99 (measured, bench/results/scale.md).
KAISER_EIGENVALUE = 1.1
MAX_HDBSCAN_DIMS = 15
GMM_REG_COVAR = 0.01
DEFAULT_MIN_SAMPLES = 5


@dataclass(frozen=True, eq=False)
class ClusterFit:
    """Result of one fit: labels of the fitted rows and what is needed to assign new ones."""

    algorithm: str
    labels: np.ndarray
    probabilities: np.ndarray
    model: Any
    params: dict
    k_curve: list = field(default_factory=list)  # [{k, inertia, silhouette, bic?}]
    outlier_scores: np.ndarray | None = None
    cluster_tree: list = field(default_factory=list)  # HDBSCAN condensed tree (cluster nodes)
    persistence: list = field(default_factory=list)  # HDBSCAN persistence per segment id


def _sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def stratified_sample_rows(groups: np.ndarray, size: int, seed: int,
                           min_per_group: int = 0) -> np.ndarray:
    """Seeded sample of ``size`` row numbers keeping every group's share of the rows.

    Each group gets ``size * share`` rows, rounded by largest remainder so the total is
    exactly ``size``, but at least ``min_per_group`` (or all of a smaller group's rows; the
    total then exceeds ``size``); within a group the rows are drawn at random. Sorted, like
    :func:`_sample_rows`.
    """
    n = len(groups)
    if n <= size:
        return np.arange(n)
    _, codes, counts = np.unique(groups, return_inverse=True, return_counts=True)
    quota = counts * (size / n)
    take = np.floor(quota).astype(np.int64)
    short = size - int(take.sum())
    take[np.argsort(-(quota - take), kind="stable")[:short]] += 1
    take = np.maximum(take, np.minimum(counts, min_per_group))
    perm = np.random.default_rng(seed).permutation(n)
    by_group = perm[np.argsort(codes[perm], kind="stable")]  # random order inside each group
    group = codes[by_group]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(n) - starts[group]
    return np.sort(by_group[rank < take[group]])


def _relabel_by_size(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber clusters 1..k, largest first; return new labels and the old ids in new order."""
    ids, counts = np.unique(labels[labels != NOISE], return_counts=True)
    order = ids[np.lexsort((ids, -counts))]
    mapping = np.full(int(labels.max(initial=0)) + 2, NOISE)
    mapping[order] = np.arange(1, len(order) + 1)
    out = np.where(labels == NOISE, NOISE, mapping[np.where(labels == NOISE, 0, labels)])
    return out.astype(np.int32), order


def _fuzzy_membership(distances: np.ndarray) -> np.ndarray:
    """Membership of the nearest centre, fuzzy c-means style: 1/d^2 normalised."""
    inv = 1.0 / np.maximum(distances, 1e-12) ** 2
    return inv.max(axis=1) / inv.sum(axis=1)


def _kmeans(k: int, seed: int, n_init: int = 4) -> KMeans:
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed)


def _kmeans_labels(X: np.ndarray, ks: list, seed: int, X_all: np.ndarray) -> dict:
    return {k: _kmeans(k, seed, n_init=2).fit(X).predict(X_all) for k in ks}


def _kmeans_extra(X: np.ndarray, k: int, seed: int, labels: np.ndarray) -> dict:
    """Inertia of the curve's own partition of the sample (no refit): squared distances to the
    group means, which is K-Means' inertia at convergence."""
    inertia = 0.0
    for g in np.unique(labels):
        part = X[labels == g]
        inertia += float(((part - part.mean(axis=0)) ** 2).sum())
    return {"inertia": inertia}


def _gmm(k: int, seed: int, n_init: int = 2) -> GaussianMixture:
    # reg_covar: yes/no columns and values capped at a quantile are spikes; without a floor on the
    # variances one component collapses onto a spike (demo ARI 0.79 instead of 1.00, measured)
    return GaussianMixture(n_components=k, covariance_type="diag", n_init=n_init, random_state=seed,
                           reg_covar=GMM_REG_COVAR)


def _gmm_labels(X: np.ndarray, ks: list, seed: int, X_all: np.ndarray) -> dict:
    return {k: _gmm(k, seed, n_init=1).fit(X).predict(X_all) for k in ks}


def _gmm_extra(X: np.ndarray, k: int, seed: int, labels: np.ndarray) -> dict:
    return {"bic": float(_gmm(k, seed, n_init=1).fit(X).bic(X))}


def _choose(X: np.ndarray, k: int | None, k_range: tuple[int, int], seed: int, labels_fn, extra=None,
            n_rows: int | None = None, curve: bool = True) -> tuple[int, list, dict]:
    """(k, curve, why): the curve is computed even when ``k`` is given (for the plot), unless
    ``curve`` is False (refits for stability and comparison)."""
    if k is not None and not curve:
        return int(k), [], {"basis": "fixed", "k": int(k), "runners_up": []}
    points = k_curve(X, k_range, seed, labels_fn, extra)
    chosen, why = choose_k(points, n_rows or len(X), fixed=k)
    return chosen, points, why


def fit_kmeans(X: np.ndarray, k: int | None = None, k_range: tuple[int, int] = (2, 12),
               seed: int = 0, n_rows: int | None = None, curve: bool = True) -> ClusterFit:
    """K-Means; k chosen for use (:mod:`segmenter.kchoice`) unless ``k`` is given."""
    k, points, why = _choose(X, k, k_range, seed, _kmeans_labels, _kmeans_extra, n_rows, curve)
    model = _kmeans(k, seed).fit(X)
    labels, order = _relabel_by_size(model.labels_)
    model.cluster_centers_ = model.cluster_centers_[order]
    model.labels_ = labels
    probabilities = _fuzzy_membership(model.transform(X))
    return ClusterFit("kmeans", labels, probabilities, model, {"k": int(k), "k_choice": why}, k_curve=points)


def fit_gmm(X: np.ndarray, k: int | None = None, k_range: tuple[int, int] = (2, 12),
            seed: int = 0, n_rows: int | None = None, curve: bool = True) -> ClusterFit:
    """Gaussian mixture (diagonal covariances); k chosen for use unless given."""
    k, points, why = _choose(X, k, k_range, seed, _gmm_labels, _gmm_extra, n_rows, curve)
    model = _gmm(k, seed).fit(X)
    raw = model.predict(X)
    labels, order = _relabel_by_size(raw)
    proba = model.predict_proba(X)
    return ClusterFit("gmm", labels, proba.max(axis=1), _Reordered(model, order),
                      {"k": int(k), "k_choice": why}, k_curve=points)


class _Reordered:
    """A fitted mixture whose components are renumbered largest-first."""

    def __init__(self, model: GaussianMixture, order: np.ndarray):
        self.model = model
        self.order = np.asarray(order)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(X)[:, self.order]


def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.sqrt(((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))


def _ward_labels(X: np.ndarray, ks: list, seed: int, X_all: np.ndarray) -> dict:
    from scipy.cluster.hierarchy import fcluster, linkage

    tree, out = linkage(X, method="ward"), {}
    for k in ks:
        cut = fcluster(tree, k, criterion="maxclust")
        centres = np.vstack([X[cut == c].mean(axis=0) for c in np.unique(cut)])
        out[k] = _nearest(X_all, centres).argmin(axis=1)
    return out


#: Merges shown in the dendrogram of a Ward fit (the last merges, the top of the tree).
DENDROGRAM_LEAVES = 30


def _leaf_sizes_and_segments(tree: np.ndarray, leaves: list, labels: np.ndarray) -> tuple[list, list]:
    """Rows under each leaf of a truncated dendrogram, and the segment of its rows."""
    n = len(tree) + 1
    sizes, segments = [], []
    for node in leaves:
        node = int(node)
        sizes.append(1 if node < n else int(tree[node - n, 3]))
        while node >= n:  # any row under the node: follow the left children down
            node = int(tree[node - n, 0])
        segments.append(int(labels[node]))
    return sizes, segments


def fit_agglomerative(X: np.ndarray, k: int | None = None, k_range: tuple[int, int] = (2, 12),
                      seed: int = 0, n_rows: int | None = None, curve: bool = True) -> ClusterFit:
    """Ward clustering; new rows go to the nearest segment centre. Keeps the top of the tree."""
    from scipy.cluster.hierarchy import dendrogram, fcluster, linkage

    k, points, why = _choose(X, k, k_range, seed, _ward_labels, None, n_rows, curve)
    tree = linkage(X, method="ward")
    labels, _ = _relabel_by_size(fcluster(tree, k, criterion="maxclust"))
    k = int(labels.max())
    centres = np.vstack([X[labels == c].mean(axis=0) for c in range(1, k + 1)])
    # at least k leaves, so that every leaf lies inside one segment
    top = dendrogram(tree, truncate_mode="lastp", p=min(max(DENDROGRAM_LEAVES, k), len(X)), no_plot=True)
    sizes, segments = _leaf_sizes_and_segments(tree, top["leaves"], labels)
    gram = {"icoord": np.round(top["icoord"], 3).tolist(), "dcoord": np.round(top["dcoord"], 4).tolist(),
            "leaves": [str(x) for x in top["ivl"]], "leaf_sizes": sizes, "leaf_segments": segments,
            "cut_height": float((tree[-k, 2] + tree[-k + 1, 2]) / 2) if 1 < k < len(tree) else None}
    return ClusterFit("agglomerative", labels, _fuzzy_membership(_nearest(X, centres)), centres,
                      {"k": k, "linkage": "ward", "k_choice": why, "dendrogram": gram}, k_curve=points)


def default_min_cluster_size(n_rows: int) -> int:
    """HDBSCAN's smallest segment: 2% of the fitted rows, at least 10.

    Proportional to the rows actually fitted, so a fit on a sample keeps the same
    segment share as a fit on the whole table would.
    """
    return int(max(10, round(0.02 * n_rows)))


def reduce_dimensions(X: np.ndarray, seed: int = 0) -> PCA | None:
    """PCA keeping the components that carry more variance than one input column.

    The Kaiser rule: the preprocessed columns have unit variance (numeric) or unit total
    variance (each categorical), so a component with eigenvalue clearly above 1
    (:data:`KAISER_EIGENVALUE`) carries shared structure, while signal-free columns only
    add eigenvalues near 1 or below. Density
    estimates degrade quickly with dimensions; HDBSCAN on the kept components finds the
    same segments with less noise and much faster. None when there is nothing to drop.
    """
    if X.shape[1] <= 3:
        return None
    # covariance_eigh: one pass over the rows and an eigendecomposition of the small
    # column covariance, the fast exact solver when rows far outnumber columns.
    solver = "covariance_eigh" if len(X) >= 10 * X.shape[1] else "full"
    pca = PCA(svd_solver=solver, random_state=seed).fit(X)
    keep = int(np.clip((pca.explained_variance_ > KAISER_EIGENVALUE).sum(), 2, MAX_HDBSCAN_DIMS))
    if keep >= X.shape[1]:
        return None
    return PCA(n_components=keep, svd_solver=solver, random_state=seed).fit(X)


def fit_hdbscan(X: np.ndarray, min_cluster_size: int | None = None,
                min_samples: int | None = None, seed: int = 0, reduce: bool = True) -> ClusterFit:
    """HDBSCAN with noise kept as :data:`NOISE` and prediction data for new rows.

    ``min_samples`` is set apart from ``min_cluster_size``: it controls how conservative
    the density estimate is (higher = more noise), not how small a segment may be.
    """
    import hdbscan

    mcs = min_cluster_size or default_min_cluster_size(len(X))
    ms = min_samples or min(mcs, DEFAULT_MIN_SAMPLES)
    pca = reduce_dimensions(X, seed) if reduce else None
    Z = pca.transform(X) if pca is not None else X
    algorithm = "boruvka_kdtree" if Z.shape[1] <= 20 else "boruvka_balltree"
    model = hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=ms, prediction_data=True,
                            algorithm=algorithm, core_dist_n_jobs=1)
    model.fit(Z)
    labels, order = _relabel_by_size(model.labels_)
    persistence = [float(model.cluster_persistence_[old]) for old in order]
    tree = model.condensed_tree_.to_pandas()
    nodes = tree[tree.child_size > 1]
    cluster_tree = [{"parent": int(r.parent), "child": int(r.child), "lambda": float(r.lambda_val),
                     "size": int(r.child_size)} for r in nodes.itertuples()]
    params = {"min_cluster_size": int(mcs), "min_samples": int(ms), "tree_algorithm": algorithm,
              "reduced_dimensions": int(Z.shape[1]) if pca is not None else None}
    return ClusterFit("hdbscan", labels, model.probabilities_.astype(float),
                      _HdbscanAssigner(model, order, pca), params,
                      outlier_scores=np.nan_to_num(model.outlier_scores_.astype(float)),
                      cluster_tree=cluster_tree, persistence=persistence)


#: HDBSCAN leaving more than this share unassigned tries the next settings (:func:`fit_hdbscan_useful`).
MAX_USEFUL_NOISE = 0.25
#: (min_cluster_size factor, min_samples) tried in order after the default settings.
HDBSCAN_RETRIES = ((1.0, 3), (1.0, 1), (0.5, 3), (0.5, 1))


def fit_hdbscan_useful(X: np.ndarray, seed: int = 0) -> ClusterFit:
    """HDBSCAN with the automatic settings; when it leaves more than :data:`MAX_USEFUL_NOISE`
    of the customers unassigned (or finds fewer than two segments), the next settings of
    :data:`HDBSCAN_RETRIES` are tried and the first that holds is kept. ``params["tries"]``
    lists every setting tried with its unassigned share, so the report can say so."""
    mcs = default_min_cluster_size(len(X))
    settings = [(mcs, None)] + [(max(10, round(mcs * f)), ms) for f, ms in HDBSCAN_RETRIES]
    tries, best = [], None
    for size, ms in dict.fromkeys(settings):
        fit = fit_hdbscan(X, size, ms, seed)
        noise = float(np.mean(fit.labels == NOISE))
        n_seg = int(len(np.unique(fit.labels[fit.labels != NOISE])))
        tries.append({"min_cluster_size": int(fit.params["min_cluster_size"]),
                      "min_samples": int(fit.params["min_samples"]), "noise_fraction": noise, "n_segments": n_seg})
        ok = n_seg >= 2 and noise <= MAX_USEFUL_NOISE
        if best is None or (ok and not best[0]) or (ok == best[0] and n_seg >= 2 and noise < best[1]):
            best = (ok, noise, fit)
        if ok:
            break
    fit = best[2]
    return ClusterFit(**{**fit.__dict__, "params": {**fit.params, "tries": tries}})


class _HdbscanAssigner:
    """Fitted HDBSCAN, the size order of its clusters, and its dimension reduction."""

    def __init__(self, model, order: np.ndarray, pca: PCA | None = None):
        self.model = model
        self.order = np.asarray(order)
        self.pca = pca


def approximate_predict(model, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``hdbscan.approximate_predict`` computed for all rows at once: same labels, same strengths.

    The library walks the condensed tree one row at a time in Python (about 20 s per
    million rows here); this does the same steps as array operations. Each new row joins
    the fitted row it is closest to in mutual-reachability distance, at lambda = 1 / that
    distance, and falls into the deepest cluster of that row still alive at this lambda;
    rows that land outside every selected cluster are noise (-1, strength 0).
    """
    data = model.prediction_data_
    n = len(Z)
    if data.cluster_tree.shape[0] == 0:
        return np.full(n, NOISE, dtype=np.int32), np.zeros(n, dtype=np.float64)
    min_samples = model.min_samples or model.min_cluster_size
    dist, idx = data.tree.query(np.asarray(Z, dtype=np.float64), k=2 * min_samples)
    # mutual reachability = max(core distance of the neighbour, of the new row, raw distance)
    mr = np.maximum(np.maximum(data.core_distances[idx], dist[:, [min_samples]]), dist)
    best = mr.argmin(axis=1)
    rows = np.arange(n)
    neighbour, reach = idx[rows, best], mr[rows, best]
    lam = np.full(n, np.finfo(np.double).max)
    np.divide(1.0, reach, out=lam, where=reach > 0.0)

    raw = model.condensed_tree_._raw_tree
    points = raw[raw["child"] < raw["parent"].min()]  # rows of the fitted points, not clusters
    parent_of = np.zeros(int(points["child"].max()) + 1, dtype=np.intp)
    lambda_of = np.zeros(len(parent_of))
    parent_of[points["child"]], lambda_of[points["child"]] = points["parent"], points["lambda_val"]
    cluster = parent_of[neighbour]

    tree = data.cluster_tree
    size = int(max(tree["child"].max(), tree["parent"].max())) + 1
    up_parent = np.zeros(size, dtype=np.intp)
    up_lambda = np.full(size, -np.inf)  # no entry: the walk stops
    up_parent[tree["child"]], up_lambda[tree["child"]] = tree["parent"], tree["lambda_val"]
    root = int(tree["parent"].min())
    walking = lambda_of[neighbour] > lam
    while True:
        walking &= (cluster > root) & (up_lambda[cluster] >= lam)
        if not walking.any():
            break
        cluster = np.where(walking, up_parent[cluster], cluster)

    label_of = np.full(size, NOISE, dtype=np.int64)
    max_lambda = np.zeros(size)
    for c, label in data.cluster_map.items():
        label_of[c], max_lambda[c] = label, data.max_lambdas[c]
    labels = label_of[cluster]
    top = max_lambda[cluster]
    prob = np.where(top > 0.0, np.minimum(top, lam) / np.where(top > 0.0, top, 1.0), 1.0)
    prob = np.where(labels >= 0, prob, 0.0)
    return labels.astype(np.int32), prob.astype(np.float64)


def assign(fit_model: Any, algorithm: str, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Assign rows of a preprocessed matrix to fitted segments: (labels, probabilities)."""
    if algorithm == "kmeans":
        distances = fit_model.transform(X)
        return distances.argmin(axis=1).astype(np.int32) + 1, _fuzzy_membership(distances)
    if algorithm == "agglomerative":
        distances = np.sqrt(((X[:, None, :] - fit_model[None, :, :]) ** 2).sum(axis=2))
        return distances.argmin(axis=1).astype(np.int32) + 1, _fuzzy_membership(distances)
    if algorithm == "gmm":
        proba = fit_model.predict_proba(X)
        return proba.argmax(axis=1).astype(np.int32) + 1, proba.max(axis=1)
    if algorithm == "hdbscan":
        Z = fit_model.pca.transform(X) if fit_model.pca is not None else X
        raw, strength = approximate_predict(fit_model.model, Z)
        mapping = np.full(len(fit_model.order) + 1, NOISE)
        mapping[fit_model.order] = np.arange(1, len(fit_model.order) + 1)
        labels = np.where(raw == NOISE, NOISE, mapping[np.where(raw == NOISE, 0, raw)])
        return labels.astype(np.int32), np.asarray(strength, dtype=float)
    raise ValueError(f"unknown algorithm {algorithm!r}")


FITTERS = {"kmeans": fit_kmeans, "gmm": fit_gmm, "agglomerative": fit_agglomerative,
           "hdbscan": fit_hdbscan}
