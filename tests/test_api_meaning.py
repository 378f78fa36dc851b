"""The data API's meaning of the figures (SPEC 17 over SPEC 15 and 16): agreement and
margins beside each partnership element score, within_margin on changes, benchmarks and
outcomes, scoped as the pages are, and equal to the workbook of the same release."""

from __future__ import annotations

import io
from collections.abc import Iterator

import openpyxl
import pytest

from survey import create_app
from survey.api import tokens
from survey.db import db
from survey.models import CycleStatus
from survey.outcome_measures import configured_measures
from survey.services.accounts import create_user
from survey.services.outcomes import save_outcomes
from tests.conftest import AuthActions
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
from tests.test_api import PASSWORD, World, fresh_database

KINDS = ("business", "education", "labor", "workforce", "other")
# five manufacturing partnerships of five respondents (benchmarks need five, margins n >= 5)
LEVELS = {"Advanced Manufacturing": (2, 3, 3, 4, 3), "Precision Machining": (1, 2, 4, 4, 3),
          "Aerospace Parts": (3, 3, 3, 3, 4), "Boat Builders": (2, 2, 3, 1, 2),
          "Food Processing": (4, 4, 3, 4, 4)}


def build(session) -> dict[str, str]:
    """Boards 15 and 16; cycles 2025 and 2026 closed. Board 15 leads three manufacturing
    partnerships and a two-respondent health one (suppressed); board 16 leads two."""
    q = shipped_questionnaire()
    b15 = make_board(session, "15", "CareerSource Heartland")
    b16 = make_board(session, "16", "CareerSource Gulf Coast")
    earlier = make_cycle(session, "2025", status=CycleStatus.CLOSED)
    current = make_cycle(session, "2026", status=CycleStatus.CLOSED)
    earlier.opens_on = current.opens_on.replace(year=current.opens_on.year - 1)
    earlier.closes_on = current.closes_on.replace(year=current.closes_on.year - 1)
    ids: dict[str, str] = {}
    for number, (name, levels) in enumerate(LEVELS.items()):
        partnership = make_partnership(session, b15 if number < 3 else b16, name)
        ids[name] = str(partnership.id)
        for kind, level in zip(KINDS, levels, strict=True):
            member = make_member(session, partnership, kind)
            answer(session, make_invitation(session, earlier, member)[0],
                   all_answers(q, max(1, level - 1)))
            answer(session, make_invitation(session, current, member)[0], all_answers(q, level))
    small = make_partnership(session, b15, "Health Care Pipeline", sector="Health care")
    ids["small"] = str(small.id)
    for kind, level in (("business", 2), ("education", 4)):
        answer(session, make_invitation(session, current, make_member(session, small, kind))[0],
               all_answers(q, level))
    session.flush()
    measures = configured_measures()
    lead_partnership = session.get(type(small), int(ids["Advanced Manufacturing"]))
    save_outcomes(session, lead_partnership, earlier, measures,
                  {"placements": ("30", "State wage records"),
                   "median_wage": ("$17.25", "")}, "test")
    save_outcomes(session, lead_partnership, current, measures,
                  {"placements": ("41", "State wage records"),
                   "median_wage": ("$18.50", ""), "credentials_earned": ("suppressed", "")},
                  "test")
    other = session.get(type(small), int(ids["Boat Builders"]))
    save_outcomes(session, other, current, measures, {"placements": ("12", "")}, "test")
    users = {
        "admin": create_user(session, "admin@example.org", PASSWORD, "admin"),
        "state": create_user(session, "state@example.org", PASSWORD, "state"),
        "lead_this": create_user(session, "lead15@example.org", PASSWORD, "board", board=b15),
        "lead_other": create_user(session, "lead16@example.org", PASSWORD, "board", board=b16),
    }
    for role, user in users.items():
        ids[f"token_{role}"] = tokens.create_token(session, user, f"{role} report")[1]
    session.commit()
    return ids


