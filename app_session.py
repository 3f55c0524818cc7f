"""The app's glue beside ``app.py``: sessions, temp folders and the words on its screens.

Plain helpers, no Gradio: ``app.py`` wires them to the page, the library does the work.

Everything a visitor works on lives in one :class:`AppSession` (a frozen value kept in the
visitor's own ``gr.State``); every helper takes a session and returns a new one, so two
visitors never share anything. Text that ends up in Markdown is escaped with
:func:`explainers.format.md_escape`; HTML comes only from the library's autoescaped templates.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from explainers.analysis import Analysis, analyse, assign_checked, write_run
from explainers.cards import build_overview, k_choice_text, render_card_html
from explainers.drivers import explain_customer
from explainers.format import fmt_count, fmt_number, fmt_pct, fmt_score, md_escape
from explainers.local_text import local_explanation_text
from explainers import plots
from explainers.plots import UNASSIGNED_NOTE, k_curve_figure, tree_figure
from segmenter.constants import (ID_COLUMN, LOW_FIDELITY, PROBABILITY_COLUMN, REASONABLE_SILHOUETTE,
                                 SEGMENT_COLUMN)
from segmenter.demo import make_demo_customers
from segmenter.errors import ColumnError, ParameterError, TooLargeError
from segmenter.export import safe_for_spreadsheet
from segmenter.implausible import table_findings
from segmenter.load import LoadLimits, load_table
from segmenter.meanings import ROLES, UNITS
from segmenter.meanings import meaning_rows as rows_of_meanings
from segmenter.meanings import overrides_from_rows
from segmenter.params import MAX_K, MAX_SEED
from segmenter.params import validate as validate_params
from segmenter.report import SegmentationReport
from segmenter.schema import ColumnKind, Schema, apply_schema, infer_schema

Progress = Callable[[float, str], None]

#: Uploads above this size are refused by Gradio itself (``launch(max_file_size=...)``).
MAX_UPLOAD_MB = 50
#: Checked by the loader before a table is fully read; bigger tables belong in the CLI.
APP_LIMITS = LoadLimits(max_bytes=MAX_UPLOAD_MB * 2**20, max_rows=100_000, max_unpacked_bytes=512 * 2**20)
PREVIEW_ROWS = 20
PREVIEW_CELL_CHARS = 60
RESULT_ROWS = 200
PROBLEM_LINES = 20  # rows a prediction left out, listed on the Predict tab
DEMO_SOURCE = "the demo table"
APP_COMPARE = True  # the Segment tab's table of all four algorithms on the same sample
DEMO_RUNS_KEPT = 4  # demo analyses kept in memory (one per combination of settings tried)
SESSION_ROOT = "segment-explainer-sessions"
#: Shown where the results of the previous table were, as soon as a new table is loaded.
NO_RESULTS_YET = ("**No segments for this table yet.** Open the **Segment** tab and press **Find segments**; "
                  "the results of the previous table have been cleared.")

#: (label shown, value passed to the library)
ALGORITHM_CHOICES = [
    ("Automatic (recommended): HDBSCAN or K-Means, whichever fits better", "auto"),
    ("HDBSCAN: dense groups; customers who fit none stay Unassigned", "hdbscan"),
    ("K-Means: every customer gets the nearest typical profile", "kmeans"),
    ("Gaussian mixture (GMM): overlapping, oval-shaped segments", "gmm"),
    ("Agglomerative (Ward): merges the most similar customers step by step", "agglomerative"),
]
ALGORITHM_VALUES = tuple(v for _, v in ALGORITHM_CHOICES)
ALGORITHM_NAMES = {"auto": "automatic", "hdbscan": "HDBSCAN", "kmeans": "K-Means",
                   "gmm": "Gaussian mixture", "agglomerative": "agglomerative (Ward)"}
AUTO_TYPE = "automatic"
TYPE_CHOICES = [AUTO_TYPE, *ColumnKind.FEATURES, ColumnKind.EXCLUDED]
NO_ID = "(no ID column: use row numbers)"
SCHEMA_HEADERS = ["Column", "Used as", "Why", "Empty", "Distinct values"]
MEANING_HEADERS = ["Column", "Label", "Role", "Unit", "Weight", "Note"]
MEANINGS_HELP = (
    "How each column reads on the cards and in the chat. Edit a **label** (\"spend on wines\"), a **role** or a "
    "**unit**, or a **weight**: 1 is a column's usual say in the segments, 2 doubles it, 0 leaves it out. "
    "Then press *Apply* and find the segments again.\n\n**Roles**: " + "; ".join(
        f"*{role}*: {words}" for role, words in ROLES.items()) + ".\n\n**Units**: " + ", ".join(
        u for u in UNITS if u) + " (or empty).")
FORM_HEADERS = ["Column", "Value", "What to enter"]
RESULT_HEADERS = ["ID", "segment", "segment_name", "probability"]
COMPARISON_HEADERS = ["Algorithm", "Segments", "Unassigned", "Separation (silhouette, higher is better)",
                      "Davies-Bouldin (lower is better)", "Calinski-Harabasz (higher is better)", "Rows compared"]
COMPARISON_NOTE = UNASSIGNED_NOTE
SEPARATION_WORDS = {"strong": "clearly separated", "reasonable": "reasonably separated",
                    "weak": "weakly separated: neighbouring segments overlap, so treat boundaries as soft",
                    "overlapping": "hardly separated: the segments overlap heavily", "unknown": "not measured"}
STABILITY_WORDS = {"high": "the same segments come back when the data is resampled",
                   "moderate": "most segments come back when the data is resampled",
                   "low": "segments change when the data is resampled: treat them with care",
                   "unknown": "not measured"}


@dataclass(frozen=True, eq=False)
class ColumnChoices:
    """What the visitor chose on the Data tab (None / empty = let the library decide)."""

    id_column: str | None = None
    exclude: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    types: dict = field(default_factory=dict)
    meanings: dict = field(default_factory=dict)  # {column: {label, role, unit}} the visitor corrected
    weights: dict = field(default_factory=dict)  # {column: weight}, 1 = the default say
    drop_implausible: bool = False

    def params(self) -> dict:
        """What the schema needs (column choices and corrected meanings)."""
        zero = [c for c, w in self.weights.items() if w == 0 and c not in self.exclude]  # weight 0: left out
        return {"id_column": self.id_column, "exclude": [*self.exclude, *zero] or None,
                "features": list(self.features) or None, "types": dict(self.types) or None,
                "meanings": dict(self.meanings) or None}

    def fit_params(self) -> dict:
        """Everything the segmentation needs: :meth:`params` plus weights and the implausible rows."""
        return {**self.params(), "weights": dict(self.weights) or None, "drop_implausible": self.drop_implausible}


@dataclass(frozen=True, eq=False)
class AppSession:
    """One visitor's work: the table, their column choices and the current analysis."""

    table: pd.DataFrame
    source: str
    schema: Schema
    choices: ColumnChoices = ColumnChoices()
    analysis: Analysis | None = None
    conversation: object | None = None  # explainers.chat conversation (holds the chat history)
    engine: object | None = None  # explainers.chat.ChatEngine of the current analysis
    predicted: pd.DataFrame | None = None  # customers-like frame of the last predicted rows

    def replace(self, **changes) -> AppSession:
        return dataclasses.replace(self, **changes)

    @property
    def report(self) -> SegmentationReport:
        return require_analysis(self).report


