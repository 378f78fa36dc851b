"""Administration through the web: cycles, boards, partnerships, rosters, users."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import (
    Board,
    Cycle,
    CycleStatus,
    Invitation,
    Member,
    Participation,
    Partnership,
    User,
)
from survey.services import accounts
from survey.services.invitations import find_invitation
from tests.conftest import csrf_token
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


def text_of(response) -> str:
    """The visible text of a page, tags dropped and whitespace collapsed."""
    body = response.get_data(as_text=True)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


class Admin:
    """A signed-in administrator posting forms with the CSRF token, as a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def post(self, url: str, data: dict | None = None, **kwargs):
        if self._token is None:
            self._token = csrf_token(self.client, "/admin/")
        return self.client.post(url, data={**(data or {}), "csrf_token": self._token}, **kwargs)

    def get(self, url: str):
        return self.client.get(url)


@pytest.fixture
def admin(session: Session, client: FlaskClient, auth) -> Admin:
    accounts.create_user(session, "admin@example.org", PASSWORD, "admin")
    session.commit()
    assert auth.login("admin@example.org").status_code == 302
    return Admin(client)


def count(session: Session, model) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(model)).scalar_one()


# --- who may administer ------


@pytest.mark.parametrize("role", ["state", "board"])
def test_staff_who_are_not_administrators_get_404(session, client, auth, role):
    board = make_board(session, "03")
    accounts.create_user(session, "staff@example.org", PASSWORD, role,
                         board if role == "board" else None)
    session.commit()
    auth.login("staff@example.org")
    for url in ("/admin/", "/admin/cycles", "/admin/boards", "/admin/boards/03",
                "/admin/users", "/admin/roster/import"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/account/password")
    response = client.post("/admin/users", data={"email": "x@example.org", "role": "admin",
                                                 "board": "", "csrf_token": token})
    assert response.status_code == 404
    assert count(session, User) == 1


def test_a_form_without_csrf_token_changes_nothing(session, admin):
    make_board(session, "03", "Old name")
    session.commit()
    response = admin.client.post("/admin/boards/03/rename", data={"name": "New name"})
    assert response.status_code == 400
    session.expire_all()
    assert session.execute(select(Board.name)).scalar_one() == "Old name"


# --- cycles ------


def test_create_open_and_close_a_cycle(session, admin):
    board = make_board(session, "03")
    partnership = make_partnership(session, board)
    make_member(session, partnership)
    make_member(session, partnership)
    session.commit()

    response = admin.post("/admin/cycles", {"name": "2026", "opens_on": "2026-03-01",
                                            "closes_on": "2026-02-01"})
    assert response.status_code == 422
    assert "The closing date must not be before the opening date." in text_of(response)
    assert count(session, Cycle) == 0

    response = admin.post("/admin/cycles", {"name": "2026", "opens_on": "2026-03-01",
                                            "closes_on": "2026-04-30"}, follow_redirects=True)
    assert "Cycle 2026 created as a draft" in text_of(response)
    cycle = session.execute(select(Cycle)).scalar_one()
    assert cycle.status == CycleStatus.DRAFT and cycle.content_hash

    response = admin.post("/admin/cycles", {"name": "2026", "opens_on": "2026-03-01",
                                            "closes_on": "2026-04-30"})
    assert "a cycle named '2026' already exists" in text_of(response)

    response = admin.post("/admin/cycles/2026/open", follow_redirects=True)
    assert "Cycle 2026 is open; 2 invitations created." in text_of(response)
    assert count(session, Invitation) == 2

    response = admin.post("/admin/cycles/2026/close")  # first: what closing would do
    assert response.status_code == 200 and "Close cycle 2026?" in text_of(response)
    assert "2 partners who have not submitted (0 of them started) can no longer answer" \
        in text_of(response)
    session.expire_all()
    assert session.execute(select(Cycle.status)).scalar_one() == CycleStatus.OPEN
    response = admin.post("/admin/cycles/2026/close", data={"confirm": "yes"},
                          follow_redirects=True)
    assert "Cycle 2026 is closed: partners can no longer answer" in text_of(response)
    session.expire_all()
    assert session.execute(select(Cycle.status)).scalar_one() == CycleStatus.CLOSED
    assert admin.post("/admin/cycles/1999/open").status_code == 404


def test_download_links_csv_issues_working_links_written_as_text(session, admin):
    board = make_board(session, "03", "Board three")
    partnership = make_partnership(session, board, "=Health Care", sector="Health")
    make_member(session, partnership, name="=HYPERLINK(\"http://evil\")", email="a@example.org")
    done = make_member(session, partnership, name="Done Already", email="b@example.org")
    cycle = make_cycle(session, "2026")
    invitation, _ = make_invitation(session, cycle, done)
    answer(session, invitation, all_answers(shipped_questionnaire(), 3))
    session.commit()

    response = admin.post("/admin/cycles/2026/links.csv", {"board": "03"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == ["board", "partnership", "name", "email", "partner_type", "status",
                             "link"]
    by_email = {row["email"]: row for row in rows}
    assert by_email["a@example.org"]["name"] == "'=HYPERLINK(\"http://evil\")"
    assert by_email["a@example.org"]["partnership"] == "'=Health Care"
    assert by_email["b@example.org"]["status"] == "submitted"
    token = by_email["a@example.org"]["link"].rsplit("/s/", 1)[1]
    assert by_email["a@example.org"]["link"].startswith("http://survey.test/s/")
    assert find_invitation(session, token).member.email == "a@example.org"

    reminders = admin.post("/admin/cycles/2026/links.csv", {"board": "", "reminders": "y"})
    emails = [r["email"] for r in csv.DictReader(io.StringIO(reminders.get_data(as_text=True)))]
    assert emails == ["a@example.org"]


def test_sending_without_smtp_says_so_and_marks_nothing(session, admin):
    partnership = make_partnership(session, make_board(session, "03"))
    make_member(session, partnership)
    make_cycle(session, "2026")
    session.commit()
    response = admin.post("/admin/cycles/2026/send", {"board": "", "invite": "y"},
                          follow_redirects=True)
    assert "Nothing was sent: email is not set up on this server yet. Download the links CSV" \
        in text_of(response)
    session.expire_all()
    assert session.execute(select(Invitation.emailed_at)).scalars().all() == []


# --- boards and partnerships ------


def test_rename_and_retire_a_board(session, admin):
    make_board(session, "03", "CareerSource Old")
    session.commit()
    response = admin.post("/admin/boards/03/rename", {"name": "CareerSource <New>"},
                          follow_redirects=True)
    assert "Board 03 is now named CareerSource <New>." in text_of(response)
    assert "CareerSource &lt;New&gt;" in response.get_data(as_text=True)
    response = admin.post("/admin/boards/03/retire", follow_redirects=True)
    assert "Board 03 is retired." in text_of(response)
    session.expire_all()
    assert session.execute(select(Board.status)).scalar_one() == "retired"
    response = admin.post("/admin/boards/03/reactivate", follow_redirects=True)
    assert "Board 03 is active." in text_of(response)


def test_merge_moves_partnerships_and_keeps_closed_cycles_under_the_old_board(session, admin):
    old = make_board(session, "08", "CareerSource Old")
    new = make_board(session, "09", "CareerSource New")
    partnership = make_partnership(session, old, "Logistics")
    member = make_member(session, partnership)
    closed = make_cycle(session, "2024", status=CycleStatus.CLOSED)
    invitation, _ = make_invitation(session, closed, member)
    answer(session, invitation, all_answers(shipped_questionnaire(), 2))
    session.commit()

    page = text_of(admin.get("/admin/boards/08"))
    assert "Each past cycle stays reported against the boards as they stood" in page
    response = admin.post("/admin/boards/08/merge", {"target": "09"}, follow_redirects=True)
    assert "Board 08 merged into 09: 1 partnerships moved." in text_of(response)

    session.expire_all()
    assert partnership.board_id == new.id
    assert old.status == "merged" and old.merged_into_id == new.id
    participation = session.execute(select(Participation)).scalar_one()
    assert (participation.board_code, participation.board_name) == ("08", "CareerSource Old")
    assert invitation.status == "submitted"

    # A merged board is no longer a target.
    assert admin.post("/admin/boards/09/merge", {"target": "08"}).status_code == 422


def test_partnership_create_edit_and_move(session, admin):
    make_board(session, "03")
    make_board(session, "04")
    session.commit()
    unknown = admin.post("/admin/boards/03/partnerships", {"name": "Health Care",
                                                           "sector": "Health"})
    assert unknown.status_code == 422
    assert "Unknown sector 'Health': use a code or name from the sector list " \
        "survey/data/sectors.csv" in text_of(unknown)
    response = admin.post("/admin/boards/03/partnerships", {"name": "Health Care",
                                                            "sector": "HLT"})
    assert response.status_code == 302
    partnership = session.execute(select(Partnership)).scalar_one()
    duplicate = admin.post("/admin/boards/03/partnerships", {"name": "health care"})
    assert "already has a partnership of that name" in text_of(duplicate)
    assert count(session, Partnership) == 1

    assert partnership.sector == "Healthcare"  # the code, stored as the list's name
    admin.post(f"/admin/partnerships/{partnership.id}", {"name": "Health Sciences",
                                                         "sector": "life sciences"})
    admin.post(f"/admin/partnerships/{partnership.id}/move", {"board": "04"})
    session.expire_all()
    assert (partnership.name, partnership.sector, partnership.board.code) == (
        "Health Sciences", "Life Sciences", "04")


# --- rosters ------


def test_add_edit_and_remove_a_member(session, admin):
    partnership = make_partnership(session, make_board(session, "03"))
    session.commit()
    url = f"/admin/partnerships/{partnership.id}/members"
    bad = admin.post(url, {"name": "Ana", "email": "not-an-email", "partner_type": "business"})
    assert bad.status_code == 422
    assert "Enter an email address like name@example.org." in text_of(bad)
    admin.post(url, {"name": "Ana <b>Diaz</b>", "email": "Ana@Example.org",
                     "organization": "Port", "partner_type": "labor"})
    member = session.execute(select(Member)).scalar_one()
    assert (member.email, member.partner_type) == ("ana@example.org", "labor")
    page = admin.get(f"/admin/partnerships/{partnership.id}").get_data(as_text=True)
    assert "Ana &lt;b&gt;Diaz&lt;/b&gt;" in page and "<b>Diaz</b>" not in page

    admin.post(f"/admin/members/{member.id}", {"name": "Ana Diaz", "email": "ana@example.org",
                                               "organization": "Port", "partner_type": "business"})
    admin.post(f"/admin/members/{member.id}/remove")
    session.expire_all()
    assert (member.name, member.partner_type, member.active) == ("Ana Diaz", "business", False)


ROSTER_HEADER = "board,partnership,sector,name,email,organization,partner_type\n"


def upload(admin: Admin, data: bytes, filename: str):
    return admin.post("/admin/roster/import", {"file": (io.BytesIO(data), filename)},
                      content_type="multipart/form-data")


def test_roster_upload_with_bad_rows_shows_every_bad_row_and_saves_nothing(session, admin):
    make_board(session, "03")
    session.commit()
    rows = (
        "03,Health Care,Healthcare,Ana Diaz,ana@example.org,Port,business\n"
        "99,Health Care,Healthcare,Bo Li,bo@example.org,Port,business\n"
        "03,Health Care,Healthcare,Cy Ode,cy@example.org,Port,astronaut\n"
        "03,Health Care,Healthcare,Di Ray,not-an-email,Port,labor\n"
    )
    response = upload(admin, (ROSTER_HEADER + rows).encode(), "roster.csv")
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was saved: 3 problems in the file" in page
    assert "row 3: unknown board '99'" in page
    assert "row 4: unknown partner type 'astronaut'" in page
    assert "row 5: invalid email 'not-an-email'" in page
    assert "row 2" not in page
    assert count(session, Member) == 0 and count(session, Partnership) == 0


def test_roster_upload_xlsx_imports_and_shows_the_summary(session, admin):
    make_board(session, "03")
    session.commit()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ROSTER_HEADER.strip().split(","))
    sheet.append(["03", "Health Care", "Healthcare", "Ana Diaz", "ana@example.org", "Port",
                  "business"])
    sheet.append(["03", "Health Care", "Healthcare", "Bo Li", "bo@example.org", "College",
                  "Education and training"])
    data = io.BytesIO()
    workbook.save(data)
    response = upload(admin, data.getvalue(), "roster.xlsx")
    assert response.status_code == 302
    page = text_of(admin.get("/admin/roster/import"))
    assert "imported 2 members: 2 new" in page
    assert count(session, Member) == 2


def test_roster_upload_refuses_other_file_types(session, admin):
    response = upload(admin, b"hello", "roster.txt")
    assert response.status_code == 422
    assert "The file must be .csv or .xlsx." in text_of(response)


# --- the board roster page ------


def test_board_roster_shows_statuses_never_answers(session, client, auth):
    board = make_board(session, "03")
    other = make_board(session, "04")
    partnership = make_partnership(session, board, "Health Care")
    cycle = make_cycle(session, "2026")
    q = shipped_questionnaire()
    statuses = {}
    for name, state in (("Ana", "submitted"), ("Bo", "in_progress"), ("Cy", None)):
        member = make_member(session, partnership, name=name)
        invitation, _ = make_invitation(session, cycle, member)
        if state:
            answer(session, invitation, all_answers(q, 2), submit=state == "submitted",
                   comments={"data": "Secret evidence text"})
        statuses[name] = state
    accounts.create_user(session, "lead@example.org", PASSWORD, "board", board)
    accounts.create_user(session, "lead4@example.org", PASSWORD, "board", other)
    session.commit()

    auth.login("lead@example.org")
    response = client.get("/admin/boards/03/roster")
    assert response.status_code == 200
    page = text_of(response)
    # Status beside the name (on a phone it stays in view), then organization and email.
    assert re.search(r"Ana submitted Acme Corp \S+@example\.org", page)
    assert re.search(r"Bo in progress Acme Corp \S+@example\.org", page)
    assert re.search(r"Cy not started Acme Corp \S+@example\.org", page)
    assert "Secret evidence text" not in page
    # No email on this server: the lead is told whom to ask, and offered no dead button.
    assert "Email is not set up on this site yet, so reminders cannot be sent" in page
    assert "Send reminders to those who have not submitted" not in page
    assert client.get("/admin/boards/04/roster").status_code == 404
    assert client.get("/admin/").status_code == 404

    token = csrf_token(client, "/admin/boards/03/roster")
    response = client.post("/admin/boards/03/remind", data={"csrf_token": token},
                           follow_redirects=True)
    assert "Nothing was sent: email is not set up on this site yet. Ask your administrator" \
        in text_of(response)
    assert client.post("/admin/boards/04/remind", data={"csrf_token": token}).status_code == 404


# --- users ------


def test_create_an_account_and_deactivate_it(app, session, admin):
    make_board(session, "03")
    session.commit()
    missing_board = admin.post("/admin/users", {"email": "lead@example.org", "role": "board",
                                                "board": ""})
    assert missing_board.status_code == 422
    assert "A board lead needs a board." in text_of(missing_board)

    response = admin.post("/admin/users", {"email": "Lead@Example.org", "role": "board",
                                           "board": "03"})
    assert response.status_code == 200
    password = re.search(r'class="new-password">([^<]+)<', response.get_data(as_text=True))[1]
    user = accounts.find_user(session, "lead@example.org")
    assert user.role == "board" and user.board.code == "03"
    assert accounts.authenticate(session, "lead@example.org", password) is not None

    duplicate = admin.post("/admin/users", {"email": "lead@example.org", "role": "state",
                                            "board": ""})
    assert "An account for lead@example.org already exists." in text_of(duplicate)

    response = admin.post(f"/admin/users/{user.id}/deactivate", follow_redirects=True)
    assert "lead@example.org is deactivated." in text_of(response)
    assert accounts.authenticate(session, "lead@example.org", password) is None

    me = accounts.find_user(session, "admin@example.org")
    response = admin.post(f"/admin/users/{me.id}/deactivate", follow_redirects=True)
    assert "The last active administrator cannot be deactivated." in text_of(response)
