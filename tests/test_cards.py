"""Persona cards: traceable numbers, declared template contexts, hostile table text."""
from __future__ import annotations

import bisect
import dataclasses
import html
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from jinja2 import meta, nodes

from explainers import cards
from explainers.cards import (CardContext, PageContext, build_card, build_overview, render_card_html,
                              render_card_markdown, render_html, render_markdown, write_cards)
from explainers.format import feature_label, humanize, md_escape
from explainers.naming import name_segments
from explainers.plots import PlotsPage
from segmenter.model import CustomerSegmenter

from conftest import _explained


@pytest.fixture(scope="module", params=["kmeans", "hdbscan"])
def report(request):
    return request.getfixturevalue(f"{request.param}_report")


# ------------------------------------------------------------ traceability helpers
class _Text(HTMLParser):
    """Text content of an HTML page, without <style>/<script> bodies."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")
        self.parts.append(" ")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "".join(parser.parts)


def data_strings(report) -> list[str]:
    """Every piece of table text a card may show, longest first."""
    texts = set(report.names.values())
    for f in report.features:
        texts |= {f, humanize(f), feature_label(f, report.feature_types[f])}
        if report.meaning(f) is not None:
            texts.add(report.meaning(f).label)
    for s in report.segments:
        texts |= {t["word"] for t in s.name_traits}
    for levels in (report.overall.get("categorical") or {}).values():
        texts |= set(levels)
    for e in report.excluded_columns:
        texts |= {str(e.get("column")), str(e.get("reason"))}
    return sorted((t for t in texts if t), key=len, reverse=True)


def strip_data(text: str, report, markdown: bool) -> str:
    for t in data_strings(report):
        variants = [md_escape(t), t] if markdown else [t]
        for v in variants:
            text = text.replace(v, " ")
    return text


def _flatten(value, out: list) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _flatten(v, out)
    elif isinstance(value, list):
        out.append(float(len(value)))
        for v in value:
            _flatten(v, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append(float(value))


def allowed_numbers(report) -> tuple[list, list]:
    """(values, ratios): every number in the report (not projection or assignments, so
    the check stays sharp) and the segment-vs-overall ratios a card may show."""
    data = report.to_dict(include_assignments=False)
    data.pop("projection", None)
    values: list = []
    _flatten(data, values)
    ratios = []
    for seg in report.segments:
        for stats in seg.numeric.values():
            if stats.get("mean") and stats.get("overall_mean"):
                ratios += [stats["mean"] / stats["overall_mean"], stats["overall_mean"] / stats["mean"]]
        for f, shares in seg.categorical.items():
            for level, share in shares.items():
                overall = report.overall["categorical"][f].get(level)
                if share and overall:
                    ratios += [share / overall, overall / share]
    return sorted(abs(v) for v in values), sorted(abs(r) for r in ratios)


def _near(sorted_values: list, target: float, tol: float) -> bool:
    i = bisect.bisect_left(sorted_values, target - tol)
    return i < len(sorted_values) and sorted_values[i] <= target + tol


NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(%|x)?")


def untraceable(text: str, report) -> list[str]:
    values, ratios = allowed_numbers(report)
    bad = []
    for match in NUMBER.finditer(text):
        token, suffix = match.group(1), match.group(2)
        number = float(token.replace(",", ""))
        decimals = len(token.split(".")[1]) if "." in token else 0
        tol = 0.5 * 10 ** -decimals + 1e-9
        if suffix == "%":
            ok = _near(values, number / 100, tol / 100) or _near(values, number, tol)
        elif suffix == "x":
            ok = _near(ratios, number, tol)
        else:
            ok = _near(values, number, tol)
        if not ok:
            bad.append(match.group(0))
    return bad


# ------------------------------------------------------------------------ tests
def test_every_number_on_the_cards_comes_from_the_report(report):
    md = strip_data(render_markdown(report), report, markdown=True)
    page = strip_data(html_text(render_html(report)), report, markdown=False)
    assert len(NUMBER.findall(md)) > 50, "the check must see the cards' numbers"
    assert untraceable(md, report) == []
    assert untraceable(page, report) == []


def test_traceability_check_catches_an_invented_number(kmeans_report):
    assert untraceable("spend 98765.4 vs 3.3333x", kmeans_report) == ["98765.4", "3.3333x"]


def test_cards_show_planted_traits_with_numbers(kmeans_report):
    """The big-spender segment's card says spend is several times the average."""
    seg = max(kmeans_report.real_segments,
              key=lambda s: s.numeric["annual_spend"]["effect_size"])
    card = build_card(kmeans_report, seg.id)
    spend = next(t for t in card.traits if t.label == "annual spend")
    stats = seg.numeric["annual_spend"]
    assert spend.direction == "higher" and spend.source == "driver"
    assert spend.value == f"{stats['mean']:,.0f}"
    assert float(spend.ratio.rstrip("x")) == pytest.approx(stats["mean"] / stats["overall_mean"], abs=0.05)
    assert 3 <= len(card.traits) <= 5
    text = render_card_markdown(kmeans_report, seg.id)
    assert f"**annual spend**: {spend.value} vs {spend.overall} on average ({spend.ratio} the average)" in text


