"""Persona cards: one typed context per template, built from the report only.

Python reads the :class:`~segmenter.report.SegmentationReport`, picks what to show and
formats every number (``"2.4x"``, ``"18"``, ``"23%"``); the Jinja templates in
``templates/`` only word and lay it out. Each template's input is a documented frozen
dataclass, and ``tests/test_cards.py`` checks that the templates use exactly the declared
fields. Table text (column names, levels, segment names) only ever travels as data:
HTML templates are autoescaped, and Markdown output escapes every ``{{ }}`` value.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from markupsafe import Markup

from segmenter.constants import (FLAG_DRIVER_DISAGREEMENT, FLAG_SMALL, FLAG_UNSTABLE, LOW_FIDELITY,
                                 SILHOUETTE_BANDS, STABILITY_BANDS, UNSTABLE_STABILITY, band)

from .actions import suggest_actions
from .format import TraitRow, fmt_count, fmt_pct, fmt_score, is_about_people, label, trait_row, trait_text
from .templating import MarkdownSafe, environment

MAX_TRAITS, MIN_TRAITS = 5, 3
#: A trait is listed under "what sets them apart" only from this |effect size| (drivers too: a
#: SHAP driver with a smaller difference in the numbers is charted, not called a difference) ...
TRAIT_EFFECT = 0.3
FILL_EFFECT = TRAIT_EFFECT
#: ... and beyond MIN_TRAITS only from this one (a "large" Cohen's d).
LARGE_EFFECT = 0.8
#: A segment holding more than this share of the customers gets a caveat (too broad to target).
LARGE_SEGMENT_SHARE = 0.5
#: Drivers below this share of a segment's explanation are charted but not listed as traits.
TRAIT_MIN_IMPORTANCE = 0.05
MAX_DRIVER_BARS = 8
MAX_MIX_COLUMNS, MAX_MIX_LEVELS = 3, 4
HTML_FILE, MD_FILE = "personas.html", "personas.md"


# ----------------------------------------------------------------- contexts
@dataclass(frozen=True)
class MixLevel:
    """One level of a mix column: segment share, overall share, and bar width (0-100)."""

    level: str
    value: str
    overall: str
    width: str


@dataclass(frozen=True)
class MixRow:
    """The make-up of a segment on one (demographic-looking) categorical column."""

    label: str
    levels: tuple[MixLevel, ...]


@dataclass(frozen=True)
class DriverBar:
    """One SHAP driver: its share of the segment's explanation and bar width (0-100)."""

    label: str
    level: str
    direction: str
    importance: str
    width: str


@dataclass(frozen=True)
class ActionRow:
    """A suggested marketing action and the trait that triggered it."""

    text: str
    because: str


@dataclass(frozen=True)
class CaveatRow:
    """A caution shown on a card; ``kind`` picks the template's wording.

    Kinds: "noise" (value = share), "small" (value = size, detail = share), "unstable"
    (value = stability score), "low_fidelity" (value = fidelity %), "driver_disagreement"
    (detail = columns the two rankings disagree on).
    """

    kind: str
    value: str
    detail: str


@dataclass(frozen=True)
class CardContext:
    """Everything ``card.md.j2`` and ``card.html.j2`` show for one segment."""

    anchor: str  # HTML id, never built from table text
    name: str
    is_noise: bool
    size: str
    share: str
    stability: str
    traits: tuple[TraitRow, ...]
    mix: tuple[MixRow, ...]
    drivers: tuple[DriverBar, ...]
    fidelity: str
    actions: tuple[ActionRow, ...]
    caveats: tuple[CaveatRow, ...]
    name_basis: tuple[str, ...]  # "Affluent: income 74,140 vs 52,247 on average" for each name word
    outcomes: tuple[TraitRow, ...]  # label/outcome columns (not used to build segments), per segment


@dataclass(frozen=True)
class SegmentRow:
    """One row of the overview table."""

    anchor: str
    name: str
    is_noise: bool
    size: str
    share: str
    traits: tuple[TraitRow, ...]


@dataclass(frozen=True)
class ExcludedRow:
    column: str
    reason: str


