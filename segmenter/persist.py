"""Save and load a fitted segmenter without executing code from the file.

Models are written with skops, whose loader rebuilds only the object types it is told
to trust. We trust a fixed list of scikit-learn, hdbscan, LightGBM and our own types;
a file that asks for anything else is refused, so a tampered or foreign model file cannot
run code on load (unlike pickle or joblib).
"""
from __future__ import annotations

from pathlib import Path

import skops.io as sio

from .algorithms import ClusterFit
from .errors import ModelFileError
from .model import CustomerSegmenter
from .schema import Schema

FORMAT = "segment-explainer-model"
VERSION = 1

#: Non-standard types a model file may contain. Everything else is refused on load.
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
    "joblib.memory.Memory",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "collections.OrderedDict",
    "numpy.dtype",
    "numpy.log1p",
    "builtins.slice",
})


def save_model(segmenter: CustomerSegmenter, path: str | Path, extras: dict | None = None) -> Path:
    """Write a fitted segmenter (and optional extras such as a surrogate) to ``path``."""
    segmenter._check_fitted()
    payload = {
        "format": FORMAT, "version": VERSION, "algorithm": segmenter.algorithm_,
        "schema": segmenter.schema_.to_dict(), "preprocessor": segmenter.preprocessor_,
        "cluster_model": segmenter.fit_.model, "params": segmenter.fit_.params,
        "extras": extras or {},
    }
    path = Path(path)
    sio.dump(payload, path)
    return path


def load_model(path: str | Path) -> tuple[CustomerSegmenter, dict]:
    """Load a model saved by :func:`save_model`; return the segmenter and its extras."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No model file at '{path.name}'. Run a segmentation first and save it.")
    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except Exception as exc:  # skops raises several types for a damaged archive
        raise ModelFileError(f"'{path.name}' is not a Segment Explainer model file (it could not be read).") from exc
    unexpected = untrusted - TRUSTED_TYPES
    if unexpected:
        raise ModelFileError(f"'{path.name}' contains object types that a Segment Explainer model never "
                             f"holds ({', '.join(sorted(unexpected)[:3])}); it was not loaded.")
    try:
        payload = sio.load(path, trusted=sorted(untrusted))
    except Exception as exc:
        raise ModelFileError(f"'{path.name}' is damaged and could not be loaded.") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"'{path.name}' is not a Segment Explainer model file.")
    if payload.get("version") != VERSION:
        raise ModelFileError(f"'{path.name}' was saved by another version of Segment Explainer "
                             f"(model format {payload.get('version')}, expected {VERSION}).")
    seg = CustomerSegmenter(algorithm=payload["algorithm"])
    seg.schema_ = Schema.from_dict(payload["schema"])
    seg.preprocessor_ = payload["preprocessor"]
    seg.algorithm_ = payload["algorithm"]
    seg.fit_ = ClusterFit(payload["algorithm"], labels=None, probabilities=None,
                          model=payload["cluster_model"], params=payload["params"])
    return seg, payload["extras"]
