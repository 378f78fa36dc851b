"""Adversarial checks of SPEC section 10 against the running app.

Most checks walk the app's own URL map, so a route added later is covered without
editing this file: no state change over GET, CSRF on every POST, board leads confined
to their board, no 500 for a malformed address.
"""

from __future__ import annotations

import io
import logging
import re
import xml.dom.minidom
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.db import Base, db
from survey.models import Board, Cycle, InvitationToken, Member, Partnership, User
from survey.services import answers as answer_service
from survey.services.accounts import create_user
from tests.conftest import AuthActions, csrf_token
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
TEMPLATES = Path(__file__).resolve().parent.parent / "survey" / "templates"
# Open to anyone, or to any signed-in account whatever its board.
UNSCOPED = {"static", "main.index", "main.healthz", "auth.login", "auth.logout",
            "auth.change_password",
            # sign-in's other steps and one's own second factor and tokens (SPEC 17)
            "reset.request_reset", "reset.choose_password", "factor.code", "factor.enrol",
            "factor.account", "factor.change", "oidc.start", "oidc.callback",
            "api_tokens.token_list"}
ANY_VALUE = {"admin.board_status": {"change": "retire"},
             "admin.member_status": {"change": "remove"},
             "admin.user_change": {"change": "deactivate"},
             "factor.change": {"change": "recovery"}}
# Addresses whose right answer in this world is not 200 or 302.
EXPECTED_STATUS = {
    "partner_results.results": 404,  # 2026 is open: results come at the close
    "reset.choose_password": 400,  # a partner's token is no password reset link
    "oidc.callback": 404,  # no identity provider configured
}
# The data API takes a bearer token, never the session: 401 to a signed-in browser (its
# scoping, every endpoint by every role, is tests/test_api.py's).
API_WITHOUT_TOKEN = 401


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    """The database session in a short application context of its own.

    Requests must not run inside a test-long application context: `g` would then be
    shared by every client, and the first one signed in would be everyone's user.
    """
    with app.app_context():
        yield db.session


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    """Boards 15 and 16 with three answering members each, an open cycle, four accounts."""
    with database(app) as session:
        return build_world(session)


def build_world(session: Session) -> dict[str, str]:
    q = shipped_questionnaire()
    cycle = make_cycle(session, "2026")
    ids: dict[str, str] = {}
    for code in ("15", "16"):
        board = make_board(session, code, f"Board {code} name")
        partnership = make_partnership(session, board, f"Partnership of {code}")
        for kind in ("business", "education", "labor"):
            member = make_member(session, partnership, kind)
            invitation, token = make_invitation(session, cycle, member)
            answer(session, invitation, all_answers(q, 3))
        create_user(session, f"lead{code}@example.org", PASSWORD, "board", board=board)
        ids.update({f"p{code}": str(partnership.id), f"m{code}": str(member.id),
                    f"token{code}": token})
    late = make_member(session, session.get(Partnership, int(ids["p15"])), "community")
    ids["fresh_token"] = make_invitation(session, cycle, late)[1]
    create_user(session, "admin@example.org", PASSWORD, "admin")
    create_user(session, "state@example.org", PASSWORD, "state")
    session.commit()
    ids["u16"] = str(session.execute(
        select(User.id).where(User.email == "lead16@example.org")).scalar_one())
    return ids


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(email, PASSWORD).status_code == 302
    return client


def snapshot(app: Flask) -> dict[str, list[tuple]]:
    """Every row of every table, as committed; but the audit log's export downloads, the
    one thing a GET writes on purpose (SPEC 14: who downloaded which export)."""
    with database(app) as session:
        found = {table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
                 for table in Base.metadata.sorted_tables}
    found["audit_events"] = [row for row in found["audit_events"]
                             if row[3] != "export.download"]  # (id, at, actor, action, ...)
    return found


def rules(app: Flask, method: str) -> list:
    return sorted((r for r in app.url_map.iter_rules() if method in r.methods
                   and r.endpoint != "static"), key=lambda r: r.rule)


def fill(rule, ids: dict[str, str], board: str) -> str:
    """The rule's address with every part pointing at `board`'s data."""
    values = {"code": board, "id": ids[f"p{board}"], "partnership_id": ids[f"p{board}"],
              "member_id": ids[f"m{board}"], "user_id": ids["u16"], "cycle": "2026",
              "name": "radar" if rule.rule.startswith("/charts/") else "2026", "fmt": "svg",
              "token": ids["fresh_token"], "element_key": "data", "token_id": "999999",
              **ANY_VALUE.get(rule.endpoint, {})}
    url = rule.rule
    for argument in rule.arguments:
        url = re.sub(r"<(?:[^:<>]+:)?" + argument + r">", values[argument], url)
    return url


# --- no state change over GET; CSRF on every form -------------------------------------