@dataclass(frozen=True)
class OverviewContext:
    """The run at a glance; bands ("strong", "high", ...) are worded by the templates."""

    n_customers: str
    n_segments: str
    n_features: str
    algorithm: str  # "kmeans", "hdbscan", "gmm", "agglomerative"
    silhouette: str
    silhouette_band: str  # strong / reasonable / weak / overlapping / unknown
    has_noise: bool
    noise_count: str
    noise_share: str
    stability: str
    stability_band: str  # high / moderate / low / unknown
    fidelity: str
    fidelity_low: bool
    segments: tuple[SegmentRow, ...]
    excluded: tuple[ExcludedRow, ...]
    k_choice: KChoice | None = None


@dataclass(frozen=True)
class KChoice:
    """Why this number of segments (from ``report.params["k_choice"]``, see :mod:`segmenter.kchoice`)."""

    basis: str  # fixed / useful / useful_any_size / stable / separation / only_two
    k: str
    silhouette: str
    lo: str
    hi: str
    best: str  # the best-separated number of segments, when it is not k
    runners_up: tuple  # ({"k": "5", "silhouette": "0.31"}, ...)


def k_choice(report) -> KChoice | None:
    """The k-choice context of a run chosen over a curve of k (None for HDBSCAN or no curve)."""
    why = (report.params or {}).get("k_choice") or {}
    if not why.get("basis"):
        return None
    point = why.get("point") or {}
    lo, hi = why.get("share_bounds") or (0.03, 0.4)
    runners = tuple({"k": fmt_count(r["k"]), "silhouette": fmt_score(r["silhouette"])}
                    for r in why.get("runners_up") or [] if r.get("silhouette") is not None)
    best = why.get("best_separated")
    return KChoice(str(why["basis"]), fmt_count(why.get("k") or len(report.real_segments)),
                   fmt_score(point["silhouette"]) if point.get("silhouette") is not None else "",
                   fmt_pct(lo), fmt_pct(hi), fmt_count(best) if best else "", runners)


def k_choice_text(report) -> str:
    """:func:`k_choice` in one plain sentence ('' when k was not chosen over a curve)."""
    k = k_choice(report)
    return environment().get_template("_k_choice.j2").render(k=k).strip() if k is not None else ""


@dataclass(frozen=True)
class PageContext:
    """``personas.md.j2`` / ``personas.html.j2``: the overview plus the rendered cards."""

    overview: OverviewContext
    cards: tuple[str, ...]


# ------------------------------------------------------------------ builders
def _anchor(segment) -> str:
    return "segment-unassigned" if segment.is_noise else f"segment-{int(segment.id)}"


def _effects(segment) -> dict:
    """|effect size| per column (the strongest level of a categorical)."""
    out: dict = {}
    for d in segment.distinguishing:
        out[d["feature"]] = max(out.get(d["feature"], 0.0), abs(d.get("effect_size") or 0.0))
    return out


def _trait_refs(segment) -> list[tuple[str, str | None, str]]:
    """(feature, level, source) of the card's traits: drivers first, then effect sizes; never a
    column whose numbers barely differ (|effect| below TRAIT_EFFECT)."""
    effects = _effects(segment)
    refs: list[tuple[str, str | None, str]] = []
    for d in segment.drivers:
        if len(refs) == MAX_TRAITS or (d.get("importance") or 0.0) < TRAIT_MIN_IMPORTANCE:
            break
        if d["feature"] not in {r[0] for r in refs} and effects.get(d["feature"], 0.0) >= TRAIT_EFFECT:
            refs.append((d["feature"], d.get("level"), "driver"))
    for d in segment.distinguishing:
        effect = abs(d.get("effect_size") or 0.0)
        wanted = FILL_EFFECT if len(refs) < MIN_TRAITS else LARGE_EFFECT
        if len(refs) >= MAX_TRAITS or effect < FILL_EFFECT:
            break
        if effect >= wanted and d["feature"] not in {r[0] for r in refs}:
            refs.append((d["feature"], d.get("level"), "difference"))
    return refs


def card_traits(report, segment) -> tuple[TraitRow, ...]:
    """The 3-5 defining traits of a segment (none for the Unassigned group)."""
    if segment.is_noise:
        return ()
    rows = (trait_row(report, segment, f, level, source) for f, level, source in _trait_refs(segment))
    return tuple(r for r in rows if r is not None)


