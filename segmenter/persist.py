"""Save and load a fitted segmenter without executing code from the file.

Models are written with skops, whose loader rebuilds only the object types it is told
to trust. We trust a fixed list of scikit-learn, hdbscan and our own types, chosen so that
building any of them, even with arguments a tampered file supplies, reads and writes
nothing: HDBSCAN's on-disk cache (``joblib.Memory``) is left out of the file, and the
LightGBM surrogate is stored as its model text, not as a LightGBM object. A file that asks
for anything else is refused, and so is one whose members would unpack past a size limit
(checked in the zip directory before skops reads a byte), so a tampered or foreign model
file can neither run code nor fill the disk or memory when it is loaded.
"""
from __future__ import annotations

import copy
import zipfile
from pathlib import Path

import skops.io as sio

from .algorithms import FITTERS, ClusterFit
from .errors import ModelFileError
from .model import CustomerSegmenter
from .preprocess import Preprocessor
from .schema import Schema

FORMAT = "segment-explainer-model"
VERSION = 2  # 2: no joblib.Memory, surrogate as LightGBM model text (1 held both as objects)

#: Non-standard types a model file may contain. Everything else is refused on load. None of
#: them reads, writes or runs anything when built (skops may call a type with file-given
#: arguments): estimators and trees only store and compute on the arrays they are given.
TRUSTED_TYPES = frozenset({
    "segmenter.preprocess.Preprocessor",
    "segmenter.algorithms._Reordered",
    "segmenter.algorithms._HdbscanAssigner",
    "hdbscan.hdbscan_.HDBSCAN",
    "hdbscan.prediction.PredictionData",
    "hdbscan.dist_metrics.EuclideanDistance",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "collections.OrderedDict",
    "numpy.dtype",
    "numpy.log1p",
    "builtins.slice",
})
#: Types that format 1 files held and that are no longer trusted (their constructors touch files).
RETIRED_TYPES = frozenset({"joblib.memory.Memory", "lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier"})
#: Size limits checked in the zip directory before anything is read. The object description
#: (``schema.json``) is parsed whole by skops, about 4 s and 10 times its size in memory per 100 MB;
#: arrays and the surrogate text are separate members.
MAX_DESCRIPTION_BYTES = 32 * 2**20
MAX_UNPACKED_BYTES = 2 * 2**30
MAX_MEMBERS = 100_000
#: What the cluster model of each algorithm is (see segmenter.algorithms).
CLUSTER_MODEL_TYPES = {"kmeans": "KMeans", "hdbscan": "_HdbscanAssigner", "gmm": "_Reordered",
                       "agglomerative": "ndarray"}
INNER_MODEL_TYPES = {"kmeans": ("NoneType",), "hdbscan": ("HDBSCAN",), "gmm": ("GaussianMixture",),
                     "agglomerative": ("NoneType",)}
PAYLOAD_KEYS = ("format", "version", "algorithm", "schema", "preprocessor", "cluster_model", "params", "extras")


def _without_disk_cache(cluster_model):
    """A shallow copy of ``cluster_model`` whose HDBSCAN holds no ``joblib.Memory`` (it is only used
    while fitting; a file that builds one may create folders wherever it points)."""
    inner = getattr(cluster_model, "model", None)
    if inner is None or not hasattr(inner, "memory"):
        return cluster_model
    inner, outer = copy.copy(inner), copy.copy(cluster_model)
    inner.memory = None
    outer.model = inner
    return outer


def _restore_disk_cache(cluster_model) -> None:
    """HDBSCAN's own default after loading, whatever the file said: ``Memory(None)`` caches
    nothing and touches no disk (a refit never writes where a file pointed it)."""
    inner = getattr(cluster_model, "model", None)
    if inner is not None and hasattr(inner, "memory"):
        from joblib import Memory

        inner.memory = Memory(None, verbose=0)


def save_model(segmenter: CustomerSegmenter, path: str | Path, extras: dict | None = None) -> Path:
    """Write a fitted segmenter (and optional extras such as a surrogate) to ``path``."""
    segmenter._check_fitted()
    payload = {
        "format": FORMAT, "version": VERSION, "algorithm": segmenter.algorithm_,
        "schema": segmenter.schema_.to_dict(), "preprocessor": segmenter.preprocessor_,
        "cluster_model": _without_disk_cache(segmenter.fit_.model), "params": segmenter.fit_.params,
        "extras": extras or {},
    }
    path = Path(path)
    sio.dump(payload, path)
    return path


