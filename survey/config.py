"""Configuration: defaults, then the environment, then a test override."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from survey.questionnaire import default_folder

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
COMMENT_MAX_LENGTH = 2000
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def load_config(instance_path: str) -> dict[str, Any]:
    """Build the configuration from SPEC section 6's environment variables."""
    instance = Path(instance_path)
    base_url = os.environ.get("SURVEY_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    return {
        "DATABASE_URL": os.environ.get("SURVEY_DATABASE_URL")
        or f"sqlite:///{instance / 'survey.sqlite3'}",
        "SECRET_KEY": os.environ.get("SURVEY_SECRET_KEY") or _instance_secret(instance),
        "QUESTIONNAIRES": os.environ.get("SURVEY_QUESTIONNAIRES") or str(default_folder()),
        "SMTP_URL": os.environ.get("SURVEY_SMTP_URL", ""),
        "BASE_URL": base_url,
        # Dates and times are stored in UTC and shown in this zone.
        "TIMEZONE": _timezone(os.environ.get("SURVEY_TIMEZONE", "America/New_York")),
        "MAIL_FROM": os.environ.get("SURVEY_MAIL_FROM", "sector-survey@localhost"),
        # Who partners can ask for help (an email, a phone, a name); shown when set.
        "HELP_CONTACT": os.environ.get("SURVEY_HELP_CONTACT", "").strip(),
        # Proxies in front of the app whose X-Forwarded-* headers are believed (0: none).
        "TRUSTED_PROXIES": _trusted_proxies(os.environ.get("SURVEY_TRUSTED_PROXIES", "0")),
        "MAX_CONTENT_LENGTH": MAX_UPLOAD_BYTES,
        "COMMENT_MAX_LENGTH": COMMENT_MAX_LENGTH,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not _is_development(base_url),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": not _is_development(base_url),
        # A partner may spend hours on one page: the CSRF token lives as long as the
        # session, and an expired one costs no answers (see web/partner.py).
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        # Staff sign-in (SPEC 17): passwords (with reset by email) unless turned off, and
        # OpenID Connect when an issuer and client are set.
        "PASSWORD_LOGIN": _switch("SURVEY_PASSWORD_LOGIN", os.environ.get(
            "SURVEY_PASSWORD_LOGIN", "1")),
        "OIDC_ISSUER": os.environ.get("SURVEY_OIDC_ISSUER", "").strip().rstrip("/"),
        "OIDC_CLIENT_ID": os.environ.get("SURVEY_OIDC_CLIENT_ID", "").strip(),
        "OIDC_CLIENT_SECRET": os.environ.get("SURVEY_OIDC_CLIENT_SECRET", ""),
        # Calls per API token per minute (SPEC 17), counted in the database.
        "API_RATE_LIMIT": int(os.environ.get("SURVEY_API_RATE_LIMIT", "120")),
    }


def _switch(name: str, value: str) -> bool:
    """A 0/1 setting, or a clear error at start-up."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 0 or 1, not {value!r}")


def site_today() -> dt.date:
    """Today's date where the boards are (SURVEY_TIMEZONE), not the server's: the app's
    setting in a request or command, the environment's outside one."""
    from flask import current_app, has_app_context

    zone = (current_app.config["TIMEZONE"] if has_app_context()
            else _timezone(os.environ.get("SURVEY_TIMEZONE", "America/New_York")))
    return dt.datetime.now(ZoneInfo(zone)).date()


def _timezone(name: str) -> str:
    """A time zone name that exists, or a clear error at start-up."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"SURVEY_TIMEZONE: unknown time zone {name!r}") from None
    return name


def _trusted_proxies(value: str) -> int:
    """How many proxy hops to trust: a whole number from 0, or a clear error at start-up."""
    text = value.strip() or "0"
    if not text.isdigit() or int(text) > 10:
        raise ValueError(f"SURVEY_TRUSTED_PROXIES must be a whole number from 0 to 10, "
                         f"not {value!r}")
    return int(text)


def _is_development(base_url: str) -> bool:
    """Plain http on a loopback address is a developer's machine; anything else is not."""
    parts = urlsplit(base_url)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def _instance_secret(instance: Path) -> str:
    """A secret key generated once and kept in the instance folder."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
