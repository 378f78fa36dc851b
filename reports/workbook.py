"""The Excel rollup of one cycle (SPEC section 8): results in, .xlsx bytes out.

Written with openpyxl in write-only mode. Row-level answers are no sheet (SPEC 8, 4a):
they are the stewards' CSV. Figures are stored unrounded and displayed with two
decimals; suppressed figures are the text "suppressed"; every string that a spreadsheet
could take for a formula is stored as a plain text cell.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.page import PageMargins

from reports import palette, workbook_meaning
from reports.results import OVERALL, CycleResults, ItemResult, ScopeResult, Score, StageInfo

SUPPRESSED = "suppressed"
CREATOR = "Sector partnership self-assessment"
# The state workbook's sheets in order (SPEC 8); a board's has the same less STATE_ONLY_SHEETS.
SHEETS = ("Summary", "Boards", "Partnerships", "Items", "Partner types", "Change",
          "Agreement", "Benchmarks", "Outcomes", "Coverage", "Instrument", "Plans", "About")
STATE_ONLY_SHEETS = ("Coverage", "Instrument")
BOARD_SHEETS = tuple(name for name in SHEETS if name not in STATE_ONLY_SHEETS)


def sheet_names(board: bool = False) -> tuple[str, ...]:
    """The sheets of a state workbook, or of a board's (without the state-only ones)."""
    return BOARD_SHEETS if board else SHEETS
RESPONSE_COLUMNS = ("cycle", "board", "partnership", "respondent", "partner_type", "element",
                    "item", "score")
SCORE_FORMAT = "0.00"
RATE_FORMAT = "0%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# A string starting with one of these could be run as a formula by a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_HEADER_FONT = Font(name="Calibri", size=11, bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F3B57")
_BOLD_FONT = Font(name="Calibri", size=11, bold=True)
_MUTED_FONT = Font(name="Calibri", size=11, italic=True, color="404040")
_SUPPRESSED_FILL = PatternFill("solid", fgColor=palette.SUPPRESSED_COLOR.lstrip("#"))
_STAGE_FILLS = {level: PatternFill("solid", fgColor=color.lstrip("#"))
                for level, color in palette.STAGE_COLORS.items()}
_STAGE_FONTS = {level: Font(name="Calibri", size=11, color=color.lstrip("#"))
                for level, color in palette.STAGE_TEXT_COLORS.items()}
_WRAP = Alignment(wrap_text=True, vertical="top")
_MAX_WIDTH = 60
_HEADER_WIDTH = 24
_MAX_ROW_LINES = 12
_PORTRAIT_WIDTH = 100  # characters of column width that still print readably upright
# Charts: the value axis spans the scale, 1 to 4, so bars start at the lowest level.
_AXIS_MIN, _AXIS_MAX = 1, 4


@dataclass(frozen=True)
class _Value:
    """A cell value with its display: number format, stage fill, or a muted look."""

    value: Any
    number_format: str | None = None
    level: int | None = None  # fill with this stage's colour
    muted: bool = False  # the word "suppressed"
    wrap: bool = False
    bold: bool = False


def _text_cell(ws: WriteOnlyWorksheet, text: str) -> Any:
    """A cell that holds the exact string as text, never as a formula."""
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # openpyxl made it "f" for a leading "="
    cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return cell


