"""The partner's journey at /s/<token>: overview, element pages, review, submit, and every
way a link or a form can go wrong."""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.db import db
from survey.models import Answer, Comment, CycleStatus, Invitation, InvitationStatus
from survey.questionnaire import Questionnaire
from tests.conftest import csrf_token
from tests.factories import (
    answer,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
)

DEADLINE = dt.date(2099, 1, 9)  # a Friday


@dataclass
class Partner:
    token: str
    invitation_id: int
    questionnaire: Questionnaire

    @property
    def url(self) -> str:
        return f"/s/{self.token}"

    def element_codes(self, key: str) -> list[str]:
        return [item.code for item in self.questionnaire.element(key).items]


def make_partner(
    app: Flask, partnership_name: str = "Tampa Bay Advanced Manufacturing",
    status: str = CycleStatus.OPEN, closes_on: dt.date = DEADLINE,
    opens_on: dt.date | None = None,
) -> Partner:
    """A board, partnership, member, cycle and invitation, committed; the partner's link."""
    with app.app_context():
        session = db.session
        board = make_board(session, name="CareerSource Tampa Bay")
        partnership = make_partnership(session, board, name=partnership_name)
        member = make_member(session, partnership)
        cycle = make_cycle(session, name="2026", status=status, closes_on=closes_on,
                           opens_on=opens_on)
        invitation, token = make_invitation(session, cycle, member)
        session.commit()
        return Partner(token, invitation.id, Questionnaire.from_dict(cycle.content))


@pytest.fixture
def partner(app: Flask) -> Partner:
    return make_partner(app)


@dataclass
class Stored:
    status: str
    submitted_at: dt.datetime | None
    updated_at: dt.datetime | None
    answers: dict[str, str]
    comments: dict[str, str]
    answer_rows: int
    invitations: int


def stored(app: Flask, invitation_id: int) -> Stored:
    """What the database holds for an invitation, read in a fresh session."""
    with app.app_context():
        session = db.session
        invitation = session.get(Invitation, invitation_id)
        assert invitation is not None
        answers = session.execute(
            select(Answer).where(Answer.invitation_id == invitation_id)
        ).scalars().all()
        comments = session.execute(
            select(Comment).where(Comment.invitation_id == invitation_id)
        ).scalars().all()
        return Stored(
            status=invitation.status, submitted_at=invitation.submitted_at,
            updated_at=invitation.updated_at,
            answers={a.item_code: a.value for a in answers},
            comments={c.element_key: c.text for c in comments},
            answer_rows=len(answers),
            invitations=session.execute(select(func.count(Invitation.id))).scalar_one(),
        )


def save(client: FlaskClient, partner: Partner, key: str, values: dict[str, str],
         action: str = "continue", **extra: str):
    """Post an element page the way a browser does, with the page's CSRF token."""
    url = f"{partner.url}/{key}"
    data = {"csrf_token": csrf_token(client, url), "action": action, **values, **extra}
    return client.post(url, data=data)


def checked_values(html: str) -> dict[str, str]:
    """The checked radio buttons of a page as {name: value}."""
    found = {}
    for tag in re.findall(r"<input[^>]*type=\"radio\"[^>]*>", html):
        if re.search(r"\schecked\b", tag):
            name = re.search(r'name="([^"]+)"', tag).group(1)
            found[name] = re.search(r'value="([^"]+)"', tag).group(1)
    return found


# --- overview ---------------------------------------------------------------------------


