"""Plotly figures of a segmentation, built from the report only.

Every figure reads well on a phone: small margins, legends above the plot, hover text
with names. Text from the table (segment names, column names, levels, customer ids) is
escaped with :func:`~explainers.format.plotly_text` because Plotly renders a subset of
HTML in labels, and it only ever reaches hover text through ``text``/``customdata``,
never through a ``hovertemplate`` (where ``%{...}`` would be interpreted).
"""
from __future__ import annotations

from dataclasses import dataclass
import textwrap
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup
from plotly.subplots import make_subplots

from segmenter.errors import ParameterError

from .format import feature_label, fmt_count, fmt_number, fmt_pct, fmt_score, plotly_text
from .templating import environment

PALETTE = ("#2f80ed", "#eb5757", "#27ae60", "#f2994a", "#9b51e0", "#00a3a3", "#d4a017",
           "#e056a0", "#5a6acf", "#8d6e63", "#43aa8b", "#c0392b")
NOISE_COLOUR = "#9aa5b1"
MAX_COMPARED = 12
PLOTS_FILE = "plots.html"
PLOT_CONFIG = {"responsive": True, "displaylogo": False}


@dataclass(frozen=True)
class PlotsPage:
    """Context of ``plots.html.j2``: the figures as HTML ``<div>`` fragments (Markup)."""

    figures: tuple


def segment_colour(segment) -> str:
    """A fixed colour per segment id (grey for Unassigned)."""
    return NOISE_COLOUR if segment.is_noise else PALETTE[(int(segment.id) - 1) % len(PALETTE)]


def _wrap(text: str, width: int = 44) -> str:
    """Plotly never wraps text: break long (already escaped) lines for narrow displays."""
    return "<br>".join(textwrap.wrap(text, width, break_long_words=False)) or text


def _layout(fig: go.Figure, title: str, height: int = 420, subtitle: str = "") -> go.Figure:
    title, subtitle = _wrap(title), _wrap(subtitle, 56) if subtitle else ""
    lines = title.count("<br>") + 1 + (subtitle.count("<br>") + 1 if subtitle else 0)
    fig.update_layout(title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15},
                             "subtitle": {"text": subtitle, "font": {"size": 12}}},
                      template="plotly_white", height=height, autosize=True,
                      margin={"l": 10, "r": 10, "t": 30 + 22 * lines, "b": 40},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0.0},
                      hoverlabel={"namelength": -1}, font={"size": 12})
    return fig


def _message(fig: go.Figure, text: str) -> go.Figure:
    """A figure that explains in words why there is nothing to draw."""
    fig.add_annotation(text=_wrap(text), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 13})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _fidelity_text(report) -> str:
    value = (report.explanation or {}).get("surrogate_fidelity")
    return "fidelity not measured" if value is None else f"explanation fidelity {fmt_pct(value)}"


def sizes_figure(report) -> go.Figure:
    """Customers per segment (Unassigned included, in grey), one bar per segment."""
    segs = list(report.segments)
    fig = go.Figure(go.Bar(
        x=[s.size for s in segs], y=[plotly_text(s.name) for s in segs], orientation="h",
        marker_color=[segment_colour(s) for s in segs],
        text=[f"{fmt_count(s.size)} ({fmt_pct(s.share)})" for s in segs], textposition="auto",
        customdata=[fmt_pct(s.share) for s in segs],
        hovertemplate="%{y}<br>%{x:,} customers, %{customdata} of all<extra></extra>"))
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_xaxes(title_text="customers")
    return _layout(fig, "Segment sizes", height=max(260, 60 + 36 * len(segs)))