def test_no_get_changes_anything(app, world):
    """Every GET address, opened by an administrator and by a partner, writes nothing."""
    admin = signed_in(app, "admin@example.org")
    partner = app.test_client()
    before = snapshot(app)
    for rule in rules(app, "GET"):
        client = partner if rule.endpoint.startswith(("partner.", "partner_results.")) else admin
        response = client.get(fill(rule, world, "15"))
        expected = (EXPECTED_STATUS[rule.endpoint],) if rule.endpoint in EXPECTED_STATUS \
            else (200, 302)
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
            expected = (API_WITHOUT_TOKEN,)
        assert response.status_code in expected, f"{rule.rule}: {response.status_code}"
    assert snapshot(app) == before


def test_post_only_routes_refuse_get(app, world):
    """Sign-out, sending, closing and every other action answer 405 to a plain link."""
    admin = signed_in(app, "admin@example.org")
    before = snapshot(app)
    readable = {r.rule for r in rules(app, "GET")}
    post_only = [r for r in rules(app, "POST") if r.rule not in readable]
    assert any(r.endpoint == "auth.logout" for r in post_only)
    for rule in post_only:
        url = fill(rule, world, "15")
        # /s/<token>/submit reads as the element page "submit", which does not exist
        assert admin.get(url).status_code in (404, 405), url
    assert snapshot(app) == before
    assert admin.get("/admin/").status_code == 200, "still signed in"


def test_every_post_without_csrf_token_is_refused_and_changes_nothing(app, world):
    admin = signed_in(app, "admin@example.org")
    before = snapshot(app)
    for rule in rules(app, "POST"):
        client = app.test_client() if rule.endpoint.startswith("partner.") else admin
        url = fill(rule, world, "15")
        response = client.post(url, data={"name": "Changed", "board": "16", "target": "16",
                                          "email": "x@example.org", "password": PASSWORD})
        assert response.status_code == 400, f"{url}: {response.status_code}"
    assert snapshot(app) == before


def test_every_post_form_in_the_templates_carries_the_csrf_token():
    forms = []
    for path in TEMPLATES.rglob("*.html"):
        for form in re.finditer(r"<form\b([^>]*)>(.*?)</form>", path.read_text(), re.S):
            if re.search(r'method="post"', form.group(1), re.I):
                forms.append(path.name)
                body = form.group(2)
                assert "csrf_token" in body or "csrf(" in body, f"{path.name}: no csrf_token"
            else:
                assert re.search(r'method="get"', form.group(1), re.I), path.name
    assert len(forms) >= 10


def test_the_csrf_token_from_before_sign_in_is_not_the_session_after(app, world):
    """A fresh session at sign-in: a token planted before it does not carry over."""
    client = app.test_client()
    planted = csrf_token(client, "/login")
    client.post("/login", data={"email": "state@example.org", "password": PASSWORD,
                                "csrf_token": planted})
    assert csrf_token(client, "/account/password") != planted
    response = client.post("/admin/users", data={"email": "new@example.org", "role": "state",
                                                  "board": "", "csrf_token": planted})
    assert response.status_code == 400


# --- board leads stay on their board ---------------------------------------------------


def test_a_board_lead_gets_404_for_every_address_of_another_board(app, world):
    """Every scoped GET and POST, filled with board 16's code, ids and members."""
    lead = signed_in(app, "lead15@example.org")
    token = csrf_token(lead, "/account/password")
    before = snapshot(app)
    checked = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in UNSCOPED or rule.endpoint.startswith(("partner.", "api.")):
            continue
        url = fill(rule, world, "16")
        if "GET" in rule.methods:
            response = lead.get(url)
            assert response.status_code == 404, f"GET {url}: {response.status_code}"
            assert "Board 16 name" not in response.get_data(as_text=True)
        if "POST" in rule.methods:
            response = lead.post(url, data={"csrf_token": token, "board": "15"})
            assert response.status_code == 404, f"POST {url}: {response.status_code}"
        checked += 1
    assert checked > 20
    assert snapshot(app) == before


@pytest.mark.parametrize("query", ["?board=16", "?cycle=2026&board=16", "?code=16"])
def test_query_parameters_do_not_widen_a_board_leads_view(app, world, query):
    lead = signed_in(app, "lead15@example.org")
    for url in ("/boards/15", f"/partnerships/{world['p15']}"):
        body = lead.get(url + query).get_data(as_text=True)
        assert "Partnership of 15" in body
        assert "Board 16 name" not in body and "Partnership of 16" not in body


# --- malformed addresses: a page, never a 500 ------------------------------------------


