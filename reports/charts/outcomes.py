"""Outcomes against maturity (SPEC 16): per measure, each partnership's figure against its
published overall score, across the state's partnerships."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from reports import palette
from reports.charts.base import (
    NO_RESPONSES,
    Chart,
    _cycle,
    _empty_chart,
    _hide_top_right,
    _level_ticks,
    _stage_level,
    _wrap,
)
from reports.results import CycleResults, format_outcome

NO_OUTCOMES = "No partnership has both an outcome figure and a published overall score yet"


def outcomes_against_maturity(results: CycleResults) -> Chart:
    """One panel per measure: partnerships' values (y) against their overall score (x)."""
    title = f"Outcomes against the overall score, {_cycle(results)}"
    columns = ("Measure", "Board", "Partnership", "Overall", "Value")
    overall = {p.partnership_id: p.overall.value for p in results.partnerships
               if p.overall.shown}
    points = [(o, overall[o.partnership_id]) for o in results.outcomes
              if o.value is not None and o.partnership_id in overall]
    if not points:
        responded = any(p.responded for p in results.partnerships)
        return _empty_chart("outcomes", title, columns,
                            NO_OUTCOMES if responded else NO_RESPONSES)
    measures: dict[str, list] = {}
    for outcome, score in points:
        measures.setdefault(outcome.label, []).append((outcome, score))
    rows = tuple((label, o.board_code, o.partnership, f"{score:.2f}",
                  format_outcome(o.value, o.unit))
                 for label, found in measures.items() for o, score in found)
    description = (f"{len(measures)} outcome measures, each plotted against the overall "
                   f"maturity score of the {len({o.partnership_id for o, _ in points})} "
                   "partnerships that report it and have a published score.")
    columns_n = min(3, len(measures))
    rows_n = math.ceil(len(measures) / columns_n)

    def draw(figure: Figure) -> None:
        axes = figure.subplots(rows_n, columns_n, squeeze=False)
        for ax in axes.flat[len(measures):]:
            ax.set_axis_off()
        for ax, (label, found) in zip(axes.flat, measures.items(), strict=False):
            for outcome, score in found:
                level = _stage_level(results, score)
                ax.scatter(score, outcome.value, s=60, color=palette.stage_color(level),
                           edgecolors="#4D4D4D", linewidths=0.8, zorder=3)
            ax.set_xlim(1, 4)
            _level_ticks(ax.xaxis, results)
            ax.set_title(_wrap(label, 28), fontsize=11)
            ax.set_xlabel("Overall score")
            ax.set_ylim(bottom=0)
            ax.grid(True, color="#E0E0E0", zorder=0)
            _hide_top_right(ax)
        figure.suptitle(title, fontsize=14, fontweight="bold")

    return Chart("outcomes", title, description, columns, rows, draw,
                 size=(4.0 * columns_n, 3.4 * rows_n + 0.8))
