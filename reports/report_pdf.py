"""The maturity report as PDF (SPEC 12): results in, PDF bytes out.

HTML and CSS (Jinja2 templates in reports/templates/) rendered by WeasyPrint: Letter
pages, page numbers from CSS counters, selectable text, embedded fonts (Liberation and
DejaVu), every chart an SVG followed by its figures as a table. No Flask, no database:
like the workbook, it lays out a `CycleResults` (with its `plans`) and nothing else, so
only published (unsuppressed) figures can reach it and no comment or answer row does.

A board report (`results.board_code` set): cover, the board against the state, its
partnerships, one section per partnership (stage, element scores, change, the items
most in need, its plan), the method. A state report: cover, the state and its boards,
one page per board, the method. An open cycle's report is marked provisional on every
page (state staff and administrators only; the callers decide who gets it).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.figure import Figure

from reports import charts
from reports.charts.base import _NOT_XML
from reports.charts.base import _STYLE as chart_style
from reports.results import (
    OVERALL,
    STATE_SCOPE,
    ChangeResult,
    CycleResults,
    ElementInfo,
    ItemResult,
    PlanRow,
    ScopeResult,
    Score,
    format_outcome,
    two_decimals,
)

TEMPLATES = Path(__file__).parent / "templates"
PDF_VARIANT = "pdf/ua-1"
NEED_ITEMS = 3  # items most in need shown per partnership
# Method topics of the workbook's About sheet that concern only the workbook.
_WORKBOOK_ONLY = ("Responses sheet", "Plans sheet", "Row-level answers", "Coverage sheet",
                  "Outcomes sheet")


@dataclass(frozen=True)
class ChartBlock:
    """A chart as an SVG data URI with its title, description and figures."""

    title: str
    description: str
    uri: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class PartnershipSection:
    partnership: ScopeResult
    too_few: bool
    chart: ChartBlock | None
    changes: list[ChangeResult]
    needs: list[ItemResult]
    plan: list[PlanRow]
    overall_change: ChangeResult | None


@dataclass(frozen=True)
class BoardPage:
    board: ScopeResult
    partnerships: list[tuple[ScopeResult, ChangeResult | None]]
    plan_counts: dict[str, int]
    chart: ChartBlock | None = None


@dataclass
class Report:
    """Everything the template lays out."""

    results: CycleResults
    title: str
    scope_label: str
    scope: ScopeResult
    provisional: bool
    generated_on: dt.date
    charts: list[ChartBlock] = field(default_factory=list)
    sections: list[PartnershipSection] = field(default_factory=list)
    boards: list[BoardPage] = field(default_factory=list)
    method: list[tuple[str, str]] = field(default_factory=list)


def chart_svg(chart: charts.Chart) -> bytes:
    """The chart as SVG with its text as text (not glyph outlines, as chart.svg() draws
    it): selectable in the PDF, and about three times faster for WeasyPrint to lay out."""
    with matplotlib.rc_context({**chart_style, "svg.fonttype": "none"}):
        figure = Figure(figsize=chart.size, dpi=100, layout="constrained")
        chart.draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None},
                       bbox_inches="tight", pad_inches=0.2, facecolor="white")
    return _NOT_XML.sub(b"", buffer.getvalue())


def _block(chart: charts.Chart) -> ChartBlock:
    uri = "data:image/svg+xml;base64," + base64.b64encode(chart_svg(chart)).decode("ascii")
    return ChartBlock(chart.title, chart.description, uri, chart.columns, chart.rows)


def _overall_changes(results: CycleResults) -> dict[int, ChangeResult]:
    return {c.partnership_id: c for c in results.changes if c.element_key == OVERALL}


def _needs(results: CycleResults, partnership_id: int) -> list[ItemResult]:
    """The items with the lowest published means (never a suppressed one)."""
    minimum = results.scale.min_respondents
    shown = [i for i in results.item_results if i.partnership_id == partnership_id
             and i.mean is not None and not i.mean_score(minimum).suppressed]
    return sorted(shown, key=lambda i: (i.mean, i.item_code))[:NEED_ITEMS]


def _section(results: CycleResults, p: ScopeResult, with_chart: bool) -> PartnershipSection:
    order = {e.key: e.order for e in results.elements}
    too_few = p.responded < results.scale.min_respondents
    pid = p.partnership_id or 0
    changes = sorted((c for c in results.changes
                      if c.partnership_id == pid and c.previous_cycle),
                     key=lambda c: order.get(c.element_key, 1_000))
    chart = None
    if with_chart and not too_few:
        board = (results.board_code if results.board_code and p.in_board(results.board_code)
                 else p.board_code)  # a board's report compares its shared ones with it
        chart = _block(charts.radar(results, board_code=board, partnership_id=pid))
    return PartnershipSection(
        partnership=p, too_few=too_few, chart=chart, changes=[] if too_few else changes,
        needs=[] if too_few else _needs(results, pid),
        plan=[r for r in results.plans if r.partnership_id == pid],
        overall_change=None if too_few else _overall_changes(results).get(pid))


def _method(results: CycleResults) -> list[tuple[str, str]]:
    from reports.workbook import RULES  # one wording of the rules, shared with the workbook
    from reports.workbook_meaning import ABOUT  # and of what the figures mean (SPEC 15)

    # the instrument is the state's, and only the state workbook has its sheet
    meaning = [(t, x) for t, x in ABOUT if t != "Instrument" or results.board_code is None]
    return [(topic, text) for topic, text in (*RULES, *meaning) if topic not in _WORKBOOK_ONLY]


def build_report(results: CycleResults, generated_on: dt.date | None = None,
                 board_charts: bool = False) -> bytes:
    """The maturity report of the results' scope (one board, or the state) as PDF bytes.

    `board_charts=True` adds a radar to each board's page of a state report: 24 more
    charts, about 3x the time (demo: 34 s against 12 s) and 55 pages against 31.
    """
    report = report_data(results, generated_on, board_charts)
    html = render_html(report)
    from weasyprint import HTML  # imported late: it loads Pango

    # PDF/UA-1: tagged (headings, tables with header cells, figures with their alternative
    # text), with the document's language and title, as agencies must publish (SPEC 12).
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(pdf_variant=PDF_VARIANT)


def report_data(results: CycleResults, generated_on: dt.date | None = None,
                board_charts: bool = False) -> Report:
    """What the report shows, computed from the results (no rendering)."""
    # A release is published whatever the cycle's status since (reopened); live figures of
    # an open cycle are provisional.
    provisional = results.provisional or (results.release is None
                                          and results.cycle_status == "open")
    generated_on = generated_on or dt.date.today()
    code = results.board_code
    if code is not None:
        board = next((b for b in results.boards if b.key == code), None)
        if board is None:
            raise LookupError(f"board {code} has no partnerships in cycle {results.cycle}")
        report = Report(results, f"Board {code} {board.label}", f"Board {code}", board,
                        provisional, generated_on)
        report.charts = [_block(charts.radar(results, board_code=code)),
                         _block(charts.partnership_heatmap(results, board_code=code))]
        members = sorted((p for p in results.partnerships if p.in_board(code)),
                         key=lambda p: p.label.casefold())
        report.sections = [_section(results, p, with_chart=True) for p in members]
    else:
        report = Report(results, "Florida: every board", STATE_SCOPE, results.state,
                        provisional, generated_on)
        report.charts = [_block(charts.radar(results)), _block(charts.board_heatmap(results))]
        overall = _overall_changes(results)
        for board in sorted(results.boards, key=lambda b: b.key):
            if not board.partnerships:
                continue
            members = sorted((p for p in results.partnerships if p.in_board(board.key)),
                             key=lambda p: p.label.casefold())
            counts: dict[str, int] = {}
            for row in results.plans:
                if row.board_code == board.key:
                    counts[row.status] = counts.get(row.status, 0) + 1
            chart = (_block(charts.radar(results, board_code=board.key)) if board_charts
                     else None)
            report.boards.append(BoardPage(
                board, [(p, overall.get(p.partnership_id or 0)) for p in members], counts,
                chart))
    report.method = _method(results)
    return report


def fmt_score(score: Score | None) -> str:
    """A score as the workbook displays it: two decimals, "suppressed", or a dash."""
    if score is None or (score.value is None and not score.suppressed):
        return "–"
    if score.suppressed or score.value is None:
        return "suppressed"
    return two_decimals(score.value)


def fmt_cell(value: Any) -> str:
    """One cell of a chart's figures table."""
    if value is None:
        return "–"
    if isinstance(value, Score):
        return fmt_score(value)
    if isinstance(value, float):
        return two_decimals(value)
    return str(value)


def fmt_signed(value: float | None) -> str:
    return "–" if value is None else two_decimals(value, True)


def fmt_rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
        ["html", "xml"], default_for_string=True), trim_blocks=True, lstrip_blocks=True)
    env.filters.update(score=fmt_score, cell=fmt_cell, signed=fmt_signed, rate=fmt_rate,
                       two=two_decimals,
                       outcome=format_outcome)
    return env


def render_html(report: Report) -> str:
    """The report as one HTML document (what WeasyPrint lays out)."""
    results = report.results
    titles: dict[str, str] = {**results.element_titles, OVERALL: "Overall"}
    elements: tuple[ElementInfo, ...] = results.elements
    return _environment().get_template("report.html").render(
        report=report, r=results, scale=results.scale, titles=titles, elements=elements,
        stage_of=results.scale.stage, numbers=results.item_numbers)
