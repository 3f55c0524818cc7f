"""The whole flow for one table, shared by the CLI and the app.

load -> validate -> preprocess -> segment -> profile (segmenter) -> explain -> name ->
render. ``analyse`` returns an :class:`Analysis`; ``write_run`` writes a run folder that
``assign``, ``explain`` and ``ask`` read back.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from segmenter.export import (customers_frame, safe_for_spreadsheet, write_assignments_csv)
from segmenter.model import CustomerSegmenter
from segmenter.report import SegmentationReport
from segmenter.paths import REPORT_FILE, require_run_dir
from segmenter.derived import derived_columns
from segmenter.errors import DataError
from segmenter.newrows import OTHER, RowCheck, check_new_customers, fitted_ranges
from segmenter.schema import apply_schema, profile_values

from .drivers import Surrogate, explain_customer, explain_segments
from .naming import name_segments

Progress = Callable[[float, str], None]

MODEL_FILE = "model.skops"
ASSIGNMENTS_FILE = "assignments.csv"
CUSTOMERS_FILE = "customers.parquet"


def _quiet(fraction: float, message: str) -> None:
    return None


def _scaled(progress: Progress, lo: float, hi: float) -> Progress:
    return lambda f, m: progress(lo + (hi - lo) * f, m)


@dataclass(frozen=True, eq=False)
class Analysis:
    """A fitted segmentation with its explanation: the report plus what computes new answers."""

    report: SegmentationReport
    segmenter: CustomerSegmenter
    surrogate: Surrogate | None
    customers: pd.DataFrame  # validated feature columns + __id__ + __segment__

    def with_report(self, report: SegmentationReport) -> "Analysis":
        return Analysis(report, self.segmenter, self.surrogate, self.customers)

    def explain_customer(self, customer_id: str):
        """Why one customer (by id) is in their segment."""
        return explain_customer(self.report, self.surrogate, self.segmenter, self.customers,
                                str(customer_id))


def analyse(table: pd.DataFrame, progress: Progress | None = None, **params) -> Analysis:
    """Segment ``table`` and explain the segments. ``params`` go to :class:`CustomerSegmenter`."""
    progress = progress or _quiet
    segmenter = CustomerSegmenter(**params).fit(table, progress=_scaled(progress, 0.0, 0.7))
    report = segmenter.report_
    features = apply_schema(table, segmenter.schema_)
    if segmenter.report_.data_summary.get("dropped_rows"):
        features = features.loc[features.index.isin(segmenter.kept_index_)]
    outcomes = profile_values(table.loc[features.index], segmenter.schema_)
    derived, _ = derived_columns(features, segmenter.schema_.meanings)
    extra = [frame for frame in (outcomes, derived) if len(frame.columns)]
    customers = customers_frame(report, pd.concat([features, *extra], axis=1) if extra else features)
    progress(0.72, "Explaining segments (SHAP)")
    report, surrogate = explain_segments(report, segmenter, customers,
                                         seed=segmenter.seed)
    report = name_segments(report)
    progress(0.95, "Writing persona cards")
    return Analysis(report, segmenter, surrogate, customers)


def write_run(analysis: Analysis, out_dir: Path, progress: Progress | None = None) -> list[Path]:
    """Write report.json, assignments.csv, customers.parquet, the model, persona cards and plots.

    Files are written to a scratch folder beside ``out_dir`` and moved in only when all of
    them succeeded, so a failure never leaves a half-written run behind.
    """
    from segmenter.persist import save_model  # skops: ~1 s of imports, needed only here and in loading

    from .cards import write_cards
    from .plots import save_figures

    progress = progress or _quiet
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=out_dir.parent))
    try:
        report = analysis.report
        report.to_json(scratch / REPORT_FILE)
        write_assignments_csv(report, scratch / ASSIGNMENTS_FILE)
        analysis.customers.to_parquet(scratch / CUSTOMERS_FILE, index=False)
        extras = analysis.surrogate.to_extras() if analysis.surrogate is not None else {}
        save_model(analysis.segmenter, scratch / MODEL_FILE, extras=extras)
        progress(0.98, "Writing persona cards")
        write_cards(report, scratch)
        save_figures(report, scratch)
        out_dir.mkdir(exist_ok=True)
        written = []
        for path in sorted(scratch.iterdir()):
            written.append(Path(shutil.move(str(path), out_dir / path.name)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    progress(1.0, "Done")
    return written


def load_run(run_dir: Path) -> Analysis:
    """Read back a folder written by :func:`write_run`."""
    run_dir = require_run_dir(run_dir)
    report = SegmentationReport.from_json(run_dir / REPORT_FILE)
    from segmenter.persist import load_model

    segmenter, extras = load_model(run_dir / MODEL_FILE)
    customers = pd.read_parquet(run_dir / CUSTOMERS_FILE)
    surrogate = Surrogate.from_extras(extras) if extras else None
    return Analysis(report, segmenter, surrogate, customers)


def explain_customer_in_dir(run_dir: Path, customer_id: str) -> str:
    from .local_text import local_explanation_text

    analysis = load_run(run_dir)
    return local_explanation_text(analysis.report, analysis.explain_customer(customer_id))


def assign_table(analysis_or_segmenter, table: pd.DataFrame, report: SegmentationReport,
                 progress: Progress | None = None) -> pd.DataFrame:
    """Assign new customers; adds the segment name. Spreadsheet-safe output."""
    segmenter = getattr(analysis_or_segmenter, "segmenter", analysis_or_segmenter)
    out = segmenter.assign(table, progress=progress)
    out.insert(2, "segment_name", out["segment"].map(report.names_for_new_customers))
    id_name = report.id_column if report.id_column and report.id_column in table.columns else "row"
    return out.rename(columns={"id": id_name})


def check_table(analysis_or_segmenter, table: pd.DataFrame, report: SegmentationReport) -> RowCheck:
    """New customers checked row by row against what the segments were made from
    (:func:`segmenter.newrows.check_new_customers`)."""
    segmenter = getattr(analysis_or_segmenter, "segmenter", analysis_or_segmenter)
    levels = getattr(segmenter.preprocessor_, "levels_", {}) or {}
    folded = {c for c, kept in levels.items() if OTHER in kept}
    return check_new_customers(table, segmenter.schema_, fitted_ranges(report.overall.get("numeric")), folded)


def assign_checked(analysis_or_segmenter, table: pd.DataFrame, report: SegmentationReport,
                   progress: Progress | None = None) -> tuple[pd.DataFrame, RowCheck]:
    """Assign the rows that pass :func:`check_table`; the check lists the others. Raises
    :class:`DataError` with the problems when no row can be assigned."""
    check = check_table(analysis_or_segmenter, table, report)
    if check.n_rows and not len(check.table):
        raise DataError(check.summary())
    return assign_table(analysis_or_segmenter, check.table, report, progress), check


def problems_path(out: Path) -> Path:
    """Where ``assign`` writes the rows it could not assign: ``assigned.csv`` -> ``assigned.problems.csv``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.problems.csv")