def _mix(report, segment, used: set) -> tuple[MixRow, ...]:
    categorical = [f for f in report.features
                   if report.feature_types.get(f) == "categorical" and segment.categorical.get(f)]
    columns = [f for f in categorical if is_about_people(report, f)]
    if not columns:  # no demographic-looking column: the most over-represented others
        def top_lift(f: str) -> float:
            return max(segment.categorical_lift.get(f, {}).values(), default=0.0)
        columns = sorted((f for f in categorical if f not in used), key=lambda f: (-top_lift(f), f))
    overall = report.overall.get("categorical") or {}
    rows = []
    for f in columns[:MAX_MIX_COLUMNS]:
        shares = segment.categorical[f]
        levels = sorted(shares, key=lambda lv: (-shares[lv], lv))[:MAX_MIX_LEVELS]
        rows.append(MixRow(label(report, f), tuple(
            MixLevel(str(lv), fmt_pct(shares[lv]), fmt_pct((overall.get(f) or {}).get(lv)),
                     f"{100 * shares[lv]:.1f}") for lv in levels)))
    return tuple(rows)


def _drivers(report, segment) -> tuple[DriverBar, ...]:
    bars = [d for d in segment.drivers if d.get("importance") is not None][:MAX_DRIVER_BARS]
    top = max((d["importance"] for d in bars), default=0.0)
    return tuple(DriverBar(label(report, d["feature"]),
                           str(d.get("level") or ""), str(d.get("direction") or ""),
                           fmt_pct(d["importance"]),
                           f"{100 * d['importance'] / top:.1f}" if top > 0 else "0")
                 for d in bars)


def _fidelity(report) -> float | None:
    value = (report.explanation or {}).get("surrogate_fidelity")
    return None if value is None else float(value)


def _fidelity_low(report) -> bool:
    value = _fidelity(report)
    return bool((report.explanation or {}).get("low_fidelity")) or (value is not None and value < LOW_FIDELITY)


def _caveats(report, segment) -> tuple[CaveatRow, ...]:
    out = []
    if segment.is_noise:
        out.append(CaveatRow("noise", fmt_pct(segment.share), ""))
    if FLAG_SMALL in segment.flags:
        out.append(CaveatRow("small", fmt_count(segment.size), fmt_pct(segment.share)))
    if not segment.is_noise and segment.share > LARGE_SEGMENT_SHARE:
        out.append(CaveatRow("large", fmt_pct(segment.share), ""))
    if FLAG_UNSTABLE in segment.flags or (segment.stability is not None and segment.stability < UNSTABLE_STABILITY):
        out.append(CaveatRow("unstable", fmt_score(segment.stability), ""))
    if _fidelity_low(report):
        out.append(CaveatRow("low_fidelity", fmt_pct(_fidelity(report)), ""))
    if FLAG_DRIVER_DISAGREEMENT in segment.flags:
        disagreements = (report.explanation or {}).get("disagreements") or []
        columns = []
        for d in disagreements:
            if d.get("segment") == segment.id and d.get("feature") not in columns:
                columns.append(d.get("feature"))
        labels = [label(report, c) for c in columns]
        out.append(CaveatRow("driver_disagreement", "", ", ".join(labels)))
    return tuple(out)


def _outcome_level(segment, column: str) -> str | None:
    """'yes' of a yes/no outcome (the share that responded, churned ...); else its most over-represented level."""
    levels = set((segment.profile.get(column) or {}))
    return "yes" if levels and levels <= {"yes", "no"} else None


def build_card(report, segment_id: int) -> CardContext:
    """The context of one persona card, from the report only."""
    segment = report.segment(segment_id)
    traits = card_traits(report, segment)
    fidelity = _fidelity(report)
    actions = tuple(ActionRow(a.text, a.because) for a in suggest_actions(report, segment_id))
    basis = []
    for t in segment.name_traits:
        row = trait_row(report, segment, t["feature"], t.get("level"))
        if row is not None:
            basis.append(f"{t['word']}: {trait_text(row)}")
    outcomes = tuple(r for r in (trait_row(report, segment, c, _outcome_level(segment, c))
                                 for c in report.profile_columns or []) if r)
    return CardContext(
        anchor=_anchor(segment), name=segment.name, is_noise=segment.is_noise,
        size=fmt_count(segment.size), share=fmt_pct(segment.share),
        stability="" if segment.stability is None else fmt_score(segment.stability),
        traits=traits, mix=() if segment.is_noise else _mix(report, segment, {t.label for t in traits}),
        drivers=_drivers(report, segment), fidelity="" if fidelity is None else fmt_pct(fidelity),
        actions=actions, caveats=_caveats(report, segment), name_basis=tuple(basis), outcomes=outcomes)


