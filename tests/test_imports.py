"""Roster, responses and boards imports through the `survey` command line (SPEC 6 and 7)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from openpyxl import Workbook
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from survey.models import (
    Answer,
    Board,
    Invitation,
    InvitationStatus,
    Member,
    Partnership,
)
from survey.services.tabular import ImportProblem, read_table
from tests.factories import (
    make_board,
    make_cycle,
    make_member,
    make_partnership,
    shipped_questionnaire,
)

ROSTER_HEADER = ["board", "partnership", "sector", "name", "email", "organization", "partner_type"]
RESPONSES_HEADER = ["cycle", "board", "partnership", "respondent", "partner_type", "element",
                    "item", "score"]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def member(session: Session, email: str) -> Member:
    return session.execute(select(Member).where(Member.email == email)).scalar_one()


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {m.__name__: count(session, m)
            for m in (Board, Partnership, Member, Invitation, Answer)}


@pytest.fixture
def boards(session: Session) -> dict[str, Board]:
    """Boards 15 and 23 with one partnership and one member, committed."""
    tampa = make_board(session, "15", "CareerSource Tampa Bay")
    miami = make_board(session, "23", "CareerSource South Florida")
    health = make_partnership(session, tampa, "Tampa Bay Healthcare Collaborative", "Healthcare")
    make_member(session, health, "business", email="ana.garcia@example.org", name="Ana Garcia",
                organization="Bayside Health System")
    session.commit()
    return {"15": tampa, "23": miami}


# --- roster -------------------------------------------------------------------------------

def test_roster_csv_creates_and_updates_members_and_partnerships(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [
        ["15", "Tampa Bay Healthcare Collaborative", "Healthcare", "Ana Garcia-Lopez",
         "ANA.GARCIA@example.org", "Bayside Health", "Business / industry"],
        ["15", "Tampa Bay Healthcare Collaborative", "Healthcare", "Luis Perez",
         "luis.perez@example.org", "Hillsborough State College", "education"],
        ["23", "Miami Marine Industries Alliance", "Marine", "Rosa Diaz",
         "rosa.diaz@example.com", "IBEW Local 349", "labor"],
    ])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 members: 2 new, 1 updated" in result.output
    assert "1 new partnerships" in result.output

    session.expire_all()
    ana = member(session, "ana.garcia@example.org")
    assert (ana.name, ana.organization, ana.partner_type) == (
        "Ana Garcia-Lopez", "Bayside Health", "business")
    marine = session.execute(
        select(Partnership).where(Partnership.name == "Miami Marine Industries Alliance")
    ).scalar_one()
    assert marine.board.code == "23" and marine.sector == "Marine"
    assert [m.partner_type for m in marine.members] == ["labor"]
    assert count(session, Member) == 3


def test_roster_xlsx_imports_the_same_columns(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([h.upper() for h in ROSTER_HEADER])  # headers in any case
    sheet.append([15, "Tampa Bay Healthcare Collaborative", "Healthcare", "Kevin Moore",
                  "kevin.moore@example.net", "CareerSource Tampa Bay", "Workforce development"])
    sheet.append([None] * 7)  # a blank row is skipped
    sheet.append(["15", "Tampa Bay Healthcare Collaborative", "Healthcare", "Mei Chen",
                  "mei.chen@example.org", "Tampa Bay EDC", "economic_development"])
    sheet["F4"].value = "=HYPERLINK(\"http://evil.example\")"
    sheet["F4"].data_type = "s"  # text that looks like a formula, stored as text
    path = tmp_path / "roster.xlsx"
    workbook.save(path)

    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    session.expire_all()
    emails = set(session.execute(select(Member.email)).scalars())
    assert {"kevin.moore@example.net", "mei.chen@example.org"} <= emails
    kevin = session.execute(select(Member).where(Member.name == "Kevin Moore")).scalar_one()
    assert kevin.partner_type == "workforce"
    assert kevin.partnership.board.code == "15"  # the number 15 read back as "15"
    mei = member(session, "mei.chen@example.org")
    assert mei.organization == '=HYPERLINK("http://evil.example")'  # kept as plain text


def test_bad_roster_reports_every_bad_row_and_changes_nothing(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [
        ["15", "Tampa Bay Tech Alliance", "IT", "Good Row", "good@example.org", "Acme", "business"],
        ["99", "Nowhere Partnership", "IT", "Bad Board", "bad1@example.org", "Acme", "business"],
        ["15", "Tampa Bay Tech Alliance", "IT", "Also Good", "good2@example.org", "Acme", "labor"],
        ["15", "Tampa Bay Tech Alliance", "IT", "Bad Type", "bad2@example.org", "Acme", "vendor"],
    ])
    before = counts(session)
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == "error: 2 bad rows in roster.csv, no members imported"
    assert any(line.strip().startswith("row 3:") and "unknown board '99'" in line for line in lines)
    assert any(line.strip().startswith("row 5:") and "unknown partner type 'vendor'" in line
               for line in lines)
    assert not any("row 2:" in line or "row 4:" in line for line in lines)
    assert counts(session) == before


def test_roster_rejects_invalid_email_empty_name_and_duplicate_email(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [
        ["15", "Tampa Bay Tech Alliance", "IT", "A One", "a@example.org", "Acme", "business"],
        ["15", "Tampa Bay Tech Alliance", "IT", "", "b@example.org", "Acme", "business"],
        ["15", "Tampa Bay Tech Alliance", "IT", "C Three", "not-an-email", "Acme", "business"],
        ["15", "tampa bay tech alliance", "IT", "A Again", "A@example.org", "Acme", "business"],
    ])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "row 3: empty name" in result.output
    assert "row 4: invalid email 'not-an-email'" in result.output
    assert "row 5: email a@example.org appears twice" in result.output
    assert count(session, Member) == 1


def test_missing_column_and_wrong_extension_exit_1(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER[:-1],
                     [["15", "P", "", "N", "n@example.org", ""]])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "missing column(s) partner_type" in result.output
    other = tmp_path / "roster.txt"
    other.write_text("board\n")
    result = runner.invoke(args=["roster", "import", str(other)])
    assert result.exit_code == 1
    assert "not a .csv or .xlsx file" in result.output
    assert count(session, Member) == 1


def test_formula_like_text_is_stored_as_plain_text(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    formula = "=cmd|' /C calc'!A0"
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [
        ["15", "Tampa Bay Healthcare Collaborative", "", "+Evil Name", "evil@example.org", formula,
         "business"],
    ])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    session.expire_all()
    evil = member(session, "evil@example.org")
    assert evil.organization == formula
    assert evil.name == "+Evil Name"


def test_read_table_handles_bom_cp1252_and_row_numbers() -> None:
    data = "\ufeffCode , Name\n01,Caf\u00e9 Board\n,\n02,Second\n".encode()
    rows = read_table(data, "boards.csv", ["code", "name"])
    assert [(r["code"], r["name"], r["_row"]) for r in rows] == [
        ("01", "Caf\u00e9 Board", 2), ("02", "Second", 4)]
    rows = read_table("code,name\n01,Caf\u00e9\n".encode("cp1252"), "b.CSV", ["code", "name"])
    assert rows[0]["name"] == "Caf\u00e9"
    with pytest.raises(ImportProblem) as problem:
        read_table(b"not a zip", "b.xlsx", ["code"])
    assert "not a readable .xlsx workbook" in problem.value.problems[0]


# --- responses ------------------------------------------------------------------------------

def element_items(index: int) -> tuple[str, list[str]]:
    """An element's key and its item codes, read from the shipped content (never hard-coded)."""
    questionnaire = shipped_questionnaire()
    element = questionnaire.elements[index].key
    return element, [item.code for item in questionnaire.items if item.element_key == element]