@pytest.mark.parametrize("url", [
    "/partnerships/99999999999999999999999",
    "/partnerships/9223372036854775808",
    "/admin/partnerships/99999999999999999999999",
    "/admin/members/99999999999999999999999",
    "/charts/2026/partnerships/99999999999999999999999/radar.png",
])
def test_a_huge_id_is_a_404_page(app, world, url):
    admin = signed_in(app, "admin@example.org")
    response = admin.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_a_huge_id_in_an_action_is_a_404(app, world):
    admin = signed_in(app, "admin@example.org")
    token = csrf_token(admin, "/admin/")
    for url in ("/admin/users/99999999999999999999999/reset",
                "/admin/members/99999999999999999999999/remove",
                "/admin/partnerships/99999999999999999999999/move"):
        assert admin.post(url, data={"csrf_token": token}).status_code == 404, url


@pytest.mark.parametrize("url", [
    "/boards/%00", "/boards/%C3%A9%F0%9F%98%80", "/boards/" + "9" * 5000,
    "/state?cycle=%00", "/state?cycle=" + "x" * 5000, "/state?cycle=%F0%9F%98%80",
    "/exports/%00.xlsx", "/exports/" + "y" * 3000 + ".xlsx", "/exports/2026/%E2%82%AC.xlsx",
    "/charts/2026/boards/15/%3Cscript%3E.svg", "/charts/%00/state/radar.png",
    "/partnerships/-1", "/partnerships/1.5", "/partnerships/abc", "/admin/members/%00",
    "/admin/boards/%00", "/admin/boards/%00/roster", "/s/%00", "/s/" + "z" * 5000,
    "/s/{token}/%00", "/s/{token}/" + "k" * 3000, "/s/{token}/..%2F..%2Fadmin",
])
def test_malformed_addresses_get_a_page_without_a_stack_trace(app, world, url):
    admin = signed_in(app, "admin@example.org")
    response = admin.get(url.format(token=world["fresh_token"]))
    body = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, f"{url}: {response.status_code}"
    assert "Traceback" not in body and "File \"" not in body
    assert response.headers["X-Request-Id"] in body


# --- user-typed text: escaped in HTML, text in Excel, valid in SVG ---------------------


def test_typed_control_characters_and_formulas_leave_exports_and_charts_whole(app, world):
    """A roster names a partnership "\\x01=1+2 <script>...": the workbook still opens with
    the name as text, and the SVG is still well-formed XML with the tag escaped."""
    admin = signed_in(app, "admin@example.org")
    typed = "\x01=1+2 <script>alert(1)</script>"
    rows = "".join(f"15,{typed},Marine,P{n},p{n}@example.org,Port,{kind}\n"
                   for n, kind in enumerate(("business", "labor", "education")))
    assert upload(admin, (HEADER + rows).encode(), "roster.csv").status_code == 302
    with database(app) as session:
        partnership = session.execute(
            select(Partnership).where(Partnership.name == typed)).scalar_one()
        # free text from before the sector list (SPEC 16): the upgrade keeps what it cannot map
        partnership.sector = "@SUM(A1)"
        cycle = session.execute(select(Cycle)).scalar_one()
        for member in partnership.members:
            answer(session, make_invitation(session, cycle, member)[0],
                   all_answers(shipped_questionnaire(), 2))
        session.commit()
        partnership_id = partnership.id
    for url in ("/exports/2026.xlsx", "/exports/2026/15.xlsx"):
        response = admin.get(url)
        assert response.status_code == 200, url
        sheet = load_workbook(io.BytesIO(response.data))["Partnerships"]
        row = next(r for r in sheet.iter_rows(min_row=2) if "script" in str(r[2].value))
        assert row[2].value == "=1+2 <script>alert(1)</script>"
        assert row[2].data_type == "s" and row[3].value == "@SUM(A1)"
        assert row[3].data_type == "s"
    with pytest.warns(UserWarning, match="Glyph"):  # no glyph for \x01 in the font
        response = admin.get(f"/charts/2026/partnerships/{partnership_id}/radar.svg")
    assert response.status_code == 200
    document = xml.dom.minidom.parseString(response.data)
    assert not document.getElementsByTagName("script")
    assert b"&lt;script&gt;alert(1)" in response.data


def test_typed_markup_is_escaped_on_every_staff_page(app, world):
    with database(app) as session:
        member = session.get(Member, int(world["m15"]))
        member.name = '<img src=x onerror="alert(1)">'
        partnership = session.get(Partnership, int(world["p15"]))
        partnership.name = "<script>alert(2)</script>"
        session.get(Board, partnership.board_id).name = "<b>Heartland</b>"
        session.commit()
    admin = signed_in(app, "admin@example.org")
    for url in ("/state", "/boards/15", f"/partnerships/{world['p15']}", "/admin/boards",
                "/admin/boards/15", f"/admin/partnerships/{world['p15']}",
                f"/admin/members/{world['m15']}", "/admin/boards/15/roster",
                f"/s/{world['fresh_token']}"):
        body = admin.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, url
        assert "<b>Heartland" not in body, url


