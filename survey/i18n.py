"""Partners' languages (SPEC 13): Flask-Babel, which language a page is in, and dates.

Partner pages (everything under /s/, errors included) and partner emails are in English
or Spanish; staff pages and exports stay in English. A partner's language is, in order:
the choice made with the switch on their pages (kept on the invitation, so for that
link), the roster's `language` column (members.language), then the browser's
Accept-Language. The catalogues are survey/translations/<language>/LC_MESSAGES/
messages.po with the compiled messages.mo committed beside them (tests/test_i18n.py
fails when the two disagree); `pybabel extract -F babel.cfg` finds the strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from babel.dates import format_date
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale, gettext, refresh

LANGUAGES: tuple[str, ...] = ("en", "es")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}  # each in its own language
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
PARTNER_PREFIX = "/s/"

babel = Babel()


def init_i18n(app: Flask) -> None:
    """Flask-Babel with the shipped catalogues; `current_language` for templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    babel.init_app(app, locale_selector=select_language)
    app.jinja_env.globals.update(current_language=current_language,
                                 language_names=LANGUAGE_NAMES)
    # A word chosen at run time (a stage label, a change status) in the page's language,
    # as plain text that the template escapes.
    app.jinja_env.filters["translated"] = translate


def known(language: str | None) -> str | None:
    """The language when it is one partners can use, else None."""
    return language if language in LANGUAGES else None


def select_language() -> str:
    """English except on partner pages: the partner's choice, else their browser's."""
    if not has_request_context() or not request.path.startswith(PARTNER_PREFIX):
        return DEFAULT_LANGUAGE
    chosen = known(g.get("partner_language"))
    if chosen:
        return chosen
    return browser_language(request.accept_languages)


def browser_language(accepted: Iterable[tuple[str, float]]) -> str:
    """The first language the browser ranks highest that partners can use ("es-MX": es)."""
    for tag, quality in sorted(accepted, key=lambda pair: -pair[1]):
        primary = tag.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def use_partner_language(language: str | None) -> None:
    """This request's pages follow this partner's language (None: their browser's)."""
    g.partner_language = known(language)
    refresh()  # Flask-Babel keeps the language it already worked out for the request


def current_language() -> str:
    """The language of the page being rendered ("en" outside a request)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def email_language(choice: str | None, roster: str | None) -> str:
    """An email's language: the link's chosen language, else the roster's, else English."""
    return known(choice) or known(roster) or DEFAULT_LANGUAGE


def long_date(value: dt.date, language: str | None = None) -> str:
    """A date as partners read it: "January 10, 2027", "10 de enero de 2027"."""
    return format_date(value, "long", locale=known(language) or current_language())


def translate(text: str) -> str:
    """A fixed English text in the page's language (plain text, escaped when rendered).

    For texts chosen at run time, such as an error page's title; their translations are
    listed in `FIXED_TEXTS` so that `pybabel extract` finds them.
    """
    return gettext(text)


def _mark(text: str) -> str:
    return text


FIXED_TEXTS = (  # survey/__init__.py's error pages, as partners can meet them under /s/
    _mark("Error"), _mark("The request failed."),
    _mark("Bad request"), _mark("The request could not be understood."),
    _mark("Forbidden"), _mark("You do not have access to this page."),
    _mark("Page not found"),
    _mark("There is no page at this address, or it is not yours to see."),
    _mark("Not allowed"), _mark("This page cannot be used that way."),
    _mark("Too large"), _mark("The upload or form is larger than the 5 MB limit."),
    _mark("Too many attempts"), _mark("Please wait a minute and try again."),
    _mark("Something went wrong"), _mark("The error was logged. Please try again later."),
    _mark("This form has expired or was not sent by this site. "
          "Go back, reload the page and send it again."),
    _mark("The address or form holds a character that is not allowed."),
    # survey/web/faults.py's 503 page (the database full, unavailable or busy)
    _mark("The database is full"),
    _mark("Nothing was saved: the disk the database is on has no space left. "
          "Your entries are below; the site's administrator has been told in the log. "
          "Try again once space has been freed."),
    _mark("Try again in a moment"),
    _mark("The database is not answering just now, so nothing was saved. "
          "Your entries are kept below: press Try again in a moment."),
    _mark("The database is busy with other work, so nothing was saved. "
          "Your entries are kept below: press Try again in a moment."),
    _mark("Try again"), _mark("What you entered"),
    _mark("A file you chose was not kept: choose it again when you try again."),
)

CHANGE_STATUSES = (  # SPEC 4's change statuses, as partners read them
    _mark("improved"), _mark("declined"), _mark("sustained"), _mark("no change"),
)
STAGE_LABELS = (  # the shipped scale's stage labels (questionnaires/es/scale.yaml has them too)
    _mark("Exploring"), _mark("Building"), _mark("Implementing"), _mark("Sustaining"),
)
