"""A partner answers the whole survey in headless Chromium over two visits, partly by
keyboard, reviews and submits; the answers are then checked in the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import Answer, Invitation, InvitationStatus
from survey.questionnaire import Questionnaire
from tests.factories import make_board, make_cycle, make_invitation, make_member, make_partnership

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def partner(app):
    """An open cycle and one partner's link: (token, invitation id, questionnaire)."""
    with app.app_context():
        session = db.session
        board = make_board(session, name="CareerSource Tampa Bay")
        partnership = make_partnership(session, board, name="Tampa Bay Advanced Manufacturing")
        member = make_member(session, partnership)
        cycle = make_cycle(session, name="2026", closes_on=dt.date(2099, 1, 9))
        invitation, token = make_invitation(session, cycle, member)
        session.commit()
        return token, invitation.id, Questionnaire.from_dict(cycle.content)


def level_for(index: int) -> str:
    """A spread of answers: levels 1..4, with a don't-know and a not-applicable."""
    return ["1", "2", "3", "4", "DK", "NA", "3", "2"][index % 8]


def radio_id(code: str, value: str) -> str:
    if value == "1":
        return f"item-{code}"
    return f"item-{code}-{value.lower()}"


def answer_element(page, element, *, keyboard: bool = False) -> dict[str, str]:
    """Answer every item of the element page on screen; return what was chosen."""
    chosen = {}
    for index, item in enumerate(element.items):
        value = level_for(index)
        if keyboard and index == 0:
            # Tab into the group, Space picks the focused button, arrows move the choice.
            page.focus(f"#item-{item.code}")
            page.keyboard.press("Space")
            assert page.is_checked(f"#item-{item.code}")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")
            value = "3"
            assert page.is_checked(f"#item-{item.code}-3")
        else:
            page.click(f"label[for='{radio_id(item.code, value)}']")
        chosen[item.code] = value
    return chosen


def watch(page, problems: list[str]) -> None:
    """Collect script errors and Content-Security-Policy refusals (the 400 we provoke and
    the missing favicon are expected "failed to load" messages, so those are skipped)."""
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)


def test_partner_answers_over_two_visits_and_submits(
    app, live_server, browser, browser_page, partner, artifacts
):
    token, invitation_id, questionnaire = partner
    elements = questionnaire.elements
    link = f"{live_server}/s/{token}"
    page = browser_page
    problems: list[str] = []
    watch(page, problems)

    # First visit: the overview, then three elements.
    page.goto(link)
    assert page.locator("h1").inner_text() == "Tampa Bay Advanced Manufacturing"
    assert page.get_by_text("January 9, 2099", exact=True).first.is_visible()
    page.screenshot(path=str(artifacts / "partner-overview.png"), full_page=True)
    page.click("a.button:has-text('Start')")

    # A tampered value comes back with the error summary, focused, linking to the field.
    first_code = elements[0].items[0].code
    page.eval_on_selector(f"#item-{first_code}", "el => { el.value = '9'; el.checked = true; }")
    page.click("button:has-text('Save and continue')")
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "There is a problem" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    page.screenshot(path=str(artifacts / "partner-element-error.png"))
    summary.locator("a").first.click()
    assert page.evaluate("document.activeElement.id") == f"item-{first_code}"

    expected: dict[str, str] = {}
    for number, element in enumerate(elements[:3]):
        assert page.locator("h1").inner_text() == element.title
        expected |= answer_element(page, element, keyboard=number == 0)
        if number == 1:
            page.fill("#comment", "We review the regional labour market data every quarter.")
        page.click("button:has-text('Save and continue')")

    # Close the browser (a new context has no cookies), come back through the same link.
    page.context.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch(page, problems)
    page.goto(link)
    answered = sum(len(e.items) for e in elements[:3])
    total = len(questionnaire.items)
    assert page.get_by_text(f"{answered} of {total} items answered").first.is_visible()
    assert page.locator(".state-complete").count() == 3
    page.click("a.button:has-text('Continue')")
    assert page.locator("h1").inner_text() == elements[3].title

    for number, element in enumerate(elements[3:], start=3):
        if number == 4:
            page.screenshot(path=str(artifacts / "partner-element-desktop.png"), full_page=True)
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(artifacts / "partner-element-phone.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"scrolls sideways on a phone ({width})"
            page.set_viewport_size({"width": 1280, "height": 900})
        expected |= answer_element(page, element)
        page.click("button:has-text('Save and continue')")

    # Review: every answer is listed; nothing is unanswered; submit.
    assert page.locator("h1").inner_text() == "Review your answers"
    assert page.get_by_text(f"All {total} items are answered.").is_visible()
    assert page.get_by_text("We review the regional labour market data").is_visible()
    page.screenshot(path=str(artifacts / "partner-review.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(artifacts / "partner-review-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("button:has-text('Submit your answers')")
    assert page.get_by_text("Thank you. Your answers have been submitted.").is_visible()
    assert page.get_by_text("You can still change your answers until").is_visible()
    page.screenshot(path=str(artifacts / "partner-submitted.png"), full_page=True)
    context.close()
    assert problems == []  # no CSP refusals or script errors

    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        assert invitation.status == InvitationStatus.SUBMITTED
        assert invitation.submitted_at is not None
        stored = {
            a.item_code: a.value
            for a in db.session.execute(
                select(Answer).where(Answer.invitation_id == invitation_id)
            ).scalars()
        }
    assert stored == expected