@pytest.fixture(scope="module")
def world(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("api_meaning")
    url = fresh_database(database_template, tmp)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SURVEY_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key",
                          "BASE_URL": "http://survey.test", "SMTP_URL": "",
                          "API_RATE_LIMIT": 100_000})
    with app.app_context():
        ids = build(db.session)
    roles = ("admin", "state", "lead_this", "lead_other")
    yield World(app, {role: ids[f"token_{role}"] for role in roles}, ids)
    assert db.engine is not None
    db.engine.dispose()


def workbook_rows(world: World, sheet: str) -> list[dict[str, object]]:
    client = world.app.test_client()
    AuthActions(client).login("state@example.org")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/exports/2026.xlsx").data))
    rows = list(workbook[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def titles(world: World) -> dict[str, str]:
    detail = world.get("state", "/api/v1/cycles/2026").get_json()
    return {e["title"]: e["key"] for e in detail["elements"]}


def partnerships(world: World, role: str = "state") -> list[dict]:
    return world.get(role, "/api/v1/cycles/2026/partnerships?per_page=500").get_json()["items"]


def test_agreement_and_margin_stand_beside_each_partnership_element_score(world: World):
    body = world.get("lead_this", "/api/v1/cycles/2026/partnerships/{Advanced Manufacturing}")
    elements = body.get_json()["elements"]
    for figure in elements.values():
        assert figure["status"] == "published" and figure["n"] == 5
        assert figure["agreement"]["reading"] in ("agree", "mixed", "split")
        assert -1 <= figure["agreement"]["rwg"] <= 1
        margin = figure["margin"]
        assert margin["n"] == 5 and margin["se"] > 0
        assert margin["low"] < figure["value"] < margin["high"]
    small = world.get("lead_this", "/api/v1/cycles/2026/partnerships/{small}").get_json()
    for figure in small["elements"].values():
        assert figure["status"] == "suppressed" and figure["value"] is None
        assert figure["agreement"] is None and figure["margin"] is None, "none for suppressed"


def test_within_margin_on_changes_equals_the_workbooks(world: World):
    from reports.workbook_meaning import BEYOND_MARGIN, WITHIN_MARGIN

    keys = {**titles(world), "Overall": "overall"}
    served = {(p["label"], c["element"]): c for p in partnerships(world) for c in p["change"]}
    rows = workbook_rows(world, "Change")
    assert len(rows) == len(served) and rows
    reading = {WITHIN_MARGIN: True, BEYOND_MARGIN: False, None: None}
    for cells in rows:
        change = served[(cells["Partnership"], keys[cells["Element"]])]
        assert change["within_margin"] is reading[cells["Margin"]]
    elements = [c for (label, key), c in served.items()
                if label == "Advanced Manufacturing" and key != "overall"]
    assert elements and all(c["within_margin"] in (True, False) for c in elements), \
        "both cycles have margins for every element of a five-respondent partnership"


def test_agreement_equals_the_workbooks(world: World):
    keys = titles(world)
    api = {p["label"]: p for p in partnerships(world)}
    rows = workbook_rows(world, "Agreement")
    assert len(rows) == 5 * len(keys), "every element of the five published partnerships"
    for cells in rows:
        served = api[cells["Partnership"]]
        assert served["board_code"] == cells["Board code"]
        figure = served["elements"][keys[cells["Element"]]]
        assert figure["agreement"]["rwg"] == cells["Agreement"]
        assert figure["agreement"]["reading"] == cells["Reading"]
        assert figure["agreement"]["n"] == figure["n"] == cells["n"]
    served_count = sum(1 for p in api.values() for f in p["elements"].values()
                       if f["agreement"] is not None)
    assert served_count == len(rows)


def test_benchmarks_equal_the_workbooks(world: World):
    keys = {**titles(world), "Overall": "overall"}
    body = world.get("lead_this", "/api/v1/cycles/2026/benchmarks?per_page=500").get_json()
    served = {(b["scope"], b["element"]): b for b in body["items"]}
    rows = workbook_rows(world, "Benchmarks")
    assert rows and body["total"] == len(rows) == len(served)
    assert {scope for scope, _ in served} == {"State", "Manufacturing"}, \
        "health care has one partnership: no quartiles"
    for cells in rows:
        benchmark = served[(cells["Scope"], keys[cells["Element"]])]
        assert benchmark["partnerships"] == cells["Partnerships"] == 5
        assert (benchmark["lower"], benchmark["median"], benchmark["upper"]) == \
            (cells["Lower quartile"], cells["Median"], cells["Upper quartile"])
        assert benchmark["lower"] <= benchmark["median"] <= benchmark["upper"]


def test_benchmarks_are_paged_and_filtered_by_scope(world: World):
    first = world.get("state", "/api/v1/cycles/2026/benchmarks?per_page=3").get_json()
    assert len(first["items"]) == 3 and first["total"] > 3 and first["next"]
    assert world.get("state", first["next"]).get_json()["page"] == 2
    state = world.get("state", "/api/v1/cycles/2026/benchmarks?scope=State&per_page=500")
    assert {b["scope"] for b in state.get_json()["items"]} == {"State"}
    assert world.get("state", "/api/v1/cycles/2026/benchmarks?page=0").status_code == 400


def test_outcomes_are_served_with_previous_and_change(world: World):
    url = "/api/v1/cycles/2026/partnerships/{Advanced Manufacturing}/outcomes"
    body = world.get("lead_this", url).get_json()
    by_measure = {o["measure"]: o for o in body["items"]}
    placements = by_measure["placements"]
    assert (placements["value"], placements["previous"], placements["change"]) == (41, 30, 11)
    assert placements["status"] == "published" and placements["previous_cycle"] == "2025"
    assert placements["source"] == "State wage records"
    assert by_measure["median_wage"]["change"] == pytest.approx(1.25)
    credentials = by_measure["credentials_earned"]
    assert credentials["value"] is None and credentials["status"] == "suppressed"


def test_a_leads_token_gets_404_for_another_boards_outcomes(world: World):
    url = "/api/v1/cycles/2026/partnerships/{Boat Builders}/outcomes"
    refused = world.get("lead_this", url)
    assert refused.status_code == 404 and "placements" not in refused.get_data(as_text=True)
    assert world.get("lead_other", url).status_code == 200
    assert world.get("state", url).get_json()["items"][0]["value"] == 12


def test_outcomes_equal_the_workbooks(world: World):
    api = {p["label"]: p for p in partnerships(world)}
    rows = workbook_rows(world, "Outcomes")
    served = {}
    for label in {cells["Partnership"] for cells in rows}:
        url = f"/api/v1/cycles/2026/partnerships/{api[label]['id']}/outcomes"
        for o in world.get("state", url).get_json()["items"]:
            served[(label, o["label"])] = o
    assert len(rows) == len(served) == 4
    for cells in rows:
        o = served[(cells["Partnership"], cells["Measure"])]
        if cells["Value"] == "suppressed":
            assert o["value"] is None and o["status"] == "suppressed"
        else:
            assert o["value"] == cells["Value"]
        assert o["previous"] == cells["Previous"] and o["change"] == cells["Change"]
        assert (o["source"] or None) == cells["Source"]
        assert o["previous_cycle"] == cells["Previous cycle"]


def test_margins_equal_the_stored_releases(world: World):
    """The workbook has no margin column (only the Change sheet's reading), so the served
    margins are checked against the cycle's stored release itself."""
    from sqlalchemy import select

    from survey import releases
    from survey.models import Cycle

    served = {(p["id"], key): f["margin"] for p in partnerships(world)
              for key, f in p["elements"].items()}
    with world.app.app_context():
        cycle = db.session.execute(select(Cycle).where(Cycle.name == "2026")).scalar_one()
        stored = releases.release_results(releases.current(db.session, cycle), None, db.session)
    assert stored.margins and len(stored.margins) == sum(m is not None for m in served.values())
    for m in stored.margins:
        assert served[(m.partnership_id, m.element_key)] == \
            {"se": m.se, "low": m.low, "high": m.high, "n": m.n}