def test_units_and_kinds_follow_column_names(kmeans_report):
    by_label = {}
    for seg in kmeans_report.real_segments:
        for t in build_card(kmeans_report, seg.id).traits:
            by_label.setdefault(t.label, t)
    if "days since last order" in by_label:  # the label says the unit: "329 vs 81 on average", never "days days"
        assert by_label["days since last order"].unit == ""
    if "orders per year" in by_label:
        assert by_label["orders per year"].unit == ""
    if "age" in by_label:
        assert by_label["age"].unit == "years"
    for label in ("discount share", "online share"):
        if label in by_label:
            assert by_label[label].kind == "percent" and by_label[label].value.endswith("%")
    if "loyalty member" in by_label:
        assert by_label["loyalty member"].kind == "boolean"
    assert by_label["annual spend"].unit == ""  # money: no currency assumed


def test_noise_card_is_honest(hdbscan_report):
    noise = next(s for s in hdbscan_report.segments if s.is_noise)
    card = build_card(hdbscan_report, noise.id)
    assert card.traits == () and card.mix == () and card.drivers == ()
    assert [c.kind for c in card.caveats][:1] == ["noise"]
    assert len(card.actions) == 1 and "manually" in card.actions[0].text
    text = render_card_markdown(hdbscan_report, noise.id)
    assert "fit no segment well" in text and "What sets them apart" not in text
    page = render_card_html(hdbscan_report, noise.id)
    assert "fit no segment well" in page and "se-noise" in page


def test_renaming_flows_through(kmeans_report):
    renamed = kmeans_report.rename(2, "VIP Fans")
    assert build_card(renamed, 2).name == "VIP Fans"
    assert "## VIP Fans" in render_markdown(renamed)
    assert "<h2>VIP Fans</h2>" in render_html(renamed)
    assert "<h2>VIP Fans</h2>" in render_card_html(renamed, 2)
    assert any(row.name == "VIP Fans" for row in build_overview(renamed).segments)


def test_low_fidelity_caveat(kmeans_report):
    low = kmeans_report.replace(explanation={**kmeans_report.explanation,
                                             "surrogate_fidelity": 0.5, "low_fidelity": True})
    card = build_card(low, 1)
    assert ("low_fidelity", "50%") in [(c.kind, c.value) for c in card.caveats]
    for text in (render_card_markdown(low, 1), render_card_html(low, 1)):
        assert "may not reflect the segments" in text and "50%" in text
    assert build_overview(low).fidelity_low
    assert "low_fidelity" not in [c.kind for c in build_card(kmeans_report, 1).caveats] or \
        kmeans_report.explanation["surrogate_fidelity"] < cards.LOW_FIDELITY


def test_small_unstable_and_disagreement_caveats(kmeans_report):
    changed = kmeans_report.with_segment_updates(
        {1: {"flags": ["small", "driver_disagreement"], "stability": 0.4}}).replace(
        explanation={**kmeans_report.explanation,
                     "disagreements": [{"segment": 1, "feature": "household_size"}]})
    kinds = {c.kind: c for c in build_card(changed, 1).caveats}
    assert {"small", "unstable", "driver_disagreement"} <= set(kinds)
    assert kinds["unstable"].value == "0.40"
    assert kinds["driver_disagreement"].detail == "household size"
    text = render_card_markdown(changed, 1)
    assert "Small segment" in text and "Unstable" in text and "disagree on household size" in text