def require_analysis(session: AppSession) -> Analysis:
    """The session's analysis, or a plain "no segments yet" error."""
    if session.analysis is None:
        raise ParameterError("There are no segments yet: open the Segment tab and press "
                             "'Find segments' first.")
    return session.analysis


# ------------------------------------------------------------------ session files
def _session_path(session_hash: str | None, base: str | Path | None = None) -> Path:
    key = hashlib.sha256(str(session_hash or "anonymous").encode()).hexdigest()[:32]
    return Path(base or tempfile.gettempdir()) / SESSION_ROOT / key


def session_dir(session_hash: str | None, base: str | Path | None = None) -> Path:
    """The visitor's own scratch folder (created on demand) under ``base`` (the system temp dir
    by default; the app passes Gradio's upload folder, so the files it hands out are served
    from here without a copy that would outlive the folder)."""
    path = _session_path(session_hash, base)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def sweep_session_dirs(max_age_hours: float = 24.0, base: str | Path | None = None) -> int:
    """Remove visitors' folders untouched for ``max_age_hours`` (left by a stopped server)."""
    root, removed = Path(base or tempfile.gettempdir()) / SESSION_ROOT, 0
    for path in root.iterdir() if root.is_dir() else []:
        if path.is_dir() and time.time() - path.stat().st_mtime > max_age_hours * 3600:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def remove_session_dir(session_hash: str | None, base: str | Path | None = None) -> None:
    shutil.rmtree(_session_path(session_hash, base), ignore_errors=True)


