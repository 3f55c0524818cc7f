"""The SegmentationReport: the one source of truth that cards, plots, chat and exports read.

It is frozen: renaming a segment or adding explanations returns a new report. It
serialises to JSON and back without loss (``to_dict`` / ``from_dict``).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .constants import NOISE, NOISE_NAME
from .errors import DataError, ParameterError

SCHEMA_VERSION = "1.1"
MAX_NAME_LENGTH = 60


@dataclass(frozen=True, eq=False)
class Segment:
    """One segment (or the Unassigned group) with its statistics in the table's units."""

    id: int
    name: str
    size: int
    share: float
    is_noise: bool
    numeric: dict  # feature -> {mean, median, q1, q3, min, max, std, overall_mean, effect_size, ...}
    categorical: dict  # feature -> {level: share within the segment}
    categorical_lift: dict  # feature -> {level: share in segment / share overall}
    distinguishing: list  # [{feature, effect_size, direction, level?}] by |effect size|
    drivers: list = field(default_factory=list)  # [{feature, importance, direction, level?}]
    stability: float | None = None  # mean best-match Jaccard over refits (1 = always reappears)
    persistence: float | None = None  # HDBSCAN cluster persistence
    flags: list = field(default_factory=list)  # caveats: "small", "unstable", "noise", ...
    profile: dict = field(default_factory=dict)  # label/outcome column -> {level: share} (not features)
    name_traits: list = field(default_factory=list)  # [{feature, direction, word, effect, level?}] behind the name
    aliases: list = field(default_factory=list)  # earlier names, oldest first (a rename keeps them findable)