# --- pages with tokens or confidential figures are not kept by the browser -------------


def test_staff_pages_are_not_cached_and_back_after_sign_out_needs_sign_in(app, world):
    lead = signed_in(app, "lead15@example.org")
    for url in ("/boards/15", f"/partnerships/{world['p15']}", "/account/password",
                "/admin/boards/15/roster"):
        assert "no-store" in lead.get(url).headers["Cache-Control"], url
    admin = signed_in(app, "admin@example.org")
    assert "no-store" in admin.get("/state").headers["Cache-Control"]
    assert "no-store" in admin.get("/exports/2026.xlsx").headers["Cache-Control"]
    AuthActions(lead).logout()
    assert lead.get("/boards/15").status_code == 302


# --- sign-in redirects --------------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
    "https:evil.example", "/%09/evil.example", "/\t/evil.example", " //evil.example",
    "javascript:alert(1)", "/\r\n/evil.example",
])
def test_sign_in_never_redirects_off_site(app, world, target):
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": "admin@example.org", "password": PASSWORD,
                                           "csrf_token": token, "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert not urlsplit(location).netloc and not any(ord(c) < 32 for c in location)


# --- partner links --------------------------------------------------------------------


def test_partner_link_is_stored_hashed_and_never_logged(app, world, caplog,
                                                        monkeypatch):
    token = world["fresh_token"]
    assert len(token) >= 22, "at least 128 random bits"
    stored = snapshot(app)
    assert token not in repr(stored)
    with database(app) as session:
        hashes = session.execute(select(InvitationToken.token_hash)).scalars().all()
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(answer_service, "progress", broken)
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/s/{token}")
    assert response.status_code == 500
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]
    assert "boom" in caplog.text, "the details are in the log"
    assert token not in caplog.text
    assert "boom" not in response.get_data(as_text=True)


# --- uploads ---------------------------------------------------------------------------


def upload(client: FlaskClient, data: bytes, filename: str):
    token = csrf_token(client, "/admin/roster/import")
    return client.post("/admin/roster/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename), "csrf_token": token})


def xlsx(*rows: list) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER = "board,partnership,sector,name,email,organization,partner_type\n"


@pytest.mark.parametrize("data, filename, message", [
    (HEADER.encode() + b"15,Ports,Logistics,Ana\x00,ana@example.org,Port,business\n",
     "roster.csv", "not a text CSV file"),
    (HEADER.encode() + b"15,Ports,Logistics,Ana \x81\x8d\x8f,ana@example.org,Port,business\n",
     "roster.csv", "neither UTF-8 nor Windows-1252"),
    (b"PK\x03\x04 not really a zip", "roster.xlsx", "not a readable .xlsx workbook"),
    (b"\xff\xfe\x00\x00garbage", "roster.xlsx", "not a readable .xlsx workbook"),
    (b"", "roster.csv", None),
])
def test_a_broken_upload_gets_a_one_line_problem_not_a_500(app, world, data,
                                                           filename, message):
    admin = signed_in(app, "admin@example.org")
    members = snapshot(app)["members"]
    response = upload(admin, data, filename)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Traceback" not in body
    if message:
        assert message in body
    assert snapshot(app)["members"] == members


def test_a_formula_in_an_uploaded_workbook_is_never_stored_as_one(app, world):
    admin = signed_in(app, "admin@example.org")
    data = xlsx(HEADER.strip().split(","),
                ["15", "Ports", "Logistics", "=HYPERLINK(\"http://evil.example\",\"x\")",
                 "ana@example.org", "Port", "business"])
    response = upload(admin, data, "roster.xlsx")
    assert response.status_code in (302, 422)
    with database(app) as session:
        names = session.execute(select(Member.name)).scalars().all()
    assert not any("HYPERLINK" in name and not name.startswith("=") for name in names)
    links = admin.post("/admin/cycles/2026/links.csv",
                       data={"board": "15", "csrf_token": csrf_token(admin, "/admin/cycles")})
    assert not re.search(r"(^|,)[=+\-@]", links.get_data(as_text=True), re.M)


def test_an_upload_past_the_limit_is_a_413_page(app, world):
    admin = signed_in(app, "admin@example.org")
    token = csrf_token(admin, "/admin/roster/import")
    # Encoded by hand: the test client would spool a large upload to a file it never closes.
    body = (f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b\r\nContent-Disposition: form-data; name="file"; filename="roster.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode() + b"x" * (6 * 1024 * 1024) + b"\r\n--b--\r\n"
    response = admin.post("/admin/roster/import", data=body,
                          content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert "5 MB" in response.get_data(as_text=True)