def build_overview(report) -> OverviewContext:
    """The context of the overview (run summary and segment table), from the report only."""
    metrics = report.metrics or {}
    noise = [s for s in report.segments if s.is_noise]
    stability = metrics.get("stability_ari")
    fidelity = _fidelity(report)
    rows = tuple(SegmentRow(_anchor(s), s.name, s.is_noise, fmt_count(s.size), fmt_pct(s.share),
                            card_traits(report, s)[:3]) for s in report.segments)
    return OverviewContext(
        n_customers=fmt_count(report.n_rows), n_segments=fmt_count(len(report.real_segments)),
        n_features=fmt_count(len(report.features)), algorithm=str(report.algorithm),
        silhouette=fmt_score(metrics.get("silhouette")),
        silhouette_band=band(metrics.get("silhouette"), SILHOUETTE_BANDS),
        has_noise=bool(noise), noise_count=fmt_count(sum(s.size for s in noise)),
        noise_share=fmt_pct(metrics.get("noise_fraction") or 0.0),
        stability="" if stability is None else fmt_score(stability),
        stability_band=band(stability, STABILITY_BANDS),
        fidelity="" if fidelity is None else fmt_pct(fidelity), fidelity_low=_fidelity_low(report),
        segments=rows,
        excluded=tuple(ExcludedRow(str(e.get("column", "")), str(e.get("reason", "")))
                       for e in report.excluded_columns),
        k_choice=k_choice(report))


# ----------------------------------------------------------------- rendering
def _context(ctx) -> dict:
    return {f.name: getattr(ctx, f.name) for f in fields(ctx)}


def _ids(report) -> list[int]:
    return [s.id for s in report.segments]


def render_card_markdown(report, segment_id: int) -> str:
    """One persona card as Markdown."""
    return environment(markdown=True).get_template("card.md.j2").render(
        _context(build_card(report, segment_id)))


def render_card_html(report, segment_id: int) -> str:
    """One persona card as a self-contained HTML fragment (its own ``<style>``), for the app."""
    env = environment()
    style = env.get_template("_style.html.j2").render()
    card = env.get_template("card.html.j2").render(_context(build_card(report, segment_id)))
    return style + card


def render_markdown(report) -> str:
    """Overview and every persona card as one Markdown document."""
    env = environment(markdown=True)
    card = env.get_template("card.md.j2")
    cards = tuple(MarkdownSafe(card.render(_context(build_card(report, i)))) for i in _ids(report))
    return env.get_template("personas.md.j2").render(
        _context(PageContext(build_overview(report), cards)))


def render_html(report) -> str:
    """Overview and every persona card as one self-contained HTML document (opens offline)."""
    env = environment()
    card = env.get_template("card.html.j2")
    cards = tuple(Markup(card.render(_context(build_card(report, i)))) for i in _ids(report))
    return env.get_template("personas.html.j2").render(
        _context(PageContext(build_overview(report), cards)))


def write_cards(report, out_dir: str | Path) -> list[Path]:
    """Write ``personas.html`` and ``personas.md`` into ``out_dir``; return their paths.

    No PDF: no well-kept HTML-to-PDF library is installed (print the HTML file instead).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / HTML_FILE, out / MD_FILE
    html_path.write_text(render_html(report), encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return [html_path, md_path]


__all__ = ["CardContext", "OverviewContext", "PageContext", "SegmentRow", "ExcludedRow", "MixRow",
           "MixLevel", "DriverBar", "ActionRow", "CaveatRow", "TraitRow", "build_card",
           "build_overview", "card_traits", "render_card_markdown", "render_card_html",
           "render_markdown", "render_html", "write_cards", "environment"]