@dataclass(frozen=True, eq=False)
class SegmentationReport:
    """Everything known about one segmentation; see README for the JSON contract."""

    algorithm: str
    params: dict
    n_rows: int
    n_fit_rows: int
    id_column: str | None
    features: list
    feature_types: dict
    excluded_columns: list
    data_summary: dict
    metrics: dict
    segments: list
    overall: dict
    assignments: pd.DataFrame  # id (str), segment (int), probability (float)[, outlier_score]
    k_curve: list = field(default_factory=list)
    comparison: list = field(default_factory=list)
    projection: dict = field(default_factory=dict)
    cluster_tree: list = field(default_factory=list)
    explanation: dict = field(default_factory=lambda: {"method": None, "surrogate_fidelity": None})
    meanings: dict = field(default_factory=dict)  # column -> ColumnMeaning as a dict (segmenter.meanings)
    profile_columns: list = field(default_factory=list)  # labels/outcomes shown per segment, never features
    derived_columns: list = field(default_factory=list)  # numbers derived from features (a total spend), profiled only
    views: dict = field(default_factory=dict)  # bounded data of the analyst views (segmenter.views)
    schema_version: str = SCHEMA_VERSION

    # ----------------------------------------------------------------- lookups
    def segment(self, segment_id: int) -> Segment:
        for seg in self.segments:
            if seg.id == segment_id:
                return seg
        known = ", ".join(str(s.id) for s in self.segments)
        raise ParameterError(f"There is no segment {segment_id}; the segments are {known}.")

    @functools.cached_property
    def column_meanings(self) -> dict:
        """``{column: ColumnMeaning}`` read from :attr:`meanings` once per report."""
        from .meanings import meanings_from_dict

        return meanings_from_dict(self.meanings)

    def meaning(self, column: str):
        """The :class:`~segmenter.meanings.ColumnMeaning` of a column, or None when unknown."""
        return self.column_meanings.get(column)

    @property
    def real_segments(self) -> list:
        """Segments without the Unassigned (noise) group."""
        return [s for s in self.segments if not s.is_noise]

    @property
    def names(self) -> dict:
        return {s.id: s.name for s in self.segments}

    @property
    def names_for_new_customers(self) -> dict:
        """:attr:`names` plus Unassigned: a new customer can be noise even when no fitted one was."""
        return {NOISE: NOISE_NAME, **self.names}

    # ----------------------------------------------------------------- changes
    def rename(self, segment_id: int, name: str) -> "SegmentationReport":
        """Return a new report where segment ``segment_id`` is called ``name``."""
        clean = " ".join(str(name).split())
        if not clean:
            raise ParameterError("A segment name cannot be empty.")
        if len(clean) > MAX_NAME_LENGTH:
            raise ParameterError(f"A segment name can have at most {MAX_NAME_LENGTH} characters; "
                                 f"this one has {len(clean)}.")
        target = self.segment(segment_id)
        if target.is_noise:
            raise ParameterError(f"'{NOISE_NAME}' holds customers that fit no segment; it cannot be renamed.")
        taken = {s.name.lower() for s in self.segments if s.id != segment_id}
        if clean.lower() in taken:
            raise ParameterError(f"Another segment is already called '{clean}'; pick a different name.")
        if clean == target.name:
            return self
        aliases = [a for a in [*target.aliases, target.name] if a.lower() != clean.lower()]
        return self.with_names({segment_id: clean}).with_segment_updates({segment_id: {"aliases": aliases}})

    def with_names(self, names: dict) -> "SegmentationReport":
        segments = [dataclasses.replace(s, name=names.get(s.id, s.name)) for s in self.segments]
        return dataclasses.replace(self, segments=segments)

    def with_segment_updates(self, updates: dict) -> "SegmentationReport":
        """Return a new report with fields of some segments replaced: ``{id: {field: value}}``."""
        segments = [dataclasses.replace(s, **updates.get(s.id, {})) for s in self.segments]
        return dataclasses.replace(self, segments=segments)

    def replace(self, **changes: Any) -> "SegmentationReport":
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------ serialising
    def to_dict(self, include_assignments: bool = True) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in ("assignments", "segments")}
        out["segments"] = [dataclasses.asdict(s) for s in self.segments]
        order = ["schema_version", "algorithm", "params", "n_rows", "n_fit_rows", "id_column",
                 "features", "feature_types", "excluded_columns", "data_summary", "metrics",
                 "explanation", "segments"]
        ordered = {k: out[k] for k in order}
        ordered.update({k: v for k, v in out.items() if k not in ordered})
        ordered = _jsonable(ordered)
        if include_assignments:
            ordered["assignments"] = self._assignments_lists()
        return ordered

    def _assignments_lists(self) -> dict:
        """The assignments as plain lists, a column at a time (not cell by cell: a million rows)."""
        return {str(c): _column_list(self.assignments[c]) for c in self.assignments.columns}

    def to_json(self, path: str | Path | None = None, include_assignments: bool = True) -> str:
        """The report as JSON, indented; the per-customer assignments (the bulk of a big table's
        report) are written compactly on their own line, by the json module's C encoder."""
        text = json.dumps(self.to_dict(include_assignments=False), indent=1, allow_nan=False,
                          ensure_ascii=False)
        if include_assignments:
            rows = json.dumps(self._assignments_lists(), allow_nan=False, ensure_ascii=False)
            text = f'{text[:-2]},\n "assignments": {rows}\n}}'
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: dict) -> "SegmentationReport":
        if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
            raise DataError("This is not a report written by this version of Segment Explainer "
                            f"(expected schema_version {SCHEMA_VERSION}).")
        data = dict(data)
        segments = [Segment(**s) for s in data.pop("segments")]
        raw = data.pop("assignments", None) or {"id": [], "segment": [], "probability": []}
        assignments = pd.DataFrame(raw)
        if "segment" in assignments:
            assignments["segment"] = assignments["segment"].astype(np.int32)
        if "id" in assignments:
            assignments["id"] = assignments["id"].astype(str)
        for column in ("probability", "outlier_score"):
            if column in assignments:
                assignments[column] = assignments[column].astype(float)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(segments=segments, assignments=assignments,
                   **{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_json(cls, source: str | Path) -> "SegmentationReport":
        text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) or (
            isinstance(source, str) and not source.lstrip().startswith("{")) else source
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"The report file is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
        return cls.from_dict(data)


def _column_list(values: pd.Series) -> list:
    """A column as JSON-ready Python values: numbers as int/float (NaN and inf as None)."""
    array = values.to_numpy()
    if array.dtype.kind in "iub":
        return array.tolist()
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        return array.tolist() if finite.all() else [v if ok else None for v, ok in zip(array.tolist(), finite)]
    if pd.api.types.infer_dtype(array, skipna=False) == "string":
        return array.tolist()
    return _jsonable(array.tolist())


def _jsonable(value: Any) -> Any:
    """Plain JSON types only: numpy scalars to Python, NaN/inf to None, keys to str."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


def noise_segment_name() -> str:
    return NOISE_NAME


__all__ = ["SCHEMA_VERSION", "NOISE", "NOISE_NAME", "Segment", "SegmentationReport"]
