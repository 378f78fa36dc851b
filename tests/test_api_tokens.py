"""API tokens (SPEC 17): the command line, the web page, the rate limit per token, and
what a revoked token or a deactivated account gets. (The API's answers are
tests/test_api.py's, on a world of their own.)"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from survey.api import tokens
from survey.db import db
from survey.models import ApiToken, User
from survey.services.accounts import create_user
from tests.conftest import AuthActions, csrf_token

PASSWORD = "correct horse battery"


def test_survey_token_create_list_revoke(app, runner, client) -> None:
    with app.app_context():
        create_user(db.session, "analyst@example.org", PASSWORD, "state")
        db.session.commit()
    created = runner.invoke(args=["token", "create", "analyst@example.org", "--name",
                                  "Power BI"])
    assert created.exit_code == 0, created.output
    raw = created.output.strip().splitlines()[-1]
    assert raw.startswith("ssa_")
    answer = client.get("/api/v1/cycles", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200
    with app.app_context():
        stored = db.session.execute(select(ApiToken)).scalar_one()
        assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in str(db.session.execute(select(ApiToken.__table__)).all())
        stored_id = stored.id
    listed = runner.invoke(args=["token", "list"])
    assert "analyst@example.org\tPower BI" in listed.output and raw not in listed.output
    assert "\tlive" in listed.output
    revoked = runner.invoke(args=["token", "revoke", str(stored_id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert client.get("/api/v1/cycles",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 401


@pytest.mark.parametrize("args, message", [
    (["token", "create", "nobody@example.org", "--name", "x"], "no account for"),
    (["token", "create", "analyst@example.org", "--name", "  "], "Give the token a name"),
    (["token", "revoke", "4242"], "There is no token 4242"),
])
def test_survey_token_refuses_bad_input(app, runner, args, message) -> None:
    with app.app_context():
        create_user(db.session, "analyst@example.org", PASSWORD, "state")
        db.session.commit()
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.execute(select(func.count(ApiToken.id))).scalar_one() == 0


def test_tokens_are_created_listed_and_revoked_on_the_web(app, client) -> None:
    with app.app_context():
        create_user(db.session, "analyst@example.org", PASSWORD, "state")
        db.session.commit()
    AuthActions(client).login("analyst@example.org")
    token = csrf_token(client, "/account/tokens")
    page = client.post("/account/tokens", data={"name": "Tableau", "csrf_token": token})
    body = page.get_data(as_text=True)
    raw = body.split('class="new-token">')[1].split("<")[0]
    assert "never" in body
    assert client.get("/api/v1/cycles",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert raw not in listing, "shown only once"
    assert "never" not in listing.split('class="last-used">')[1].split("<")[0]
    with app.app_context():
        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    token = csrf_token(client, "/account/tokens")
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert client.get("/api/v1/cycles",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_someone_elses_token_cannot_be_revoked_on_the_web(app, client) -> None:
    with app.app_context():
        create_user(db.session, "analyst@example.org", PASSWORD, "state")
        other = create_user(db.session, "other@example.org", PASSWORD, "state")
        theirs, _ = tokens.create_token(db.session, other, "theirs")
        db.session.commit()
        theirs_id = theirs.id
    AuthActions(client).login("analyst@example.org")
    token = csrf_token(client, "/account/tokens")
    assert client.post(f"/account/tokens/{theirs_id}/revoke",
                       data={"csrf_token": token}).status_code == 404


def test_the_rate_limit_counts_per_token_in_the_database(app, client) -> None:
    app.config["API_RATE_LIMIT"] = 3
    with app.app_context():
        user = create_user(db.session, "analyst@example.org", PASSWORD, "state")
        _, first = tokens.create_token(db.session, user, "first")
        _, second = tokens.create_token(db.session, user, "second")
        db.session.commit()
    statuses = [client.get("/api/v1/cycles", headers={"Authorization": f"Bearer {first}"})
                for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 60
    assert "Too many calls" in statuses[-1].get_json()["error"]
    assert client.get("/api/v1/cycles",
                      headers={"Authorization": f"Bearer {second}"}).status_code == 200
    with app.app_context():  # the window is in the token's row: every process sees it
        calls = db.session.execute(select(ApiToken.window_calls).where(
            ApiToken.name == "first")).scalar_one()
        assert calls == 3
        assert db.session.execute(select(func.count(User.id))).scalar_one() == 1


def test_a_deactivated_users_tokens_stop(app, client) -> None:
    from survey.services.accounts import deactivate_user

    with app.app_context():
        create_user(db.session, "admin@example.org", PASSWORD, "admin")
        user = create_user(db.session, "analyst@example.org", PASSWORD, "state")
        _, raw = tokens.create_token(db.session, user, "x")
        deactivate_user(db.session, user)
        db.session.commit()
    assert client.get("/api/v1/cycles",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_unknown_api_addresses_answer_in_json(client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json() == {
        "error": "No such address in the API."}
    assert client.post("/api/v1/cycles").status_code == 405
