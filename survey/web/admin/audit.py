"""The audit log (SPEC 14): who did what and when, newest first, for administrators."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from survey.db import db
from survey.models import AuditEvent
from survey.services import audit
from survey.web.admin.blueprint import Page, admin_required, bp
from survey.web.forms import SurveyForm

PER_PAGE = 50
MAX_PAGE = 100_000


class AuditFilterForm(SurveyForm):
    """Filters of the audit log, sent by GET (reading only: no CSRF token needed)."""

    class Meta:
        csrf = False

    action = SelectField("Action", validators=[Optional()], validate_choice=True)
    since = DateField("From (date)", validators=[Optional()])
    until = DateField("To (date, included)", validators=[Optional()])


@bp.get("/audit")
@admin_required
def audit_log() -> Page:
    """Administrative actions, newest first, filtered by action and dates, 50 a page."""
    form = AuditFilterForm(request.args)
    form.action.choices = [("", "Every action"), *[(a, a) for a in audit.actions(db.session)]]
    page = request.args.get("page", "1")
    problems = [] if page.isdigit() and 1 <= int(page) <= MAX_PAGE else [
        "The page number must be a whole number from 1."]
    if not form.validate() or problems:
        return render_template("admin/audit.html", form=form, events=[], problems=problems,
                               newer=None, older=None), 400
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    number = int(page)
    found = audit.events(db.session, since=_day_start(form.since.data, zone),
                         before=_day_start(form.until.data, zone, days=1),
                         action=form.action.data or None, limit=PER_PAGE + 1,
                         offset=(number - 1) * PER_PAGE)
    return render_template(
        "admin/audit.html", form=form, problems=[],
        events=[_shown(e, zone) for e in found[:PER_PAGE]],
        newer=_page_url(number - 1) if number > 1 else None,
        older=_page_url(number + 1) if len(found) > PER_PAGE else None, page=number)


def _day_start(day: dt.date | None, zone: ZoneInfo, days: int = 0) -> dt.datetime | None:
    """Midnight at the start of a day (plus `days`) where the boards are."""
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(), tzinfo=zone)


def _page_url(number: int) -> str:
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return url_for("admin.audit_log", **args, page=number)


def _shown(event: AuditEvent, zone: ZoneInfo) -> dict[str, Any]:
    """An event as the page shows it: local time, and the detail as label/value pairs."""
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=dt.UTC)
    return {"at": at.astimezone(zone), "actor": event.actor, "action": event.action,
            "target": event.target,
            "detail": [(key, value) for key, value in sorted((event.detail or {}).items())]}
