"""The segmenter's parameters, declared as data and checked before any work.

``CONSTRAINTS`` says, for every parameter of :class:`~segmenter.model.CustomerSegmenter`,
what it may be; :func:`validate` checks a parameter dict against it at the start of
``fit`` and raises :class:`~segmenter.errors.ParameterError` with the value found, what
was expected and what to do. Checks that need the table (k below the number of rows) are
in :func:`validate_for_rows`. Private code after these checks assumes valid parameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import ParameterError

MAX_SEED = 2**32 - 1
MAX_K = 50


@dataclass(frozen=True)
class Whole:
    """A whole number (not a bool, not 2.5) in [lo, hi]."""

    lo: int
    hi: int | None = None

    def ok(self, v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= self.lo and (self.hi is None or v <= self.hi)

    @property
    def expects(self) -> str:
        return f"a whole number from {self.lo:,}" + (f" to {self.hi:,}" if self.hi is not None else " up")


@dataclass(frozen=True)
class OneOf:
    values: tuple

    def ok(self, v: Any) -> bool:
        return isinstance(v, str) and v in self.values

    @property
    def expects(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Flag:
    def ok(self, v: Any) -> bool:
        return isinstance(v, bool)

    expects = "True or False"


@dataclass(frozen=True)
class Text:
    def ok(self, v: Any) -> bool:
        return isinstance(v, str) and bool(v)

    expects = "a column name"


@dataclass(frozen=True)
class Names:
    def ok(self, v: Any) -> bool:
        return isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)

    expects = "a list of column names"


@dataclass(frozen=True)
class Weights:
    def ok(self, v: Any) -> bool:
        return isinstance(v, dict) and all(
            isinstance(c, str) and isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w)
            and 0 <= w <= 100 for c, w in v.items())

    expects = "{column: weight} with weights from 0 (leave the column out) to 100 (1 = the default)"


@dataclass(frozen=True)
class Mapping:
    def ok(self, v: Any) -> bool:
        return isinstance(v, dict) and all(isinstance(c, str) for c in v)

    expects = "a mapping {column: value}"


@dataclass(frozen=True)
class Range:
    """A (low, high) pair of whole numbers in [lo, hi] with low <= high."""

    lo: int
    hi: int

    def ok(self, v: Any) -> bool:
        return isinstance(v, (list, tuple)) and len(v) == 2 and all(Whole(self.lo, self.hi).ok(x) for x in v) \
            and v[0] <= v[1]

    @property
    def expects(self) -> str:
        return f"two whole numbers (low, high) with {self.lo} <= low <= high <= {self.hi}"


def _optional(*rules):
    return (None, *rules)


#: What every parameter of CustomerSegmenter may be (None allowed where listed).
CONSTRAINTS: dict[str, tuple] = {
    "algorithm": (OneOf(("auto", "kmeans", "hdbscan", "gmm", "agglomerative")),),
    "k": _optional(Whole(2, MAX_K)),
    "k_range": (Range(2, MAX_K),),
    "min_cluster_size": _optional(Whole(2)),
    "min_samples": _optional(Whole(1)),
    "seed": (Whole(0, MAX_SEED),),
    "features": _optional(Names()),
    "exclude": _optional(Names()),
    "types": _optional(Mapping()),
    "id_column": _optional(Text()),
    "fit_sample_size": _optional(Whole(50)),
    "stability_runs": (Whole(0, 20),),
    "compare": (Flag(),),
    "stratify": _optional(Text()),
    "projection": (OneOf(("pca", "umap")),),
    "weights": _optional(Weights()),
    "meanings": _optional(Mapping()),
    "drop_implausible": (Flag(),),
}
#: What to do about a wrong value, where the expectation alone does not say it.
HINTS = {
    "k": "k is the number of segments; leave it empty to choose it automatically.",
    "seed": "Any whole number works; the same seed gives the same segments.",
    "weights": "For example {'income': 2} doubles income's say; {'notes': 0} leaves a column out.",
}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate(params: dict) -> None:
    """Raise ParameterError for the first parameter that breaks :data:`CONSTRAINTS`."""
    for name, rules in CONSTRAINTS.items():
        if name not in params:
            continue
        value = params[name]
        if any(r is None and value is None or r is not None and r.ok(value) for r in rules):
            continue
        expected = " or ".join(("empty (None)" if r is None else r.expects) for r in rules)
        raise ParameterError(f"{name}={_shown(value)}: expected {expected}. {HINTS.get(name, '')}".strip())


def validate_for_rows(params: dict, n_rows: int) -> None:
    """The checks that need the table's number of rows."""
    k = params.get("k")
    if k is not None and k > n_rows - 1:
        raise ParameterError(f"k={k}: a table of {n_rows:,} rows can have at most {n_rows - 1} segments. "
                             f"{HINTS['k']}")
    mcs = params.get("min_cluster_size")
    if mcs is not None and mcs > n_rows // 2:
        raise ParameterError(f"min_cluster_size={mcs}: the smallest segment can be at most half the rows "
                             f"({n_rows // 2:,}) of this table.")


__all__ = ["CONSTRAINTS", "validate", "validate_for_rows"]