def _check_sizes(path: Path) -> None:
    """Refuse a file whose members would unpack past the limits, from the zip directory alone."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ModelFileError(f"'{path.name}' is not a Segment Explainer model file (it could not be read).") from exc
    description = sum(m.file_size for m in members if m.filename == "schema.json")
    total = sum(m.file_size for m in members)
    if len(members) > MAX_MEMBERS or description > MAX_DESCRIPTION_BYTES or total > MAX_UNPACKED_BYTES:
        raise ModelFileError(
            f"'{path.name}' would unpack to {total / 2**20:,.0f} MB in {len(members):,} parts, its object "
            f"description to {description / 2**20:,.0f} MB; a model file unpacks to at most "
            f"{MAX_UNPACKED_BYTES / 2**30:,.0f} GB in {MAX_MEMBERS:,} parts, with a description of at most "
            f"{MAX_DESCRIPTION_BYTES / 2**20:,.0f} MB. It was not loaded: run the segmentation again to save "
            "a fresh model.")


def _check_payload(payload, name: str) -> None:
    """The loaded object is a model dict of the expected shape (else ModelFileError)."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"'{name}' is not a Segment Explainer model file.")
    if payload.get("version") != VERSION:
        raise ModelFileError(f"'{name}' was saved by another version of Segment Explainer "
                             f"(model format {payload.get('version')}, expected {VERSION}); run the "
                             "segmentation again to save it in this format.")
    algorithm = payload.get("algorithm")
    problems = [k for k in PAYLOAD_KEYS if k not in payload]
    if algorithm not in FITTERS:
        problems.append(f"algorithm {str(algorithm)[:40]!r}")
    elif type(payload.get("cluster_model")).__name__ != CLUSTER_MODEL_TYPES[algorithm]:
        problems.append(f"a {type(payload.get('cluster_model')).__name__} as the {algorithm} model")
    elif algorithm == "agglomerative" and (payload["cluster_model"].ndim != 2
                                           or payload["cluster_model"].dtype.kind != "f"):
        problems.append("segment centres that are not a table of numbers")
    elif type(getattr(payload["cluster_model"], "model", None)).__name__ not in INNER_MODEL_TYPES[algorithm]:
        problems.append(f"a {algorithm} model without its fitted estimator")
    if not isinstance(payload.get("preprocessor"), Preprocessor):
        problems.append("no preprocessor")
    for key in ("schema", "params", "extras"):
        if key in payload and not isinstance(payload[key], dict):
            problems.append(f"{key} that is a {type(payload[key]).__name__}, not a mapping")
    if problems:
        raise ModelFileError(f"'{name}' is damaged: it holds {', '.join(problems[:4])}. Run the "
                             "segmentation again to save a fresh model.")


def load_model(path: str | Path) -> tuple[CustomerSegmenter, dict]:
    """Load a model saved by :func:`save_model`; return the segmenter and its extras."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No model file at '{path.name}'. Run a segmentation first and save it.")
    _check_sizes(path)
    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except Exception as exc:  # skops raises several types for a damaged archive
        raise ModelFileError(f"'{path.name}' is not a Segment Explainer model file (it could not be read).") from exc
    unexpected = untrusted - TRUSTED_TYPES
    if unexpected and unexpected <= RETIRED_TYPES:
        raise ModelFileError(f"'{path.name}' holds object types that Segment Explainer no longer loads "
                             f"({', '.join(sorted(unexpected))}), as files saved before model format {VERSION} "
                             "did; it was not loaded. Run the segmentation again to save it anew.")
    if unexpected:
        raise ModelFileError(f"'{path.name}' contains object types that a Segment Explainer model never "
                             f"holds ({', '.join(sorted(unexpected)[:3])}); it was not loaded.")
    try:
        payload = sio.load(path, trusted=sorted(untrusted))
    except Exception as exc:
        raise ModelFileError(f"'{path.name}' is damaged and could not be loaded.") from exc
    _check_payload(payload, path.name)
    seg = CustomerSegmenter(algorithm=payload["algorithm"])
    seg.schema_ = Schema.from_dict(payload["schema"])
    seg.preprocessor_ = payload["preprocessor"]
    seg.algorithm_ = payload["algorithm"]
    _restore_disk_cache(payload["cluster_model"])
    seg.fit_ = ClusterFit(payload["algorithm"], labels=None, probabilities=None,
                          model=payload["cluster_model"], params=payload["params"])
    return seg, payload["extras"]


__all__ = ["save_model", "load_model", "TRUSTED_TYPES", "FORMAT", "VERSION"]
