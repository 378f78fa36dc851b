"""`survey demo` on an empty database: Florida's boards, rosters, three cycles, links, logins."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    PARTNER_TYPE_LABELS,
    Answer,
    Board,
    Comment,
    Cycle,
    Invitation,
    InvitationStatus,
    Member,
    Participation,
    Partnership,
    User,
)
from survey.services.invitations import find_invitation
from tests.conftest import CSRF_RE

LINK_RE = re.compile(r"http://survey\.test/s/(\S+)")


def test_demo_builds_a_realistic_state_on_an_empty_database(
    app: Flask, runner: FlaskCliRunner
) -> None:
    started = time.perf_counter()
    result = runner.invoke(args=["demo"])
    print(f"survey demo took {time.perf_counter() - started:.1f} s")
    assert result.exit_code == 0, result.output

    with app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Board)) == 24
        per_board = Counter(session.execute(select(Partnership.board_id)).scalars())
        assert len(per_board) == 24 and all(2 <= n <= 5 for n in per_board.values())
        types = Counter(session.execute(select(Member.partner_type)).scalars())
        assert set(types) == set(PARTNER_TYPE_LABELS)
        assert 0.3 <= types["business"] / sum(types.values()) <= 0.5
        roster_sizes = Counter(session.execute(select(Member.partnership_id)).scalars())
        assert all(6 <= n <= 14 for n in roster_sizes.values())

        statuses = dict(session.execute(select(Cycle.name, Cycle.status)).all())
        assert statuses == {"2024": "closed", "2025": "closed", "2026": "open"}
        submitted = Counter(session.execute(
            select(Cycle.name).join(Invitation.cycle)
            .where(Invitation.status == InvitationStatus.SUBMITTED)).scalars())
        assert all(submitted[name] > 100 for name in statuses)
        open_statuses = set(session.execute(
            select(Invitation.status).join(Invitation.cycle).where(Cycle.name == "2026")).scalars())
        assert open_statuses == {"not_started", "in_progress", "submitted"}
        specials = Counter(session.execute(select(Answer.special)).scalars())
        assert specials["DK"] > 0 and specials["NA"] > 0 and specials[None] > 1000
        assert session.scalar(select(func.count()).select_from(Comment)) > 0

        # Some partnerships have fewer than 3 respondents, so suppression shows.
        respondents = Counter(session.execute(
            select(Invitation.participation_id)
            .where(Invitation.status == InvitationStatus.SUBMITTED)).scalars())
        participation_ids = session.execute(select(Participation.id)).scalars().all()
        assert any(respondents[pid] < 3 for pid in participation_ids)

        logins = dict(session.execute(select(User.email, User.role)).all())
        assert logins == {"admin@example.org": "admin", "state@example.org": "state",
                          "lead15@example.org": "board"}
        for email in logins:
            assert re.search(rf"{re.escape(email)}\s+\S{{10,}}", result.output)

        tokens = LINK_RE.findall(result.output)
        assert len(tokens) == 6  # two in progress, three not started, one in Spanish
        spanish = re.search(r"/s/(\S+)\s+.*en español\)", result.output)
        assert spanish, result.output
        assert find_invitation(session, spanish.group(1)).member.language == "es"
        languages = Counter(session.execute(select(Member.language)).scalars())
        assert 0.1 <= languages["es"] / sum(languages.values()) <= 0.3
        invitation = find_invitation(session, tokens[0])
        assert invitation is not None and invitation.cycle.name == "2026"
        assert invitation.status != InvitationStatus.SUBMITTED

    response = app.test_client().get(f"/s/{tokens[0]}")
    assert response.status_code == 200
    spanish_page = app.test_client().get(f"/s/{spanish.group(1)}").get_data(as_text=True)
    assert '<html lang="es">' in spanish_page and "Su respuesta" in spanish_page


def test_demo_runs_once_and_refuses_other_data(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        db.session.add(Board(code="GA-01", name="WorkSource Georgia Mountains"))
        db.session.add(Cycle(name="2020", opens_on=dt.date(2020, 1, 1),
                             closes_on=dt.date(2020, 2, 1),
                             content={}, content_hash="x"))
        db.session.commit()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "already holds" in result.output

    result = runner.invoke(args=["demo", "--reset"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        members = db.session.scalar(select(func.count()).select_from(Member))
        answers = db.session.scalar(select(func.count()).select_from(Answer))
        assert db.session.scalar(select(func.count()).select_from(Board)) == 24
        assert db.session.execute(select(Cycle.id).where(Cycle.name == "2020")).first() is None

    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0
    assert result.output.startswith("the demo is already loaded")
    # A second run still tells the user how to get in: fresh links and passwords that work.
    state_login = re.search(r"state@example\.org\s+(\S+)\s+state", result.output)
    assert state_login, result.output
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    login = client.post("/login", data={"email": "state@example.org", "csrf_token": token,
                                        "password": state_login.group(1)})
    assert login.status_code == 302
    assert client.get("/state").status_code == 200
    link = re.search(r"/s/(\S+)", result.output).group(1)
    assert client.get(f"/s/{link}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == members
        assert db.session.scalar(select(func.count()).select_from(Answer)) == answers