def forget_upload(path: str | Path | None, upload_root: str | Path) -> bool:
    """Delete an uploaded file (and its folder, when empty) once its table is read: the table
    lives on in the visitor's session only, so the file is not left behind to be downloaded
    after they leave or after a restart. Only files inside ``upload_root`` are touched."""
    if not path:
        return False
    file, root = Path(path).resolve(), Path(upload_root).resolve()
    if root not in file.parents or not file.is_file():
        return False
    file.unlink(missing_ok=True)
    try:
        if file.parent != root:
            file.parent.rmdir()  # Gradio keeps each upload in a folder of its own
    except OSError:
        pass  # not empty: another file shares it
    return True


# ------------------------------------------------------------------ data tab
def _start(table: pd.DataFrame, source: str, id_column: str | None = None) -> AppSession:
    choices = ColumnChoices(id_column=id_column)
    return AppSession(table, source, infer_schema(table, **choices.params()), choices)


def demo_session() -> AppSession:
    demo = make_demo_customers()
    return _start(demo.table, DEMO_SOURCE, demo.id_column)


def upload_session(path: str, filename: str | None = None) -> AppSession:
    """Load an uploaded file with the app's size and row limits."""
    name = filename or Path(path).name
    try:
        table = load_table(path, filename=name, limits=APP_LIMITS)
    except TooLargeError as exc:
        raise TooLargeError(f"{exc}. The web app takes up to {MAX_UPLOAD_MB} MB and "
                            f"{APP_LIMITS.max_rows:,} rows; segment bigger tables with cli.py.") from exc
    return _start(table, f"'{name}'")


def with_choices(session: AppSession, id_column: str | None, exclude: list | None,
                 features: list | None, types: dict | None) -> AppSession:
    """Re-check the columns with the visitor's choices (errors say which choice is wrong)."""
    id_column = None if id_column in (None, "", NO_ID) else id_column
    types = {c: k for c, k in (types or {}).items() if k and k != AUTO_TYPE}
    old = session.choices
    choices = ColumnChoices(id_column, tuple(exclude or ()), tuple(features or ()), types, old.meanings,
                            old.weights, old.drop_implausible)
    schema = infer_schema(session.table, **choices.params())
    return session.replace(choices=choices, schema=schema)


def meaning_rows(session: AppSession) -> pd.DataFrame:
    """The editable table of meanings: every used column (features first, then label/outcome
    columns), with its weight."""
    s = session.schema
    columns = list(s.features) + [c for c in s.profile if c not in s.features]
    columns += [c for c in session.choices.weights if c not in columns and c in s.meanings]  # weight 0: out
    weights = session.choices.weights
    rows = [[r["column"], r["label"], r["role"], r["unit"], fmt_number(weights.get(r["column"], 1.0)), r["note"]]
            for r in rows_of_meanings(s.meanings, columns)]
    return pd.DataFrame(rows, columns=MEANING_HEADERS)