def drivers_figure(report, segment_id: int) -> go.Figure:
    """SHAP driver bars of one segment: each column's share of the segment's explanation."""
    seg = report.segment(segment_id)
    fig = go.Figure()
    _layout(fig, f"What drives {plotly_text(seg.name)}",
            subtitle=f"SHAP share of the explanation; {_fidelity_text(report)}")
    if seg.is_noise:
        return _message(fig, "Unassigned customers fit no segment, so they have no drivers.")
    if not seg.drivers:
        return _message(fig, "Drivers have not been computed for this run.")
    drivers = [d for d in seg.drivers if d.get("importance") is not None]
    labels = []
    for d in drivers:
        label = feature_label(d["feature"], report.feature_types.get(d["feature"], "numeric"))
        labels.append(plotly_text(f"{label}: {d['level']}" if d.get("level") else label))
    higher = [d.get("direction") == "higher" for d in drivers]
    fig.add_trace(go.Bar(
        x=[100 * d["importance"] for d in drivers], y=labels, orientation="h",
        marker_color=[PALETTE[0] if h else PALETTE[1] for h in higher],
        customdata=[("higher" if h else "lower") for h in higher],
        text=[fmt_pct(d["importance"]) for d in drivers], textposition="auto",
        hovertemplate="%{y}: %{customdata} in this segment<br>%{x:.0f}% of the explanation"
                      "<extra></extra>"))
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_xaxes(title_text="share of the explanation (%)")
    fig.update_layout(height=max(260, 90 + 34 * len(drivers)))
    return fig


def _comparison_rows(report, seg, features: list | None) -> list[dict]:
    wanted = list(report.features) if features is None else list(features)
    unknown = [f for f in wanted if f not in report.feature_types]
    if unknown:
        raise ParameterError(f"Cannot compare on {', '.join(map(repr, unknown))}: the segmented "
                             f"columns are {', '.join(report.features)}.")
    levels = {d["feature"]: d.get("level") for d in seg.distinguishing if d.get("level") is not None}
    effects = {(d["feature"], d.get("level")): d["effect_size"] for d in seg.distinguishing}
    rows = []
    for f in wanted:
        kind = report.feature_types[f]
        if kind == "categorical":
            level = levels.get(f)
            effect = effects.get((f, level))
            share = (seg.categorical.get(f) or {}).get(level)
            overall = ((report.overall.get("categorical") or {}).get(f) or {}).get(level)
            if effect is None or share is None:
                continue
            rows.append({"label": f"{feature_label(f, kind)}: {level}", "effect": effect,
                         "hover": f"{fmt_pct(share)} vs {fmt_pct(overall)} overall"})
            continue
        stats = seg.numeric.get(f) or {}
        if stats.get("effect_size") is None:
            continue
        fmt = fmt_pct if kind == "boolean" else fmt_number
        rows.append({"label": feature_label(f, kind), "effect": stats["effect_size"],
                     "hover": f"{fmt(stats.get('mean'))} vs {fmt(stats.get('overall_mean'))} overall"})
    rows.sort(key=lambda r: -abs(r["effect"]))
    return rows if features is not None else rows[:MAX_COMPARED]


def comparison_figure(report, segment_id: int, features: list | None = None) -> go.Figure:
    """Segment vs everybody, standardised: effect size (Cohen's d) per column.

    ``features`` limits the columns (default: the most different ones). Categorical
    columns show their most over-represented level. Hover gives the plain numbers.
    """
    seg = report.segment(segment_id)
    rows = _comparison_rows(report, seg, features)
    fig = go.Figure()
    _layout(fig, f"{plotly_text(seg.name)} compared with everybody",
            subtitle="standardised difference (Cohen's d) per column")
    if not rows:
        return _message(fig, "There are no columns to compare.")
    fig.add_trace(go.Bar(
        x=[r["effect"] for r in rows], y=[plotly_text(r["label"]) for r in rows], orientation="h",
        marker_color=[PALETTE[0] if r["effect"] >= 0 else PALETTE[1] for r in rows],
        customdata=[plotly_text(r["hover"]) for r in rows],
        hovertemplate="%{y}<br>%{customdata}<br>difference %{x:.2f} standard deviations"
                      "<extra></extra>"))
    fig.add_vline(x=0, line_width=1, line_color="#52606d")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_xaxes(title_text="lower  ←  standard deviations from the rest  →  higher")
    fig.update_layout(height=max(260, 90 + 30 * len(rows)))
    return fig