def test_overview_shows_partnership_board_cycle_deadline_and_progress(client, partner):
    response = client.get(partner.url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tampa Bay Advanced Manufacturing" in html
    assert "CareerSource Tampa Bay" in html
    assert "2026" in html
    assert "January 9, 2099" in html
    total = len(partner.questionnaire.items)
    assert f"0 of {total} items answered" in html
    assert f'<progress value="0" max="{total}"' in html
    for element in partner.questionnaire.elements:
        assert element.title in html
    assert html.count("Not started") >= 6
    assert response.headers["Cache-Control"] == "no-store"


def test_viewing_pages_changes_nothing(app, client, partner):
    key = partner.questionnaire.elements[0].key
    for url in (partner.url, f"{partner.url}/{key}", f"{partner.url}/review"):
        assert client.get(url).status_code == 200
    assert client.get(f"{partner.url}/submit").status_code in (404, 405)
    state = stored(app, partner.invitation_id)
    assert state.status == InvitationStatus.NOT_STARTED and state.answer_rows == 0


# --- element pages ----------------------------------------------------------------------


def test_element_page_has_a_fieldset_per_item_with_every_level_and_descriptor(client, partner):
    q = partner.questionnaire
    element = q.elements[1]
    html = client.get(f"{partner.url}/{element.key}").get_data(as_text=True)
    assert f"<h1>{element.title}</h1>" in html
    assert "Element 2 of 6" in html
    assert html.count("<fieldset") == len(element.items)
    assert html.count("<legend>") == len(element.items)
    for item in element.items:
        assert item.text.replace("'", "&#39;") in html
        values = re.findall(rf'name="{re.escape(item.code)}" value="([^"]+)"', html)
        assert values == ["1", "2", "3", "4", "DK", "NA"]
        assert f'id="item-{item.code}"' in html  # the error summary's link target
        for level in q.scale.levels:
            assert item.descriptor(level.value).replace("'", "&#39;") in html
    for level in q.scale.levels:
        assert f'<strong class="level-label">{level.label}</strong>' in html
    assert q.scale.dont_know_label.replace("'", "&#39;") in html
    assert q.scale.not_applicable_label in html
    # every radio button has a label pointing at it
    for input_id in re.findall(r'<input type="radio" id="([^"]+)"', html):
        assert f'<label for="{input_id}">' in html
    assert "Evidence or examples (optional)" in html
    assert 'maxlength="2000"' in html and "Up to 2,000 characters" in html
    assert "Save and continue" in html and "Save and go back to overview" in html


def test_unknown_element_is_404(client, partner):
    response = client.get(f"{partner.url}/nosuch")
    assert response.status_code == 404
    assert "no such page" in response.get_data(as_text=True)


def test_save_persists_and_goes_to_the_next_element(app, client, partner):
    first, second = partner.questionnaire.elements[:2]
    codes = partner.element_codes(first.key)
    values = {codes[0]: "3", codes[1]: "DK", codes[2]: "NA", codes[3]: "1"}
    response = save(client, partner, first.key, values, comment="We meet  monthly.\r\nMinutes.")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{partner.url}/{second.key}")
    state = stored(app, partner.invitation_id)
    assert state.answers == values
    assert state.comments == {first.key: "We meet  monthly.\nMinutes."}
    assert state.status == InvitationStatus.IN_PROGRESS


def test_save_and_go_back_to_overview(client, partner):
    key = partner.questionnaire.elements[0].key
    code = partner.element_codes(key)[0]
    response = save(client, partner, key, {code: "2"}, action="overview")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(partner.url)


def test_last_element_continues_to_review(client, partner):
    key = partner.questionnaire.elements[-1].key
    response = save(client, partner, key, {})
    assert response.headers["Location"].endswith(f"{partner.url}/review")


def test_resume_shows_saved_answers_checked_and_progress(app, partner):
    key = partner.questionnaire.elements[0].key
    codes = partner.element_codes(key)
    values = {code: "4" for code in codes}
    values[codes[-1]] = "NA"
    save(app.test_client(), partner, key, values, comment="Evidence <b>here</b>")

    later = app.test_client()  # a new browser: no cookies, the same link
    html = later.get(f"{partner.url}/{key}").get_data(as_text=True)
    assert checked_values(html) == values
    assert "Evidence &lt;b&gt;here&lt;/b&gt;</textarea>" in html
    overview = later.get(partner.url).get_data(as_text=True)
    total = len(partner.questionnaire.items)
    assert f"{len(codes)} of {total} items answered" in overview
    assert "Complete" in overview and "In progress" in overview


def test_saving_again_overwrites_and_keeps_one_row_per_item(app, client, partner):
    key = partner.questionnaire.elements[0].key
    codes = partner.element_codes(key)
    save(client, partner, key, {codes[0]: "1", codes[1]: "2"})
    save(client, partner, key, {codes[0]: "3", codes[1]: "2"})
    # a resent form (same token, same data) changes nothing further
    url = f"{partner.url}/{key}"
    data = {"csrf_token": csrf_token(client, url), codes[0]: "3", codes[1]: "2"}
    assert client.post(url, data=data).status_code == 303
    assert client.post(url, data=data).status_code == 303
    # a partial page leaves the other items as they were
    save(client, partner, key, {codes[2]: "DK"})
    state = stored(app, partner.invitation_id)
    assert state.answers == {codes[0]: "3", codes[1]: "2", codes[2]: "DK"}
    assert state.answer_rows == 3 and state.invitations == 1


# --- tampering and limits -----------------------------------------------------------------


def _tampered_cases(q: Questionnaire) -> list[tuple[str, dict[str, str]]]:
    first, other = q.elements[0], q.elements[1]
    code = first.items[0].code
    return [
        ("level 9", {code: "9"}),
        ("level 5", {code: "5"}),
        ("unknown value", {code: "maybe"}),
        ("unknown item", {"nosuch-1": "2"}),
        ("another element's item", {other.items[0].code: "2"}),
        ("comment over the limit", {"comment": "x" * 2001}),
    ]


@pytest.mark.parametrize("case", range(6))
def test_tampered_or_oversized_page_is_rejected_and_writes_nothing(app, client, partner, case):
    q = partner.questionnaire
    name, bad = _tampered_cases(q)[case]
    key = q.elements[0].key
    good = {partner.element_codes(key)[1]: "2"}  # a valid answer on the same page
    response = save(client, partner, key, {**good, **bad})
    html = response.get_data(as_text=True)
    assert response.status_code == 400, name
    assert 'class="error-summary"' in html and "There is a problem" in html
    if name == "comment over the limit":
        assert '<a href="#comment">' in html and "2,000 characters or fewer" in html
    elif "item" not in name:
        assert f'<a href="#item-{q.elements[0].items[0].code}">' in html
    state = stored(app, partner.invitation_id)
    assert state.answer_rows == 0 and state.comments == {}
    assert state.status == InvitationStatus.NOT_STARTED


def test_comment_at_the_limit_is_saved(app, client, partner):
    key = partner.questionnaire.elements[0].key
    assert save(client, partner, key, {}, comment="y" * 2000).status_code == 303
    assert stored(app, partner.invitation_id).comments[key] == "y" * 2000


# --- CSRF -------------------------------------------------------------------------------


def test_missing_csrf_token_keeps_the_answers_on_the_page_and_the_next_press_saves(
    app, client, partner
):
    key = partner.questionnaire.elements[0].key
    codes = partner.element_codes(key)
    values = {codes[0]: "2", codes[1]: "4"}
    client.get(f"{partner.url}/{key}")
    response = client.post(f"{partner.url}/{key}",
                           data={**values, "comment": "Typed for two hours"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your session expired before we could save" in html
    assert checked_values(html) == values
    assert "Typed for two hours</textarea>" in html
    assert stored(app, partner.invitation_id).answer_rows == 0

    fresh = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    again = client.post(f"{partner.url}/{key}",
                        data={**values, "comment": "Typed for two hours", "csrf_token": fresh})
    assert again.status_code == 303
    assert stored(app, partner.invitation_id).answers == values


def test_a_token_from_another_session_does_not_write(app, partner):
    key = partner.questionnaire.elements[0].key
    code = partner.element_codes(key)[0]
    token = csrf_token(app.test_client(), f"{partner.url}/{key}")
    other = app.test_client()  # knows the link, not the session
    response = other.post(f"{partner.url}/{key}", data={code: "1", "csrf_token": token})
    assert response.status_code == 400
    assert stored(app, partner.invitation_id).answer_rows == 0


def test_submit_without_csrf_token_is_refused(app, client, partner):
    client.get(f"{partner.url}/review")
    response = client.post(f"{partner.url}/submit")
    assert response.status_code == 400
    assert "press Submit again" in response.get_data(as_text=True)
    assert stored(app, partner.invitation_id).status == InvitationStatus.NOT_STARTED


# --- review and submit ---------------------------------------------------------------------


def test_review_lists_answers_unanswered_items_and_change_links(client, partner):
    q = partner.questionnaire
    key = q.elements[0].key
    codes = partner.element_codes(key)
    save(client, partner, key, {codes[0]: "3", codes[1]: "DK"}, comment="Our data = good")
    html = client.get(f"{partner.url}/review").get_data(as_text=True)
    unanswered = len(q.items) - 2
    assert f"{unanswered} items unanswered" in html
    assert f'href="{partner.url}/{key}#item-{codes[2]}"' in html
    assert q.scale.level(3).label in html
    assert "Don&#39;t know" in html
    assert html.count("Not answered") == unanswered
    assert "Our data = good" in html
    for element in q.elements:
        assert f'href="{partner.url}/{element.key}">Change' in html
    assert 'action="' + partner.url + '/submit"' in html


def test_submit_records_the_response_and_overview_confirms(app, client, partner):
    q = partner.questionnaire
    for element in q.elements:
        codes = partner.element_codes(element.key)
        save(client, partner, element.key, {code: "3" for code in codes})
    token = csrf_token(client, f"{partner.url}/review")
    response = client.post(f"{partner.url}/submit", data={"csrf_token": token})
    assert response.status_code == 303
    state = stored(app, partner.invitation_id)
    assert state.status == InvitationStatus.SUBMITTED
    assert state.submitted_at is not None
    assert len(state.answers) == len(q.items) and set(state.answers.values()) == {"3"}
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you. Your answers have been submitted." in html
    assert "Submitted on" in html
    assert "You can still change your answers until January 9, 2099" in html


def test_double_submit_keeps_one_response_and_the_first_time(app, client, partner):
    key = partner.questionnaire.elements[0].key
    save(client, partner, key, {partner.element_codes(key)[0]: "DK"})
    token = csrf_token(client, f"{partner.url}/review")
    assert client.post(f"{partner.url}/submit", data={"csrf_token": token}).status_code == 303
    first = stored(app, partner.invitation_id)
    assert client.post(f"{partner.url}/submit", data={"csrf_token": token}).status_code == 303
    second = stored(app, partner.invitation_id)
    assert second.status == InvitationStatus.SUBMITTED
    assert second.submitted_at == first.submitted_at
    assert second.invitations == 1


def test_changing_answers_after_submitting_keeps_it_submitted(app, client, partner):
    key = partner.questionnaire.elements[0].key
    code = partner.element_codes(key)[0]
    save(client, partner, key, {code: "1"})
    review = f"{partner.url}/review"
    client.post(f"{partner.url}/submit", data={"csrf_token": csrf_token(client, review)})
    before = stored(app, partner.invitation_id)
    save(client, partner, key, {code: "4"})
    after = stored(app, partner.invitation_id)
    assert after.status == InvitationStatus.SUBMITTED
    assert after.submitted_at == before.submitted_at
    assert after.updated_at is not None and after.updated_at >= before.updated_at
    assert after.answers == {code: "4"}


# --- links that do not open a survey --------------------------------------------------------


def test_unknown_link_is_a_404_page_in_the_site_look(client, partner):
    response = client.get("/s/not-a-real-token")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "This link is not valid" in html
    assert 'class="site-header"' in html and "Traceback" not in html
    post = client.post("/s/not-a-real-token/data", data={"data-1": "1"})
    assert post.status_code == 404


def test_revoked_link_is_404(app, client, partner):
    from survey.models import InvitationToken

    with app.app_context():
        for row in db.session.execute(select(InvitationToken)).scalars():
            row.revoked_at = dt.datetime.now(dt.UTC)
        db.session.commit()
    assert client.get(partner.url).status_code == 404


def test_not_yet_open_cycle_says_when_it_opens(app, client):
    partner = make_partner(app, status=CycleStatus.DRAFT, opens_on=dt.date(2098, 12, 1))
    response = client.get(partner.url)
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "not open yet" in html and "December 1, 2098" in html
    assert 'class="site-header"' in html


@pytest.mark.parametrize("closed_by", ["status", "date"])
def test_closed_cycle_is_read_only(app, client, closed_by):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    if closed_by == "status":
        partner = make_partner(app, status=CycleStatus.CLOSED, closes_on=yesterday)
    else:  # still marked open, but past its closing date
        partner = make_partner(app, status=CycleStatus.OPEN, closes_on=yesterday)
    key = partner.questionnaire.elements[0].key
    overview = client.get(partner.url)
    assert overview.status_code == 200
    assert "can no longer be changed" in overview.get_data(as_text=True)
    page = client.get(f"{partner.url}/{key}").get_data(as_text=True)
    assert "Save and continue" not in page and " disabled" in page
    response = save(client, partner, key, {partner.element_codes(key)[0]: "2"})
    assert response.status_code == 403
    assert "answers can no longer be changed" in response.get_data(as_text=True)
    token = csrf_token(client, f"{partner.url}/{key}")
    assert client.post(f"{partner.url}/submit", data={"csrf_token": token}).status_code == 403
    state = stored(app, partner.invitation_id)
    assert state.answer_rows == 0 and state.status == InvitationStatus.NOT_STARTED


# --- escaping and headers ------------------------------------------------------------------


def test_user_text_is_escaped(app, client):
    partner = make_partner(app, partnership_name="<script>alert(1)</script>")
    key = partner.questionnaire.elements[0].key
    save(client, partner, key, {}, comment='"><img src=x onerror=alert(2)>')
    for url in (partner.url, f"{partner.url}/{key}", f"{partner.url}/review"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x" not in html


def test_pages_send_a_csp_and_contain_no_inline_script_or_style(client, partner):
    key = partner.questionnaire.elements[0].key
    for url in (partner.url, f"{partner.url}/{key}", f"{partner.url}/review", "/s/unknown"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        html = response.get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"inline script on {url}"
        assert "<style" not in html and " style=" not in html, url
        assert not re.search(r"<[^>]+\son[a-z]+=", html), f"inline handler on {url}"


# --- concurrency ---------------------------------------------------------------------------


def test_two_tabs_saving_the_same_page_at_once_leave_one_row_per_item(app, partner):
    key = partner.questionnaire.elements[0].key
    codes = partner.element_codes(key)
    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_token(c, f"{partner.url}/{key}") for c in clients]
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    errors: list[str] = []

    def tab(index: int) -> None:
        try:
            for round_ in range(10):
                barrier.wait(timeout=10)
                value = str((index + round_) % 4 + 1)
                response = clients[index].post(
                    f"{partner.url}/{key}",
                    data={"csrf_token": tokens[index], **{code: value for code in codes}},
                )
                statuses.append(response.status_code)
        except Exception as exc:  # reported by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert statuses == [303] * 20
    state = stored(app, partner.invitation_id)
    assert state.answer_rows == len(codes)
    assert len(set(state.answers.values())) == 1  # one tab's whole page, not a mixture


def test_submission_date_is_shown_in_florida_time(app, session, client):
    """A partner who submits at 9 pm in Miami (02:00 UTC next day) reads today's date."""
    board = make_board(session, "01")
    member = make_member(session, make_partnership(session, board))
    invitation, token = make_invitation(session, make_cycle(session), member)
    answer(session, invitation, {})
    invitation.submitted_at = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    session.commit()
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "November 25, 2026" in html
    assert "November 26, 2026" not in html


def test_closing_day_ends_at_midnight_in_florida_not_utc(app, session, client, monkeypatch):
    """At 01:00 UTC on 2 February it is still 1 February in Florida: a cycle closing on
    1 February still takes answers; at 06:00 UTC it no longer does."""
    board = make_board(session, "01")
    member = make_member(session, make_partnership(session, board))
    cycle = make_cycle(session, opens_on=dt.date(2027, 1, 5), closes_on=dt.date(2027, 2, 1))
    invitation, token = make_invitation(session, cycle, member)
    session.commit()

    def save_at(utc_hour: int, value: str) -> int:
        moment = dt.datetime(2027, 2, 2, utc_hour, 0, tzinfo=dt.UTC)
        frozen = type("Frozen", (dt.datetime,), {
            "now": classmethod(lambda cls, tz=None: moment.astimezone(tz))})
        monkeypatch.setattr("survey.config.dt.datetime", frozen)
        form = {"csrf_token": csrf_token(client, f"/s/{token}/data"), "data-1": value}
        return client.post(f"/s/{token}/data", data=form).status_code

    assert save_at(1, "3") == 303  # 8 pm on 1 February in Miami: saved
    assert save_at(6, "4") == 403  # 1 am on 2 February in Miami: closed
    saved = session.execute(select(Answer.level).where(Answer.item_code == "data-1")).scalars()
    assert list(saved) == [3]


def test_a_member_taken_off_the_roster_can_no_longer_answer(app, session, client):
    from survey.services.rosters import remove_member

    board = make_board(session, "01")
    member = make_member(session, make_partnership(session, board))
    invitation, token = make_invitation(session, make_cycle(session), member)
    session.commit()
    form = {"csrf_token": csrf_token(client, f"/s/{token}/data"), "data-1": "2"}
    remove_member(session, member)
    session.commit()
    response = client.post(f"/s/{token}/data", data=form)
    assert response.status_code == 403
    assert "not on the partnership" in response.get_data(as_text=True)
    assert client.get(f"/s/{token}").status_code == 403
    assert session.execute(select(func.count(Answer.id))).scalar() == 0
