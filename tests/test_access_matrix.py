"""Who may open what: every role against every page, chart, export and admin action.

Roles: anonymous, a partner holding a link, the board lead of board 15, the board lead
of board 16 (another board), state staff, an administrator. One world and one signed-in
client per role serve the whole module, so each cell of the matrix is one request.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from survey import create_app
from survey.db import Base, db, make_engine
from survey.models import CycleStatus, User
from survey.services.accounts import create_user
from survey.services.dashboard_data import SCOPE_CHARTS
from tests.conftest import AuthActions, csrf_token, on_postgres
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

PASSWORD = "correct horse battery"
ROLES = ("anonymous", "partner", "lead_this", "lead_other", "state", "admin")
FORMATS = ("png", "svg")

# What each kind of address needs; the expected status of every role follows from it.
READERS = {
    "staff": {"lead_this", "lead_other", "state", "admin"},
    "all_boards": {"state", "admin"},
    "board15": {"lead_this", "state", "admin"},
    "board16": {"lead_other", "state", "admin"},
    "admin": {"admin"},
    # Reminders are sent by administrators and the board's own lead; state staff only look.
    "remind15": {"lead_this", "admin"},
    "remind16": {"lead_other", "admin"},
}


def charts(scope: str, key: str, cycle: str = "2026") -> list[str]:
    middle = f"{scope}/{key}/" if key else f"{scope}/"
    return [f"/charts/{cycle}/{middle}{name}.{fmt}"
            for name in SCOPE_CHARTS[scope] for fmt in FORMATS]


PAGES: list[tuple[str, str]] = [
    ("partner", "/s/{token}"),
    ("staff", "/account/password"),
    ("all_boards", "/state"),
    ("all_boards", "/state?cycle=2025"),
    ("all_boards", "/exports/2026.xlsx"),
    ("all_boards", "/exports/2025.xlsx"),
    ("all_boards", "/exports/2026/responses.csv"),  # row-level answers: stewards only
    *[("all_boards", url) for url in charts("state", "")],
    ("board15", "/boards/15"),
    ("board15", "/boards/15?cycle=2025"),
    ("board15", "/partnerships/{p15}"),
    ("board15", "/partnerships/{p15}?cycle=2025"),
    ("board15", "/exports/2026/15.xlsx"),
    ("board15", "/exports/2025/15.xlsx"),
    *[("board15", url) for url in charts("boards", "15")],
    *[("board15", url) for url in charts("partnerships", "{p15}")],
    ("board15", "/charts/2025/boards/15/radar.png"),
    ("board15", "/admin/boards/15/roster"),
    ("board16", "/boards/16"),
    ("board16", "/partnerships/{p16}"),
    ("board16", "/exports/2026/16.xlsx"),
    ("board16", "/charts/2026/boards/16/radar.png"),
    ("board16", "/charts/2026/partnerships/{p16}/radar.svg"),
    ("board16", "/admin/boards/16/roster"),
    ("admin", "/admin/"),
    ("admin", "/admin/cycles"),
    ("admin", "/admin/boards"),
    ("admin", "/admin/boards/15"),
    ("admin", "/admin/partnerships/{p15}"),
    ("admin", "/admin/members/{m15}"),
    ("admin", "/admin/roster/import"),
    ("admin", "/admin/users"),
]

# Form posts: (kind, url, form, status for a reader). None of them changes what later
# cells of the matrix rely on.
ACTIONS: list[tuple[str, str, dict[str, str], int]] = [
    ("admin", "/admin/users", {"email": "not-an-email", "role": "admin", "board": ""}, 422),
    ("admin", "/admin/boards/15/rename", {"name": "CareerSource Heartland"}, 302),
    ("admin", "/admin/cycles/2026/links.csv", {"board": "15"}, 200),
    ("admin", "/admin/cycles", {"name": "", "opens_on": "", "closes_on": ""}, 422),
    ("admin", "/admin/partnerships/{p15}/members",
     {"name": "", "email": "", "partner_type": "business"}, 422),
    ("remind15", "/admin/boards/15/remind", {}, 302),
    ("remind16", "/admin/boards/16/remind", {}, 302),
]


def expected(role: str, kind: str) -> int:
    """The status a role gets: 302 to sign in, 404 when not theirs, else 200."""
    if kind == "partner":
        return 200  # the link itself is the credential
    if role in ("anonymous", "partner"):
        return 302
    return 200 if role in READERS[kind] else 404


@dataclass
class World:
    app: Flask
    clients: dict[str, FlaskClient]
    ids: dict[str, str]

    def url(self, template: str) -> str:
        return template.format(**self.ids)


def build(session) -> dict[str, str]:
    """Boards 15 and 16, cycles 2025 (closed) and 2026 (open, published: closed once and
    reopened; tests/test_confidentiality.py covers unpublished cycles), four accounts."""
    q = shipped_questionnaire()
    b15 = make_board(session, "15", "CareerSource Heartland")
    b16 = make_board(session, "16", "CareerSource Gulf Coast")
    p15 = make_partnership(session, b15, "Advanced Manufacturing")
    p16 = make_partnership(session, b16, "Logistics Alliance", sector="Logistics")
    earlier = make_cycle(session, "2025", status=CycleStatus.CLOSED)
    current = make_cycle(session, "2026")
    current.published_at = earlier.published_at
    earlier.opens_on = current.opens_on.replace(year=current.opens_on.year - 1)
    earlier.closes_on = current.closes_on.replace(year=current.closes_on.year - 1)
    members15 = [make_member(session, p15, kind) for kind in ("business", "education", "labor")]
    members16 = [make_member(session, p16, kind) for kind in ("business", "workforce", "other")]
    for members, levels in ((members15, (2, 3, 3)), (members16, (1, 2, 4))):
        for member, level in zip(members, levels, strict=True):
            answer(session, make_invitation(session, earlier, member)[0], all_answers(q, level))
            answer(session, make_invitation(session, current, member)[0],
                   all_answers(q, min(4, level + 1)))
    late = make_member(session, p15, "community")
    _, token = make_invitation(session, current, late)
    create_user(session, "admin@example.org", PASSWORD, "admin")
    create_user(session, "state@example.org", PASSWORD, "state")
    create_user(session, "lead15@example.org", PASSWORD, "board", board=b15)
    create_user(session, "lead16@example.org", PASSWORD, "board", board=b16)
    session.commit()
    return {"p15": str(p15.id), "p16": str(p16.id), "m15": str(late.id), "token": token}


@pytest.fixture(scope="module")
def world(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One app and database for the module, and a client signed in as each role."""
    tmp = tmp_path_factory.mktemp("matrix")
    if on_postgres():
        engine = make_engine(database_template)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        url = database_template
    else:
        path = Path(tmp) / "survey.sqlite3"
        shutil.copyfile(database_template, path)
        url = f"sqlite:///{path}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SURVEY_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key",
                          "BASE_URL": "http://survey.test", "SMTP_URL": ""})
    with app.app_context():
        ids = build(db.session)
    clients = {role: app.test_client() for role in ROLES}
    clients["partner"].get(f"/s/{ids['token']}")
    for role, email in (("lead_this", "lead15"), ("lead_other", "lead16"), ("state", "state"),
                        ("admin", "admin")):
        assert AuthActions(clients[role]).login(f"{email}@example.org").status_code == 302
    yield World(app, clients, ids)
    assert db.engine is not None
    db.engine.dispose()