def map_figure(report) -> go.Figure:
    """The customers on a 2-D map (PCA or UMAP of the segmented features), coloured by segment."""
    proj = report.projection or {}
    xs, ys = list(proj.get("x") or []), list(proj.get("y") or [])
    fig = go.Figure()
    variance = list(proj.get("explained_variance") or [])
    umap = proj.get("method") == "umap"
    _layout(fig, "Map of customers", height=560,
            subtitle=("similar customers sit close together (UMAP: distances between groups mean little)"
                      if umap else "similar customers sit close together"))
    if not xs:
        return _message(fig, "This run has no map of customers.")
    segment_of = list(proj.get("segment") or [])
    ids = list(proj.get("id") or [""] * len(xs))
    by_id = {s.id: s for s in report.segments}
    for seg in report.segments:
        rows = [i for i, s in enumerate(segment_of) if s == seg.id]
        if not rows:
            continue
        name = plotly_text(seg.name)
        fig.add_trace(go.Scatter(
            x=[xs[i] for i in rows], y=[ys[i] for i in rows], mode="markers", name=name,
            marker={"color": segment_colour(seg), "size": 5, "opacity": 0.45 if seg.is_noise else 0.75},
            text=[f"{plotly_text(ids[i])}<br>{name}" for i in rows],
            hovertemplate="%{text}<extra></extra>"))
    stray = [i for i, s in enumerate(segment_of) if s not in by_id]
    if stray:  # points whose segment is not in the report: shown, never dropped
        fig.add_trace(go.Scatter(x=[xs[i] for i in stray], y=[ys[i] for i in stray], mode="markers",
                                 name="other", marker={"color": NOISE_COLOUR, "size": 5},
                                 text=[plotly_text(ids[i]) for i in stray],
                                 hovertemplate="%{text}<extra></extra>"))
    axis = ["first", "second"]
    for n, update in enumerate((fig.update_xaxes, fig.update_yaxes)):
        share = f" ({fmt_pct(variance[n])} of the variation)" if n < len(variance) else ""
        method = " (UMAP)" if umap else ""
        update(title_text=f"{axis[n]} map direction{share}{method}", zeroline=False)
    return fig


def k_curve_figure(report) -> go.Figure:
    """How k was chosen: silhouette (higher is better) and inertia/BIC per k, chosen k marked."""
    curve = [p for p in (report.k_curve or []) if p.get("k") is not None]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    _layout(fig, "Choosing the number of segments",
            subtitle="higher silhouette = better separated segments")
    if not curve:
        return _message(fig, "The number of segments was not chosen by trying several values "
                             "(it was fixed, or the algorithm found it by itself).")
    ks = [p["k"] for p in curve]
    fig.add_trace(go.Scatter(x=ks, y=[p.get("silhouette") for p in curve], mode="lines+markers",
                             name="silhouette (higher = better separated)",
                             line={"color": PALETTE[0]}), secondary_y=False)
    second = "inertia" if any(p.get("inertia") is not None for p in curve) else (
        "bic" if any(p.get("bic") is not None for p in curve) else None)
    if second:
        label = "inertia (elbow)" if second == "inertia" else "BIC (lower = better)"
        fig.add_trace(go.Scatter(x=ks, y=[p.get(second) for p in curve], mode="lines+markers",
                                 name=label, line={"color": PALETTE[1], "dash": "dot"}),
                      secondary_y=True)
        fig.update_yaxes(title_text=label, secondary_y=True, showgrid=False)
    chosen = (report.params or {}).get("k")
    if chosen is not None:
        fig.add_vline(x=chosen, line_dash="dash", line_color="#52606d",
                      annotation_text=f"chosen: {chosen}", annotation_position="top")
    fig.update_xaxes(title_text="number of segments (k)", dtick=1)
    fig.update_yaxes(title_text="silhouette", secondary_y=False)
    return fig


