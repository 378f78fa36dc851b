"""The Excel rollup read back with openpyxl: sheets, headers, figures, text safety."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from reports.results import OVERALL, STATE_SCOPE
from reports.sample import sample_results
from reports.workbook import BOARD_SHEETS, SHEETS, build_workbook, sheet_names

ELEMENT_TITLES = [
    "Driven by High-Quality Data",
    "Founded on a Shared, Regional Vision",
    "Directed by Industry",
    "Lead to Strategic Alignment",
    "Transform How Services (jobseeker/worker and employer) are Delivered",
    "Measured, Improved and Sustained",
]
HEADERS = {
    "Boards": ["Board code", "Board", "Partnerships", "Invited", "Responded", "Response rate",
               *ELEMENT_TITLES, "Overall", "Stage"],
    "Partnerships": ["Board code", "Board", "Partnership", "Sector", "Invited", "Responded",
                     "Response rate", *ELEMENT_TITLES, "Overall", "Stage", "Shared with"],
    "Items": ["Board code", "Partnership", "Element", "Item", "No.", "Text", "n", "Mean",
              "Don't know", "Not applicable", "Exploring", "Building", "Implementing",
              "Sustaining", "Board"],
    "Partner types": ["Scope", "Partner type", "Respondents", *ELEMENT_TITLES],
    "Change": ["Board code", "Partnership", "Element", "Previous cycle", "Previous", "Current",
               "Delta", "Status", "Board", "Items changed", "Margin"],
    "Agreement": ["Board code", "Partnership", "Element", "n", "Agreement", "Reading"],
    "Benchmarks": ["Scope", "Element", "Partnerships", "Lower quartile", "Median",
                   "Upper quartile"],
    "Instrument": ["Element", "Item", "No.", "Respondents", "Alpha", "Alpha low", "Alpha high",
                   "Item-rest", "Alpha if dropped", "Don't know", "Not applicable"],
}


def _load(results, **kwargs):
    return load_workbook(io.BytesIO(build_workbook(results)), **kwargs)


def _rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=False))
            for row in ws.iter_rows(min_row=2, values_only=True)]


@pytest.fixture(scope="module")
def results():
    return sample_results()


@pytest.fixture(scope="module")
def book(results):
    return _load(results)


def test_sheets_in_order(book):
    assert book.sheetnames == list(SHEETS) == [
        "Summary", "Boards", "Partnerships", "Items", "Partner types", "Change", "Agreement",
        "Benchmarks", "Outcomes", "Coverage", "Instrument", "Plans", "About",
    ]
    board_book = _load(sample_results("02"))
    assert board_book.sheetnames == list(BOARD_SHEETS) == list(sheet_names(board=True)) == [
        name for name in SHEETS if name not in ("Coverage", "Instrument")]
    assert book.properties.creator == "Sector partnership self-assessment"
    assert "2026" in book.properties.title


@pytest.mark.parametrize("sheet", list(HEADERS))
def test_headers_frozen_and_filtered(book, sheet):
    ws = book[sheet]
    assert [c.value for c in ws[1]] == HEADERS[sheet]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(HEADERS[sheet])).column_letter}{ws.max_row}"


def test_summary_and_about_have_headers(book):
    for name in ("Summary", "About"):
        assert book[name].freeze_panes == "A2"
        assert book[name].auto_filter.ref
    assert [c.value for c in book["Summary"][1]][:2] == ["Figure", "State"]


def test_board_figures_are_unrounded(book, results):
    rows = {r["Board code"]: r for r in _rows(book["Boards"])}
    assert set(rows) == {"01", "02"}
    for board in results.boards:
        row = rows[board.key]
        for element in results.elements:
            assert row[element.title] == board.elements[element.key].value
        assert row["Overall"] == board.overall.value
        assert row["Response rate"] == board.responded / board.invited
        assert row["Stage"] == board.stage.label
    ws = book["Boards"]
    assert ws["G2"].number_format == "0.00"
    assert ws["F2"].number_format == "0%"


def test_partnership_figures_and_suppression(book, results):
    rows = {r["Partnership"]: r for r in _rows(book["Partnerships"])}
    assert len(rows) == len(results.partnerships)
    for p in results.partnerships:
        row = rows[p.label]
        for element in results.elements:
            score = p.elements[element.key]
            expected = "suppressed" if score.suppressed else score.value
            assert row[element.title] == expected
        if p.overall.suppressed:
            assert row["Overall"] == row["Stage"] == "suppressed"
        else:
            assert row["Overall"] == p.overall.value


def test_summary_holds_state_figures(book, results):
    values = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    for element in results.elements:
        assert values[element.title] == results.state.elements[element.key].value
    assert values["Overall"] == results.state.overall.value
    assert values["Responded"] == results.state.responded
    assert values["Response rate"] == results.state.response_rate
    assert values["Cycle"] == "2026"


def test_items_partner_types_and_change(book, results):
    items = _rows(book["Items"])
    assert len(items) == len(results.item_results)
    first = results.item_results[0]
    assert items[0]["Mean"] == first.mean and items[0]["Item"] == first.item_code
    assert items[0]["Exploring"] == first.counts[1]
    suppressed_items = [r for r in items if r["Partnership"] == "Panhandle Advanced Manufacturing"]
    assert {r["Mean"] for r in suppressed_items} <= {"suppressed", None}
    # Where the mean is suppressed, so are the level counts that would show who chose what.
    small = [(i, r) for i, r in zip(results.item_results, items, strict=True)
             if 0 < i.n < results.scale.min_respondents]
    assert small
    for item, row in small:
        assert row["Mean"] == "suppressed"
        assert [row[level.label] for level in results.scale.levels] == ["suppressed"] * 4
        assert row["n"] == item.n

    types = _rows(book["Partner types"])
    for t, row in zip(results.partner_types, types, strict=True):
        assert row["Scope"] == t.scope and row["Partner type"] == t.partner_type_label
        for element in results.elements:
            score = t.elements[element.key]
            assert row[element.title] == ("suppressed" if score.suppressed else score.value)

    changes = _rows(book["Change"])
    assert len(changes) == len(results.changes)
    for c, row in zip(results.changes, changes, strict=True):
        expected_element = "Overall" if c.element_key == OVERALL else results.element(
            c.element_key).title
        assert row["Element"] == expected_element
        if c.suppressed:
            assert [row[k] for k in ("Previous", "Current", "Delta", "Status")] == [
                "suppressed"] * 4
        else:
            assert row["Current"] == c.current.value
            assert row["Delta"] == c.delta
            assert row["Status"] == c.status
            assert row["Previous cycle"] == c.previous_cycle
    assert {r["Status"] for r in changes} >= {"improved", "declined", "sustained", "no change"}


def test_no_row_level_answers_in_any_sheet(book, results):
    """SPEC 8 revised: answers are the stewards' CSV; About says where to get it."""
    assert results.responses  # the sample carries answers; the workbook must not
    codes = {r.respondent for r in results.responses}
    cells = {c for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row}
    assert not codes & cells
    about = " ".join(str(c) for row in book["About"].iter_rows(values_only=True) for c in row
                     if c is not None)
    assert "/exports/<cycle>/responses.csv" in about and "survey export FILE.csv" in about


