"""Accessibility (WCAG 2.2 AA) of every page state, checked in headless Chromium on the demo
data. axe-core (from the npm registry) runs on each page at 1280 px and again at 390 px with
every <details> opened, and must find no WCAG 2.0/2.1/2.2 A or AA violation (labels, names,
alt text, contrast, lang, titles, scrollable regions reachable by keyboard, ...). Checked by
hand, where axe has no rule: one h1 and no skipped heading level, radios grouped under a
legend, every chart followed by its data table, captioned tables, unique ids, distinct
titles, no sideways scrolling on a 390 px phone, a visible keyboard focus, a working skip
link, a focused error summary and readable status badges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.axe_core import axe_violations
from tests.browser.pages import sign_in

pytestmark = pytest.mark.browser

LINK_LINE = re.compile(r"^\s+\S+/s/([A-Za-z0-9_-]+)\s+.+, (in progress|not started)\)$", re.M)
LOGIN_LINE = re.compile(r"^\s+(\S+@\S+)\s+(\S+)\s+(admin|state|board lead.*)$", re.M)

# Every problem the DOM shows on one page, as readable strings (an empty list passes).
PAGE_PROBLEMS = r"""() => {
  const problems = [];
  const text = el => (el.textContent || '').replace(/\s+/g, ' ').trim();
  const levels = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1]);
  const h1s = levels.filter(level => level === 1).length;
  if (h1s !== 1) problems.push(`${h1s} h1 elements`);
  if (levels[0] !== 1) problems.push(`the first heading is h${levels[0]}, not h1`);
  levels.forEach((level, i) => {
    if (i && level > levels[i - 1] + 1)
      problems.push(`heading level skipped: h${levels[i - 1]} -> h${level}`);
  });

  for (const radio of document.querySelectorAll('input[type=radio]')) {
    const legend = radio.closest('fieldset')?.querySelector(':scope > legend');
    if (!legend || !text(legend))
      problems.push(`radio ${radio.id} is not in a fieldset with a legend`);
  }
  for (const img of document.querySelectorAll('img')) {
    const block = img.closest('section');
    if (img.closest('figure') && !block?.querySelector('table'))
      problems.push(`chart without a data table: ${img.src}`);
  }
  for (const table of document.querySelectorAll('table')) {
    if (!table.querySelector('th')) problems.push('table without header cells');
    if (!text(table.caption || document.createElement('i')) && !table.getAttribute('aria-label'))
      problems.push(`table without a caption: ${text(table).slice(0, 60)}`);
  }
  const seen = {};
  for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
  for (const [id, count] of Object.entries(seen))
    if (count > 1) problems.push(`id "${id}" used ${count} times`);
  const skip = document.querySelector('a.skip-link');
  if (!skip || !document.querySelector(skip.getAttribute('href')))
    problems.push('no skip link to the main content');
  return problems;
}"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

# The active element's focus indicator: an outline or a box-shadow, while :focus-visible.
FOCUS_STYLE = r"""() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {tag: el.tagName, type: el.type || '', visible: el.matches(':focus-visible'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
          shadow: style.boxShadow !== 'none'};
}"""

# WCAG relative luminance contrast of an element's text against its own background.
CONTRAST = r"""(className) => {
  const el = document.createElement('span');
  el.className = className; el.textContent = 'Building';
  document.querySelector('main').append(el);
  const rgb = value => value.match(/[\d.]+/g).slice(0, 3).map(Number);
  const linear = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  const style = getComputedStyle(el);
  const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))].sort((x, y) => y - x);
  el.remove();
  return (a + 0.05) / (b + 0.05);
}"""


@dataclass
class Demo:
    tokens: list[tuple[str, str]]  # (token, "in progress" | "not started")
    passwords: dict[str, str]  # email -> password


