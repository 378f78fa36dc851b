"""axe-core, from the npm registry (tests/browser/package.json; run-tests runs `npm ci`),
injected into a Playwright page: its WCAG 2.2 A/AA violations as readable strings."""

from __future__ import annotations

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                  resultTypes: ['violations']})
  .then(r => r.violations.map(v => `${v.id} (${v.impact}): ${v.help}: ` +
        v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))"""


def axe_violations(page) -> list[str]:
    """WCAG 2.2 A/AA violations axe-core finds on the page as it is now (empty: none).

    The page's browser context needs bypass_csp=True: the site's Content-Security-Policy
    would refuse the injected script."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci --prefix tests/browser` (run-tests does)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN, WCAG_TAGS)
