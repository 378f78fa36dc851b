"""In headless Chromium: a board lead writes an action plan for a closed cycle (one
mistake first, corrected from the error summary), downloads the board report and finds
the plan in it; a partner of that partnership then reads the results and the plan from
their own link."""

from __future__ import annotations

import subprocess

import pytest

from survey.db import db
from survey.models import CycleStatus, Invitation
from survey.services.dashboard_data import find_cycle
from tests.browser.pages import sign_in
from tests.factories import make_invitation
from tests.test_dashboards import COMMENT, PASSWORD, SECRET_NAME, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world(db.session)


def test_lead_writes_a_plan_and_a_partner_reads_it(app, live_server, browser_page, world,
                                                    artifacts, tmp_path):
    page = browser_page
    sign_in(page, live_server, "lead@example.org", PASSWORD)
    page.goto(f"{live_server}/partnerships/{world.strong.id}?cycle=2025")
    page.click("text=Action plan")
    page.wait_for_load_state("networkidle")
    assert "action plan" in page.locator("h1").inner_text()
    assert page.locator(".suggestions li").count() >= 1
    # First a priority without a goal: the summary says so and links to the field.
    page.check("#data-priority")
    page.fill("#data-owner", "Ana Diaz")
    page.click("text=Save the plan")
    summary = page.locator(".error-summary")
    assert "a priority needs a goal" in summary.inner_text()
    summary.locator("a").first.click()
    assert page.evaluate("document.activeElement.id") == "data-goal"
    assert page.input_value("#data-owner") == "Ana Diaz"  # nothing typed was lost
    page.fill("#data-goal", "Publish a quarterly data brief")
    page.fill("#data-due_on", "2026-06-30")
    page.select_option("#data-status", "in_progress")
    page.check("#industry-priority")
    page.fill("#industry-goal", "Two employer co-chairs")
    page.fill("#industry-owner", "Ben Ortiz")
    page.click("text=Save the plan")
    page.wait_for_load_state("networkidle")
    assert "Plan saved: 2 elements changed." in page.locator(".flash").inner_text()
    history = page.locator("table.plan-history").inner_text()
    assert "lead@example.org" in history and "Publish a quarterly data brief" in history
    page.screenshot(path=str(artifacts / "plan-lead.png"), full_page=True)

    # The board report of 2025 holds the plan.
    page.goto(f"{live_server}/boards/15?cycle=2025")
    with page.expect_download() as download:
        page.click("text=Maturity report, cycle 2025 (PDF)")
    pdf = artifacts / "plan-board-15.pdf"
    download.value.save_as(pdf)
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "Publish a quarterly data brief" in text and "Two employer co-chairs" in text

    # A partner of the partnership opens their 2025 link after the close.
    with app.app_context():
        cycle = find_cycle(db.session, "2025")
        assert cycle.status == CycleStatus.CLOSED
        invitation = db.session.query(Invitation).filter_by(cycle_id=cycle.id).first()
        _, token = make_invitation(db.session, cycle, invitation.member)
        db.session.commit()
    partner = page.context.browser.new_context(viewport={"width": 390, "height": 844})
    phone = partner.new_page()
    phone.goto(f"{live_server}/s/{token}")
    phone.click("text=Your partnership's results and action plan")
    phone.wait_for_load_state("networkidle")
    body = phone.locator("main").inner_text()
    assert "Publish a quarterly data brief" in body and "Ana Diaz" in body
    assert "Board" in body and "State" in body and "Stage" in body
    assert COMMENT not in body and SECRET_NAME not in body
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot(path=str(artifacts / "plan-partner-results.png"), full_page=True)
    partner.close()
