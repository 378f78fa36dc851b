"""What every browser test does the same way: sign in, and wait for the charts."""

from __future__ import annotations


def sign_in(page, base: str, email: str, password: str) -> None:
    """Sign in through the login form and wait until the landing page has loaded."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"{email} could not sign in"


def all_images_loaded(page, *, charts_expected: bool = True) -> bool:
    """True when every image in the page's main part loaded (each scrolled into view
    first, as lazy images load only then); by default the page must have some."""
    images = page.locator("main img").all()
    assert images or not charts_expected, "no chart on the page"
    for image in images:
        image.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    return page.evaluate(
        "() => [...document.querySelectorAll('main img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