def _needs_guard(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def _number_cell(ws: WriteOnlyWorksheet, number: float) -> Any:
    """A numeric cell that keeps every bit of the float.

    openpyxl writes floats with "%.16g", which loses the last digit of many doubles;
    repr() is the shortest text that reads back as the same double, in Excel too.
    """
    cell = WriteOnlyCell(ws, value=None)
    if math.isfinite(number):
        cell.value = repr(number)
        cell.data_type = "n"
    return cell


def _legal(value: Any) -> Any:
    """Text without the control characters an .xlsx cannot hold (one typed into a name
    would otherwise make openpyxl refuse the whole workbook)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, _Value) and isinstance(value.value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value.value)
        return value if text == value.value else replace(value, value=text)
    return value


def _cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    value = _legal(value)
    if isinstance(value, float):
        return _number_cell(ws, value)
    if isinstance(value, _Value):
        if isinstance(value.value, float):
            cell = _number_cell(ws, value.value)
        elif _needs_guard(value.value):
            cell = _text_cell(ws, value.value)
        else:
            cell = WriteOnlyCell(ws, value=value.value)
        if value.number_format:
            cell.number_format = value.number_format
        if value.level in _STAGE_FILLS:
            _set_style(cell, "fillId", "_fills", _STAGE_FILLS[value.level])
            _set_style(cell, "fontId", "_fonts", _STAGE_FONTS[value.level])
        if value.muted:
            _set_style(cell, "fillId", "_fills", _SUPPRESSED_FILL)
            _set_style(cell, "fontId", "_fonts", _MUTED_FONT)
        if value.wrap:
            _set_style(cell, "alignmentId", "_alignments", _WRAP)
        if value.bold:
            _set_style(cell, "fontId", "_fonts", _BOLD_FONT)
        return cell
    if _needs_guard(value):
        return _text_cell(ws, value)
    return value


def _display_width(value: Any) -> int:
    if isinstance(value, _Value):
        if value.number_format in (SCORE_FORMAT, RATE_FORMAT) and value.value is not None \
                and not isinstance(value.value, str):
            return 6
        if value.number_format in (DATE_FORMAT, DATETIME_FORMAT):
            return len(value.number_format)
        value = value.value
    if value is None:
        return 0
    if isinstance(value, float):
        return 8
    return max((len(line) for line in str(value).splitlines()), default=0)


_STYLE_IDS: WeakKeyDictionary[Workbook, dict[tuple[str, int], int]] = WeakKeyDictionary()


def _set_style(cell: Cell, key: str, collection: str, style: Any) -> None:
    """Give the cell one of this module's fonts, fills or alignments (`key` "fontId",
    "fillId" or "alignmentId" of the workbook's `collection` "_fonts", "_fills" or
    "_alignments").

    Sets the style's index directly: assigning `cell.font` (or fill, alignment) hashes the
    style object for every cell, most of the time of a state workbook's Items sheet; here
    each module-level style object is looked up once per workbook."""
    workbook = cell.parent.parent
    ids = _STYLE_IDS.setdefault(workbook, {})
    index = ids.get((collection, id(style)))
    if index is None:
        index = ids[collection, id(style)] = getattr(workbook, collection).add(style)
    if not cell._style:
        cell._style = StyleArray()
    setattr(cell._style, key, index)


def _wrapped_lines(row: Sequence[Any], widths: Sequence[float]) -> int:
    """How many lines the tallest wrapped cell of a row takes at its column's width."""
    lines = 1
    for value, width in zip(row, widths, strict=False):
        if isinstance(value, _Value) and value.wrap and isinstance(value.value, str):
            lines = max(lines, _text_lines(value.value, width))
    return lines


@lru_cache(maxsize=4096)  # item texts and names repeat once per partnership
def _text_lines(text: str, width: float) -> int:
    """Lines a text wraps onto in a column this wide (a unit is one digit; text averages a
    little narrower)."""
    per_line = max(int(width * 1.1) - 1, 1)
    return sum(max(len(textwrap.wrap(part, per_line)), 1) for part in text.splitlines() or [""])


def _print_setup(ws: WriteOnlyWorksheet, landscape: bool) -> None:
    """Printing: US Letter, every column on one page width, the header row on every page,
    narrow margins, and the sheet name and page number in the footer."""
    ws.page_setup.paperSize = "1"  # US Letter
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3,
                                  footer=0.3)
    ws.oddFooter.center.text = "&A, page &P of &N"