def test_summary_marks_provisional_results(results):
    summary = {row[0]: row[1] for row in _load(replace(results, provisional=True))[
        "Summary"].iter_rows(values_only=True)}
    assert summary["Results"].startswith("provisional")
    published = {row[0]: row[1] for row in _load(results)["Summary"].iter_rows(values_only=True)}
    assert published["Results"] == "published"


def test_about_explains_rules_and_hash(book, results):
    text = " ".join(str(c) for row in book["About"].iter_rows(values_only=True) for c in row
                    if c is not None)
    assert results.content_hash in text
    for phrase in ("suppressed", "at least half", "each partnership weighs the same",
                   "Response rate", "Sustaining", "Minimum respondents"):
        assert phrase in text


def test_user_text_is_never_a_formula(results):
    nasty = ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "-2", "\tx", "=1+1"]
    partnerships = tuple(replace(p, label=name, sector=name)
                         for p, name in zip(results.partnerships, nasty, strict=False))
    boards = tuple(replace(b, label="=cmd|' /C calc'!A0") for b in results.boards)
    book = _load(replace(results, partnerships=partnerships, boards=boards))
    seen = {}
    for row in book["Partnerships"].iter_rows(min_row=2):
        seen[row[2].value] = row[2]
    for name in nasty[:4]:
        assert seen[name].value == name
        assert seen[name].data_type == "s"
    for cell in [row[1] for row in book["Boards"].iter_rows(min_row=2)]:
        assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"
    for ws in book.worksheets:
        for row in ws.iter_rows():
            assert all(cell.data_type != "f" for cell in row)


