"""A Spanish-speaking partner in headless Chromium: the browser's language opens the survey
in Spanish, the switch goes to English and back mid-survey without losing an answer (even
one chosen but not yet saved), help opens without JavaScript, submitting works, and axe
finds no WCAG 2.2 A/AA violation on the Spanish pages."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import Answer, Invitation, InvitationStatus
from survey.questionnaire import Questionnaire
from tests.browser.axe_core import axe_violations
from tests.factories import make_board, make_cycle, make_invitation, make_member, make_partnership

pytestmark = pytest.mark.browser


@pytest.fixture
def partner(app):
    """An open cycle and one partner with no roster language: (token, id, questionnaire)."""
    with app.app_context():
        session = db.session
        board = make_board(session, name="CareerSource Tampa Bay")
        partnership = make_partnership(session, board, name="Manufactura avanzada de Tampa")
        member = make_member(session, partnership, name="Ana Soto")
        cycle = make_cycle(session, name="2026", closes_on=dt.date(2099, 1, 9))
        invitation, token = make_invitation(session, cycle, member)
        session.commit()
        return token, invitation.id, Questionnaire.from_dict(cycle.content)


@pytest.fixture
def spanish_page(browser):
    """A browser whose language is Spanish (Accept-Language: es-US)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True,
                                  locale="es-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def radio(code: str, value: str) -> str:
    return f"item-{code}" if value == "1" else f"item-{code}-{value.lower()}"


def pick(page, code: str, value: str) -> None:
    page.click(f"label[for='{radio(code, value)}']")  # the whole box is the tap target
    assert page.is_checked(f"#{radio(code, value)}")


def test_switch_language_mid_survey_keeps_every_answer(app, live_server, spanish_page,
                                                       partner, artifacts) -> None:
    token, invitation_id, questionnaire = partner
    page = spanish_page
    link = f"{live_server}/s/{token}"
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    page.goto(link)
    assert page.get_attribute("html", "lang") == "es"
    assert page.get_by_role("heading", name="Su respuesta").is_visible()
    assert page.get_by_text("9 de enero de 2099", exact=True).first.is_visible()
    assert axe_violations(page) == [], "Spanish overview: axe"
    page.screenshot(path=str(artifacts / "partner-es-overview.png"), full_page=True)

    # Data in Spanish: answer two items and save; choose a third but do not save yet.
    data = questionnaire.element("data")
    page.click("a.button:has-text('Empezar')")
    assert page.locator("h1").inner_text() == "Basada en datos de calidad"
    help_item = next(item for item in data.items if item.help)
    summary = page.locator(f"#item-{help_item.code}-fieldset summary")
    assert summary.inner_text() == "¿Qué significa esto?"
    summary.click()  # a plain <details>: no script involved
    assert page.locator(f"#item-{help_item.code}-hint").is_visible()
    assert axe_violations(page) == [], "Spanish element page: axe"
    page.screenshot(path=str(artifacts / "partner-es-element.png"), full_page=True)
    chosen = {data.items[0].code: "3", data.items[1].code: "DK", data.items[2].code: "4"}
    pick(page, data.items[0].code, "3")
    pick(page, data.items[1].code, "DK")
    page.click("button:has-text('Guardar y volver al resumen')")
    page.goto(f"{link}/data")
    pick(page, data.items[2].code, "4")  # chosen, not saved

    # Switch to English at the top of the page: the page is saved first.
    page.click(".language-switch button:has-text('English')")
    page.wait_for_url(f"{link}/data")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == questionnaire.element("data").title
    for code, value in chosen.items():
        assert page.is_checked(f"#{radio(code, value)}"), code

    # An English page, then back to Spanish from the overview's switch.
    vision = questionnaire.element("vision")
    page.goto(f"{link}/vision")
    pick(page, vision.items[0].code, "2")
    chosen[vision.items[0].code] = "2"
    page.click("button:has-text('Save and continue')")
    page.goto(link)
    page.click(".language-switch button:has-text('Español')")
    page.wait_for_url(link)
    assert page.get_attribute("html", "lang") == "es"
    assert page.get_by_text("4 de 45 afirmaciones respondidas").is_visible()

    # The browser's language is English now, but the link keeps the choice.
    page.set_extra_http_headers({"Accept-Language": "en-US"})
    page.goto(f"{link}/review")
    assert page.get_attribute("html", "lang") == "es"
    assert page.get_by_role("heading", name="Revise sus respuestas").is_visible()
    assert axe_violations(page) == [], "Spanish review: axe"
    page.click("button:has-text('Enviar sus respuestas')")
    page.wait_for_url(f"{link}?submitted=1")
    assert page.get_by_text("Gracias. Sus respuestas se han enviado.").is_visible()
    assert axe_violations(page) == [], "Spanish thank-you page: axe"
    assert problems == []

    with app.app_context():
        session = db.session
        invitation = session.get(Invitation, invitation_id)
        assert invitation.status == InvitationStatus.SUBMITTED and invitation.language == "es"
        rows = session.execute(select(Answer.item_code, Answer.level, Answer.special)
                               .where(Answer.invitation_id == invitation_id)).all()
    stored = {code: str(level) if level is not None else special for code, level, special in rows}
    assert stored == chosen


def test_spanish_pages_on_a_phone_pass_axe(app, live_server, browser, partner,
                                           artifacts) -> None:
    token, _, _ = partner
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True,
                                  locale="es-MX")
    page = context.new_page()
    try:
        for path in ("", "/services", "/review"):
            page.goto(f"{live_server}/s/{token}{path}")
            assert page.get_attribute("html", "lang") == "es"
            for details in page.locator("details").all():
                details.evaluate("d => d.open = true")
            assert axe_violations(page) == [], f"/s/…{path} at 390px: axe"
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"/s/…{path} overflows at 390px ({width}px)"
        page.screenshot(path=str(artifacts / "partner-es-review-phone.png"), full_page=True)
    finally:
        context.close()