def response_rows(cycle: str = "2025") -> list[list[str]]:
    """Two respondents: a roster member by email (any case) and an anonymous paper form."""
    partnership = "Tampa Bay Healthcare Collaborative"
    (d, di), (v, vi) = element_items(0), element_items(1)
    ana = [cycle, "15", partnership, "Ana.Garcia@example.org", "business", d]
    paper = [cycle, "15", partnership, "paper-07", "Education and training", v]
    return [
        [*ana, di[0], "3"], [*ana, di[1], "dk"], [*ana, di[2], "NA"], [*ana, di[3], ""],
        [*paper, vi[0], "4"], [*paper, vi[1], "1"],
    ]


def test_responses_import_answers_member_and_adds_unknown_respondent(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    make_cycle(session, "2025", status="closed")
    session.commit()
    path = write_csv(tmp_path / "responses.csv", RESPONSES_HEADER, response_rows())
    result = runner.invoke(args=["responses", "import", str(path), "--cycle", "2025"])
    assert result.exit_code == 0, result.output
    assert "imported 5 answers from 2 respondents" in result.output

    session.expire_all()
    ana = member(session, "ana.garcia@example.org")
    invitation = session.execute(
        select(Invitation).where(Invitation.member_id == ana.id)).scalar_one()
    assert invitation.status == InvitationStatus.SUBMITTED and invitation.source == "import"
    assert invitation.submitted_at is not None
    _, di = element_items(0)
    assert {a.item_code: a.value for a in invitation.answers} == {
        di[0]: "3", di[1]: "DK", di[2]: "NA"}  # the fourth is empty: unanswered

    paper = session.execute(select(Member).where(Member.respondent_key == "paper-07")).scalar_one()
    assert paper.email is None and paper.partner_type == "education"
    assert paper.partnership.name == "Tampa Bay Healthcare Collaborative"
    paper_invitation = session.execute(
        select(Invitation).where(Invitation.member_id == paper.id)).scalar_one()
    assert paper_invitation.status == InvitationStatus.SUBMITTED
    assert paper_invitation.partner_type == "education"
    assert sorted(a.value for a in paper_invitation.answers) == ["1", "4"]


def test_reimporting_the_same_file_doubles_nothing(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    make_cycle(session, "2025", status="closed")
    session.commit()
    rows = response_rows()
    path = write_csv(tmp_path / "responses.csv", RESPONSES_HEADER, rows)
    assert runner.invoke(args=["responses", "import", str(path), "--cycle", "2025"]).exit_code == 0
    first = counts(session)
    rows[0][-1] = "4"  # a corrected score replaces the old one
    write_csv(path, RESPONSES_HEADER, rows)
    result = runner.invoke(args=["responses", "import", str(path), "--cycle", "2025"])
    assert result.exit_code == 0, result.output
    assert counts(session) == first
    first_item = rows[0][6]
    level = session.execute(select(Answer.level).where(Answer.item_code == first_item)
                            ).scalar_one()
    assert level == 4


def test_responses_import_reports_every_bad_row_and_changes_nothing(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    make_cycle(session, "2025", status="closed")
    session.commit()
    p = "Tampa Bay Healthcare Collaborative"
    (d, di), (v, _) = element_items(0), element_items(1)
    rows = [
        ["2025", "15", p, "r1", "business", d, di[0], "2"],                  # 2 good
        ["2025", "15", p, "r1", "business", d, "no-such-item", "2"],         # 3 unknown item
        ["2025", "15", p, "r1", "business", d, di[1], "7"],                  # 4 score 7
        ["2025", "15", p, "r2", "astronaut", d, di[0], "3"],                 # 5 unknown type
        ["2025", "15", p, "r1", "labor", d, di[2], "3"],                     # 6 two types
        ["2025", "15", p, "r1", "business", v, di[3], "3"],                  # 7 wrong element
        ["2025", "15", p, "r1", "business", d, di[0], "3"],                  # 8 item twice
        ["2025", "99", p, "r3", "business", d, di[0], "3"],                  # 9 unknown board
        ["2024", "15", p, "r4", "business", d, di[0], "3"],                  # 10 wrong cycle
        ["2025", "15", p, "r5", "business", d, di[4], "x"],                  # 11 score x
    ]
    path = write_csv(tmp_path / "responses.csv", RESPONSES_HEADER, rows)
    before = counts(session)
    result = runner.invoke(args=["responses", "import", str(path), "--cycle", "2025"])
    assert result.exit_code == 1
    output = result.output
    assert output.splitlines()[0] == "error: 9 bad rows in responses.csv, no answers imported"
    expected = {
        3: "unknown item 'no-such-item'",
        4: "score '7' is not one of 1, 2, 3, 4, DK, NA or empty",
        5: "unknown partner type 'astronaut'",
        6: "respondent r1 has two partner types: business (row 2) and labor",
        7: f"item {di[3]} belongs to element {d}, not {v}",
        8: f"respondent r1 answers item {di[0]} twice (rows 2 and 8)",
        9: "unknown board '99'",
        10: "cycle '2024' is not the cycle being imported (2025)",
        11: "score 'x' is not one of",
    }
    for number, reason in expected.items():
        assert any(line.strip().startswith(f"row {number}:") and reason in line
                   for line in output.splitlines()), (number, output)
    assert "row 2:" not in output
    assert counts(session) == before


def test_responses_import_needs_a_known_cycle(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "responses.csv", RESPONSES_HEADER, response_rows("2031"))
    result = runner.invoke(args=["responses", "import", str(path), "--cycle", "2031"])
    assert result.exit_code == 1
    assert "no cycle named '2031'" in result.output.splitlines()[0]


# --- boards ---------------------------------------------------------------------------------

def test_boards_import_creates_and_renames(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "boards.csv", ["code", "name"], [
        ["15", "CareerSource Tampa Bay Region"], ["23", "CareerSource South Florida"],
        ["GA-01", "WorkSource Georgia Mountains"],
    ])
    result = runner.invoke(args=["boards", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 3 boards: 1 new, 1 renamed, 1 unchanged" in result.output
    session.expire_all()
    names = dict(session.execute(select(Board.code, Board.name)).all())
    assert names == {"15": "CareerSource Tampa Bay Region", "23": "CareerSource South Florida",
                     "GA-01": "WorkSource Georgia Mountains"}


def test_boards_import_rejects_duplicates_and_empty_fields(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "boards.csv", ["code", "name"], [
        ["30", "New Board"], ["30", "Same Code"], ["", "No Code"], ["31", ""],
    ])
    result = runner.invoke(args=["boards", "import", str(path)])
    assert result.exit_code == 1
    assert "row 3: code 30 appears twice (rows 2 and 3)" in result.output
    assert "row 4: empty code" in result.output
    assert "row 5: empty name" in result.output
    assert count(session, Board) == 2


# --- invitations when a cycle opens ---------------------------------------------------------

def test_opening_invites_every_invitable_member_once_with_set_based_writes(
    session: Session,
) -> None:
    from survey.models import BoardStatus, Participation
    from survey.services.cycles import ensure_invitations
    from survey.services.invitations import invitable_members

    board, retired = make_board(session, "41"), make_board(session, "42")
    retired.status = BoardStatus.RETIRED
    port, closed = make_partnership(session, board, "Port"), make_partnership(session, board, "Old")
    closed.active = False
    active = [make_member(session, port, partner_type="labor") for _ in range(3)]
    make_member(session, port).active = False
    make_member(session, closed)
    make_member(session, make_partnership(session, retired, "Gone"))
    make_partnership(session, board, "Nobody yet")  # no members: no participation
    cycle = make_cycle(session, "2031", status="draft")
    session.commit()
    version = cycle.results_version

    assert ensure_invitations(session, cycle) == 3
    session.commit()
    rows = session.execute(select(Invitation.member_id, Invitation.partner_type,
                                  Invitation.status, Invitation.invited_at)
                           .where(Invitation.cycle_id == cycle.id)).all()
    assert {r.member_id for r in rows} == {m.id for m in invitable_members(session)} \
        == {m.id for m in active}
    assert all(r.partner_type == "labor" and r.status == InvitationStatus.NOT_STARTED
               and r.invited_at is not None for r in rows)
    participation = session.execute(select(Participation)
                                    .where(Participation.cycle_id == cycle.id)).scalar_one()
    assert (participation.board_code, participation.partnership_name,
            participation.sector) == ("41", "Port", port.sector)
    assert session.get(type(cycle), cycle.id).results_version == version + 1

    newcomer = make_member(session, port)
    session.commit()
    assert ensure_invitations(session, cycle, board_code="42") == 0
    assert ensure_invitations(session, cycle) == 1  # only the member added since
    session.commit()
    assert count(session, Invitation) == 4 and count(session, Participation) == 1
    assert session.execute(select(Invitation.participation_id)
                           .where(Invitation.member_id == newcomer.id)).scalar_one() \
        == participation.id


def test_imported_answers_read_back_with_the_same_timestamps_as_saved_ones(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    """Answers written in bulk store `updated_at` as every other write does."""
    make_cycle(session, "2025", status="closed")
    session.commit()
    path = write_csv(tmp_path / "responses.csv", RESPONSES_HEADER, response_rows())
    assert runner.invoke(args=["responses", "import", str(path), "--cycle", "2025"]).exit_code == 0
    session.expire_all()
    stamps = session.execute(select(cast(Answer.updated_at, String))).scalars().all()
    submitted = session.execute(select(cast(Invitation.submitted_at, String))).scalars().all()
    assert len(stamps) == 5 and len(set(stamps)) == 1  # stored exactly as the ORM stores it
    assert set(stamps) == set(submitted)


# --- roster emails, names and languages -----------------------------------------------------

def test_roster_refuses_addresses_mail_cannot_take_and_control_characters(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    p = "Tampa Bay Tech Alliance"
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [
        ["15", p, "IT", "Good Name", "good@example.org", "Acme", "business"],        # 2
        ["15", p, "IT", "Comma", "a,b@ex.org", "Acme", "business"],                  # 3
        ["15", p, "IT", "Quoted", '"a b"@example.org', "Acme", "business"],          # 4
        ["15", p, "IT", "Two Ats", "a@b@example.org", "Acme", "business"],           # 5
        ["15", p, "IT", "Bell\x07Name", "bell@example.org", "Acme", "business"],     # 6
        ["15", p, "IT", "Esc", "esc@example.org", "Org\x1b[31m", "business"],        # 7
        ["15", p, "IT", "Line\nBreak", "line@example.org", "Acme", "business"],      # 8 ok
    ])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "error: 5 bad rows in roster.csv, no members imported"

    def reason(number: int) -> str:
        return next(line for line in lines if line.strip().startswith(f"row {number}:"))

    assert "invalid email 'a,b@ex.org'" in reason(3)
    assert "invalid email '\"a b\"@example.org'" in reason(4)
    assert "invalid email 'a@b@example.org'" in reason(5)
    assert "name holds a control character (U+0007)" in reason(6)
    assert "organization holds a control character (U+001B)" in reason(7)
    assert not any(line.strip().startswith(("row 2:", "row 8:")) for line in lines)
    assert count(session, Member) == 1


def test_roster_language_column_is_optional_checked_and_kept(
    runner: FlaskCliRunner, session: Session, boards: dict[str, Board], tmp_path: Path
) -> None:
    p = "Tampa Bay Tech Alliance"
    header = [*ROSTER_HEADER, "language"]
    path = write_csv(tmp_path / "roster.csv", header, [
        ["15", p, "IT", "Ana", "ana@example.org", "Acme", "business", "ES"],
        ["15", p, "IT", "Bo", "bo@example.org", "Acme", "business", "en"],
        ["15", p, "IT", "Cy", "cy@example.org", "Acme", "business", ""],
    ])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    session.expire_all()
    languages = dict(session.execute(select(Member.email, Member.language)
                                     .where(Member.partnership.has(name=p))).all())
    assert languages == {"ana@example.org": "es", "bo@example.org": "en", "cy@example.org": None}

    # A file without the column (or an empty cell) keeps each member's language.
    path = write_csv(tmp_path / "again.csv", ROSTER_HEADER, [
        ["15", p, "IT", "Ana Maria", "ana@example.org", "Acme", "business"]])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert "1 updated" in result.output
    session.expire_all()
    assert member(session, "ana@example.org").language == "es"

    path = write_csv(tmp_path / "bad.csv", header, [
        ["15", p, "IT", "Di", "di@example.org", "Acme", "business", "fr"]])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "row 2: unknown language 'fr' (use one of en, es)" in result.output
