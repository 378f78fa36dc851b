"""`survey export` and `survey charts`: files written from cycle_results, nothing on bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from reports.charts import all_charts
from survey.models import Invitation
from survey.scoring import cycle_by_name, cycle_results
from tests.factories import (
    all_answers,
    answer,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)


@pytest.fixture
def data(session):
    """Cycle 2026: board 01 with a 3-respondent and a suppressed 2-respondent partnership,
    board 02 with one partnership of 3 respondents and a draft."""
    q = shipped_questionnaire()
    cycle = make_cycle(session, "2026")
    b1, b2 = make_board(session, "01", "Gulf Coast"), make_board(session, "02", "Bay Area")
    plan = [
        (make_partnership(session, b1, name="Health", sector="Health care"), [4, 3, 3], 0),
        (make_partnership(session, b1, name="Ships", sector="Maritime"), [2, 2], 0),
        (make_partnership(session, b2, name="Chips", sector="Semiconductors"), [1, 2, 2], 1),
    ]
    for partnership, levels, drafts in plan:
        for level in levels:
            invitation, _ = make_invitation(session, cycle, make_member(session, partnership))
            answer(session, invitation, all_answers(q, level))
        for _ in range(drafts):
            invitation, _ = make_invitation(session, cycle, make_member(session, partnership))
            answer(session, invitation, all_answers(q, 4), submit=False)
    session.commit()
    return cycle


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    workbook = openpyxl.load_workbook(path)
    rows = list(workbook[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def out(tmp_path) -> Path:
    """An empty output folder (tmp_path itself holds the database)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_export_writes_the_figures_of_cycle_results(runner, session, data, out):
    path = out / "rollup.xlsx"
    result = runner.invoke(args=["export", str(path), "--cycle", "2026"])
    assert result.exit_code == 0, result.output
    assert "rollup.xlsx" in one_line(result) and "3 partnerships" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["rollup.xlsx"]  # no temp file left

    results = cycle_results(session, cycle_by_name(session, "2026"))
    rows = {row["Partnership"]: row for row in sheet_rows(path, "Partnerships")}
    assert set(rows) == {"Health", "Ships", "Chips"}
    for scope in results.partnerships:
        row = rows[scope.label]
        assert (row["Board code"], row["Sector"]) == (scope.board_code, scope.sector)
        assert (row["Invited"], row["Responded"]) == (scope.invited, scope.responded)
        for element in results.elements:
            score = scope.elements[element.key]
            expected = "suppressed" if score.suppressed else score.value
            assert row[element.title] == pytest.approx(expected)
        assert row["Overall"] == ("suppressed" if scope.overall.suppressed
                                  else pytest.approx(scope.overall.value))
    assert rows["Health"]["Overall"] == pytest.approx(10 / 3)
    assert rows["Ships"]["Driven by High-Quality Data"] == "suppressed"
    assert (rows["Chips"]["Invited"], rows["Chips"]["Responded"]) == (4, 3)
    boards = {row["Board code"]: row for row in sheet_rows(path, "Boards")}
    assert boards["01"]["Overall"] == pytest.approx(10 / 3)  # the suppressed one does not
    summary = {row[0]: row[1] for row in openpyxl.load_workbook(path)["Summary"].iter_rows(
        values_only=True)}
    assert summary["Results"].startswith("provisional")  # 2026 is open, never closed


def test_export_for_one_board_holds_only_that_board(runner, data, out):
    path = out / "board-02.xlsx"
    result = runner.invoke(args=["export", str(path), "--cycle", "2026", "--board", "02"])
    assert result.exit_code == 0, result.output
    assert [row["Partnership"] for row in sheet_rows(path, "Partnerships")] == ["Chips"]
    assert [row["Board code"] for row in sheet_rows(path, "Boards")] == ["02"]
    assert "Responses" not in openpyxl.load_workbook(path).sheetnames


