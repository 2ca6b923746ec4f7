"""Plotly figure specs for the report (plain lists, so the page holds exactly the mart values).

Figures are built with ``plotly.graph_objects`` (which validates every attribute) and serialised
with an empty template, so each chart carries only its data and a small shared layout. The page
renders them with the plotly.js bundle embedded once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

PALETTE = ("#1f6feb", "#2da44e", "#bf8700", "#8250df", "#cf222e", "#0a7f8c", "#6e7781", "#d4580b")
FONT = "-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"

# Passed to Plotly.newPlot: no logo, no links to plotly's cloud, resize with the page.
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "showLink": False, "showSendToCloud": False}
WEEK_AXIS = "Week starting (Monday)"  # x-axis title of weekly charts: one tick per week_start


def _layout(y_title: str, *, y_percent: bool = False, x_title: str = "", height: int = 320) -> dict:
    return {
        "template": go.layout.Template(),
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 16, "b": 48},
        "font": {"family": FONT, "size": 12, "color": "#24292f"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "xaxis": {"title": {"text": x_title}, "showgrid": False, "linecolor": "#d0d7de"},
        "yaxis": {
            "title": {"text": y_title},
            "gridcolor": "#eaeef2",
            "zerolinecolor": "#d0d7de",
            "rangemode": "tozero",
            **({"tickformat": ".0%"} if y_percent else {}),
        },
    }


def line_chart(
    x: Sequence[Any],
    series: Sequence[tuple[str, Sequence[Any]]],
    *,
    y_title: str,
    y_percent: bool = False,
    x_title: str = "Day (UTC)",
    secondary: Sequence[tuple[str, Sequence[Any]]] = (),
    y2_title: str = "",
) -> dict:
    """Lines sharing one x axis.

    Args:
        x: x values (ISO dates).
        series: ``(name, y values)`` per line; ``None`` values leave a gap.
        y_title: y-axis title with its unit.
        y_percent: y values are fractions 0-1 shown as percentages.
        x_title: x-axis title.
        secondary: ``(name, y values)`` per line drawn against a second y axis on the right, for
            counts of another magnitude (e.g. users beside hundreds of requests).
        y2_title: title of that right-hand axis with its unit.

    Returns:
        The figure as a plain dict ({"data": [...], "layout": {...}}).
    """
    return multi_line_chart(
        [(name, x, y) for name, y in series],
        y_title=y_title,
        y_percent=y_percent,
        x_title=x_title,
        secondary=[(name, x, y) for name, y in secondary],
        y2_title=y2_title,
    )


def rows_line_chart(
    rows: Sequence[dict[str, Any]],
    x: str,
    series: Sequence[tuple[str, str]],
    *,
    secondary: Sequence[tuple[str, str]] = (),
    **options: Any,
) -> dict:
    """:func:`line_chart` of the columns of query rows.

    Args:
        rows: the rows (dicts), in x order.
        x: the column of x values (e.g. ``day``, ``week_start``).
        series: ``(name, column)`` per line.
        secondary: ``(name, column)`` per line on the second y axis.
        **options: the other arguments of :func:`line_chart` (``y_title`` ...).

    Returns:
        The figure as a plain dict.
    """
    return line_chart(
        [r[x] for r in rows],
        [(name, [r[key] for r in rows]) for name, key in series],
        secondary=[(name, [r[key] for r in rows]) for name, key in secondary],
        **options,
    )


def multi_line_chart(
    lines: Sequence[tuple[str, Sequence[Any], Sequence[Any]]],
    *,
    y_title: str,
    y_percent: bool = False,
    x_title: str = "Day (UTC)",
    secondary: Sequence[tuple[str, Sequence[Any], Sequence[Any]]] = (),
    y2_title: str = "",
) -> dict:
    """Lines with their own x values, e.g. one line per organization.

    Args:
        lines: ``(name, x values, y values)`` per line.
        y_title: y-axis title with its unit.
        y_percent: y values are fractions 0-1 shown as percentages.
        x_title: x-axis title.
        secondary: ``(name, x values, y values)`` per line on a second y axis (right, plain
            counts, dotted lines).
        y2_title: title of the second y axis.

    Returns:
        The figure as a plain dict.
    """
    hover = "%{y:.1%}" if y_percent else "%{y:,}"
    traces = [
        go.Scatter(
            x=list(x),
            y=list(y),
            name=name,
            mode="lines+markers" if len(x) <= 16 else "lines",
            line={"color": PALETTE[i % len(PALETTE)], "width": 2},
            hovertemplate=f"{name}: {hover}<extra></extra>",
        )
        for i, (name, x, y) in enumerate(lines)
    ]
    traces += [
        go.Scatter(
            x=list(x),
            y=list(y),
            name=name,
            yaxis="y2",
            mode="lines+markers" if len(x) <= 16 else "lines",
            line={"color": PALETTE[(len(lines) + i) % len(PALETTE)], "width": 2, "dash": "dot"},
            hovertemplate=f"{name}: %{{y:,}}<extra></extra>",
        )
        for i, (name, x, y) in enumerate(secondary)
    ]
    layout = _layout(y_title, y_percent=y_percent, x_title=x_title)
    if secondary:
        layout["margin"]["r"] = 64
        layout["yaxis2"] = {
            "title": {"text": y2_title},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
            "zerolinecolor": "#d0d7de",
        }
    lines = [*lines, *secondary]
    layout["xaxis"]["type"] = "date"
    if x_title.startswith("Week"):
        # One tick per Monday, so every tick is a week_start.
        firsts = [x[0] for _, x, _ in lines if len(x)]
        if firsts:
            layout["xaxis"].update({"tick0": min(firsts), "dtick": 7 * 86_400_000, "tickformat": "%b %d"})
    return to_spec(go.Figure(traces, layout=layout))


def hbar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any]]],
    *,
    x_title: str,
    hover_rates: Sequence[Any] | None = None,
) -> dict:
    """Grouped horizontal bars, the first category at the top.

    Args:
        categories: bar labels (e.g. languages), largest first.
        series: ``(name, values)`` per bar group.
        x_title: value-axis title with its unit.
        hover_rates: optional acceptance rate per category, shown on hover.

    Returns:
        The figure as a plain dict.
    """
    custom = [[r] for r in hover_rates] if hover_rates is not None else None
    rate_text = "<br>acceptance rate: %{customdata[0]:.1%}" if custom else ""
    traces = [
        go.Bar(
            y=list(categories),
            x=list(values),
            name=name,
            orientation="h",
            marker={"color": PALETTE[i % len(PALETTE)]},
            customdata=custom,
            hovertemplate=f"%{{y}}<br>{name}: %{{x:,}}{rate_text}<extra></extra>",
        )
        for i, (name, values) in enumerate(series)
    ]
    layout = _layout("", x_title=x_title, height=max(220, 70 + len(categories) * (12 + 10 * len(series))))
    layout["hovermode"] = "closest"
    layout["barmode"] = "group"
    layout["margin"]["l"] = 150
    layout["xaxis"].update({"showgrid": True, "gridcolor": "#eaeef2", "rangemode": "tozero"})
    layout["yaxis"] = {"autorange": "reversed", "automargin": True}
    return to_spec(go.Figure(traces, layout=layout))


def to_spec(fig: go.Figure) -> dict:
    """The figure as a plain dict, round-tripped through plotly's JSON encoder."""
    return json.loads(pio.to_json(fig, validate=True))


def script_json(spec: Any) -> str:
    """JSON safe to place inside ``<script type="application/json">`` (no ``</script>`` break-out)."""
    text = json.dumps(spec, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
