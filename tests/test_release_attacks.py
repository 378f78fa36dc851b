"""The attacks of issue 16 as tests (SPEC 4a rules 6-9, 4b): each recovered a hidden answer
from results that moved after publication, or from figures that are parts of each other."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from pathlib import Path

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from survey import releases
from survey.models import Board, Partnership
from survey.scoring import cycle_by_name
from survey.services.boards import move_partnership
from tests.factories import (
    all_answers,
    answer,
    make_cycle,
    make_invitation,
    shipped_questionnaire,
)
from tests.test_revisions import lead_outputs, login, token_of, world  # noqa: F401

__all__ = ["world"]


def steward_sees_changes(client: FlaskClient, count: int) -> None:
    client.post("/logout", data={"csrf_token": token_of(client, "/boards/15")})
    login(client, "state@example.org")
    body = client.get("/boards/15?cycle=2026").get_data(as_text=True)
    noun = "response" if count == 1 else "responses"
    assert f"Not yet published: {count} {noun} changed since release 1." in body


def test_an_import_into_a_closed_cycle_changes_nothing_a_lead_reads(
        session: Session, client: FlaskClient, runner: FlaskCliRunner, world: dict,
        tmp_path: Path) -> None:
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    login(client, "lead@example.org")
    before = lead_outputs(client)
    path = tmp_path / "paper.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["cycle", "board", "partnership", "respondent", "partner_type",
                         "element", "item", "score"])
        for item in shipped_questionnaire().items:
            writer.writerow(["2026", "15", "Manufacturing", "paper-01", "business",
                             item.element_key, item.code, "4"])
    imported = runner.invoke(args=["responses", "import", str(path), "--cycle", "2026"])
    assert imported.exit_code == 0, imported.output
    assert lead_outputs(client) == before  # the Items sheet's counts included
    steward_sees_changes(client, 1)


def test_a_partnership_moved_during_a_reopen_leaves_both_boards_releases_alone(
        session: Session, client: FlaskClient, runner: FlaskCliRunner, world: dict) -> None:
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    login(client, "lead@example.org")
    before = lead_outputs(client)
    assert runner.invoke(args=["cycle", "open", "2026"]).exit_code == 0
    move_partnership(session, session.get(Partnership, world["health"]),
                     session.get(Board, world["b16"]))
    session.commit()
    assert lead_outputs(client) == before  # board 15 still shows Health Care as released
    cycle = cycle_by_name(session, "2026")
    live = releases.respondent_basis(session, cycle)
    assert sum(1 for r in live.values() if r.board_code == "16") == 6
    steward_sees_changes(client, 3)  # the three Health Care respondents moved


def test_a_cycle_never_published_feeds_no_change_and_shows_leads_no_figures(
        session: Session, client: FlaskClient, runner: FlaskCliRunner, world: dict) -> None:
    q = shipped_questionnaire()
    cycle = cycle_by_name(session, "2026")
    history = make_cycle(session, "2025", "closed",
                         opens_on=cycle.opens_on.replace(year=cycle.opens_on.year - 1),
                         closes_on=cycle.closes_on.replace(year=cycle.closes_on.year - 1))
    history.published_at = None  # filled by import, never published
    for member in session.get(Partnership, world["manufacturing"]).members[:3]:
        invitation, _ = make_invitation(session, history, member)
        answer(session, invitation, all_answers(q, 1))
    session.commit()
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    results = releases.release_results(releases.current(session, cycle), "15")
    assert results.changes and all(c.previous_cycle is None for c in results.changes)
    assert {t.cycle for t in results.trends} == {"2026"}
    login(client, "lead@example.org")
    body = client.get("/boards/15?cycle=2025").get_data(as_text=True)
    assert "Response progress" in body and "Partnerships: stage" not in body
    assert client.get("/exports/2025/15.xlsx").status_code == 404


def test_item_figures_are_hidden_where_respondents_scored_different_numbers_of_items(
        session: Session, runner: FlaskCliRunner, world: dict) -> None:
    # One Manufacturing member answers "don't know" to one vision item: the item sums and
    # the element score (items weighed 1 / items scored) would be two equations.
    q = shipped_questionnaire()
    cycle = cycle_by_name(session, "2026")
    first = session.get(Partnership, world["manufacturing"]).members[0]
    invitation = next(i for i in cycle_invitations(session, cycle) if i.member_id == first.id)
    vision = q.element("vision").items[0].code
    for row in invitation.answers:
        if row.item_code == vision:
            row.level, row.special = None, "DK"
    session.commit()
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    results = releases.release_results(releases.current(session, cycle))
    rows = [i for i in results.item_results if i.partnership_id == world["manufacturing"]]
    assert rows and all(i.suppressed for i in rows if i.element_key == "vision")
    assert not any(i.suppressed for i in rows if i.element_key == "data")
    manufacturing = next(p for p in results.partnerships
                         if p.partnership_id == world["manufacturing"])
    assert manufacturing.elements["vision"].shown  # the score itself stays


def test_a_partner_of_three_sees_board_and_state_but_not_the_partnership(
        client: FlaskClient, runner: FlaskCliRunner, world: dict) -> None:
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    page = client.get(f"/s/{world['tokens'][0]}/results")  # Manufacturing: 3 submitted
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert body.count("Suppressed") + body.count("suppressed") >= 6
    assert "2.33" not in body  # Manufacturing's score, 3E minus theirs is the others' sum
    assert "2.83" in body and "2.44" in body  # the board's and the state's figures show


def test_respondent_codes_are_keyed_with_the_instance_secret_and_rows_ordered_by_code(
        app, session: Session, client: FlaskClient, runner: FlaskCliRunner,
        world: dict) -> None:
    assert runner.invoke(args=["cycle", "close", "2026", "--yes"]).exit_code == 0
    login(client, "state@example.org")
    data = client.get("/exports/2026/responses.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(data)))
    codes = [r["respondent"] for r in rows]
    assert codes == sorted(codes) and len(set(codes)) == 9
    cycle = cycle_by_name(session, "2026")
    secret = app.config["SECRET_KEY"].encode()
    keyed = {"R" + hmac.new(secret, f"{cycle.id}:{i.id}".encode(), hashlib.sha256).hexdigest()[:12]
             for i in cycle_invitations(session, cycle)}
    assert set(codes) <= keyed
    public = {"R" + hashlib.sha256(f"{cycle.id}:{i.id}:{cycle.content_hash}".encode())
              .hexdigest()[:8] for i in cycle_invitations(session, cycle)}
    assert not set(codes) & public


def cycle_invitations(session: Session, cycle) -> list:
    from sqlalchemy import select

    from survey.models import Invitation

    return list(session.execute(select(Invitation).where(Invitation.cycle_id == cycle.id))
                .scalars())