@pytest.fixture
def demo(runner) -> Demo:
    """The demo database, built by the real `survey demo`; its partner links and logins."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    demo = Demo(LINK_LINE.findall(result.output),
                {m[0]: m[1] for m in LOGIN_LINE.findall(result.output)})
    assert len(demo.tokens) >= 2 and "admin@example.org" in demo.passwords
    return demo


class Auditor:
    """Checks each visited page at desktop width and at 390 px; remembers page titles."""

    def __init__(self, page, artifacts: Path | None = None) -> None:
        self.page = page
        self.titles: dict[str, str] = {}
        self.artifacts = artifacts  # full-page screenshots of each page at both widths

    def screenshot(self, name: str, width: int) -> None:
        if self.artifacts is not None:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            self.page.screenshot(path=self.artifacts / f"a11y-{slug}-{width}.png", full_page=True)

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        problems = page.evaluate(PAGE_PROBLEMS)
        assert problems == [], f"{name}: {problems}"
        assert axe_violations(page) == [], f"{name} at 1280px: axe"
        self.screenshot(name, 1280)
        page.set_viewport_size({"width": 390, "height": 844})
        try:
            self.screenshot(name, 390)
            overflow = page.evaluate(OVERFLOW)
            assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 390px"
            # Folded tables too: opened, they must read as well as the rest of the page.
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            assert axe_violations(page) == [], f"{name} at 390px, details open: axe"
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = false; })")
        finally:
            page.set_viewport_size({"width": 1280, "height": 900})
        title = page.title()
        assert title not in self.titles.values(), f"{name}: another page has the title {title}"
        self.titles[name] = title

    def visit(self, url: str, name: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status < 400, f"{name}: {url} gave {response}"
        self.check(name)


def assert_summary_focused(page, name: str, first_target: str) -> None:
    """The error summary has the focus, and its first link leads to the control at fault."""
    assert page.evaluate("document.activeElement.classList.contains('error-summary')"), name
    link = page.locator(".error-summary a").first
    assert link.get_attribute("href") == f"#{first_target}", name
    link.click()
    assert page.evaluate("document.activeElement.id") == first_target, name
    assert page.title().startswith("Error: "), name


def tab_until(page, predicate: str, limit: int = 60) -> dict:
    """Press Tab until the focused element matches `predicate` (JS); its focus style."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {predicate})(document.activeElement)"):
            return page.evaluate(FOCUS_STYLE)
    raise AssertionError(f"Tab never reached {predicate}")


def test_partner_pages(live_server, browser_page, demo, artifacts, runner) -> None:
    page, audit = browser_page, Auditor(browser_page, artifacts)
    token = next(t for t, status in demo.tokens if status == "not started")
    audit.visit(f"{live_server}/", "start page")
    audit.visit(f"{live_server}/s/{token}", "overview")
    for badge in ["state state-not-started", "state state-in-progress", "state state-complete"]:
        ratio = page.evaluate(CONTRAST, badge)
        assert ratio >= 4.5, f"{badge}: contrast {ratio:.2f}"
    page.click(".element-list a >> nth=0")
    audit.check("element")

    # Keyboard: the skip link, then a link, a radio and a button all show a focus ring.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    skip = page.evaluate(FOCUS_STYLE)
    assert skip["visible"] and (skip["outline"] or skip["shadow"]), skip
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for kind, predicate in [("link", "el.tagName === 'A'"), ("radio", "el.type === 'radio'"),
                            ("textarea", "el.tagName === 'TEXTAREA'"),
                            ("button", "el.tagName === 'BUTTON'")]:
        style = tab_until(page, predicate)
        assert style["visible"] and (style["outline"] or style["shadow"]), (kind, style)

    # An error: the summary takes the focus and leads to the field.
    page.evaluate("document.getElementById('comment').removeAttribute('maxlength')")
    page.fill("#comment", "x" * 5000)
    page.click("button[value=continue]:not([aria-hidden])")
    page.wait_for_load_state("load")
    audit.check("element with an error")
    assert_summary_focused(page, "element", "comment")

    # One answer ("don't know" counts): a response with none cannot be submitted.
    page.fill("#comment", "")
    page.locator("label[for$='-dk']").first.click()
    page.click("button[value=continue]:not([aria-hidden])")
    page.goto(f"{live_server}/s/{token}/review")
    audit.check("review")
    page.click("text=Submit your answers")
    audit.check("confirmation")
    assert page.locator(".flash-success").is_visible()

    response = page.goto(f"{live_server}/s/not-a-valid-link-0000000000000000")
    assert response.status == 404
    audit.check("not-valid link")

    # Once the cycle closes: the overview and an element of a submitted and of an unsent
    # response read as closed (disabled answers must stay legible).
    result = runner.invoke(args=["cycle", "close", "2026", "--yes"])
    assert result.exit_code == 0, result.output
    audit = Auditor(page, artifacts)  # the same pages as above, so the same titles
    audit.visit(f"{live_server}/s/{token}", "overview, cycle closed")
    page.click(".element-list a >> nth=0")
    audit.check("element, cycle closed")
    other = next(t for t, status in demo.tokens if status == "in progress")
    audit.visit(f"{live_server}/s/{other}", "overview of an unsent response, cycle closed")


