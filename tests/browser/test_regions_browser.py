"""SPEC 16's pages in headless Chromium on the demo data, checked by axe-core and by the
accessibility auditor of test_accessibility: the sector list and its mapping, target
industries (with an upload's errors), the state page's coverage and outcomes chart, a
shared partnership on each board's page, and the outcomes form (with its errors)."""

from __future__ import annotations

import re

import pytest

from tests.browser.pages import sign_in
from tests.browser.test_accessibility import Auditor, demo  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser


def test_regions_pages(live_server, browser_page, demo, runner, tmp_path,  # noqa: F811
                       artifacts) -> None:
    page, audit, base = browser_page, Auditor(browser_page, artifacts), live_server
    partnerships = tmp_path / "partnerships.csv"
    result = runner.invoke(args=["partnerships", "import", str(write_first_partnership(
        runner, partnerships))])
    assert result.exit_code == 0, result.output
    targets = tmp_path / "targets.csv"
    targets.write_text("board,sector\n03,AGR\n03,ENR\n04,MAR\n05,IT\n05,LIF\n", encoding="utf-8")
    assert runner.invoke(args=["targets", "import", str(targets)]).exit_code == 0

    sign_in(page, base, "admin@example.org", demo.passwords["admin@example.org"])
    audit.visit(f"{base}/admin/sectors", "sector list")
    audit.visit(f"{base}/admin/targets", "target industries")
    bad = tmp_path / "bad.csv"
    bad.write_text("board,sector\n99,Widgets\n", encoding="utf-8")
    page.set_input_files("input[type=file]", str(bad))
    page.click("text=Check and import")
    audit.check("target industries with errors")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")

    audit.visit(f"{base}/state?cycle=2025", "state dashboard with coverage")
    coverage = page.locator("#coverage + p").inner_text()
    assert "board 03 (Energy)" in coverage, coverage
    assert page.locator("figure img[src*='/state/outcomes.png']").count() == 1
    for code in ("03", "04", "05"):
        audit.visit(f"{base}/boards/{code}?cycle=2026", f"board {code} with a shared partnership")
        assert page.locator("table.partnerships .shared").count() == 1, code
    href = page.locator("table.partnerships .shared").first.locator(
        "xpath=ancestor::th").locator("a").get_attribute("href")
    audit.visit(base + href, "shared partnership with the outcomes form")
    page.fill("#value-placements", "many")
    page.fill("#value-median_wage", "18.50")
    page.click("text=Save the outcomes")
    page.wait_for_load_state("load")
    audit.check("outcomes form with an error")
    assert "is not a number" in page.locator(".error-summary").inner_text()
    page.fill("#value-placements", "41")
    page.click("text=Save the outcomes")
    page.wait_for_load_state("load")
    assert re.search(r"Placements\s+41", page.locator("table.outcomes").inner_text())
    page.screenshot(path=str(artifacts / "regions-outcomes.png"), full_page=True)


def write_first_partnership(runner, path):
    """Board 03's first demo partnership, shared with boards 04 and 05."""
    from sqlalchemy import select

    from survey.db import db
    from survey.models import Board, Partnership

    with runner.app.app_context():
        name, sector = db.session.execute(
            select(Partnership.name, Partnership.sector).join(Board)
            .where(Board.code == "03").order_by(Partnership.name)).first()
    path.write_text(f"board,partnership,sector,also_boards\n03,{name},{sector},04 05\n",
                    encoding="utf-8")
    return path