@pytest.mark.parametrize(("args", "reason"), [
    (["--cycle", "2030"], "unknown cycle: 2030"),
    (["--cycle", "2026", "--board", "99"], "unknown board: 99"),
])
def test_export_rejects_unknown_cycle_or_board_and_writes_nothing(runner, data, out,
                                                                  args, reason):
    path = out / "rollup.xlsx"
    result = runner.invoke(args=["export", str(path), *args])
    assert result.exit_code != 0
    assert reason in one_line(result)
    assert list(out.iterdir()) == []


def test_export_needs_an_xlsx_or_csv_file_name(runner, data, out):
    result = runner.invoke(args=["export", str(out / "rollup.txt"), "--cycle", "2026"])
    assert result.exit_code != 0
    assert ".xlsx or .csv" in one_line(result)
    assert list(out.iterdir()) == []


def test_export_csv_writes_every_answer_without_names(runner, session, data, out):
    """SPEC 8: the state's row-level answers in the import format, respondent codes only."""
    path = out / "answers.csv"
    result = runner.invoke(args=["export", str(path), "--cycle", "2026"])
    assert result.exit_code == 0, result.output
    items = len(shipped_questionnaire().items)
    assert f"{8 * items} answers" in one_line(result)  # 8 submitted, the draft left out
    assert sorted(p.name for p in out.iterdir()) == ["answers.csv"]
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["cycle", "board", "partnership", "respondent", "partner_type",
                             "element", "item", "score"]
    assert len(rows) == 8 * items
    assert {r["partnership"] for r in rows} == {"Health", "Ships", "Chips"}
    respondents = {r["respondent"] for r in rows}
    assert len(respondents) == 8 and all(c.startswith("R") and len(c) == 13 for c in respondents)
    assert {r["score"] for r in rows if r["partnership"] == "Ships"} == {"2"}
    codes = [r["respondent"] for r in rows]
    assert codes == sorted(codes)  # by code, never roster order (SPEC 4a rule 8)
    text = path.read_text(encoding="utf-8")
    for invitation in session.scalars(select(Invitation)):
        member = invitation.member
        assert member.email not in text and member.name not in text
        assert not member.organization or member.organization not in text


def test_export_csv_covers_the_state_only_and_guards_formulas(runner, session, data, out):
    result = runner.invoke(args=["export", str(out / "a.csv"), "--cycle", "2026", "--board",
                                 "01"])
    assert result.exit_code != 0 and "drop --board" in one_line(result)
    assert list(out.iterdir()) == []
    partnership = next(i.participation for i in session.scalars(select(Invitation))
                       if i.participation.partnership_name == "Chips")
    partnership.partnership_name = "=HYPERLINK(1)"
    session.commit()
    path = out / "b.csv"
    assert runner.invoke(args=["export", str(path), "--cycle", "2026"]).exit_code == 0
    with path.open(encoding="utf-8", newline="") as handle:
        names = {r["partnership"] for r in csv.DictReader(handle)}
    assert "'=HYPERLINK(1)" in names and "=HYPERLINK(1)" not in names


def test_charts_writes_every_chart_as_png_and_svg(runner, session, data, out):
    folder = out / "charts" / "2026"
    result = runner.invoke(args=["charts", str(folder), "--cycle", "2026", "--board", "01"])
    assert result.exit_code == 0, result.output
    expected = [c.name for c in all_charts(cycle_results(
        session, cycle_by_name(session, "2026"), "01"))]
    assert expected and f"{len(expected)} charts" in one_line(result)
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted([f"{n}.png" for n in expected] + [f"{n}.svg" for n in expected]
                           + ["charts.md"])
    for name in expected:
        assert (folder / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in (folder / f"{name}.svg").read_bytes()[:2000]
    # charts.md: every chart's image, description and data, ready for a board report.
    index = (folder / "charts.md").read_text(encoding="utf-8")
    assert all(f"]({name}.png)" in index for name in expected)
    assert index.count("\n## ") == len(expected)


def test_charts_rejects_an_unknown_cycle_and_creates_no_folder(runner, data, out):
    folder = out / "charts"
    result = runner.invoke(args=["charts", str(folder), "--cycle", "1999"])
    assert result.exit_code != 0
    assert "unknown cycle: 1999" in one_line(result)
    assert not folder.exists()