def with_meanings(session: AppSession, frame: pd.DataFrame | None, drop_implausible: bool) -> AppSession:
    """The visitor's corrections of labels, roles, units and weights, checked and applied."""
    if frame is None or not len(frame):
        raise ColumnError("There is no table of meanings to apply; load a table first.")
    frame = pd.DataFrame(frame)
    if list(frame.columns) != MEANING_HEADERS:
        raise ColumnError(f"The table of meanings must keep its columns: {', '.join(MEANING_HEADERS)}.")
    rows, weights = [], {}
    for values in frame.itertuples(index=False):
        column, label, role, unit, weight = (str(v).strip() if v is not None else "" for v in values[:5])
        rows.append({"column": column, "label": label, "role": role, "unit": unit})
        try:
            number = float(weight.replace(",", ".")) if weight else 1.0
        except ValueError:
            raise ParameterError(f"The weight of '{column[:60]}' must be a number from 0 (leave the column "
                                 f"out) to 100; got '{weight[:20]}'.") from None
        if not (math.isfinite(number) and 0 <= number <= 100):
            raise ParameterError(f"The weight of '{column[:60]}' must be from 0 (leave the column out) to 100 "
                                 f"(1 = the default say); got '{weight[:20]}'.")
        if number != 1.0:
            weights[column] = number
    schema = session.schema
    inferred = infer_schema(session.table, **dataclasses.replace(session.choices, meanings={}).params()).meanings
    overrides = overrides_from_rows(inferred, [r for r in rows if r["column"] in inferred])
    unknown = [r["column"] for r in rows if r["column"] not in schema.meanings]
    if unknown:
        raise ColumnError(f"The table of meanings names columns that are not in {session.source}: "
                          f"{', '.join(c[:40] for c in unknown[:5])}.")
    validate_params({"weights": weights})
    choices = dataclasses.replace(session.choices, meanings=overrides, weights=weights,
                                  drop_implausible=bool(drop_implausible))
    return session.replace(choices=choices, schema=infer_schema(session.table, **choices.params()))


def llm_client():
    """The configured LLM (``SEGMENT_LLM_*`` / ``HF_TOKEN``), or None."""
    from explainers.chat.llm import LLMClient

    return LLMClient.from_env()


def propose_meanings(session: AppSession, frame: pd.DataFrame | None, client=None) -> tuple[pd.DataFrame, str]:
    """The meanings table with the LLM's checked proposals filled in (applied only when the
    visitor presses Apply), and what was proposed or turned down, in words."""
    from explainers.label_proposals import propose_labels

    client = client if client is not None else llm_client()
    if client is None:
        raise ParameterError("No LLM is configured, so there is nobody to propose labels; edit them yourself.")
    frame = pd.DataFrame(frame) if frame is not None and len(frame) else meaning_rows(session)
    result = propose_labels(session.table, session.schema.meanings, client)
    if result.error:
        return frame, f"No proposals: {result.error}."
    index = {str(c): i for i, c in enumerate(frame["Column"])}
    for p in result.proposals:
        if p.column in index:
            frame.loc[index[p.column], p.field.capitalize()] = p.value
            frame.loc[index[p.column], "Note"] = "proposed by the LLM: press Apply to use, or edit"
    lines = [f"**{fmt_count(len(result.proposals))} proposals** filled in above (nothing changes until you "
             "press *Apply*)."]
    lines += [f"- {md_escape(p.column)}: {p.field} '{md_escape(p.current)}' → '{md_escape(p.value)}'"
              for p in result.proposals]
    if result.rejected:
        lines.append(f"\nTurned down ({fmt_count(len(result.rejected))}):")
        lines += [f"- {md_escape(r.column)}: {r.field} '{md_escape(r.value)}': {md_escape(r.why)}"
                  for r in result.rejected[:20]]
    return frame, "\n".join(lines)


def implausible_markdown(session: AppSession) -> str:
    """Values that cannot be right, per column and rule, and what the next run does with them."""
    findings, rows = table_findings(session.table, session.schema)
    if not findings:
        return "No implausible values found (birth years before 1900, shares over 100%, placeholder numbers)."
    lines = [f"**Implausible values** in {fmt_count(rows)} rows:"]
    for f in findings:
        examples = ", ".join(fmt_number(v) for v in f.examples)
        lines.append(f"- {md_escape(f.column)}: {fmt_count(f.count)} with {md_escape(f.rule)} (e.g. {examples})")
    lines.append("" )
    lines.append("These rows are **left out** of the next run." if session.choices.drop_implausible else
                 "Extreme values are capped before segmenting either way; tick the box to leave these rows out.")
    return "\n".join(lines)


def with_type(session: AppSession, column: str | None, kind: str | None) -> dict:
    """The visitor's type overrides after setting ``column`` to ``kind`` ("automatic" clears it)."""
    if not column:
        raise ColumnError("Pick the column whose type you want to change.")
    if column not in session.table.columns:
        raise ColumnError(f"There is no column '{column}' in {session.source}.")
    types = dict(session.choices.types)
    if kind in (None, "", AUTO_TYPE):
        types.pop(column, None)
    else:
        types[column] = kind
    return types


