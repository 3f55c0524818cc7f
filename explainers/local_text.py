"""One customer's explanation in plain Markdown, rendered from ``local_explanation.md.j2``.

Python formats every number (:func:`explainers.format.fmt_number`, as everywhere else); the
template holds the wording. Table
text (ids, names, levels) is passed to the template as data, never as template source.
The output is Markdown shown as text, so HTML autoescaping is off for this template.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from segmenter.constants import LOW_FIDELITY
from segmenter.report import SegmentationReport

from .drivers import LocalExplanation
from .format import fmt_pct, label, unit_words, value_text
from .templating import environment

TEMPLATE = "local_explanation.md.j2"


@dataclass(frozen=True)
class ContributionRow:
    """One column of the customer, formatted for the template."""

    label: str  # the column in plain words
    is_level: bool  # categorical: value and typicals are levels, not numbers
    value: str
    segment_typical: str
    overall_typical: str
    unit: str  # "days", "years", ... or ""
    towards: bool  # pulls the customer towards the explained segment


@dataclass(frozen=True)
class LocalTextContext:
    """Everything ``local_explanation.md.j2`` reads (and nothing else)."""

    customer_id: str
    segment_name: str
    is_noise: bool
    target_name: str  # segment the contributions point to (nearest one for Unassigned)
    membership: str  # "" when unknown
    rows: tuple  # ContributionRow, strongest first
    low_fidelity: bool
    fidelity: str
    fidelity_threshold: str


def _value_text(report, feature: str, value, kind: str) -> str:
    """A customer's (or a typical) value, formatted as everywhere else ('23%', '$61k', '1966')."""
    if value is None:
        return "missing"
    if kind == "boolean":
        return "yes" if float(value) >= 0.5 else "no"
    if isinstance(value, str):
        return value
    return value_text(report, feature, float(value))


def build_context(report: SegmentationReport, local: LocalExplanation) -> LocalTextContext:
    """The template context of one local explanation (formatting happens here)."""
    rows = []
    for c in local.contributions:
        feature = c["feature"]
        kind = report.feature_types.get(feature, "numeric")
        unit = unit_words(report, feature) if kind in ("numeric", "datetime") else ""
        rows.append(ContributionRow(
            label=label(report, feature), is_level=kind == "categorical",
            value=_value_text(report, feature, c["value"], kind),
            segment_typical=_value_text(report, feature, c["segment_typical"], kind),
            overall_typical=_value_text(report, feature, c["overall_typical"], kind), unit=unit,
            towards=c["shap"] > 0))
    return LocalTextContext(
        customer_id=str(local.customer_id), segment_name=local.segment_name, is_noise=local.is_noise,
        target_name=local.explained_segment_name,
        membership="" if local.probability is None or local.is_noise else fmt_pct(local.probability),
        rows=tuple(rows), low_fidelity=local.low_fidelity,
        fidelity="" if local.fidelity is None else fmt_pct(local.fidelity), fidelity_threshold=fmt_pct(LOW_FIDELITY))


def local_explanation_text(report: SegmentationReport, local: LocalExplanation) -> str:
    """Plain-language Markdown saying why one customer is in their segment."""
    context = build_context(report, local)
    fields = {**asdict(context), "rows": list(context.rows)}
    text = environment(markdown=True).get_template(TEMPLATE).render(**fields)
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


__all__ = ["local_explanation_text", "build_context", "LocalTextContext", "ContributionRow"]
