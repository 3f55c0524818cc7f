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

from .format import feature_label, fmt_count, fmt_number, fmt_pct, fmt_score, label, plotly_text
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
                      margin={"l": 10, "r": 10, "t": 30 + 22 * lines + 10 * max(0, lines - 2), "b": 40},
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
    umap, strip = proj.get("method") == "umap", proj.get("method") == "strip"
    _layout(fig, "Map of customers", height=560,
            subtitle=("one usable column, so a strip along it: customers are spread up and down at random "
                      "so that they do not hide each other" if strip else
                      "similar customers sit close together (UMAP: distances between groups mean little)"
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
    if strip:
        column = report.features[0] if report.features else "the column"
        fig.update_xaxes(title_text=f"{_column_label(report, column)} (scaled)", zeroline=False)
        fig.update_yaxes(visible=False)
        return fig
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
    fixed = ((report.params or {}).get("k_choice") or {}).get("basis") == "fixed"
    if chosen is not None:
        fig.add_vline(x=chosen, line_dash="dash", line_color="#52606d",
                      annotation_text=f"{'your choice' if fixed else 'chosen'}: {chosen}",
                      annotation_position="top")
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


# ------------------------------------------------------------------ analyst views
#: Columns drawn in the small multiples of the data overview; boxes per row of that grid.
MAX_DISTRIBUTIONS = 12
GRID_COLUMNS = 3
#: Effect sizes beyond this many standard deviations get the strongest colour.
HEATMAP_CAP = 2.0
SMALL_COLOUR = "#cbd2d9"
DIVERGING = [[0.0, PALETTE[1]], [0.5, "#f7f7f7"], [1.0, PALETTE[0]]]
#: Algorithm names in the comparison table (the app words them the same way).
ALGORITHM_LABELS = {"kmeans": "K-Means", "hdbscan": "HDBSCAN", "gmm": "Gaussian mixture",
                    "agglomerative": "agglomerative (Ward)"}
UNASSIGNED_NOTE = ("Silhouette, Davies-Bouldin and Calinski-Harabasz are measured on the customers given a "
                   "segment: HDBSCAN's Unassigned are left out.")


def _views(report) -> dict:
    return report.views or {}


def _short(text: str, width: int = 28) -> str:
    """A label short enough for a tick or subplot title (already escaped text stays escaped)."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _column_label(report, column: str, level: str | None = None) -> str:
    text = label(report, column)
    return plotly_text(f"{text}: {level}" if level is not None else text)


def _capped(shown: int, total: int, what: str) -> str:
    return f"the {shown} of {total} {what} that differ most between segments" if total > shown else ""


def _small_note(report, ids: list) -> str:
    names = [plotly_text(report.segment(i).name) for i in ids if any(s.id == i for s in report.segments)]
    return (f"left out, fewer than 5 customers: {', '.join(names)}" if names else "")


def distributions_figure(report, limit: int = MAX_DISTRIBUTIONS) -> go.Figure:
    """The data overview: one small chart per column over the whole table (histogram for numbers
    and dates, level shares for categories and yes/no columns); bars standing for fewer than
    5 customers are grey and their count is not shown."""
    views = _views(report)
    columns = list(views.get("columns") or [])[:limit]
    total = int(views.get("columns_of") or len(columns))
    if not columns:
        fig = _layout(go.Figure(), "Distribution of each column")
        return _message(fig, "This run has no column distributions (it was made by an older version).")
    rows = -(-len(columns) // GRID_COLUMNS)
    titles = [_short(_column_label(report, c["column"])) for c in columns]
    fig = make_subplots(rows=rows, cols=GRID_COLUMNS, subplot_titles=titles,
                        vertical_spacing=min(0.12, 0.6 / rows), horizontal_spacing=0.06)
    capped = _capped(len(columns), total, "columns")
    _layout(fig, "Distribution of each column" + (f" ({len(columns)} of {total})" if capped else ""),
            height=80 + 210 * rows,
            subtitle=(capped + "; " if capped else "all customers; ") +
                     "grey bars stand for fewer than 5 customers")
    for n, col in enumerate(columns):
        r, c = n // GRID_COLUMNS + 1, n % GRID_COLUMNS + 1
        name = _column_label(report, col["column"])
        if "levels" in col:
            levels = col["levels"]
            xs = [_short(plotly_text(lv["level"]), 16) for lv in levels]
            ys = [100 * lv["share"] if lv["share"] is not None else 0.0 for lv in levels]
            hover = [f"{name}<br>{plotly_text(lv['level'])}: " + (
                f"{fmt_pct(lv['share'])} ({fmt_count(lv['count'])} customers)" if lv["share"] is not None
                else "fewer than 5 customers (or all but fewer than 5)") for lv in levels]
            fig.add_trace(go.Bar(x=list(range(len(levels))), y=ys, text=hover, textposition="none",
                                 marker_color=[SMALL_COLOUR if lv["small"] else PALETTE[0] for lv in levels],
                                 hovertemplate="%{text}<extra></extra>", showlegend=False), row=r, col=c)
            fig.update_xaxes(tickvals=list(range(len(levels))), ticktext=xs, row=r, col=c)
            fig.update_yaxes(ticksuffix="%", row=r, col=c)
            continue
        edges, bars = col.get("edges") or [], col.get("bars") or []
        if not bars:
            continue
        mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
        widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
        peak = max([b["count"] or 0 for b in bars] + [1])
        ys = [b["count"] if b["count"] is not None else peak * 0.03 for b in bars]
        hover = [f"{name}<br>{fmt_number(a)} to {fmt_number(b_)}: " + (
            f"{fmt_count(bar['count'])} customers" if bar["count"] is not None else "fewer than 5 customers")
            for a, b_, bar in zip(edges[:-1], edges[1:], bars)]
        if col.get("clipped"):
            hover = [h + ("<br>(values beyond this end are counted here)" if i in (0, len(bars) - 1) else "")
                     for i, h in enumerate(hover)]
        fig.add_trace(go.Bar(x=mids, y=ys, width=widths, text=hover, textposition="none",
                             marker_color=[SMALL_COLOUR if b["small"] else PALETTE[0] for b in bars],
                             marker_line_width=0, hovertemplate="%{text}<extra></extra>", showlegend=False),
                      row=r, col=c)
    fig.update_annotations(font_size=11)
    fig.update_layout(bargap=0.05, margin={"t": fig.layout.margin.t + 34})  # room for the first row's titles
    return fig


def correlation_figure(report) -> go.Figure:
    """Rank correlation between the numeric columns (the most different between segments first)."""
    corr = _views(report).get("correlation") or {}
    columns, values = list(corr.get("columns") or []), list(corr.get("values") or [])
    total = int(corr.get("of") or len(columns))
    capped = _capped(len(columns), total, "numeric columns")
    fig = go.Figure()
    _layout(fig, "How the columns move together" + (f" ({capped})" if capped else ""),
            height=max(360, 160 + 22 * len(columns)),
            subtitle="rank correlation (Spearman): 1 = rise together, -1 = one rises as the other falls")
    if len(columns) < 2 or not values:
        return _message(fig, "A correlation needs at least two numeric columns; this table has "
                             f"{len(columns)}.")
    labels = [_column_label(report, c) for c in columns]
    hover = [[f"{labels[i]} and {labels[j]}: " + ("n/a" if v is None else f"{v:.2f}")
              for j, v in enumerate(row)] for i, row in enumerate(values)]
    idx = list(range(len(columns)))
    fig.add_trace(go.Heatmap(z=values, x=idx, y=idx, zmin=-1, zmax=1, colorscale=DIVERGING, text=hover,
                             hovertemplate="%{text}<extra></extra>", xgap=1, ygap=1,
                             colorbar={"title": {"text": "r"}, "thickness": 10}))
    ticks = [_short(t, 20) for t in labels]
    fig.update_xaxes(tickvals=idx, ticktext=ticks, tickangle=-45, automargin=True)
    fig.update_yaxes(tickvals=idx, ticktext=ticks, autorange="reversed", automargin=True)
    return fig


def effects_heatmap_figure(report) -> go.Figure:
    """Segment x column heatmap of standardised differences from the rest of the customers."""
    eff = _views(report).get("effects") or {}
    columns, seg_ids = list(eff.get("columns") or []), list(eff.get("segments") or [])
    values, total = list(eff.get("values") or []), int(eff.get("of") or 0)
    omitted = [int(i) for i in eff.get("omitted") or []]
    capped = _capped(len(columns), total, "columns and levels")
    note = _small_note(report, omitted)
    fig = go.Figure()
    _layout(fig, "Every segment against the rest, column by column", height=max(400, 220 + 34 * len(seg_ids)),
            subtitle="; ".join(t for t in ("Cohen's d against the rest: blue = higher, red = lower", capped, note)
                               if t))
    known = {s.id for s in report.segments}
    rows = [i for i, s in enumerate(seg_ids) if s in known]
    if not columns or not rows:
        return _message(fig, "There are no differences to show.")
    col_labels = [_column_label(report, c["feature"], c.get("level")) for c in columns]
    seg_names = [plotly_text(report.segment(seg_ids[i]).name) for i in rows]
    z, text = [], []
    for i, name in zip(rows, seg_names):
        row = values[i]
        z.append([None if v is None else max(-HEATMAP_CAP, min(HEATMAP_CAP, v)) for v in row])
        small = seg_ids[i] in omitted
        text.append([f"{name}<br>{col}: " + ("fewer than 5 customers, not shown" if small else
                                             "n/a" if v is None else f"{v:+.2f} standard deviations")
                     for col, v in zip(col_labels, row)])
    xs, ys = list(range(len(columns))), list(range(len(rows)))
    fig.add_trace(go.Heatmap(z=z, x=xs, y=ys, zmin=-HEATMAP_CAP, zmax=HEATMAP_CAP, colorscale=DIVERGING,
                             text=text, hovertemplate="%{text}<extra></extra>", xgap=1, ygap=1,
                             colorbar={"title": {"text": "d"}, "thickness": 10}))
    fig.update_xaxes(tickvals=xs, ticktext=[_short(c, 24) for c in col_labels], tickangle=-45, automargin=True)
    fig.update_yaxes(tickvals=ys, ticktext=[_short(n, 22) for n in seg_names], autorange="reversed",
                     automargin=True)
    return fig


def segment_boxes_figure(report) -> go.Figure:
    """Per-segment distributions of the columns that differ most: boxes from the stored
    quartiles, whiskers from the 5th to the 95th percentile."""
    q = _views(report).get("quantiles") or {}
    features, per = list(q.get("features") or []), list(q.get("segments") or [])
    note = _small_note(report, [int(i) for i in q.get("omitted") or []])
    known = {s.id: s for s in report.segments}
    per = [p for p in per if int(p["id"]) in known]
    if not features or not per:
        fig = _layout(go.Figure(), "Each segment's spread on its top traits", subtitle=note)
        return _message(fig, "No segment has 5 or more customers to draw, or there are no numeric columns."
                        if features else "There are no numeric columns to draw.")
    cols = 2 if len(features) > 1 else 1
    rows = -(-len(features) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[_short(_column_label(report, f), 40) for f in features],
                        vertical_spacing=min(0.1, 0.6 / rows), horizontal_spacing=0.08)
    _layout(fig, "Each segment's spread on the columns that differ most", height=100 + 240 * rows,
            subtitle="; ".join(t for t in ("box: middle half of the customers, line: median, whiskers: 5th to "
                                           "95th percentile", note) if t))
    for n, f in enumerate(features):
        r, c = n // cols + 1, n % cols + 1
        for p in per:
            seg, stats = known[int(p["id"])], (p.get("stats") or {}).get(f) or {}
            if stats.get("median") is None:
                continue
            name = plotly_text(seg.name)
            fig.add_trace(go.Box(x=[_short(name, 18)], q1=[stats["q1"]], median=[stats["median"]], q3=[stats["q3"]],
                                 lowerfence=[stats["p05"]], upperfence=[stats["p95"]], name=name,
                                 legendgroup=str(seg.id), showlegend=(n == 0),
                                 marker_color=segment_colour(seg), line_width=1.5), row=r, col=c)
        fig.update_xaxes(showticklabels=False, row=r, col=c)
    fig.update_annotations(font_size=12)
    fig.update_layout(margin={"t": fig.layout.margin.t + 34},  # room for the first row's titles
                      legend={"y": -30 / fig.layout.height})
    return fig


def dendrogram_figure(report) -> go.Figure:
    """Ward (agglomerative): the top of the merge tree, leaves coloured by segment, the cut marked."""
    gram = (report.params or {}).get("dendrogram") or {}
    fig = go.Figure()
    k = (report.params or {}).get("k")
    sample = (f" (on the {fmt_count(report.n_fit_rows)} customers fitted)"
              if report.n_fit_rows and report.n_fit_rows < report.n_rows else "")
    _layout(fig, "How Ward clustering merged the customers", height=460,
            subtitle=f"the top of the tree of merges{sample}: each leaf is a group of customers, a higher "
                     f"join = less alike; the dashed line cuts the tree into {k} segments")
    if not gram.get("icoord"):
        return _message(fig, "The tree of merges is only drawn for agglomerative (Ward) segmentations.")
    xs, ys = [], []
    for ic, dc in zip(gram["icoord"], gram["dcoord"]):
        xs += list(ic) + [None]
        ys += list(dc) + [None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#52606d", "width": 1.2},
                             hoverinfo="skip", showlegend=False))
    sizes = list(gram.get("leaf_sizes") or [])
    segs = list(gram.get("leaf_segments") or [])
    leaves = len(gram.get("leaves") or sizes)
    by_id = {s.id: s for s in report.segments}
    lx = [5 + 10 * i for i in range(leaves)]
    words = [("fewer than 5" if 0 < n < 5 else fmt_count(n)) for n in sizes] or [""] * leaves
    seg_of = [by_id.get(s) for s in segs] if segs else [None] * leaves
    fig.add_trace(go.Scatter(
        x=lx, y=[0] * leaves, mode="markers", showlegend=False,
        marker={"size": 10, "symbol": "square",
                "color": [segment_colour(s) if s is not None else NOISE_COLOUR for s in seg_of]},
        text=[f"{plotly_text(s.name) if s is not None else 'group'}: {w} customers" for s, w in zip(seg_of, words)],
        hovertemplate="%{text}<extra></extra>"))
    cut = gram.get("cut_height")
    if cut is not None:
        fig.add_hline(y=cut, line_dash="dash", line_color=PALETTE[1],
                      annotation_text=f"cut: {k} segments", annotation_position="top left")
    fig.update_xaxes(tickvals=lx, ticktext=words, tickangle=-60, title_text="customers in each leaf",
                     showgrid=False, zeroline=False)
    fig.update_yaxes(title_text="merge distance (Ward)", rangemode="tozero")
    return fig


def algorithms_figure(report) -> go.Figure:
    """All four algorithms on the same sample, as a table (with the note on the Unassigned)."""
    rows = list(report.comparison or [])
    fig = go.Figure()
    _layout(fig, "The same table segmented by each algorithm", height=250 + 32 * max(len(rows), 1),
            subtitle=UNASSIGNED_NOTE)
    if not rows:
        return _message(fig, "The algorithms were not compared in this run.")
    head = ["Algorithm", "Segments", "Unassigned", "Silhouette (higher = better)",
            "Davies-Bouldin (lower = better)", "Calinski-Harabasz (higher = better)", "Customers compared"]
    cells = [[ALGORITHM_LABELS.get(r.get("algorithm"), plotly_text(r.get("algorithm"))) for r in rows]]
    failed = ["failed" if r.get("error") else None for r in rows]
    cells.append([f or fmt_count(r.get("n_segments", 0)) for r, f in zip(rows, failed)])
    cells.append([f or fmt_pct(r.get("noise_fraction") or 0.0) for r, f in zip(rows, failed)])
    cells.append([f or fmt_score(r.get("silhouette")) for r, f in zip(rows, failed)])
    cells.append([f or fmt_score(r.get("davies_bouldin")) for r, f in zip(rows, failed)])
    cells.append([f or fmt_number(r.get("calinski_harabasz")) for r, f in zip(rows, failed)])
    cells.append([f or fmt_count(r.get("rows", 0)) for r, f in zip(rows, failed)])
    fig.add_trace(go.Table(header={"values": head, "fill_color": "#e4e7eb", "align": "left"},
                           cells={"values": cells, "align": "left", "height": 28}))
    fig.update_layout(margin={"b": 10})
    return fig


def all_figures(report) -> list[tuple[str, go.Figure]]:
    """(key, figure) for the overview and every real segment; views a run lacks are left out."""
    out = [("sizes", sizes_figure(report)), ("map", map_figure(report))]
    if report.k_curve:
        out.append(("k_curve", k_curve_figure(report)))
    if report.cluster_tree or any(s.persistence is not None for s in report.real_segments):
        out.append(("tree", tree_figure(report)))
    if (report.params or {}).get("dendrogram"):
        out.append(("dendrogram", dendrogram_figure(report)))
    if report.comparison:
        out.append(("algorithms", algorithms_figure(report)))
    if report.views:
        out += [("distributions", distributions_figure(report)), ("correlation", correlation_figure(report)),
                ("effects", effects_heatmap_figure(report)), ("boxes", segment_boxes_figure(report))]
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
           "tree_figure", "distributions_figure", "correlation_figure", "effects_heatmap_figure",
           "segment_boxes_figure", "dendrogram_figure", "algorithms_figure", "all_figures", "save_figures", "segment_colour", "PlotsPage"]
