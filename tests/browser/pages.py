"""What every browser test does the same way: sign in, and wait for the charts."""

from __future__ import annotations


def sign_in(page, base: str, email: str, password: str) -> None:
    """Sign in through the login form and wait until the landing page has loaded."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    if page.url.endswith("/login/enrol"):  # an administrator's first sign-in
        enrol(page, email.strip().lower())
    elif page.url.endswith("/login/code"):
        from tests.conftest import AUTHENTICATORS

        page.fill("input[name=code]", AUTHENTICATORS[email.strip().lower()].next_code())
        page.click("main button[type=submit]")
        page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"{email} could not sign in"


def enrol(page, email: str) -> None:
    """Set up the second factor as a person would: the key from the page, the first code
    from an authenticator (pyotp), then Continue past the recovery codes."""
    import datetime as dt

    import pyotp

    from tests.conftest import AUTHENTICATORS, Authenticator

    secret = page.inner_text("code.factor-secret").strip()
    totp = pyotp.TOTP(secret)
    phone = AUTHENTICATORS[email] = Authenticator(
        secret, [], totp.timecode(dt.datetime.now(dt.UTC)))
    page.fill("input[name=code]", totp.now())
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    phone.recovery_codes = [code.strip() for code in codes]
    page.click("text=Continue")
    page.wait_for_load_state("networkidle")


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