def preview(table: pd.DataFrame) -> pd.DataFrame:
    """The first rows as short text (shown as plain text, never as HTML)."""
    head = table.head(PREVIEW_ROWS)
    out = {}
    for col in head.columns:
        values = head[col]
        filled = values.dropna()
        if pd.api.types.is_datetime64_any_dtype(values.dtype) and (filled == filled.dt.normalize()).all():
            values = values.dt.strftime("%Y-%m-%d")  # dates without a time of day
        text = values.astype(object).where(values.notna(), "").astype(str)
        out[str(col)] = text.map(lambda v: v if len(v) <= PREVIEW_CELL_CHARS else v[:PREVIEW_CELL_CHARS] + "…")
    return pd.DataFrame(out)


def schema_rows(schema: Schema) -> pd.DataFrame:
    rows = [[c.name, c.kind, c.reason, fmt_pct(c.missing_share), fmt_count(c.n_unique)]
            for c in schema.columns]
    return pd.DataFrame(rows, columns=SCHEMA_HEADERS)


def data_summary(session: AppSession) -> str:
    s, t = session.schema, session.table
    ids = f"ID column: **{md_escape(s.id_column)}**" if s.id_column else "no ID column (rows are numbered)"
    excluded = len(s.excluded)
    return (f"Loaded {md_escape(session.source)}: **{fmt_count(len(t))} customers**, "
            f"{fmt_count(t.shape[1])} columns. {fmt_count(len(s.features))} columns will describe the "
            f"customers; {fmt_count(excluded)} are left out (see why below); {ids}.")


# ------------------------------------------------------------------ segment tab
def segment_params(algorithm: str, k: float | None, min_cluster_size: float | None,
                   seed: float | None) -> dict:
    """Library parameters from the form, checked before any work; 0 or empty means 'choose
    automatically'. The checks are the library's (:data:`segmenter.params.CONSTRAINTS`), worded
    with the form's labels."""
    if algorithm not in ALGORITHM_VALUES:
        raise ParameterError(f"Unknown algorithm '{str(algorithm)[:40]}'; choose one of "
                             f"{', '.join(ALGORITHM_VALUES)}.")

    def whole(value, label: str, upto: str) -> int | None:
        if value in (None, ""):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{label} must be a whole number{upto}; got '{str(value)[:20]}'.") from None
        if not math.isfinite(number) or number != int(number) or number < 0:
            raise ParameterError(f"{label} must be a whole number{upto}; got {fmt_number(number)}.")
        return int(number) or None

    params = {"algorithm": algorithm,
              "k": whole(k, "The number of segments", f" between 2 and {MAX_K} (0 = choose automatically)"),
              "min_cluster_size": whole(min_cluster_size, "The smallest segment size",
                                        " of 2 or more (0 = automatic)"),
              "seed": whole(seed, "The random seed", f" from 0 to {MAX_SEED:,}") or 0}
    words = {"k": f"The number of segments must be between 2 and {MAX_K} (0 = choose automatically)",
             "min_cluster_size": "The smallest segment size must be 2 or more (0 = automatic)",
             "seed": f"The random seed must be a whole number from 0 to {MAX_SEED:,}"}
    for name, text in words.items():
        try:
            validate_params({name: params[name]})
        except ParameterError:
            raise ParameterError(f"{text}; got {params[name]:,}.") from None
    return params


def run_analysis(session: AppSession, params: dict, progress: Progress | None = None) -> AppSession:
    """Segment the session's table (the demo table's runs are shared: :func:`_demo_analysis`)."""
    # The Segment tab shows every algorithm side by side, so the app asks for the comparison
    # (the library and the CLI leave it off unless asked: ``compare=True`` / ``--compare``).
    settings = {"compare": APP_COMPARE, **session.choices.fit_params(), **params}
    if session.source == DEMO_SOURCE:
        analysis = _demo_analysis(session.table, settings, progress)
    else:
        analysis = analyse(session.table, progress=progress, **settings)
    return session.replace(analysis=analysis, conversation=None, engine=None, predicted=None)