def check(response, want: int, url: str) -> None:
    assert response.status_code == want, f"{url}: {response.status_code}, expected {want}"
    if want == 302 and response.headers["Location"].startswith("/login"):
        return
    if want == 302:
        assert "/login" not in response.headers["Location"]


@pytest.mark.parametrize("kind, template", PAGES, ids=[t for _, t in PAGES])
@pytest.mark.parametrize("role", ROLES)
def test_page_access(world: World, role: str, kind: str, template: str) -> None:
    url = world.url(template)
    response = world.clients[role].get(url)
    want = expected(role, kind)
    check(response, want, url)
    if want == 302:
        assert response.headers["Location"].startswith("/login?next="), "signs in first"
    if want == 200 and template.startswith("/charts/"):
        assert response.mimetype in ("image/png", "image/svg+xml")
    if want == 200 and template.endswith(".xlsx"):
        assert response.data[:2] == b"PK", "an xlsx workbook"
    if want == 200 and template.endswith(".csv"):
        assert response.data.startswith(b"cycle,board,partnership,respondent,")


@pytest.mark.parametrize("kind, template, form, status", ACTIONS, ids=[a[1] for a in ACTIONS])
@pytest.mark.parametrize("role", ROLES)
def test_action_access(world: World, role: str, kind: str, template: str, form: dict,
                       status: int) -> None:
    client = world.clients[role]
    token = csrf_token(client, "/login" if role in ("anonymous", "partner")
                       else "/account/password")
    url = world.url(template)
    with world.app.app_context():
        users_before = db.session.execute(select(func.count(User.id))).scalar_one()
    response = client.post(url, data={**form, "csrf_token": token})
    want = status if expected(role, kind) == 200 else expected(role, kind)
    check(response, want, url)
    with world.app.app_context():
        assert db.session.execute(select(func.count(User.id))).scalar_one() == users_before


def test_unknown_partner_link_is_404_for_everyone(world: World) -> None:
    for role in ROLES:
        response = world.clients[role].get("/s/not-a-real-token")
        assert response.status_code == 404
        assert "This link is not valid" in response.get_data(as_text=True)


def test_board_leads_never_see_another_boards_names(world: World) -> None:
    """A 404 for another board reveals nothing about it."""
    body = world.clients["lead_other"].get("/boards/15").get_data(as_text=True)
    assert "Heartland" not in body and "Advanced Manufacturing" not in body
    roster = world.clients["lead_other"].get("/admin/boards/15/roster").get_data(as_text=True)
    assert not re.search(r"partner\d+@example\.org", roster)