def test_staff_pages(live_server, browser_page, demo, tmp_path, artifacts) -> None:
    page, audit = browser_page, Auditor(browser_page, artifacts)
    base = live_server
    audit.visit(f"{base}/login", "sign in")
    page.click("main button[type=submit]")
    audit.check("sign in with errors")
    assert_summary_focused(page, "sign in", "email")

    audit.visit(f"{base}/login/reset", "password reset request")
    sign_in(page, base, "admin@example.org", demo.passwords["admin@example.org"])
    audit.visit(f"{base}/account/second-factor", "second factor")
    audit.visit(f"{base}/account/tokens", "API tokens")
    audit.visit(f"{base}/account/password", "password change")
    page.click("main button[type=submit]")
    audit.check("password change with errors")
    assert_summary_focused(page, "password", "current_password")

    audit.visit(f"{base}/state", "state dashboard")
    audit.visit(f"{base}/boards/15?cycle=2026", "board dashboard")
    rows = page.evaluate("""() => [...document.querySelectorAll('table.partnerships tbody tr')]
        .map(tr => [tr.querySelector('th a').getAttribute('href'),
                    !!tr.querySelector('td[colspan]')])""")
    normal = next(href for href, suppressed in rows if not suppressed)
    suppressed = next(href for href, suppressed in rows if suppressed)
    audit.visit(base + normal, "partnership dashboard")
    audit.visit(base + suppressed, "suppressed partnership dashboard")
    partnership_id = re.search(r"/partnerships/(\d+)", normal).group(1)

    audit.visit(f"{base}/admin/", "administration")
    audit.visit(f"{base}/admin/cycles", "cycles")
    audit.visit(f"{base}/admin/boards", "boards")
    audit.visit(f"{base}/admin/boards/15", "board administration")
    audit.visit(f"{base}/admin/partnerships/{partnership_id}", "partnership roster")
    audit.visit(f"{base}/admin/users", "staff accounts")
    audit.visit(f"{base}/admin/audit", "audit log")
    audit.visit(f"{base}/admin/boards/15/roster", "board roster")
    audit.visit(f"{base}/admin/roster/import", "roster import")
    bad = tmp_path / "roster.csv"
    bad.write_text("board,partnership,sector,name,email,organization,partner_type\n"
                   "99,Nowhere,Retail,,not-an-email,Org,wizard\n", encoding="utf-8")
    page.set_input_files("input[type=file]", str(bad))
    page.click("text=Check and import")
    audit.check("roster import with errors")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.locator(".import-problems li").count() >= 1

    # Both "name" fields on the partnership page have their own id and label.
    page.goto(f"{base}/admin/partnerships/{partnership_id}")
    assert page.get_by_label("Name", exact=True).count() == 2

    # A closed cycle's dashboards, and the action plan of that cycle.
    audit.visit(f"{base}/state?cycle=2025", "state dashboard, closed cycle")
    audit.visit(f"{base}/boards/15?cycle=2025", "board dashboard, closed cycle")
    audit.visit(f"{base}/partnerships/{partnership_id}?cycle=2025",
                "partnership dashboard, closed cycle")
    audit.visit(f"{base}/partnerships/{partnership_id}/plan?cycle=2025", "action plan")
    audit.visit(f"{base}/state/instrument?cycle=2025", "the questionnaire's instrument page")
    # The stage badges (all four are in the legend) and the suppressed badge are checked
    # for contrast by axe above.

    # A form control and a date field keep a visible focus ring when reached by keyboard.
    page.goto(f"{base}/admin/cycles")
    page.focus("#name")
    style = tab_until(page, "el.id === 'opens_on'", limit=3)
    assert style["outline"] or style["shadow"], style

    # The board lead's own pages: the open cycle (progress only), a closed one, the roster.
    page.context.clear_cookies()
    audit = Auditor(page, artifacts)  # the same addresses as above may share a title
    sign_in(page, base, "lead15@example.org", demo.passwords["lead15@example.org"])
    # A lead lands on the latest published cycle; the open one shows progress only.
    audit.visit(f"{base}/boards/15?cycle=2026", "board lead: open cycle")
    audit.visit(f"{base}/boards/15?cycle=2025", "board lead: board dashboard, closed cycle")
    audit.visit(f"{base}/partnerships/{partnership_id}?cycle=2025",
                "board lead: partnership dashboard, closed cycle")
    audit.visit(f"{base}/admin/boards/15/roster", "board lead: roster")