def _frozen(value):
    """A hashable copy of nested settings (dicts become sorted tuples of pairs, lists tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


_DEMO_RUNS: dict[tuple, Analysis] = {}
_DEMO_LOCK = threading.Lock()


def _demo_analysis(table: pd.DataFrame, settings: dict, progress: Progress | None) -> Analysis:
    """The demo table segmented with ``settings``, computed once per server process.

    Every visitor's page opens on the demo run, and the same table, settings and seed always
    give the same result, so the first visitor's run is kept (up to :data:`DEMO_RUNS_KEPT`
    settings) and shared. Sharing is safe because an Analysis is never changed in place (a
    rename makes a new report and analysis). The only process-wide state of the app.
    """
    key = _frozen(settings)
    with _DEMO_LOCK:
        if key not in _DEMO_RUNS:
            if len(_DEMO_RUNS) >= DEMO_RUNS_KEPT:
                _DEMO_RUNS.pop(next(iter(_DEMO_RUNS)))
            _DEMO_RUNS[key] = analyse(table, progress=progress, **settings)
        elif progress is not None:
            progress(1.0, "Segments ready")
        return _DEMO_RUNS[key]


#: The Segment tab's opening settings (algorithm "auto", k and smallest segment automatic, seed 0).
OPENING_SETTINGS = ("auto", 0, 0, 0)


def warm_demo() -> threading.Thread:
    """Start segmenting the demo table with the page's opening settings in the background.

    Called when the server starts, so the first visitor's page gets the shared demo run (see
    :func:`_demo_analysis`) instead of waiting for it; a visitor arriving before it is done
    waits for the same run (the lock), never a second one. Returns the (daemon) thread.
    """
    def run() -> None:
        try:
            run_analysis(demo_session(), segment_params(*OPENING_SETTINGS))
        except Exception:  # the page computes it itself then, and shows any error in words
            logging.getLogger("segment_explainer.app").exception("warming up the demo run failed")

    thread = threading.Thread(target=run, name="demo-warm-up", daemon=True)
    thread.start()
    return thread


def summary_markdown(report: SegmentationReport) -> str:
    """The quality of the segmentation in plain words (numbers come formatted from the cards module)."""
    o = build_overview(report)
    algorithm = ALGORITHM_NAMES.get(o.algorithm, md_escape(o.algorithm))
    separation = SEPARATION_WORDS.get(o.silhouette_band, "not measured")
    lines = [(f"**{o.n_segments} segments** among {o.n_customers} customers, found with {algorithm} "
              f"on {o.n_features} columns."), "",
             f"- **Separation**: {separation} (silhouette {o.silhouette}; from -1 to 1, above {REASONABLE_SILHOUETTE} is reasonable)."]
    why_k = k_choice_text(report)
    if why_k:  # library wording with formatted numbers, no table text
        lines.append(f"- **{md_escape(why_k.split(':', 1)[0])}**: {md_escape(why_k.split(':', 1)[1])}"
                     if ":" in why_k else f"- {md_escape(why_k)}")
    reason = (report.params or {}).get("auto_reason")
    if reason:  # library wording, no table text
        lines.append(f"- **Why {algorithm}**: chosen automatically: {reason}.")
    if o.has_noise:
        lines.append(f"- **Unassigned**: {o.noise_count} customers ({o.noise_share}) fit no segment "
                     "well and are kept apart instead of being forced into one.")
    else:
        lines.append("- **Unassigned**: none, every customer belongs to a segment.")
    stability = f" ({o.stability}, from 0 to 1)" if o.stability else ""
    lines.append(f"- **Stability**: {STABILITY_WORDS.get(o.stability_band, 'not measured')}{stability}.")
    lines.append(f"- **Explanations**: {fidelity_words(report)}")
    return "\n".join(lines)


def fidelity_words(report: SegmentationReport) -> str:
    fidelity = (report.explanation or {}).get("surrogate_fidelity")
    if fidelity is None:
        return "no explanation model (fewer than two groups of customers)."
    verdict = "reliable" if fidelity >= LOW_FIDELITY else "possibly unreliable: read the drivers with care"
    return (f"the model behind the explanations reproduces the segments with a score of "
            f"{fmt_pct(fidelity)} on customers it did not see ({verdict}).")


def comparison_rows(report: SegmentationReport) -> pd.DataFrame:
    rows = [[ALGORITHM_NAMES.get(r.get("algorithm"), str(r.get("algorithm"))),
             fmt_count(r.get("n_segments", 0)), fmt_pct(r.get("noise_fraction") or 0.0),
             fmt_score(r.get("silhouette")), fmt_score(r.get("davies_bouldin")),
             fmt_number(r.get("calinski_harabasz")), fmt_count(r.get("rows", 0))]
            if not r.get("error") else [ALGORITHM_NAMES.get(r.get("algorithm"), str(r.get("algorithm"))), "failed",
                                        "", "", "", "", ""]
            for r in report.comparison or []]
    return pd.DataFrame(rows, columns=COMPARISON_HEADERS)


def analyst_figures(report: SegmentationReport) -> tuple:
    """The analyst views of the Segment tab, in the order of its "More views" block:
    distributions, correlation, effect heatmap, per-segment boxes, Ward dendrogram (None
    unless the segments came from agglomerative clustering)."""
    dendrogram = plots.dendrogram_figure(report) if (report.params or {}).get("dendrogram") else None
    return (plots.distributions_figure(report), plots.correlation_figure(report),
            plots.effects_heatmap_figure(report), plots.segment_boxes_figure(report), dendrogram)


def curve_figure(report: SegmentationReport):
    """Elbow/silhouette curve, or HDBSCAN's persistence when HDBSCAN made the segments."""
    if report.algorithm == "hdbscan" or not report.k_curve:
        return tree_figure(report)
    return k_curve_figure(report)


