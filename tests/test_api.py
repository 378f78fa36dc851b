"""The data API /api/v1/ (SPEC 17): tokens, scoping through the access matrix (every
endpoint x every role x another board's ids), suppressed figures, paging, ETags, the
rate limit, the audit, the workbook's numbers, the OpenAPI document and Schemathesis."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select, text

from survey import create_app
from survey.api import tokens
from survey.db import Base, db, make_engine
from survey.models import ApiToken, AuditEvent, CycleStatus
from survey.services.accounts import create_user
from tests.conftest import AuthActions, on_postgres
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
ROLES = ("none", "revoked", "lead_this", "lead_other", "state", "admin")


@dataclass
class World:
    app: Flask
    tokens: dict[str, str]  # role -> bearer token
    ids: dict[str, str]

    def get(self, role: str, url: str, **headers: str):
        client = self.app.test_client()
        if role != "none":
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return client.get(url.format(**self.ids), headers=headers)


def build(session) -> dict[str, str]:
    """Boards 15 and 16; cycles 2025 and 2026 closed (published), 2027 open; board 15 has
    a partnership of three respondents and one of two (suppressed)."""
    q = shipped_questionnaire()
    b15 = make_board(session, "15", "CareerSource Heartland")
    b16 = make_board(session, "16", "CareerSource Gulf Coast")
    p15 = make_partnership(session, b15, "Advanced Manufacturing")
    small = make_partnership(session, b15, "Health Care Pipeline", sector="Health care")
    p16 = make_partnership(session, b16, "Logistics Alliance", sector="Logistics")
    earlier = make_cycle(session, "2025", status=CycleStatus.CLOSED)
    current = make_cycle(session, "2026", status=CycleStatus.CLOSED)
    make_cycle(session, "2027")  # open, never published
    earlier.opens_on = current.opens_on.replace(year=current.opens_on.year - 1)
    earlier.closes_on = current.closes_on.replace(year=current.closes_on.year - 1)
    plan = [(p15, ("business", "education", "labor"), (2, 3, 3)),
            (small, ("business", "education"), (2, 4)),
            (p16, ("business", "workforce", "other"), (1, 2, 4))]
    for partnership, kinds, levels in plan:
        for kind, level in zip(kinds, levels, strict=True):
            member = make_member(session, partnership, kind)
            answer(session, make_invitation(session, earlier, member)[0], all_answers(q, level))
            answer(session, make_invitation(session, current, member)[0],
                   all_answers(q, min(4, level + 1)))
    users = {
        "admin": create_user(session, "admin@example.org", PASSWORD, "admin"),
        "state": create_user(session, "state@example.org", PASSWORD, "state"),
        "lead_this": create_user(session, "lead15@example.org", PASSWORD, "board", board=b15),
        "lead_other": create_user(session, "lead16@example.org", PASSWORD, "board", board=b16),
    }
    ids = {"p15": str(p15.id), "small": str(small.id), "p16": str(p16.id)}
    for role, user in users.items():
        ids[f"token_{role}"] = tokens.create_token(session, user, f"{role} report")[1]
    revoked, ids["token_revoked"] = tokens.create_token(session, users["state"], "old")
    tokens.revoke_token(session, revoked.id)
    session.commit()
    return ids


def fresh_database(database_template: str, tmp: Path) -> str:
    if on_postgres():
        engine = make_engine(database_template)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return database_template
    path = tmp / "survey.sqlite3"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def world(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("api")
    url = fresh_database(database_template, tmp)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SURVEY_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key",
                          "BASE_URL": "http://survey.test", "SMTP_URL": "",
                          "API_RATE_LIMIT": 100_000})
    with app.app_context():
        ids = build(db.session)
    yield World(app, {role: ids[f"token_{role}"] for role in ROLES if role != "none"}, ids)
    assert db.engine is not None
    db.engine.dispose()


# --- the access matrix ---------------------------------------------------------------

# (kind, url): what each address needs; the expected status of every role follows.
ENDPOINTS = [
    ("any", "/api/v1/cycles"),
    ("any", "/api/v1/cycles/2026"),
    ("any", "/api/v1/cycles/2026/state"),
    ("any", "/api/v1/cycles/2026/boards"),
    ("any", "/api/v1/cycles/2026/partnerships"),
    ("any", "/api/v1/cycles/2026/benchmarks"),
    ("stewards", "/api/v1/cycles/2027"),
    ("stewards", "/api/v1/cycles/2027/state"),
    ("stewards", "/api/v1/cycles/2027/boards"),
    ("stewards", "/api/v1/cycles/2027/partnerships"),
    ("stewards", "/api/v1/cycles/2027/benchmarks"),
    ("board15", "/api/v1/cycles/2026/boards/15"),
    ("board15", "/api/v1/cycles/2026/partnerships/{p15}"),
    ("board15", "/api/v1/cycles/2026/partnerships/{p15}/items"),
    ("board15", "/api/v1/cycles/2026/partnerships/{p15}/plan"),
    ("board15", "/api/v1/cycles/2026/partnerships/{p15}/outcomes"),
    ("board15", "/api/v1/cycles/2025/partnerships/{small}"),
    ("board16", "/api/v1/cycles/2026/boards/16"),
    ("board16", "/api/v1/cycles/2026/partnerships/{p16}"),
    ("board16", "/api/v1/cycles/2026/partnerships/{p16}/items"),
    ("board16", "/api/v1/cycles/2026/partnerships/{p16}/plan"),
    ("board16", "/api/v1/cycles/2026/partnerships/{p16}/outcomes"),
    ("board16", "/api/v1/cycles/2025/boards/16"),
    ("nobody", "/api/v1/cycles/1999"),
    ("nobody", "/api/v1/cycles/2026/boards/99"),
    ("nobody", "/api/v1/cycles/2026/partnerships/999999"),
    ("nobody", "/api/v1/cycles/1999/benchmarks"),
    ("nobody", "/api/v1/cycles/2026/partnerships/999999/outcomes"),
    ("nobody", "/api/v1/cycles/2026/partnerships/99999999999999999999999"),
]
READERS = {
    "any": {"lead_this", "lead_other", "state", "admin"},
    "stewards": {"state", "admin"},
    "board15": {"lead_this", "state", "admin"},
    "board16": {"lead_other", "state", "admin"},
    "nobody": set(),
}


@pytest.mark.parametrize("kind, url", ENDPOINTS, ids=[u for _, u in ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_for_every_role(world: World, role: str, kind: str, url: str) -> None:
    response = world.get(role, url)
    if role in ("none", "revoked"):
        want = 401
    else:
        want = 200 if role in READERS[kind] else 404
    assert response.status_code == want, f"{role} {url}: {response.status_code}"
    assert response.mimetype == "application/json"
    if want == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if want == 404:
        body = response.get_data(as_text=True)
        assert "Heartland" not in body and "Gulf Coast" not in body and "Alliance" not in body


def test_a_leads_lists_hold_only_their_board(world: World) -> None:
    boards = world.get("lead_this", "/api/v1/cycles/2026/boards").get_json()
    assert [b["code"] for b in boards["items"]] == ["15"]
    partnerships = world.get("lead_this", "/api/v1/cycles/2026/partnerships").get_json()
    assert {p["board_code"] for p in partnerships["items"]} == {"15"}
    other = world.get("lead_this", "/api/v1/cycles/2026/partnerships?board=16").get_json()
    assert other["items"] == [] and other["total"] == 0
    cycles = world.get("lead_this", "/api/v1/cycles").get_json()
    assert [c["name"] for c in cycles["items"]] == ["2026", "2025"], "no unpublished cycle"
    everyone = world.get("state", "/api/v1/cycles").get_json()
    assert [c["name"] for c in everyone["items"]] == ["2027", "2026", "2025"]
    assert everyone["items"][0]["provisional"] is True


def test_a_suppressed_figure_is_null_beside_its_status(world: World) -> None:
    small = world.get("lead_this", "/api/v1/cycles/2026/partnerships/{small}").get_json()
    for element in small["elements"].values():
        assert element == {"value": None, "n": 2, "status": "suppressed",
                           "agreement": None, "margin": None}
    assert small["overall"]["value"] is None and small["overall"]["status"] == "suppressed"
    assert small["stage"] == {"level": None, "label": None, "status": "suppressed"}
    items = world.get("lead_this", "/api/v1/cycles/2026/partnerships/{small}/items").get_json()
    assert items["total"] > 0
    assert all(i["status"] == "suppressed" and i["counts"] is None for i in items["items"])
    shown = world.get("lead_this", "/api/v1/cycles/2026/partnerships/{p15}").get_json()
    assert shown["elements"]["data"]["status"] == "published"
    assert shown["elements"]["data"]["n"] == 3
    assert isinstance(shown["elements"]["data"]["value"], float)


def test_change_is_served_with_each_partnership(world: World) -> None:
    body = world.get("state", "/api/v1/cycles/2026/partnerships/{p15}").get_json()
    overall = next(c for c in body["change"] if c["element"] == "overall")
    assert overall["previous_cycle"] == "2025"
    assert overall["status"] == "improved" and overall["delta"] > 0.25


def test_items_are_numbered_as_partners_saw_them(world: World) -> None:
    items = world.get("state", "/api/v1/cycles/2026/partnerships/{p15}/items?per_page=500")
    numbers = [i["number"] for i in items.get_json()["items"]]
    assert numbers[0] == "1.1" and len(numbers) == len(shipped_questionnaire().items)


def test_lists_are_paged(world: World) -> None:
    first = world.get("state", "/api/v1/cycles/2026/partnerships?per_page=2").get_json()
    assert (first["total"], len(first["items"]), first["page"]) == (3, 2, 1)
    assert first["next"].startswith("/api/v1/cycles/2026/partnerships?")
    second = world.get("state", first["next"]).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert len(set(ids)) == 3
    bad = world.get("state", "/api/v1/cycles/2026/partnerships?per_page=0")
    assert bad.status_code == 400 and "per_page" in bad.get_json()["error"]


def test_answers_carry_an_etag_of_their_figures(world: World) -> None:
    url = "/api/v1/cycles/2026/boards/15"
    first = world.get("lead_this", url)
    etag = first.headers["ETag"].strip('"')
    release = world.get("lead_this", "/api/v1/cycles/2026").get_json()["releases"][-1]
    # the release's figures hash, then this answer's (its scope and page)
    assert etag == f"{release['figures_hash'][:16]}-{hashlib.sha256(first.data).hexdigest()[:16]}"
    again = world.get("lead_this", url, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert world.get("lead_this", "/api/v1/cycles/2025/boards/15").headers["ETag"] != \
        first.headers["ETag"]


def test_every_call_is_audited_by_token(world: World) -> None:
    world.get("lead_other", "/api/v1/cycles/2026/boards/16")
    with world.app.app_context():
        token = db.session.execute(select(ApiToken).where(
            ApiToken.name == "lead_other report")).scalar_one()
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "api.call").order_by(AuditEvent.id.desc())).scalars().first()
        assert event.target == "/api/v1/cycles/2026/boards/16"
        assert event.actor == f"token {token.id} (lead16@example.org)"
        assert event.detail == {"token": token.id}
        assert token.last_used_at is not None


def test_the_numbers_equal_the_workbooks(world: World) -> None:
    client = world.app.test_client()
    AuthActions(client).login("state@example.org")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/exports/2026.xlsx").data))
    rows = list(workbook["Partnerships"].iter_rows(values_only=True))
    header, rows = rows[0], rows[1:]
    api = world.get("state", "/api/v1/cycles/2026/partnerships").get_json()["items"]
    detail = world.get("state", "/api/v1/cycles/2026").get_json()
    titles = {e["title"]: e["key"] for e in detail["elements"]}
    compared = 0
    for row in rows:
        cells = dict(zip(header, row, strict=False))
        partnership = next(p for p in api if p["label"] == cells["Partnership"])
        for title, key in titles.items():
            figure = partnership["elements"][key]
            if cells[title] == "suppressed":
                assert figure["value"] is None and figure["status"] == "suppressed"
            else:
                assert figure["value"] == cells[title] and figure["status"] == "published"
            compared += 1
        overall = partnership["overall"]
        assert (overall["value"] if overall["value"] is not None else "suppressed") == \
            cells["Overall"]
    assert compared == 3 * len(titles)
    boards = {b["code"]: b for b in world.get("state", "/api/v1/cycles/2026/boards")
              .get_json()["items"]}
    sheet = list(workbook["Boards"].iter_rows(values_only=True))
    for row in sheet[1:]:
        cells = dict(zip(sheet[0], row, strict=False))
        assert boards[cells["Board code"]]["overall"]["value"] == cells["Overall"]


# --- OpenAPI and Schemathesis ---------------------------------------------------------


def test_the_openapi_document_is_valid_openapi_3_1(world: World) -> None:
    response = world.app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any error


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


def fuzz(world: World, role: str) -> int:
    """Schemathesis over every operation of the served document, as this role's token:
    property-based cases (Hypothesis), each call checked against the document. (Driven
    here rather than by schemathesis.pytest.from_fixture, which pytest 9 breaks.)"""
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    calls = 0
    for result in api.get_all_operations():
        operation = result.ok()

        generated = operation.as_strategy()

        def real_ids(case):  # the same cases aimed at the world's own rows, to read 200s
            known = {"cycle": "2026", "code": "15", "partnership_id": world.ids["p15"]}
            if case.path_parameters:
                case.path_parameters = {k: known[k] for k in case.path_parameters}
            return case

        @given(case=st.one_of(generated, generated.map(real_ids)))
        @settings(max_examples=12, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
    return calls


def test_schemathesis_as_an_administrator(world: World) -> None:
    """No 5xx and no answer outside the document, for a token that sees everything."""
    assert fuzz(world, "admin") >= 11 * 5


def test_schemathesis_as_a_board_lead(world: World) -> None:
    """The same for a board lead's token (many 404s, each in the document's shape)."""
    assert fuzz(world, "lead_this") >= 11 * 5
