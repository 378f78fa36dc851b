"""Charts of one cycle's results: matplotlib's object API in, PNG and SVG bytes out.

Every chart carries its data as a small table and a one- or two-sentence text
alternative, so pages can show both under the image. Suppressed figures appear as the
word "suppressed", never as a number. Never import pyplot here: it keeps global state.

base.py holds the Chart record and what the charts share; scores.py the radar,
heatmaps and sector ranking; answers.py the level distribution, partner types and
industry gap; trends.py the change across cycles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from reports.charts.answers import industry_gap, level_distribution, partner_types
from reports.charts.base import Chart
from reports.charts.meaning import board_agreement, peers, score_margins
from reports.charts.outcomes import outcomes_against_maturity
from reports.charts.scores import board_heatmap, partnership_heatmap, radar, sector_comparison
from reports.charts.trends import change
from reports.results import STATE_SCOPE, CycleResults


def all_charts(results: CycleResults) -> list[Chart]:
    """Every chart for the results' scope: the state's, or one board's and its partnerships'."""
    if results.board_code is None:
        charts = [
            radar(results),
            board_heatmap(results),
            partnership_heatmap(results),
            level_distribution(results),
            partner_types(results),
            industry_gap(results),
            change(results, STATE_SCOPE),
            sector_comparison(results),
            outcomes_against_maturity(results),
        ]
    else:
        code = results.board_code
        charts = [
            radar(results, board_code=code),
            partnership_heatmap(results, board_code=code),
            level_distribution(results, board_code=code),
            partner_types(results, code),
            industry_gap(results, code),
            change(results, code),
            board_agreement(results, code),
        ]
        for partnership in results.partnerships:
            if partnership.in_board(code):
                charts.append(radar(results, partnership_id=partnership.key))
                charts.append(change(results, partnership.key))
                charts.append(score_margins(results, partnership.key))
                charts.append(peers(results, partnership.key))
    seen: set[str] = set()
    unique = []
    for chart in charts:
        name, number = chart.name, 2
        while name in seen:
            name, number = f"{chart.name}-{number}", number + 1
        seen.add(name)
        unique.append(chart if name == chart.name else replace(chart, name=name))
    return unique


def markdown_index(charts: Sequence[Chart], heading: str) -> str:
    """A Markdown page of charts: each title, image, text description and data table,
    ready to paste into a board report."""
    lines = [f"# {_md(heading)}", ""]
    for chart in charts:
        lines += [f"## {_md(chart.title)}", "",
                  f"![{_md(chart.title)}]({chart.name}.png) ([SVG]({chart.name}.svg))", "",
                  _md(chart.description), ""]
        if chart.columns:
            lines.append("| " + " | ".join(_md(c) for c in chart.columns) + " |")
            lines.append("|" + "---|" * len(chart.columns))
            lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in chart.rows]
            lines.append("")
    return "\n".join(lines)


def _md(value: object) -> str:
    """Text for a Markdown line or table cell: one line, pipes and markup escaped."""
    text = " ".join(str(value).split())
    return re.sub(r"([\\`*_{}\[\]<>|#!])", r"\\\1", text)


__all__ = [
    "Chart",
    "all_charts",
    "markdown_index",
    "board_agreement",
    "outcomes_against_maturity",
    "board_heatmap",
    "change",
    "industry_gap",
    "level_distribution",
    "partner_types",
    "partnership_heatmap",
    "peers",
    "radar",
    "score_margins",
    "sector_comparison",
]
