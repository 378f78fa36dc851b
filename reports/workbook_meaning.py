"""The workbook sheets of SPEC 15 (what the figures mean): Agreement, Benchmarks and, in
the state workbook only, Instrument; the Change sheet's Margin column; their About rows.

Results in, rows out, through reports.workbook's table writer: figures arrive computed
and already through the confidentiality gate, so a figure that is not published has no
row (agreement) or reads "suppressed" (the instrument's withheld shares).
"""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from reports.results import OVERALL, ChangeResult, CycleResults

WITHIN_MARGIN = "within margin"
BEYOND_MARGIN = "beyond margin"

ABOUT: tuple[tuple[str, str], ...] = (
    ("Agreement", "How closely a partnership's respondents agree on an "
     "element, rwg(J) (James, Demaree & Wolf 1984): 1 minus the items' mean answer variance "
     "over the variance of answers picked at random from the four levels (1.25), adjusted "
     "for the number of items; items fewer than two answered are left out. \"agree\" at "
     "0.70 or more, \"mixed\" from 0.50, \"split\" below 0.50 (LeBreton & Senter 2008). "
     "Only for published partnership element scores."),
    ("Margin", "Where a partnership element score is drawn from at least the minimum number "
     "of respondents plus two: its standard error (the respondents' standard deviation over "
     "the square root of n) and a 90% interval, score plus or minus t(0.95, n - 1) standard "
     "errors, within 1 to 4. Beside a change: \"within margin\" when the delta is "
     "smaller than 1.645 times the square root of the two standard errors squared and "
     "added (a change too small to trust), \"beyond margin\" when it is not; empty where "
     "either score has no margin."),
    ("Benchmarks", "The lower quartile, median and upper quartile of the "
     "published partnership scores of the cycle, statewide and per sector, where at least "
     "5 partnerships have one (Python's statistics.quantiles, inclusive method)."),
    ("Instrument", "For the state as a whole: per element, Cronbach's alpha over the "
     "submitted respondents statewide who scored all its items, with Feldt's 95% interval; "
     "per item, the correlation of the item with the sum of the element's other items "
     "(item-rest; below 0.30 the item may measure something else), alpha if the item were "
     "dropped, and the shares of don't know and not applicable among all submitted "
     "respondents (above 25% partners cannot judge it)."),
)


def margin_cell(change: ChangeResult) -> str | None:
    """The Change sheet's Margin column for one row."""
    if change.suppressed or change.within_margin is None:
        return None
    return WITHIN_MARGIN if change.within_margin else BEYOND_MARGIN


def item_numbers(results: CycleResults) -> dict[str, str]:
    """Each item code's number as partners saw it ("6.2": element order, then position)."""
    order = {e.key: n for n, e in enumerate(sorted(results.elements, key=lambda e: e.order), 1)}
    seen: dict[str, int] = {}
    numbers = {}
    for item in results.items:
        seen[item.element_key] = seen.get(item.element_key, 0) + 1
        numbers[item.code] = f"{order.get(item.element_key, 0)}.{seen[item.element_key]}"
    return numbers


def write_agreement(wb: Workbook, results: CycleResults) -> None:
    """Sheet Agreement: one row per published partnership element score with agreement."""
    from reports.workbook import _in_board, _Value, _write_table

    ws = wb.create_sheet("Agreement")
    titles = results.element_titles
    order = {e.key: e.order for e in results.elements}
    rows = [[a.board_code, _Value(a.partnership, wrap=True), titles.get(a.element_key),
             a.n, _Value(a.rwg, "0.00"), a.reading]
            for a in sorted(results.agreement,
                            key=lambda a: (a.board_code, a.partnership.casefold(),
                                           order.get(a.element_key, 0)))
            if _in_board(results, a.board_code)]
    _write_table(ws, ["Board code", "Partnership", "Element", "n", "Agreement", "Reading"],
                 rows, widths={1: 30, 2: 30})


def write_benchmarks(wb: Workbook, results: CycleResults) -> None:
    """Sheet Benchmarks: quartiles statewide and per sector, per element and overall."""
    from reports.workbook import _Value, _write_table

    ws = wb.create_sheet("Benchmarks")
    titles = {**results.element_titles, OVERALL: "Overall"}
    rows = [[b.scope, titles.get(b.element_key, b.element_key), b.partnerships,
             _Value(b.lower, "0.00"), _Value(b.median, "0.00"), _Value(b.upper, "0.00")]
            for b in results.benchmarks]
    _write_table(ws, ["Scope", "Element", "Partnerships", "Lower quartile", "Median",
                      "Upper quartile"], rows, widths={1: 30})


def write_instrument(wb: Workbook, results: CycleResults) -> None:
    """Sheet Instrument (state workbook): each element's alpha row, then its items."""
    from reports.workbook import SUPPRESSED, _Value, _write_table

    ws = wb.create_sheet("Instrument")
    numbers = item_numbers(results)
    titles = results.element_titles

    def figure(value: float | None) -> Any:
        return None if value is None else _Value(value, "0.00")

    def rate(value: float | None) -> Any:
        return _Value(SUPPRESSED, muted=True) if value is None else _Value(value, "0%")

    rows: list[list[Any]] = []
    for element in results.instrument:
        title = titles.get(element.element_key, element.element_key)
        rows.append([_Value(title, bold=True), None, None, element.respondents,
                     figure(element.alpha), figure(element.alpha_low),
                     figure(element.alpha_high), None, None, None, None])
        for item in results.instrument_items:
            if item.element_key == element.element_key:
                rows.append([title, item.item_code, numbers.get(item.item_code),
                             item.respondents, None, None, None, figure(item.item_rest),
                             figure(item.alpha_if_dropped), rate(item.dont_know),
                             rate(item.not_applicable)])
    _write_table(ws, ["Element", "Item", "No.", "Respondents", "Alpha", "Alpha low",
                      "Alpha high", "Item-rest", "Alpha if dropped", "Don't know",
                      "Not applicable"], rows, widths={0: 30})