def test_overview_words_quality(report):
    overview = build_overview(report)
    assert overview.n_segments == str(report.metrics["n_segments"])
    assert overview.silhouette_band in ("strong", "reasonable", "weak", "overlapping")
    assert overview.has_noise == any(s.is_noise for s in report.segments)
    assert len(overview.segments) == len(report.segments)
    md = render_markdown(report)
    assert "## How good is the split?" in md and "| Segment | Customers |" in md
    assert ("fit no segment well and are kept apart" in md) == overview.has_noise


# ------------------------------------------------------- template context keys
def _row_types(cls, seen=None) -> set:
    """Nested context dataclasses reachable from ``cls`` through tuple-of-dataclass fields."""
    seen = set() if seen is None else seen
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    for name in hints:
        for candidate in (cards.TraitRow, cards.MixRow, cards.MixLevel, cards.DriverBar,
                          cards.ActionRow, cards.CaveatRow, cards.SegmentRow, cards.ExcludedRow,
                          cards.OverviewContext):
            if candidate.__name__ in str(hints[name]) and candidate not in seen:
                seen.add(candidate)
                _row_types(candidate, seen)
    return seen


def _template_names(env, name: str) -> tuple[set, set]:
    source = env.loader.get_source(env, name)[0]
    ast = env.parse(source)
    attrs = {n.attr for n in ast.find_all(nodes.Getattr)
             if not (isinstance(n.node, nodes.Name) and n.node.name == "loop")}
    return meta.find_undeclared_variables(ast), attrs


@pytest.mark.parametrize("templates, context", [
    (("card.md.j2",), CardContext), (("card.html.j2",), CardContext),
    (("personas.md.j2",), PageContext), (("personas.html.j2",), PageContext),
    (("plots.html.j2",), PlotsPage), (("_style.html.j2",), None),
])
def test_templates_use_exactly_the_declared_keys(templates, context):
    env = cards.environment()
    for name in templates:
        top, _ = _template_names(env, name)
        declared = {f.name for f in dataclasses.fields(context)} if context else set()
        assert top == declared, f"{name}: uses {sorted(top - declared)}, never uses {sorted(declared - top)}"


#: Row fields only the HTML layout needs (bar widths): Markdown draws no bars.
HTML_ONLY_FIELDS = {"width"}


@pytest.mark.parametrize("family, unused_ok", [
    (("card.md.j2", "personas.md.j2"), HTML_ONLY_FIELDS),
    (("card.html.j2", "personas.html.j2"), set()),
])
def test_row_fields_are_exactly_the_attributes_used(family, unused_ok):
    env = cards.environment()
    used = set().union(*(_template_names(env, name)[1] for name in family))
    rows = _row_types(CardContext) | _row_types(PageContext)
    declared = set().union(*({f.name for f in dataclasses.fields(r)} for r in rows))
    assert used - declared == set(), f"undeclared attributes {sorted(used - declared)}"
    assert declared - used == unused_ok, f"unused fields {sorted(declared - used)}"


def test_environments_are_strict_and_escape_html(kmeans_report):
    env = cards.environment()
    assert env.autoescape("card.html.j2") and not env.autoescape("card.md.j2")
    context = dataclasses.asdict(build_card(kmeans_report, 1))
    context.pop("caveats")
    with pytest.raises(Exception, match="caveats"):
        env.get_template("card.html.j2").render(context)


# --------------------------------------------------------------- hostile text
SCRIPT_COL, BRACES_COL = "<script>alert(1)</script>", "{{ 7*7 }}"
IMG_LEVEL, FORMULA_LEVEL = "<img src=x onerror=alert(1)>", "=cmd()"
NOTES_COL = "<i>notes</i>"


