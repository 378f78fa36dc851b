"""A board lead in headless Chromium: signs in, reads the board dashboard, downloads the
board workbook, is refused another board; screenshots of the three dashboards."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from reports.workbook import BOARD_SHEETS, sheet_names
from survey.db import db
from tests.browser.pages import all_images_loaded, sign_in
from tests.test_dashboards import PASSWORD, SECRET_NAME, build_world

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SHEETS = list(BOARD_SHEETS)  # only board workbooks are downloaded here


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world(db.session)


def test_board_lead_reads_their_dashboard_and_downloads_the_workbook(
    live_server, browser_page, world, artifacts
):
    page = browser_page
    sign_in(page, live_server, "lead@example.org", PASSWORD)
    assert page.url.endswith("/boards/15")
    assert page.locator("h1").inner_text().startswith("CareerSource Heartland")
    table = page.locator("table.partnerships")
    assert table.locator("tbody tr").count() == 2
    assert "Health Care Partners" in table.inner_text()
    assert "suppressed" in table.locator("tr", has_text="Health Care Partners").inner_text()
    radar = page.locator('img[src="/charts/2026/boards/15/radar.png"]')
    radar.scroll_into_view_if_needed()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=radar.element_handle())
    assert all_images_loaded(page)

    with page.expect_download() as info:
        page.click("text=Download the board workbook")
    download = info.value
    assert download.suggested_filename == "survey-2026-15.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert workbook.sheetnames == list(sheet_names(board=True))
    # 2026 was closed once and reopened: published, so the lead sees its figures.
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert summary["Results"] == "published"

    response = page.goto(f"{live_server}/boards/16")
    assert response.status == 404
    assert "Page not found" in page.content()
    response = page.goto(f"{live_server}/charts/2026/boards/16/radar.png")
    assert response.status == 404


def test_screenshots_of_the_dashboards(live_server, browser, world, artifacts):
    pages = {
        "state": "/state",
        "board": "/boards/15",
        "partnership": f"/partnerships/{world.strong.id}",
        "partnership-suppressed": f"/partnerships/{world.small.id}",
    }
    for label, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server, "state@example.org", PASSWORD)
        for name, path in pages.items():
            response = page.goto(f"{live_server}{path}")
            assert response.status == 200
            assert all_images_loaded(page, charts_expected=False), f"{path}: a chart did not load"
            assert SECRET_NAME not in page.content()
            # No horizontal scroll on the page itself; wide tables scroll in their box.
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= viewport["width"] + 1, f"{path} is {width}px wide on {label}"
            page.screenshot(path=str(artifacts / f"staff-{name}-{label}.png"), full_page=True)
        context.close()
