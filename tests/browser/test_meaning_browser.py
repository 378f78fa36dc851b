"""SPEC 15 as a board lead and state staff see it, on the real demo in headless Chromium:
the lead of board 15 reads "split" for the split partnership, sees the margin drawn on
its chart and a change marked within the margin, and where each partnership stands among
its sector's partnerships; state staff find the weak items on the instrument page. axe
finds no violation on any of these pages, at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest

from tests.browser.pages import all_images_loaded, sign_in
from tests.browser.test_accessibility import Auditor, demo  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

SPLIT_PARTNERSHIP = "Tampa Bay Financial Services"


def row_of(page, table: str, text: str):
    return page.locator(f"table.{table} tbody tr", has_text=text).first


def test_a_lead_sees_split_partners_and_margins(live_server, browser_page, demo,  # noqa: F811
                                                artifacts) -> None:
    page, base = browser_page, live_server
    audit = Auditor(page, artifacts)
    sign_in(page, base, "lead15@example.org", demo.passwords["lead15@example.org"])

    audit.visit(f"{base}/boards/15?cycle=2025", "meaning: board 15, 2025")
    split_row = row_of(page, "partnerships", SPLIT_PARTNERSHIP)
    agreement = split_row.locator("td.agreement-cell").inner_text()
    assert agreement.startswith("split") and "Industry" in agreement, agreement
    others = page.locator("table.partnerships tbody tr").all_inner_texts()
    assert sum("agree on all 6" in text for text in others) >= 2  # and the others agree
    standings = page.locator("td.standing-cell").all_inner_texts()
    assert any(re.search(r"(above|below|at) the (median|upper quartile|lower quartile) of "
                         r"\w[\w ]* partnerships", s) for s in standings), standings
    assert page.locator("#splits-title").is_visible()
    assert SPLIT_PARTNERSHIP in page.locator("section.focus ul.splits").inner_text()
    agreement_chart = page.locator('img[src*="/boards/15/agreement.png"]')
    assert agreement_chart.count() == 1
    assert all_images_loaded(page)

    # The split partnership: "split" beside the score, the margin on the chart
    split_row.locator("th a").click()
    page.wait_for_load_state("load")
    audit.check("meaning: the split partnership, 2025")
    industry = row_of(page, "elements", "Directed by Industry")
    assert "split" in industry.locator(".agreement").inner_text()
    margin = industry.locator(".margin").inner_text()
    low, high = (float(v) for v in re.findall(r"\d\.\d\d", margin))
    score = float(re.search(r"\d\.\d\d", industry.locator("td.num").first.inner_text())[0])
    assert low < score < high, (low, score, high)
    chart = page.locator("#chart-margins")
    assert chart.locator("img").count() == 1
    assert "split on Directed by Industry" in chart.locator("figcaption").inner_text()
    chart.locator("summary").click()
    data = chart.locator("table tbody tr", has_text="Directed by Industry").inner_text()
    assert f"{low:.2f}" in data and f"{high:.2f}" in data and "split" in data
    assert "stands" in page.locator(".standing-line").inner_text()
    assert page.locator("table.peers tbody tr").count() == 7
    assert all_images_loaded(page)
    page.locator("details.how-to-read summary").first.click()
    assert "within margin" in page.locator("details.how-to-read").first.inner_text()

    # Somewhere on board 15 a change is too small to trust, and is marked so
    page.goto(f"{base}/boards/15?cycle=2025")
    links = page.locator("table.partnerships tbody th a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    marked = 0
    for href in links:
        page.goto(base + href)
        marked += page.locator("table.elements .within-margin").count()
    assert marked >= 1


def test_state_staff_find_the_weak_items(live_server, browser_page, demo,  # noqa: F811
                                         artifacts) -> None:
    page, base = browser_page, live_server
    audit = Auditor(page, artifacts)
    sign_in(page, base, "state@example.org", demo.passwords["state@example.org"])
    page.goto(f"{base}/state?cycle=2025")
    page.click("text=How the questionnaire works")
    page.wait_for_load_state("load")
    audit.check("meaning: the instrument, 2025")
    weakest = page.locator("ol.weakest li").all_inner_texts()
    assert len(weakest) >= 2
    assert any("item-rest below 0.30" in w and "measured-7" in w for w in weakest), weakest
    assert any("don't know above 25%" in w and "measured-4" in w for w in weakest), weakest
    assert page.locator("table.instrument tr.element-row").count() == 6
    assert page.locator("table.instrument tr.flagged").count() >= 2

    # a board lead has no instrument page
    page.context.clear_cookies()
    sign_in(page, base, "lead15@example.org", demo.passwords["lead15@example.org"])
    response = page.goto(f"{base}/state/instrument")
    assert response is not None and response.status == 404