def _hostile_report(script_col: str, braces_col: str):
    rng = np.random.default_rng(0)
    n = 600
    group = rng.random(n) < 0.5
    table = pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(n)],
        script_col: np.where(group, rng.normal(100, 5, n), rng.normal(20, 5, n)).round(1),
        braces_col: np.where(group, rng.normal(5, 1, n), rng.normal(9, 1, n)).round(2),
        "channel": np.where(group, rng.choice([IMG_LEVEL, FORMULA_LEVEL], n, p=[0.8, 0.2]),
                            rng.choice([FORMULA_LEVEL, "web"], n, p=[0.7, 0.3])),
        NOTES_COL: ["same"] * n,  # excluded: one value only
        "mostly_empty": np.where(rng.random(n) < 0.95, np.nan, 1.0),  # excluded: too empty
    })
    model = CustomerSegmenter(algorithm="kmeans", k=2, seed=0, compare=False, stability_runs=0,
                              id_column="customer_id").fit(table)
    return name_segments(_explained(model, table)["report"])


@pytest.fixture(scope="module")
def hostile_report():
    return _hostile_report(SCRIPT_COL, BRACES_COL)


def test_hostile_table_text_is_inert_in_html(hostile_report, tmp_path):
    assert SCRIPT_COL in hostile_report.features and BRACES_COL in hostile_report.features
    page = render_html(hostile_report)
    fragment = render_card_html(hostile_report, 1)
    for text in (page, fragment):
        assert "<script" not in text and "<img" not in text
        assert "script alert script" in text  # the column said in its words, as plain text
        assert BRACES_COL in text  # a name without words is shown literally, never evaluated
    assert html.escape(IMG_LEVEL, quote=False) in page
    assert {e["column"] for e in hostile_report.excluded_columns} == {NOTES_COL, "mostly_empty"}
    assert "<i>" not in page and "<strong>&lt;i&gt;notes&lt;/i&gt;</strong>: " in page
    assert untraceable(strip_data(html_text(page), hostile_report, markdown=False), hostile_report) == []
    benign = render_html(_hostile_report("safe_a", "safe_b"))
    assert page.count("49") == benign.count("49")
    paths = write_cards(hostile_report, tmp_path)
    assert [p.name for p in paths] == ["personas.html", "personas.md"]
    assert "<script" not in paths[0].read_text(encoding="utf-8")


def test_hostile_table_text_is_inert_in_markdown(hostile_report):
    md = render_markdown(hostile_report)
    assert "<script" not in md and "<img" not in md
    assert "script alert script" in md
    assert "=cmd\\(\\)" in md  # a level, shown as text
    assert "## Columns not used" in md and "**&lt;i&gt;notes&lt;/i&gt;**: " in md
    assert untraceable(strip_data(md, hostile_report, markdown=True), hostile_report) == []
    assert "javascript:" not in md
    assert re.findall(r"\]\((?!#segment-(?:\d+|unassigned)\))", md) == []  # only our own anchors link
    renamed = hostile_report.rename(1, "[click](javascript:alert(1)) | *x*")
    md = render_markdown(renamed)
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\) \\| \\*x\\*" in md
    assert "](javascript" not in md
    table = md.split("| Segment | Customers |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    assert len(table) == len(renamed.segments)
    for line in table:  # every row keeps its four cells: pipes in the name are escaped
        assert len(re.findall(r"(?<!\\)\|", line)) == 5, line


def test_markdown_escape():
    assert md_escape("a_b*c`d|e[f](g)<h>&") == "a\\_b\\*c\\`d\\|e\\[f\\]\\(g\\)&lt;h&gt;&amp;"
    assert md_escape("line\nbreak\t# title") == "line break \\# title"


# ------------------------------------------------------------------ the files
def test_write_cards_is_self_contained(hdbscan_report, tmp_path):
    paths = write_cards(hdbscan_report, tmp_path / "run")
    page = paths[0].read_text(encoding="utf-8")
    for forbidden in ("http://", "https://", "<script", "<link", "src=", "javascript:", "@import"):
        assert forbidden not in page
    assert '<meta name="viewport"' in page and "@media" in page
    assert page.count("<article") == len(hdbscan_report.segments)
    md = paths[1].read_text(encoding="utf-8")
    assert md.count("\n## ") >= len(hdbscan_report.segments) + 2
    fragment = render_card_html(hdbscan_report, 1)
    assert fragment.startswith("<style>") and "<html" not in fragment
