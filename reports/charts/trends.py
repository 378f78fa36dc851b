"""Change over cycles: one scope's element and overall scores, one line each."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from reports import palette
from reports.charts.base import (
    SUPPRESSED,
    Chart,
    _board,
    _empty_chart,
    _fmt,
    _hide_top_right,
    _level_ticks,
    _partnership,
    _slug,
    _stage_bands,
    _value,
    _wrap,
)
from reports.results import OVERALL, STATE_SCOPE, CycleResults, Score, two_decimals


def _scope_name(results: CycleResults, scope_key: str) -> tuple[str, str]:
    """(readable name, file-safe kind-key) for "State", a board code or a partnership id."""
    if scope_key == STATE_SCOPE:
        return "the state", "state"
    if any(b.key == scope_key for b in results.boards):
        return f"board {scope_key} {_board(results, scope_key).label}", f"board-{_slug(scope_key)}"
    if any(p.key == scope_key for p in results.partnerships):
        return _partnership(results, scope_key).label, f"partnership-{_slug(scope_key)}"
    if any(t.scope_key == scope_key for t in results.trends):
        return scope_key, _slug(scope_key)
    raise KeyError(f"no scope {scope_key!r} in cycle {results.cycle}: use 'State', a board "
                   "code or a partnership id")


def change(results: CycleResults, scope_key: str | int) -> Chart:
    """Element and overall scores of one scope across cycles, one line each."""
    scope_key = str(scope_key)
    where, slug = _scope_name(results, scope_key)
    name = f"change-{slug}"
    title = f"Change across cycles, {where}" + (
        f" ({results.cycle} provisional)" if results.provisional else "")
    points = [t for t in results.trends if t.scope_key == scope_key]
    cycles: list[str] = []
    for point in points:
        if point.cycle not in cycles:
            cycles.append(point.cycle)
    series_keys = [*(e.key for e in results.elements), OVERALL]
    labels = {**results.element_titles, OVERALL: "Overall"}
    lookup = {(t.element_key, t.cycle): t.score for t in points}
    columns = ("Element", *cycles)
    rows = tuple((labels[k], *(_fmt(lookup.get((k, c))) for c in cycles)) for k in series_keys)
    if not any(s.shown or s.suppressed for s in lookup.values()):
        return _empty_chart(name, title, columns)
    overall = [(c, lookup.get((OVERALL, c))) for c in cycles]
    shown = [(c, s.value) for c, s in overall if s is not None and s.shown]
    if len(shown) >= 2:
        description = (f"Scores of {where} across {len(cycles)} cycles. Overall went from "
                       f"{two_decimals(shown[0][1])} in {shown[0][0]} to "
                       f"{two_decimals(shown[-1][1])} in "
                       f"{shown[-1][0]} ({two_decimals(shown[-1][1] - shown[0][1], True)}).")
    elif shown:
        description = (f"Scores of {where} across {len(cycles)} cycles; overall "
                       f"{two_decimals(shown[0][1])} in {shown[0][0]}, no other cycle to compare.")
    else:
        description = f"Scores of {where} across {len(cycles)} cycles; overall not shown " \
                      "(suppressed or undefined)."
    suppressed = sorted({c for (_, c), s in lookup.items() if s.suppressed}, key=cycles.index)
    if suppressed:
        description += f" Suppressed in {', '.join(suppressed)}."

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        xs = list(range(len(cycles)))
        for index, key in enumerate(series_keys):
            values = [_value(lookup.get((key, c))) for c in cycles]
            ys = [math.nan if v is None else v for v in values]
            if key == OVERALL:
                ax.plot(xs, ys, color="#000000", linewidth=3.5, marker="o", markersize=9,
                        label="Overall", zorder=5)
            else:
                ax.plot(xs, ys, color=palette.CATEGORICAL[index % len(palette.CATEGORICAL)],
                        linestyle=palette.LINESTYLES[index % len(palette.LINESTYLES)],
                        marker=palette.MARKERS[index % len(palette.MARKERS)], linewidth=1.8,
                        markersize=7, label=_wrap(labels[key], 40))
        for x, c in enumerate(cycles):
            if any((lookup.get((k, c)) or Score(None, 0)).suppressed for k in series_keys):
                ax.text(x, 0.6, SUPPRESSED, ha="center", fontsize=9, style="italic",
                        color="#4D4D4D")
        _stage_bands(ax, results, horizontal=True)
        ax.set_xticks(xs)
        ax.set_xticklabels(cycles)
        ax.set_xlim(-0.3, len(cycles) - 0.7)
        ax.set_ylim(0.5, 4.05)
        _level_ticks(ax.yaxis, results)
        ax.set_xlabel("Cycle")
        _hide_top_right(ax)
        ax.set_title(title)
        figure.legend(loc="outside right center", frameon=False, handlelength=3.5)

    return Chart(name, title, description, columns, rows, draw, size=(12.0, 6.0))