def _write_table(ws: WriteOnlyWorksheet, headers: Sequence[str], rows: Sequence[Sequence[Any]],
                 widths: dict[int, float] | None = None, filter_rows: int | None = None) -> None:
    """Header in row 1 (frozen, filterable), then rows; widths fitted to the content."""
    headers = [_legal(title) for title in headers]
    columns = max([len(headers), *(len(row) for row in rows)])
    header_lines = 1
    for index in range(columns):
        header = headers[index] if index < len(headers) else ""
        # Headers wrap onto a taller header row (at word breaks) rather than widen a column
        # of short figures: printed fit to width, narrow columns keep the text larger.
        fitted = max([min(max((len(word) for word in header.split()), default=0) + 3,
                          _HEADER_WIDTH),
                      *(_display_width(row[index]) + 2 for row in rows if index < len(row))])
        width = (widths or {}).get(index, min(fitted, _MAX_WIDTH))
        ws.column_dimensions[get_column_letter(index + 1)].width = width
        lines = textwrap.wrap(header, max(int(width) - 3, 1), break_long_words=False)
        header_lines = max(header_lines, len(lines))
    ws.row_dimensions[1].height = 15 * header_lines + 3
    ws.freeze_panes = "A2"
    _print_setup(ws, landscape=sum(ws.column_dimensions[get_column_letter(i + 1)].width or 0
                                   for i in range(columns)) > _PORTRAIT_WIDTH)
    header_cells = []
    for title in headers:
        cell = _cell(ws, title) if _needs_guard(title) else WriteOnlyCell(ws, value=title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        header_cells.append(cell)
    ws.append(header_cells)
    column_widths = [ws.column_dimensions[get_column_letter(i + 1)].width or 10
                     for i in range(columns)]
    for number, row in enumerate(rows, start=2):
        lines = _wrapped_lines(row, column_widths)
        if lines > 1:  # openpyxl cannot size rows, and LibreOffice does not on opening
            ws.row_dimensions[number].height = 15 * min(lines, _MAX_ROW_LINES)
        ws.append([_cell(ws, value) for value in row])
    last = 1 + (len(rows) if filter_rows is None else filter_rows)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"


def _score(score: Score | None, results: CycleResults) -> Any:
    """A score cell: the unrounded value coloured by stage, `suppressed`, or empty."""
    if score is None:
        return None
    if score.suppressed:
        return _Value(SUPPRESSED, muted=True)
    if score.value is None:
        return None
    stage = results.scale.stage(score.value)
    return _Value(score.value, SCORE_FORMAT, level=stage.value if stage else None)


def _plain_score(value: float | None) -> Any:
    return None if value is None else _Value(value, SCORE_FORMAT)


def _stage(scope: ScopeResult) -> Any:
    if scope.overall.suppressed:
        return _Value(SUPPRESSED, muted=True)
    if scope.stage is None:
        return None
    return _Value(scope.stage.label, level=scope.stage.value)


def _rate(scope: ScopeResult) -> Any:
    rate = scope.response_rate
    return None if rate is None else _Value(rate, RATE_FORMAT)


def _generated(results: CycleResults) -> tuple[str, dt.datetime]:
    when = results.generated_at
    if when.tzinfo is not None:  # Excel has no time zones: store UTC and say so
        return "Generated (UTC)", when.astimezone(dt.UTC).replace(tzinfo=None)
    return "Generated", when


# --- sheets -------------------------------------------------------------------------


def _in_board(results: CycleResults, board_code: str) -> bool:
    return results.board_code is None or board_code == results.board_code


def _in_scope(results: CycleResults, partnership_id: int | None) -> bool:
    """A partnership's rows belong in the workbook: the state's, or a board's (whose
    partnerships include those shared with it, SPEC 16)."""
    if results.board_code is None:
        return True
    return partnership_id in _member_ids(results)


def _member_ids(results: CycleResults) -> frozenset[int | None]:
    code = results.board_code
    return frozenset(p.partnership_id for p in results.partnerships
                     if code is None or p.in_board(code))


def _shared_with(results: CycleResults, p: ScopeResult) -> str:
    """The other boards of a shared partnership, as codes separated by spaces."""
    return " ".join(code for code, _ in p.shared_with(results.board_code or p.board_code))


def _summary(wb: Workbook, results: CycleResults) -> None:
    ws = wb.create_sheet("Summary")
    board = next((b for b in results.boards if b.key == results.board_code), None)
    state = results.state
    headers = ["Figure", "State"]
    if board is not None:
        headers.append(_legal(f"Board {board.key} {board.label}"))
    generated_label, generated = _generated(results)
    rows: list[list[Any]] = [
        ["Cycle", results.cycle],
        ["Status", results.cycle_status],
        ["Results", "provisional: the cycle is not closed yet, figures will change"
         if results.provisional else "published"],
        ["Release", _release_line(results)],
        ["Opens", _Value(results.opens_on, DATE_FORMAT)],
        ["Closes", _Value(results.closes_on, DATE_FORMAT)],
        [generated_label, _Value(generated, DATETIME_FORMAT)],
    ]
    if board is not None:
        rows.append(["Board", None, f"{board.key} {board.label}"])
    else:
        rows.append(["Boards", len(results.boards)])

    def both(label: str, get) -> list[Any]:
        row = [label, get(state)]
        if board is not None:
            row.append(get(board))
        return row

    rows += [
        both("Partnerships", lambda s: s.partnerships),
        both("Invited", lambda s: s.invited),
        both("Responded", lambda s: s.responded),
        both("In progress", lambda s: s.in_progress),
        both("Response rate", _rate),
    ]
    first_element_row = len(rows) + 2  # sheet row of the first element score
    for element in results.elements:
        rows.append(both(element.title, lambda s, k=element.key: _score(s.elements.get(k),
                                                                         results)))
    rows.append(both("Overall", lambda s: _score(s.overall, results)))
    rows.append(both("Stage", _stage))
    _write_table(ws, headers, rows, widths={0: 72})

    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = f"Score per element, {results.cycle}" + (
        " (provisional)" if results.provisional else "")
    _score_axis(chart, "Score (1 to 4)")
    chart.x_axis.scaling.orientation = "maxMin"  # first element at the top
    last_element_row = first_element_row + len(results.elements) - 1
    data_rows = Reference(ws, min_col=2, max_col=len(headers), min_row=first_element_row,
                          max_row=last_element_row)
    categories = Reference(ws, min_col=1, min_row=first_element_row, max_row=last_element_row)
    chart.add_data(data_rows, titles_from_data=False)
    for series, title in zip(chart.series, headers[1:], strict=False):
        series.tx = SeriesLabel(v=title)
    chart.set_categories(categories)
    chart.legend.position = "b"
    chart.width, chart.height = 20, 11
    ws.add_chart(chart, _below(rows))


def _scope_scores(scope: ScopeResult, results: CycleResults) -> list[Any]:
    return [*(_score(scope.elements.get(e.key), results) for e in results.elements),
            _score(scope.overall, results), _stage(scope)]


def _boards(wb: Workbook, results: CycleResults) -> None:
    ws = wb.create_sheet("Boards")
    titles = [e.title for e in results.elements]
    headers = ["Board code", "Board", "Partnerships", "Invited", "Responded", "Response rate",
               *titles, "Overall", "Stage"]
    boards = [b for b in results.boards if _in_board(results, b.key)]
    rows = [[b.key, _Value(b.label, wrap=True), b.partnerships, b.invited, b.responded,
             _rate(b), *_scope_scores(b, results)] for b in boards]
    _write_table(ws, headers, rows, widths={1: 24})
    if results.board_code is None:  # one board is one bar: its workbook charts partnerships
        _overall_chart(ws, headers, rows, f"Overall score by board, {results.cycle}", "Board")


def _partnerships(wb: Workbook, results: CycleResults) -> None:
    ws = wb.create_sheet("Partnerships")
    headers = ["Board code", "Board", "Partnership", "Sector", "Invited", "Responded",
               "Response rate", *(e.title for e in results.elements), "Overall", "Stage",
               "Shared with"]  # SPEC 8's columns, then the other boards it spans (SPEC 16)
    rows = [[p.board_code, _Value(p.board_name, wrap=True), _Value(p.label, wrap=True),
             _Value(p.sector, wrap=True), p.invited, p.responded, _rate(p),
             *_scope_scores(p, results), _shared_with(results, p) or None]
            for p in results.partnerships if _in_scope(results, p.partnership_id)]
    _write_table(ws, headers, rows, widths={1: 20, 2: 30, 3: 18})
    if results.board_code is not None:
        _overall_chart(ws, headers, rows, f"Overall score by partnership, board "
                       f"{results.board_code}, {results.cycle}", "Partnership",
                       category_col=headers.index("Partnership") + 1)


def _score_axis(chart: BarChart, title: str) -> None:
    """The value axis of a score chart: 1 to 4, the scale's range, in whole levels."""
    chart.y_axis.title = title
    chart.y_axis.scaling.min = _AXIS_MIN
    chart.y_axis.scaling.max = _AXIS_MAX
    chart.y_axis.majorUnit = 1
    chart.y_axis.numFmt = "0"
    chart.y_axis.delete = False
    chart.x_axis.delete = False


def _below(rows: Sequence[Any]) -> str:
    """The anchor of a chart placed under a table (header + rows), one blank row between:
    printed fit to width, the table keeps its size and the chart follows it."""
    return f"A{len(rows) + 3}"


def _overall_chart(ws: WriteOnlyWorksheet, headers: Sequence[str], rows: Sequence[Any],
                   title: str, axis: str, category_col: int = 1) -> None:
    """A column chart of the Overall column, one bar per row, placed under the table."""
    chart = BarChart()
    chart.type = "col"
    chart.style = 10
    chart.title = title
    _score_axis(chart, "Overall score (1 to 4)")
    chart.x_axis.title = axis
    chart.legend = None
    last = max(len(rows), 1) + 1
    overall_col = headers.index("Overall") + 1
    chart.add_data(Reference(ws, min_col=overall_col, min_row=1, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=category_col, min_row=2, max_row=last))
    chart.width, chart.height = max(16.0, min(1.2 * len(rows), 30.0)), 10
    ws.add_chart(chart, _below(rows))


def _items(wb: Workbook, results: CycleResults) -> None:
    ws = wb.create_sheet("Items")
    levels = results.scale.levels
    # SPEC 8's columns in its order; the board's name is added last so none of them moves.
    headers = ["Board code", "Partnership", "Element", "Item", "No.", "Text", "n", "Mean",
               "Don't know", "Not applicable", *(level.label for level in levels), "Board"]
    titles = results.element_titles
    minimum = results.scale.min_respondents
    hidden = _Value(SUPPRESSED, muted=True)
    boards = _board_names(results)
    numbers = results.item_numbers  # "6.2", as partners saw it (SPEC 8, 9)
    rows = [[i.board_code, _Value(i.partnership, wrap=True),
             _Value(titles.get(i.element_key, i.element_key), wrap=True), i.item_code,
             numbers.get(i.item_code, ""), _Value(i.text, wrap=True),
             *([hidden] * (4 + len(levels)) if i.suppressed else [
                 i.n, _score(i.mean_score(minimum), results), i.dont_know, i.not_applicable,
                 *_level_counts(i, levels, minimum)]), boards.get(i.board_code)]
            for i in results.item_results if _in_scope(results, i.partnership_id)]
    # Narrow wrapped text columns: printed fit to width, the figures stay legible.
    _write_table(ws, headers, rows, widths={1: 26, 2: 22, 5: 50, len(headers) - 1: 24})


def _board_names(results: CycleResults) -> dict[str, str]:
    """Each board code's name as the board stood in the cycle."""
    names = {p.board_code: p.board_name for p in results.partnerships}
    names.update({b.key: b.label for b in results.boards})
    return names


def _level_counts(item: ItemResult, levels: tuple[StageInfo, ...], minimum: int) -> list:
    """Answers per level; suppressed with the mean, since a few counts reveal who chose what."""
    if item.mean_score(minimum).suppressed:
        return [SUPPRESSED] * len(levels)
    return [item.counts.get(level.value, 0) for level in levels]


def _partner_types(wb: Workbook, results: CycleResults) -> None:
    ws = wb.create_sheet("Partner types")
    headers = ["Scope", "Partner type", "Respondents", *(e.title for e in results.elements)]
    rows = [[t.scope, t.partner_type_label, t.respondents,
             *(_score(t.elements.get(e.key), results) for e in results.elements)]
            for t in results.partner_types
            if results.board_code is None or t.scope == results.board_code]
    _write_table(ws, headers, rows)


def _change(wb: Workbook, results: CycleResults) -> None:
    ws = wb.create_sheet("Change")
    # SPEC 8's columns in its order, then the additions: the board's name, items changed.
    headers = ["Board code", "Partnership", "Element", "Previous cycle", "Previous", "Current",
               "Delta", "Status", "Board", "Items changed", "Margin"]
    titles = {**results.element_titles, OVERALL: "Overall"}
    boards = _board_names(results)
    rows = []
    for c in results.changes:
        if not _in_scope(results, c.partnership_id):
            continue
        head = [c.board_code, c.partnership, titles.get(c.element_key, c.element_key),
                c.previous_cycle]
        # "yes": the element's items differ between the two cycles (questionnaires/CHANGES.md).
        changed = ("yes" if c.items_changed else "no") if c.previous_cycle else None
        if c.suppressed:
            rows.append([*head, *([_Value(SUPPRESSED, muted=True)] * 4),
                         boards.get(c.board_code), changed, None])
            continue
        rows.append([*head, _score(c.previous, results), _score(c.current, results),
                     _plain_score(c.delta), c.status, boards.get(c.board_code), changed,
                     workbook_meaning.margin_cell(c)])
    _write_table(ws, headers, rows)


def _outcomes(wb: Workbook, results: CycleResults) -> None:
    """SPEC 16: each partnership's outcome figures beside the last earlier cycle's."""
    ws = wb.create_sheet("Outcomes")
    headers = ["Board code", "Partnership", "Measure", "Value", "Previous", "Change", "Source",
               "Previous cycle"]
    formats = {"money": "#,##0", "percent": "0.0", "count": "#,##0"}

    def figure(value: float | None, unit: str) -> Any:
        return None if value is None else _Value(value, formats.get(unit))

    rows = [[o.board_code, _Value(o.partnership, wrap=True), o.label,
             _Value(SUPPRESSED, muted=True) if o.suppressed else figure(o.value, o.unit),
             figure(o.previous, o.unit), figure(o.change, o.unit),
             _Value(o.source, wrap=True) if o.source else None, o.previous_cycle]
            for o in results.outcomes if _in_scope(results, o.partnership_id)]
    _write_table(ws, headers, rows, widths={1: 30, 6: 30})


def _coverage(wb: Workbook, results: CycleResults) -> None:
    """SPEC 16, state workbook only: each board's targeted sectors, with and without a
    partnership in the cycle, and its partnerships outside the targets."""
    if results.board_code is not None:
        return
    ws = wb.create_sheet("Coverage")
    headers = ["Board code", "Board", "Sector", "Targeted", "Partnerships", "Median overall"]
    rows = [[c.board_code, _Value(c.board, wrap=True), c.sector, "yes" if c.targeted else "no",
             c.partnerships, _plain_score(c.median_overall)] for c in results.coverage]
    _write_table(ws, headers, rows, widths={1: 30})


def _plans(wb: Workbook, results: CycleResults) -> None:
    ws = wb.create_sheet("Plans")
    headers = ["Board code", "Partnership", "Element", "Priority", "Goal", "Actions", "Owner",
               "Due", "Status", "Updated"]
    rows = [[p.board_code, p.partnership, p.element, "yes" if p.priority else "no",
             _Value(p.goal, wrap=True), _Value(p.actions, wrap=True), p.owner,
             _Value(p.due_on, DATE_FORMAT) if p.due_on else None, p.status,
             _Value(_generated_moment(p.updated_at), DATETIME_FORMAT)]
            for p in results.plans if _in_scope(results, p.partnership_id)]
    _write_table(ws, headers, rows)


def _generated_moment(when: dt.datetime) -> dt.datetime:
    """A moment as Excel holds it: UTC, without a zone."""
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


RULES: tuple[tuple[str, str], ...] = (
    ("Answers", "Each item is answered with a level from 1 to 4, \"don't know\" or \"not "
     "applicable\". Don't know, not applicable and unanswered items carry no score; they are "
     "counted and shown beside each item's figures."),
    ("Submitted only", "Only submitted responses count. Drafts count only towards \"in "
     "progress\"."),
    ("Respondent element score", "The mean of one respondent's scored items in an element, "
     "defined only when at least half of the element's items (rounded up) are scored."),
    ("Partnership element score", "The mean of its respondents' element scores; n is the number "
     "of respondents with that element score."),
    ("Board, sector and state scores", "The mean of the published element scores of the "
     "partnerships in that scope; each partnership weighs the same, and a suppressed one does "
     "not count. The state figure is over all partnerships, not a mean of board means."),
    ("Overall score", "The mean of the six element scores of a scope, defined only when all six "
     "are present."),
    ("Stage", "The highest level whose minimum score is at or below the score as it is shown, "
     "rounded to two decimals (half up): a score shown as 1.75 is at the level that starts at "
     "1.75, whatever its third decimal (scale below)."),
    ("Partner types", "Within a scope, the mean of the element scores of the respondents of "
     "that partner type, pooled over the respondents of partnerships whose score in that "
     "element is published."),
    ("Industry gap", "Business / industry partners' pooled mean minus the pooled mean of all "
     "other partner types, per element."),
    ("Small-n suppression", "Any figure drawn from fewer than the minimum number of respondents "
     "(a partnership score, a partner-type cell, a gap side, an item mean and its level counts) "
     "reads \"suppressed\", never a number; so does every item figure of a partnership where "
     "fewer submitted, and a board or sector with no published partnership score. An overall "
     "and stage are suppressed when any of the element scores is."),
    ("Confidentiality", "Figures drawn from fewer than the minimum number of respondents are "
     "suppressed, and so are any others (partner-type cells, gap sides) that would let someone "
     "work them out by subtraction. Comments appear only where enough responded, labelled by "
     "partner type only where enough of that type did. Until a cycle closes, board leads see "
     "response progress only, and state staff see results marked provisional."),
    ("Change", "For each partnership and element: delta = this cycle minus the most recent "
     "earlier cycle in which it had a score. Improved when delta, rounded to two decimals, is "
     "at or above the change threshold, declined when at or below minus the threshold; "
     "otherwise sustained when the stage is at or above the sustained level, else no change. "
     "Where the current or previous score is suppressed, the figures read \"suppressed\"."),
    ("Items changed", "Marked where an element's items differ between the two cycles "
     "compared, because the questionnaire was revised in between; the delta then compares "
     "different questions."),
    ("Response rate", "Submitted responses divided by members invited, within the scope."),
    ("Rounding", "Values are stored unrounded and displayed with two decimals, rounded half "
     "up; stages and change statuses are read from the figure as displayed."),
    ("Boards", "Each cycle's figures are reported against the boards as they stood in that "
     "cycle; a partnership's history moves with it when it changes board."),
    ("Row-level answers", "They are not in workbooks. State staff and administrators "
     "download them as CSV in the responses import format (respondent codes, never names, "
     "emails or organizations): /exports/<cycle>/responses.csv on the web, or "
     "survey export FILE.csv --cycle C."),
    ("Shared partnerships", "A partnership may span boards: it has a lead board and "
     "participating boards (Shared with). It counts in the figures of every board it spans "
     "(Boards, Partner types, board workbooks), so board figures that include shared "
     "partnerships overlap and do not add up to the state; it counts once in its sector's and "
     "the state's figures, which are over distinct partnerships."),
    ("Outcomes sheet", "Figures a partnership reports about what it achieved (employers "
     "engaged, placements, wages...), entered by its lead board or imported by state staff; "
     "Previous is the last earlier cycle with a value, Change the difference. They are about "
     "the partnership, not anyone's answers; suppressed where the provider suppressed them."),
    ("Coverage sheet", "State workbook: for each board, the sectors its regional strategy "
     "targets (Targeted yes), with the number of its partnerships in the cycle (0: no "
     "partnership) and their median published overall score, then the sectors of its "
     "partnerships outside the targets (Targeted no)."),
    ("Plans sheet", "One row per action-plan entry of this cycle (made once its results were "
     "published): priority, goal, actions, owner, due date and status; Updated is in UTC."),
)


def _release_line(results: CycleResults) -> str:
    """Which published release this is (SPEC 4b.4), or that the figures are live."""
    if results.release is not None:
        return results.release.line
    return "none: live figures, provisional" if results.provisional else "none"


def _about(wb: Workbook, results: CycleResults) -> None:
    ws = wb.create_sheet("About")
    scale = results.scale
    rows: list[list[Any]] = [[topic, _Value(text, wrap=True)]
                             for topic, text in (*RULES, *workbook_meaning.ABOUT)]
    rows += [
        ["Minimum respondents", scale.min_respondents],
        ["Change threshold", _Value(scale.change_threshold, SCORE_FORMAT)],
        ["Sustained level", scale.sustained_level],
        ["Questionnaire content hash", results.content_hash],
        ["Release", _release_line(results)],
        ["Release figures hash", results.release.figures_hash if results.release else ""],
        ["Scope", "State" if results.board_code is None else f"Board {results.board_code}"],
    ]
    filter_rows = len(rows)
    rows.append([])
    rows.append([_Value(title, bold=True) for title in
                 ("Scale: value", "Label", "Description", "Min score")])
    for level in scale.levels:
        rows.append([level.value, level.label, _Value(level.description, wrap=True),
                     _Value(level.min_score, SCORE_FORMAT)])
    rows.append([None, scale.dont_know_label, "No score; counted and shown.", None])
    rows.append([None, scale.not_applicable_label, "No score; counted and shown.", None])
    _write_table(ws, ["Topic", "Detail"], rows, widths={0: 30, 1: 90, 2: 50, 3: 12},
                 filter_rows=filter_rows)


def build_workbook(results: CycleResults) -> bytes:
    """The Excel rollup of SPEC section 8 for the results (state or one board) as bytes."""
    wb = Workbook(write_only=True)
    scope = "" if results.board_code is None else f", board {results.board_code}"
    wb.properties.title = f"Sector partnership self-assessment {results.cycle}{scope}"
    wb.properties.creator = CREATOR
    wb.properties.subject = "Sector partnership maturity rollup"
    writers = [_summary, _boards, _partnerships, _items, _partner_types, _change,
               workbook_meaning.write_agreement, workbook_meaning.write_benchmarks, _outcomes,
               _coverage]
    if results.board_code is None:  # the instrument is the state's (SPEC 8, 15)
        writers.append(workbook_meaning.write_instrument)
    for write in (*writers, _plans, _about):
        write(wb, results)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
