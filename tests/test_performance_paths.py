"""The fast paths keep behaviour: the O(1) results version, the partner page's queries and
parsed snapshot, and the cycle lock that keeps saves from landing after a close."""

from __future__ import annotations

import csv
import datetime as dt
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from survey import questionnaire as questionnaire_module
from survey.db import db
from survey.models import Answer, Cycle, CycleStatus, Invitation
from survey.scoring import results_version
from survey.services import answers as answer_service
from survey.services.cycles import close_cycle
from tests.factories import (
    answer,
    element_answers,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)


def _invitation(session: Session, cycle: Cycle, board_code: str = "15") -> tuple[Invitation, str]:
    board = make_board(session, board_code)
    member = make_member(session, make_partnership(session, board))
    return make_invitation(session, cycle, member)


def test_submitting_changes_the_key_and_a_draft_edit_does_not(session: Session) -> None:
    cycle = make_cycle(session)
    invitation, _ = _invitation(session, cycle)
    session.commit()
    q = shipped_questionnaire()
    data = q.element("data")
    fresh = results_version(session, cycle)

    # The first save moves the response to "in progress", which dashboards count.
    answer_service.save_element(session, invitation, data, {data.items[0].code: "2"}, None)
    session.commit()
    started = results_version(session, cycle)
    assert started != fresh

    # Further drafts change no figure: submitted answers only are scored.
    answer_service.save_element(session, invitation, data, {data.items[1].code: "3"}, "draft")
    session.commit()
    assert results_version(session, cycle) == started

    answer_service.submit(session, invitation)
    session.commit()
    submitted = results_version(session, cycle)
    assert submitted != started

    # Editing a submitted response changes the figures, so the key.
    answer_service.save_element(session, invitation, data, {data.items[0].code: "4"}, None)
    session.commit()
    assert results_version(session, cycle) != submitted


def test_closing_and_an_earlier_cycles_change_move_the_later_key(session: Session) -> None:
    earlier = make_cycle(session, "2025", status=CycleStatus.OPEN,
                         opens_on=dt.date(2025, 1, 1), closes_on=dt.date(2099, 1, 1))
    later = make_cycle(session, "2026", opens_on=dt.date(2026, 1, 1))
    old_invitation, _ = _invitation(session, earlier)
    session.commit()
    before = results_version(session, later)
    earlier_before = results_version(session, earlier)

    answer(session, old_invitation, element_answers(shipped_questionnaire(), "data", 3))
    session.commit()
    after_answer = results_version(session, later)
    assert after_answer != before  # change and trends read the earlier cycle

    close_cycle(session, earlier)
    session.commit()
    assert results_version(session, later) != after_answer
    assert results_version(session, earlier) not in (earlier_before, after_answer)

    # A later cycle's changes leave the earlier cycle's figures (and key) alone.
    key = results_version(session, earlier)
    new_invitation, _ = _invitation(session, later, "16")
    answer(session, new_invitation, element_answers(shipped_questionnaire(), "data", 2))
    session.commit()
    assert results_version(session, earlier) == key


RESPONSES_HEADER = ["cycle", "board", "partnership", "respondent", "partner_type", "element",
                    "item", "score"]