def test_board_export_is_limited_to_the_board(results):
    book = _load(sample_results("01"))
    assert {r["Board code"] for r in _rows(book["Boards"])} == {"01"}
    assert {r["Board code"] for r in _rows(book["Partnerships"])} == {"01"}
    assert {r["Board code"] for r in _rows(book["Items"])} == {"01"}
    assert {r["Board code"] for r in _rows(book["Change"])} == {"01"}
    assert {r["Scope"] for r in _rows(book["Partner types"])} == {"01"}
    assert "Responses" not in book.sheetnames
    summary = book["Summary"]
    assert [c.value for c in summary[1]] == ["Figure", "State", "Board 01 CareerSource Escarosa"]
    board = next(b for b in results.boards if b.key == "01")
    values = {row[0]: row[1:] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert values["Overall"] == (results.state.overall.value, board.overall.value)


def test_charts_read_one_to_four_and_sit_under_their_tables(results):
    # A state workbook charts its boards; a board's charts its partnerships (one bar per
    # board would be a single bar), each chart under its table so printing keeps both legible.
    for source, charted in ((results, "Boards"), (sample_results("02"), "Partnerships")):
        book = _load(source)
        for name in sheet_names(board=source.board_code is not None):
            expected = 1 if name in ("Summary", charted) else 0
            assert len(book[name]._charts) == expected, (source.board_code, name)
        for name in ("Summary", charted):
            ws = book[name]
            (chart,) = ws._charts
            assert (chart.y_axis.scaling.min, chart.y_axis.scaling.max) == (1, 4), name
            table_rows = 1 + len(_rows(ws))
            assert chart.anchor._from.row >= table_rows and chart.anchor._from.col == 0, name


def test_state_scope_name_in_partner_types(book):
    assert STATE_SCOPE in {r["Scope"] for r in _rows(book["Partner types"])}


def test_timezone_aware_generated_time_is_stored_in_utc(results):
    import datetime as dt

    aware = replace(results, generated_at=dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC))
    values = {row[0]: row[1] for row in _load(aware)["Summary"].iter_rows(values_only=True)}
    assert values["Generated (UTC)"] == dt.datetime(2026, 5, 4, 9, 30)


def test_board_names_beside_codes_in_items_and_change(results):
    book = _load(results)
    names = {b.key: b.label for b in results.boards}
    for sheet in ("Items", "Change"):
        rows = _rows(book[sheet])
        assert rows, sheet
        assert all(row["Board"] == names[row["Board code"]] for row in rows), sheet


# "No." is the item's number as partners saw it ("6.2", "6.10"): text, as a label.
IDENTIFIERS = {"Board code", "Scope", "Previous cycle", "Item", "No."}


def test_numbers_are_numbers_everywhere(results):
    # Every figure is a number cell (text only for identifiers such as "01" and cycle
    # names, and for the word "suppressed"): Excel sums, sorts and charts them.
    book = _load(results)
    for name in SHEETS:
        if name in ("Summary", "About"):
            continue
        for row in _rows(book[name]):
            for header, value in row.items():
                if header in IDENTIFIERS or not isinstance(value, str):
                    continue
                assert not value.strip().replace(".", "", 1).lstrip("-+").rstrip("%").isdigit(), (
                    name, header, value)


def test_every_sheet_prints_fit_to_width_with_repeated_headers(results):
    book = _load(results)
    for name in SHEETS:
        ws = book[name]
        setup = ws.page_setup
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), name
        assert ws.print_title_rows in ("1:1", "$1:$1"), name  # the header on every page
        assert "&A" in ws.oddFooter.center.text and "&P" in ws.oddFooter.center.text, name
        width = sum(ws.column_dimensions[c].width or 0 for c in ws.column_dimensions)
        # Wide sheets print across the page; the two-column Summary prints upright.
        assert setup.orientation == ("landscape" if width > 100 else "portrait"), (name, width)
    assert book["Summary"].page_setup.orientation == "portrait"
    assert book["Items"].page_setup.orientation == "landscape"


def test_wrapped_text_rows_are_tall_enough(results):
    ws = _load(results)["Items"]
    text_column = [c.value for c in ws[1]].index("Text") + 1
    width = ws.column_dimensions[ws.cell(1, text_column).column_letter].width
    assert ws.cell(2, text_column).alignment.wrap_text
    for row in range(2, ws.max_row + 1):
        text = ws.cell(row, text_column).value
        if len(text) > 2 * width:  # two lines at least at this width
            assert (ws.row_dimensions[row].height or 15) >= 30, (row, text)