def tree_figure(report) -> go.Figure:
    """HDBSCAN: persistence of each segment, and the condensed cluster tree as an icicle."""
    segs = [s for s in report.real_segments if s.persistence is not None]
    tree = list(report.cluster_tree or [])
    if not segs and not tree:
        fig = _layout(go.Figure(), "Segment persistence")
        return _message(fig, "The cluster tree is only available for HDBSCAN segmentations.")
    fig = make_subplots(rows=2 if tree else 1, cols=1, vertical_spacing=0.08,
                        row_heights=[0.45, 0.55] if tree else None,
                        specs=[[{"type": "xy"}]] + ([[{"type": "domain"}]] if tree else []))
    _layout(fig, "How HDBSCAN found the segments", height=(360 + 28 * len(segs)) if tree else
            (140 + 34 * len(segs)),
            subtitle="bars: persistence, how long each segment holds together (longer = more "
                     "distinct)" + ("; blocks: the cluster tree, each block splits into the "
                                    "blocks below it" if tree else ""))
    if segs:
        fig.add_trace(go.Bar(y=[plotly_text(s.name) for s in segs], x=[s.persistence for s in segs],
                             orientation="h", marker_color=[segment_colour(s) for s in segs],
                             text=[fmt_score(s.persistence) for s in segs], textposition="auto",
                             hovertemplate="%{y}<br>persistence %{x:.2f}<extra></extra>",
                             showlegend=False), row=1, col=1)
        fig.update_yaxes(type="category", autorange="reversed", automargin=True, row=1, col=1)
    if tree:
        children = {int(r["child"]) for r in tree}
        roots = sorted({int(r["parent"]) for r in tree} - children)
        root_size = {p: sum(int(r["size"]) for r in tree if int(r["parent"]) == p) for p in roots}
        ids = [str(p) for p in roots] + [str(int(r["child"])) for r in tree]
        parents = [""] * len(roots) + [str(int(r["parent"])) for r in tree]
        values = [root_size[p] for p in roots] + [int(r["size"]) for r in tree]
        hover = ["all customers"] * len(roots) + [
            f"{fmt_count(r['size'])} customers, split at density {fmt_score(r['lambda'])}" for r in tree]
        fig.add_trace(go.Icicle(ids=ids, parents=parents, values=values, branchvalues="total",
                                labels=[fmt_count(v) for v in values], customdata=hover,
                                hovertemplate="%{customdata}<extra></extra>",
                                tiling={"orientation": "v"}), row=2, col=1)
    return fig


def all_figures(report) -> list[tuple[str, go.Figure]]:
    """(key, figure) for the overview and every real segment; views a run lacks are left out."""
    out = [("sizes", sizes_figure(report)), ("map", map_figure(report))]
    if report.k_curve:
        out.append(("k_curve", k_curve_figure(report)))
    if report.cluster_tree or any(s.persistence is not None for s in report.real_segments):
        out.append(("tree", tree_figure(report)))
    for seg in report.real_segments:
        out.append((f"drivers-{seg.id}", drivers_figure(report, seg.id)))
        out.append((f"comparison-{seg.id}", comparison_figure(report, seg.id)))
    return out


def save_figures(report, out_dir: str | Path) -> list[Path]:
    """Write every figure into one offline ``plots.html`` (plotly.js inlined once)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    divs = []
    for n, (key, fig) in enumerate(all_figures(report)):
        divs.append(Markup(pio.to_html(fig, include_plotlyjs=(n == 0), full_html=False,
                                       config=PLOT_CONFIG, div_id=f"plot-{key}")))
    path = out / PLOTS_FILE
    path.write_text(environment().get_template("plots.html.j2").render(figures=PlotsPage(tuple(divs)).figures), encoding="utf-8")
    return [path]


__all__ = ["sizes_figure", "drivers_figure", "comparison_figure", "map_figure", "k_curve_figure",
           "tree_figure", "all_figures", "save_figures", "segment_colour", "PlotsPage"]