def test_a_responses_import_changes_the_key(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    cycle = make_cycle(session, "2025", status="closed")
    partnership = make_partnership(session, make_board(session, "15"), name="Tampa Bay Health")
    session.commit()
    before = results_version(session, cycle)
    path = tmp_path / "responses.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(RESPONSES_HEADER)
        writer.writerow(["2025", "15", partnership.name, "paper-1", "business", "data",
                         "data-1", "3"])
    result = runner.invoke(args=["responses", "import", str(path), "--cycle", "2025"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert results_version(session, cycle) != before


@contextmanager
def counted_statements(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    assert db.engine is not None
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_element_page_takes_three_queries_and_parses_the_snapshot_once(
    app: Flask, monkeypatch
) -> None:
    with app.app_context():
        cycle = make_cycle(db.session)
        _, token = _invitation(db.session, cycle)
        db.session.commit()
    parsed: list[int] = []
    original = questionnaire_module.Questionnaire.from_dict

    def counting(data):  # type: ignore[no-untyped-def]
        parsed.append(1)
        return original(data)

    monkeypatch.setattr(questionnaire_module.Questionnaire, "from_dict", staticmethod(counting))
    client = app.test_client()
    assert client.get(f"/s/{token}/data").status_code == 200  # may parse the snapshot
    with counted_statements(app) as statements:
        again = client.get(f"/s/{token}/data")
    assert again.status_code == 200
    # The token's invitation with member, cycle and participation; answers; comments.
    assert len(statements) == 3, "\n\n".join(statements)
    assert "cycles.content" not in "".join(statements)
    for _ in range(3):
        page = client.get(f"/s/{token}/vision")
        assert page.status_code == 200
        assert shipped_questionnaire().element("vision").title in page.get_data(as_text=True)
    assert len(parsed) <= 1  # parsed once per process and snapshot (none if cached already)


ROUNDS = 12


def test_no_save_commits_after_the_cycle_closes(app: Flask) -> None:
    """Partners saving while an administrator closes the cycle: every answer row was
    written before `closed_at`, and saves after the close get the closed page."""
    app.config["WTF_CSRF_ENABLED"] = False
    q = shipped_questionnaire()
    with app.app_context():
        cycle = make_cycle(db.session)
        tokens = [_invitation(db.session, cycle, f"{n:02d}")[1] for n in range(1, 13)]
        db.session.commit()
        cycle_id = cycle.id
    elements = list(q.elements)
    start = threading.Barrier(len(tokens) + 1)
    statuses: list[int] = []
    failures: list[str] = []
    saving = threading.Event()

    def partner(token: str) -> None:
        client = app.test_client()
        start.wait()
        for round_ in range(ROUNDS):
            element = elements[round_ % len(elements)]
            form = {item.code: str(1 + round_ % 4) for item in element.items}
            response = client.post(f"/s/{token}/{element.key}", data=form)
            statuses.append(response.status_code)
            if statuses.count(303) >= len(tokens):
                saving.set()  # saves are landing: now close, while more are in flight
            if response.status_code not in (303, 403):
                failures.append(f"{response.status_code}")

    def administrator() -> None:
        start.wait()
        assert saving.wait(30)
        with app.app_context():
            session = db.begin_write()
            closed = close_cycle(session, session.get(Cycle, cycle_id))
            session.commit()
            assert closed

    threads = [threading.Thread(target=partner, args=(t,)) for t in tokens]
    threads.append(threading.Thread(target=administrator))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    assert len(statuses) == ROUNDS * len(tokens)
    assert 403 in statuses  # some saves came after the close, and were refused
    with app.app_context():
        closed_at = db.session.get(Cycle, cycle_id).closed_at
        assert closed_at is not None
        latest = db.session.execute(
            select(func.max(Answer.updated_at)).join(Invitation)
            .where(Invitation.cycle_id == cycle_id)).scalar_one()
        assert latest is not None

        def utc(moment: dt.datetime) -> dt.datetime:
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

        assert utc(latest) <= utc(closed_at)
        late = db.session.execute(
            select(func.count()).select_from(Invitation)
            .where(Invitation.cycle_id == cycle_id, Invitation.updated_at > closed_at)
        ).scalar_one()
        assert late == 0


def lock_is_free(path: str) -> bool:
    import fcntl

    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_sqlite_writers_take_turns_and_a_stuck_writer_still_ends_in_locked(
    tmp_path: Path, monkeypatch
) -> None:
    """Writers queue on the file lock beside the database: a second writer waits for the
    first to commit and then sees its row; one that waits past the busy timeout gets
    SQLite's "database is locked", not an endless wait."""
    db_module = sys.modules["survey.db"]
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 300)
    url = f"sqlite:///{tmp_path / 'turns.sqlite3'}"
    first, second = db_module.make_engine(url), db_module.make_engine(url)
    with first.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    immediate = {"sqlite_begin": "IMMEDIATE"}
    seen: list[int] = []

    def later_writer() -> None:
        with second.connect().execution_options(**immediate) as conn, conn.begin():
            seen.append(conn.execute(text("SELECT count(*) FROM t")).scalar_one())
            conn.execute(text("INSERT INTO t VALUES (2)"))

    with first.connect().execution_options(**immediate) as conn:
        with conn.begin():
            conn.execute(text("INSERT INTO t VALUES (1)"))
            waiting = threading.Thread(target=later_writer)
            waiting.start()
            waiting.join(0.1)
            assert waiting.is_alive()  # queued behind the open write transaction
            assert not lock_is_free(f"{tmp_path / 'turns.sqlite3'}-writelock")
        waiting.join(5)
    assert seen == [1]  # it ran after the commit and saw the first row
    assert lock_is_free(f"{tmp_path / 'turns.sqlite3'}-writelock")

    with first.connect().execution_options(**immediate) as conn, conn.begin():
        conn.execute(text("INSERT INTO t VALUES (3)"))
        with pytest.raises(OperationalError, match="locked"):
            with second.connect().execution_options(**immediate) as other, other.begin():
                pass
    with second.connect().execution_options(**immediate) as conn, conn.begin():
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 3
    first.dispose()
    second.dispose()