def segment_choices(report: SegmentationReport, include_noise: bool = False) -> list[tuple[str, int]]:
    return [(f"{s.id}. {s.name}" if not s.is_noise else s.name, int(s.id))
            for s in report.segments if include_noise or not s.is_noise]


# ------------------------------------------------------------------ personas tab
def cards_html(report: SegmentationReport) -> str:
    """Every persona card: HTML rendered (and escaped) by the library's templates only."""
    return "\n".join(render_card_html(report, s.id) for s in report.segments)


def write_downloads(analysis: Analysis, folder: Path) -> dict[str, Path]:
    """Write the run files (cards, CSV, report, model) into ``folder``; name -> path."""
    paths = write_run(analysis, Path(folder) / "run")
    return {p.name: p for p in paths}


def rename(session: AppSession, segment_id: float | None, name: str) -> AppSession:
    if segment_id in (None, ""):
        raise ParameterError("Pick the segment to rename.")
    report = session.report.rename(int(segment_id), str(name or ""))
    return session.replace(analysis=session.analysis.with_report(report), conversation=None,
                           engine=None)


# ------------------------------------------------------------------ explain / predict
def explain_known(session: AppSession, customer_id: str) -> str:
    customer_id = str(customer_id or "").strip()
    if not customer_id:
        raise ParameterError("Type a customer ID from your table (for the demo, e.g. C100000).")
    return local_explanation_text(session.report, session.analysis.explain_customer(customer_id))


def _plain(value) -> str:
    """A number as the form shows it: no thousands separators, so it reads back as typed."""
    return "" if value is None else f"{round(float(value), 2):.10g}"


def _example(report: SegmentationReport, schema: Schema, column: str) -> tuple[str, str]:
    """(typical value in the largest segment, what to enter) for one form row."""
    kind = schema.kind_of(column)
    segments = report.real_segments or report.segments
    seg = segments[0] if segments else None
    overall = report.overall.get("numeric", {}).get(column) or {}
    numeric = (seg.numeric.get(column) if seg is not None else None) or overall
    levels = (seg.categorical.get(column) if seg is not None else None) or \
        report.overall.get("categorical", {}).get(column)
    if kind == ColumnKind.BOOLEAN:
        return ("yes" if (numeric.get("mean") or 0) >= 0.5 else "no"), "yes or no"
    if kind == ColumnKind.CATEGORICAL and levels:
        ordered = sorted(levels, key=lambda lvl: -levels[lvl])
        return str(ordered[0]), "one of: " + ", ".join(map(str, ordered[:12]))
    if kind == ColumnKind.DATETIME:
        typical = ""
        if numeric.get("median") is not None and schema.reference_date:
            day = pd.Timestamp(schema.reference_date) - pd.Timedelta(days=float(numeric["median"]))
            typical = day.date().isoformat()
        return typical, "a date, e.g. 2024-05-31"
    if numeric:
        lo, hi = fmt_number(overall.get("min")), fmt_number(overall.get("max"))
        return _plain(numeric.get("median")), f"a number (from {lo} to {hi} in your table)"
    return "", "a number"