def assign_file_checked(run_dir: Path, source: str, out: Path, engine: str = "pandas",
                        scheduler: str | None = None, progress: Progress | None = None
                        ) -> tuple[Path, RowCheck | None]:
    """:func:`assign_file`, and the row check (None with the Dask engine, which assigns
    partitions as they are). Rows that fail the check are left out of ``out`` and listed in
    :func:`problems_path` (row, customer, column, problem)."""
    if engine == "dask":
        return assign_file(run_dir, source, out, engine, scheduler, progress), None
    from segmenter.load import load_table

    run_dir = require_run_dir(run_dir)
    report = SegmentationReport.from_json(run_dir / REPORT_FILE)
    from segmenter.persist import load_model

    segmenter, _ = load_model(run_dir / MODEL_FILE)
    result, check = assign_checked(segmenter, load_table(source), report, progress)
    safe_for_spreadsheet(result).to_csv(out, index=False)
    problems = problems_path(out)
    if check.problems:
        safe_for_spreadsheet(check.frame()).to_csv(problems, index=False)
    else:
        problems.unlink(missing_ok=True)  # not left over from an earlier run
    return Path(out), check


def assign_file(run_dir: Path, source: str, out: Path, engine: str = "pandas",
                scheduler: str | None = None, progress: Progress | None = None) -> Path:
    """Assign the customers in ``source`` with a saved run and write a CSV (or Parquet folder).

    With the pandas engine, rows that cannot be assigned are left out and listed in
    :func:`problems_path` (see :func:`assign_file_checked`)."""
    if engine != "dask":
        return assign_file_checked(run_dir, source, out, engine, scheduler, progress)[0]
    from segmenter.distributed import assign_parquet_dataset

    run_dir = require_run_dir(run_dir)
    report = SegmentationReport.from_json(run_dir / REPORT_FILE)
    from segmenter.persist import load_model

    segmenter, _ = load_model(run_dir / MODEL_FILE)
    return assign_parquet_dataset(segmenter, report, source, out, scheduler=scheduler, progress=progress)


__all__ = ["Analysis", "analyse", "write_run", "load_run", "assign_table", "assign_file", "assign_checked",
           "assign_file_checked", "check_table", "problems_path",
           "explain_customer_in_dir"]
