"""Issue 17 in headless Chromium, at 1280 px and at 390 px: each cycle guardrail and each
dead end, walked as an administrator, a board lead and a partner would, with axe-core at
zero violations and the page checks of test_accessibility on every page; a screenshot of
each page at each width goes to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import Cycle, CycleStatus
from tests.browser.axe_core import axe_violations
from tests.browser.pages import sign_in
from tests.browser.test_accessibility import OVERFLOW, PAGE_PROBLEMS
from tests.factories import make_board, make_cycle, make_invitation, make_member, make_partnership
from tests.test_guardrails import PASSWORD, build_world

pytestmark = pytest.mark.browser

WIDTHS = {1280: {"width": 1280, "height": 900}, 390: {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(WIDTHS), ids=lambda w: f"{w}px")
def width(request, browser_page) -> int:
    browser_page.set_viewport_size(WIDTHS[request.param])
    return request.param


@pytest.fixture
def world(app):
    with app.app_context():
        return [i.id for i in build_world(db.session)]


def checked(page, name: str, width: int, artifacts) -> str:
    """The page's text once axe and the page checks pass at this width (and, at 390 px,
    nothing scrolls sideways); a screenshot is kept."""
    page.wait_for_load_state("load")
    assert page.evaluate(PAGE_PROBLEMS) == [], name
    assert axe_violations(page) == [], f"{name} at {width}px"
    if width == 390:
        assert page.evaluate(OVERFLOW) <= 0, f"{name} scrolls sideways at 390px"
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    page.screenshot(path=artifacts / f"guardrail-{slug}-{width}.png", full_page=True)
    return page.locator("main").inner_text()


def status_of(app, name: str) -> str | None:
    with app.app_context():
        return db.session.execute(select(Cycle.status).where(Cycle.name == name)).scalar()


def test_an_administrator_is_stopped_before_a_second_open_and_a_close(
        app, live_server, browser_page, world, width, artifacts):
    page = browser_page
    sign_in(page, live_server, "chief@example.org", PASSWORD)
    assert page.url.endswith("/admin/")  # an administrator's home, not /state
    page.goto(f"{live_server}/admin/cycles")
    checked(page, "cycles", width, artifacts)

    # Open on a second cycle by mistake: stopped, told, and nothing happens on "No".
    page.click("button:has-text('Open and create invitations')")
    text = checked(page, "confirm open", width, artifacts)
    assert "Cycle 2026 is still open until" in text and "8 partners there have not" in text
    page.click("text=No, keep it as it is")
    assert page.url.endswith("/admin/cycles")
    assert status_of(app, "2027") == CycleStatus.DRAFT

    # Close is not a primary button, and it asks first.
    close = page.locator("button:has-text('Close…')")
    assert "secondary" in (close.get_attribute("class") or "")
    close.click()
    text = checked(page, "confirm close", width, artifacts)
    assert "can no longer answer" in text and "will see the cycle's results" in text
    page.click("text=No, keep it as it is")
    assert status_of(app, "2026") == CycleStatus.OPEN

    # The mistaken draft is deleted, after a confirmation, and leaves every list.
    page.click("button:has-text('Delete')")
    checked(page, "confirm delete", width, artifacts)
    page.click("button:has-text('Yes, delete cycle 2027')")
    text = checked(page, "cycles after delete", width, artifacts)
    assert "Cycle 2027 is deleted." in text
    assert status_of(app, "2027") is None
    page.goto(f"{live_server}/state")
    assert page.locator("#cycle option[value='2027']").count() == 0

    # Downloads say they are coming; the responses CSV is linked for stewards.
    assert page.locator("a:has-text('Row-level answers (CSV)')").count() == 1
    with page.expect_download() as info:
        page.click("text=Download the state workbook (Excel)")
        assert "Preparing the file" in page.locator("#state-wait").inner_text()
    assert info.value.suggested_filename.endswith(".xlsx")
    checked(page, "state with downloads", width, artifacts)


def test_a_board_lead_meets_no_dead_end(live_server, browser_page, world, width, artifacts):
    page = browser_page
    sign_in(page, live_server, "lead@example.org", PASSWORD)
    assert page.url.endswith("/boards/15")
    text = checked(page, "lead home", width, artifacts)
    assert "cycle 2025" in text  # the latest published cycle, not the open one at 0%
    assert "Cycle 2026 is open until" in text and "1 of 6 partners have submitted" in text

    page.click("text=See cycle 2026's progress by partnership")
    text = checked(page, "lead open progress", width, artifacts)
    page.click("table.response-progress a:has-text('Logistics')")  # names are links
    assert re.search(r"/partnerships/\d+\?cycle=2026$", page.url)
    checked(page, "lead partnership progress", width, artifacts)

    page.goto(f"{live_server}/admin/boards/15/roster")
    text = checked(page, "lead roster", width, artifacts)
    assert "Email is not set up on this site yet" in text and "SURVEY_SMTP_URL" not in text
    status = page.locator("table th:has-text('Status')").first.bounding_box()
    assert status["x"] + status["width"] <= width  # in view without scrolling sideways

    response = page.goto(f"{live_server}/exports/2026/15.xlsx")
    assert response.status == 404
    text = checked(page, "lead not yet published", width, artifacts)
    assert "Not available yet" in page.title() and "closes on" in text


def test_a_partner_is_told_when_to_come_back_and_cannot_send_nothing(
        app, live_server, browser_page, width, artifacts):
    today = dt.date.today()
    with app.app_context():
        session = db.session
        partnership = make_partnership(session, make_board(session, "04"), "Health Care")
        early, late = make_member(session, partnership), make_member(session, partnership)
        soon = make_cycle(session, "2027", opens_on=today + dt.timedelta(days=10),
                          closes_on=today + dt.timedelta(days=40))
        now = make_cycle(session, "2026")
        soon_token = make_invitation(session, soon, early)[1]
        now_token = make_invitation(session, now, late)[1]
        session.commit()
    page = browser_page
    response = page.goto(f"{live_server}/s/{soon_token}")
    assert response.status == 403
    text = checked(page, "partner link before opening", width, artifacts)
    assert "This survey is not open yet. It opens on" in text and "come back" in text

    page.goto(f"{live_server}/s/{now_token}/review")
    text = checked(page, "partner empty review", width, artifacts)
    assert "there is nothing to submit" in text
    assert page.locator("button:has-text('Submit your answers')").count() == 0
    page.click("main a.button:has-text('Start:')")
    page.locator("label[for$='-dk']").first.click()  # "don't know" is an answer
    page.click("button:has-text('Save and go back to overview')")
    page.goto(f"{live_server}/s/{now_token}/review")
    page.click("button:has-text('Submit your answers')")
    text = checked(page, "partner submitted one answer", width, artifacts)
    assert "Thank you. Your answers have been submitted." in text