def form_rows(session: AppSession) -> pd.DataFrame:
    """One new customer as an editable (column, value) table, pre-filled like the largest segment."""
    report = session.report
    schema = session.analysis.segmenter.schema_
    rows = []
    if schema.id_column:
        rows.append([schema.id_column, "new customer", "an ID for this customer"])
    for column in report.features:
        value, hint = _example(report, schema, column)
        rows.append([column, value, hint])
    return pd.DataFrame(rows, columns=FORM_HEADERS)


def table_from_form(form: pd.DataFrame, session: AppSession) -> pd.DataFrame:
    """A one-row table of text values from the form (blank = missing, filled in like the training data)."""
    schema = session.analysis.segmenter.schema_
    if form is None or len(form) == 0 or "Column" not in form.columns or "Value" not in form.columns:
        raise ColumnError("The form is empty: press 'Reset to a typical customer' first.")
    values = {str(c): ("" if pd.isna(v) else str(v)).strip() for c, v in zip(form["Column"], form["Value"])}
    row = {c: [values.get(c) or None] for c in schema.features}
    if schema.id_column:
        row[schema.id_column] = [values.get(schema.id_column) or "new customer"]
    return pd.DataFrame(row, dtype=object)


def predict(session: AppSession, table: pd.DataFrame) -> tuple[AppSession, pd.DataFrame, str]:
    """Assign new customers that pass the row check; keep what is needed to explain them.

    Returns the session, the assigned rows and, when some rows could not be assigned, Markdown
    listing why (empty otherwise). When no row can be assigned, the library's DataError says why.
    """
    analysis = require_analysis(session)
    result, check = assign_checked(analysis, table, analysis.report)
    good = check.table
    features = apply_schema(good, analysis.segmenter.schema_).reset_index(drop=True)
    features.insert(0, ID_COLUMN, result.iloc[:, 0].astype(str).to_numpy())
    features[SEGMENT_COLUMN] = result["segment"].to_numpy()
    features[PROBABILITY_COLUMN] = result["probability"].to_numpy()
    return session.replace(predicted=features), result, problems_markdown(check)


def problems_markdown(check) -> str:
    """The rows a prediction left out, as a Markdown list (table text escaped)."""
    if not check.problems:
        return ""
    verb = "was" if check.n_refused == 1 else "were"
    lines = [f"**{fmt_count(check.n_refused)} of {fmt_count(check.n_rows)} customers {verb} not assigned** "
             "(the others are below):"]
    lines += [f"- {md_escape(p.line)}" for p in check.problems[:PROBLEM_LINES]]
    if len(check.problems) > PROBLEM_LINES:
        lines.append(f"- and {fmt_count(len(check.problems) - PROBLEM_LINES)} more problems")
    return "\n".join(lines) + "\n\n"


def explain_predicted(session: AppSession, customer_id: str | None = None) -> str:
    """Why a predicted customer (the first one by default) got their segment."""
    frame, analysis = session.predicted, session.analysis
    if frame is None or analysis is None or not len(frame):
        raise ParameterError("Predict a customer first.")
    key = str(customer_id).strip() if customer_id not in (None, "") else str(frame[ID_COLUMN].iloc[0])
    local = explain_customer(analysis.report, analysis.surrogate, analysis.segmenter, frame, key)
    match = frame.loc[frame[ID_COLUMN] == key, PROBABILITY_COLUMN]
    if len(match):
        local = dataclasses.replace(local, probability=float(match.iloc[0]))
    return local_explanation_text(analysis.report, local)


def load_predict_file(path: str) -> pd.DataFrame:
    return load_table(path, filename=Path(path).name, limits=APP_LIMITS)


def predicted_csv(result: pd.DataFrame, folder: Path) -> Path:
    path = Path(folder) / "predicted_segments.csv"
    safe_for_spreadsheet(result).to_csv(path, index=False)
    return path

