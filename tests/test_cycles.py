"""Cycles through the command line, content snapshots, and board changes across cycles."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import (
    BoardStatus,
    Cycle,
    CycleStatus,
    Invitation,
    InvitationToken,
    Participation,
)
from survey.questionnaire import Questionnaire, default_folder
from survey.services.boards import merge_boards, move_partnership
from survey.services.cycles import get_cycle
from survey.services.invitations import invitation_for
from survey.services.tabular import ImportProblem
from tests.factories import (
    answer,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
)


@pytest.fixture
def content(app: Flask, tmp_path: Path) -> Path:
    """A private copy of the shipped questionnaires, in force for the app."""
    folder = tmp_path / "questionnaires"
    shutil.copytree(default_folder(), folder)
    app.config["QUESTIONNAIRES"] = str(folder)
    return folder


def reword_first_item(folder: Path, new_text: str) -> None:
    path = folder / "data.yaml"
    element = yaml.safe_load(path.read_text(encoding="utf-8"))
    element["items"][0]["text"] = new_text
    path.write_text(yaml.safe_dump(element, sort_keys=False), encoding="utf-8")


def first_item_text(cycle: Cycle) -> str:
    return Questionnaire.from_dict(cycle.content).element("data").items[0].text


def cycles(session: Session) -> list[tuple[str, str]]:
    session.expire_all()
    return list(session.execute(select(Cycle.name, Cycle.status).order_by(Cycle.name)))


def test_create_open_close_through_the_cli(
    runner: FlaskCliRunner, session: Session, content: Path
) -> None:
    board = make_board(session, "15")
    partnership = make_partnership(session, board)
    members = [make_member(session, partnership) for _ in range(3)]
    removed = make_member(session, partnership)
    removed.active = False
    session.commit()

    result = runner.invoke(args=["cycle", "create", "2026", "--opens", "2026-03-01",
                                 "--closes", "2026-04-30"])
    assert result.exit_code == 0, result.output
    assert cycles(session) == [("2026", "draft")]

    reword_first_item(content, "Partners read the regional labour market report together.")
    result = runner.invoke(args=["cycle", "open", "2026"])
    assert result.exit_code == 0, result.output
    assert "3 new invitations" in result.output
    session.expire_all()
    cycle = get_cycle(session, "2026")
    assert cycle.status == CycleStatus.OPEN and cycle.opened_at is not None
    # The content in force when the cycle opened is its snapshot.
    assert first_item_text(cycle) == "Partners read the regional labour market report together."
    invited = set(session.execute(
        select(Invitation.member_id).where(Invitation.cycle_id == cycle.id)).scalars())
    assert invited == {m.id for m in members}
    # Opening creates invitations only; links are printed by `survey invite`.
    assert session.scalar(select(func.count()).select_from(InvitationToken)) == 0

    result = runner.invoke(args=["cycle", "list"])
    assert "2026" in result.output and "open" in result.output

    result = runner.invoke(args=["cycle", "close", "2026", "--yes"])
    assert result.exit_code == 0, result.output
    assert cycles(session) == [("2026", "closed")]
    result = runner.invoke(args=["cycle", "close", "2026", "--yes"])
    assert result.exit_code == 0 and "already closed" in result.output


def test_editing_the_files_after_opening_does_not_change_the_cycle(
    runner: FlaskCliRunner, session: Session, content: Path
) -> None:
    assert runner.invoke(args=["cycle", "create", "2026", "--opens", "2026-03-01",
                               "--closes", "2026-04-30"]).exit_code == 0
    assert runner.invoke(args=["cycle", "open", "2026"]).exit_code == 0
    session.expire_all()
    before = get_cycle(session, "2026")
    snapshot, content_hash = before.content, before.content_hash

    reword_first_item(content, "A rewritten statement for next year.")
    assert runner.invoke(args=["cycle", "open", "2026"]).exit_code == 0  # open again: no refresh
    assert runner.invoke(args=["cycle", "create", "2027", "--opens", "2027-03-01",
                               "--closes", "2027-04-30"]).exit_code == 0
    session.expire_all()
    cycle = get_cycle(session, "2026")
    assert (cycle.content, cycle.content_hash) == (snapshot, content_hash)
    later = get_cycle(session, "2027")
    assert later.content_hash != content_hash
    assert first_item_text(later) == "A rewritten statement for next year."


def test_reopening_a_closed_cycle_with_answers_keeps_its_snapshot(
    runner: FlaskCliRunner, session: Session, content: Path
) -> None:
    board = make_board(session, "15")
    member = make_member(session, make_partnership(session, board))
    cycle = make_cycle(session, "2025", status=CycleStatus.CLOSED)
    invitation, _ = make_invitation(session, cycle, member)
    answer(session, invitation, {"data-1": 3})
    session.commit()
    content_hash = cycle.content_hash

    reword_first_item(content, "Changed after the cycle closed.")
    result = runner.invoke(args=["cycle", "open", "2025"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    cycle = get_cycle(session, "2025")
    assert cycle.status == CycleStatus.OPEN and cycle.content_hash == content_hash


@pytest.mark.parametrize("args, message", [
    (["--opens", "2026-13-01", "--closes", "2026-04-30"], "Invalid value for '--opens'"),
    (["--opens", "01/03/2026", "--closes", "2026-04-30"], "Invalid value for '--opens'"),
    (["--opens", "2026-05-01", "--closes", "2026-04-30"], "closes (2026-04-30) before it opens"),
])
def test_bad_dates_exit_non_zero_and_create_nothing(
    runner: FlaskCliRunner, session: Session, content: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["cycle", "create", "2026", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert cycles(session) == []


def test_duplicate_or_bad_name_exits_1_and_changes_nothing(
    runner: FlaskCliRunner, session: Session, content: Path
) -> None:
    dates = ["--opens", "2026-03-01", "--closes", "2026-04-30"]
    assert runner.invoke(args=["cycle", "create", "2026", *dates]).exit_code == 0
    result = runner.invoke(args=["cycle", "create", "2026", "--opens", "2026-06-01",
                                 "--closes", "2026-07-01"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "error: a cycle named '2026' already exists"
    result = runner.invoke(args=["cycle", "create", "spring 2026!", *dates])
    assert result.exit_code == 1 and "use 1 to 50 letters" in result.output
    session.expire_all()
    assert cycles(session) == [("2026", "draft")]
    assert get_cycle(session, "2026").opens_on == dt.date(2026, 3, 1)


def test_unknown_cycle_and_broken_content_exit_1(
    runner: FlaskCliRunner, session: Session, content: Path
) -> None:
    result = runner.invoke(args=["cycle", "open", "1999"])
    assert result.exit_code == 1 and "no cycle named '1999'" in result.output
    (content / "vision.yaml").unlink()
    result = runner.invoke(args=["cycle", "create", "2026", "--opens", "2026-03-01",
                                 "--closes", "2026-04-30"])
    assert result.exit_code == 1
    assert result.output.startswith("error: the questionnaire content")
    assert cycles(session) == []


def participations(session: Session, partnership_id: int) -> dict[str, str]:
    session.expire_all()
    rows = session.execute(
        select(Cycle.name, Participation.board_code).join(Participation.cycle)
        .where(Participation.partnership_id == partnership_id)
    ).all()
    return {name: code for name, code in rows}


def test_merge_boards_moves_partnerships_but_closed_cycles_keep_their_board(
    session: Session,
) -> None:
    old = make_board(session, "06", "CareerSource North Florida")
    new = make_board(session, "07", "CareerSource Florida Crown")
    partnership = make_partnership(session, old, "North Florida Agribusiness Council")
    member = make_member(session, partnership)
    closed = make_cycle(session, "2024", status=CycleStatus.CLOSED)
    current = make_cycle(session, "2026", status=CycleStatus.OPEN)
    invitation_for(session, closed, member)
    invitation_for(session, current, member)

    assert merge_boards(session, old, new) == 1
    assert partnership.board is new
    assert (old.status, old.merged_into) == (BoardStatus.MERGED, new)
    assert participations(session, partnership.id) == {"2024": "06", "2026": "07"}
    with pytest.raises(ImportProblem):
        merge_boards(session, new, new)


def test_move_partnership_keeps_closed_cycles_and_refuses_name_clash(session: Session) -> None:
    tampa = make_board(session, "15", "CareerSource Tampa Bay")
    pinellas = make_board(session, "14", "CareerSource Pinellas")
    partnership = make_partnership(session, tampa, "Bay Area Marine Alliance")
    member = make_member(session, partnership)
    closed = make_cycle(session, "2025", status=CycleStatus.CLOSED)
    draft = make_cycle(session, "2026", status=CycleStatus.DRAFT)
    invitation_for(session, closed, member)
    invitation_for(session, draft, member)

    move_partnership(session, partnership, pinellas)
    assert participations(session, partnership.id) == {"2025": "15", "2026": "14"}
    make_partnership(session, tampa, "Bay Area Marine Alliance")
    with pytest.raises(ImportProblem, match="already has a partnership"):
        move_partnership(session, partnership, tampa)
