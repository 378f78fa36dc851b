"""A partner's survey at /s/<token>: overview, one page per element, review, submit.

The token in the address names the invitation; it is never logged. Writes still need
the CSRF token, which these views check themselves so that an expired one costs the
partner nothing: the page comes back with their answers filled in and a fresh token.
"""

from __future__ import annotations

import datetime as dt
import hmac
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from survey import abort_with, csrf, i18n
from survey.config import site_today
from survey.db import db, writes_late
from survey.models import Cycle, CycleStatus, Invitation, InvitationStatus, InvitationToken
from survey.questionnaire import Element, Questionnaire, snapshot_questionnaire
from survey.services import answers as answer_service
from survey.services.invitations import hash_token
from survey.web.partner_forms import element_form

bp = Blueprint("partner", __name__, url_prefix="/s")

def long_date(value: dt.date | dt.datetime | None) -> str:
    """A date as partners read it, in their language (moments in the site's zone)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # Stored in UTC (SQLite hands them back naive); shown in Florida's time.
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        value = moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return i18n.long_date(value)  # "January 10, 2027"; "10 de enero de 2027"


SECONDS_PER_ITEM = 45  # reading four short descriptors and choosing one


def minutes_for(items: int) -> int:
    """A time estimate from the item count, in whole five minutes (at least five)."""
    return max(5, 5 * round(items * SECONDS_PER_ITEM / 60 / 5))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    state_labels = {"not started": _("Not started"), "in progress": _("In progress"),
                    "complete": _("Complete")}
    return {"long_date": long_date, "minutes_for": minutes_for, "state_labels": state_labels}


class Survey:
    """What every partner page needs: the invitation, its cycle and the questionnaire."""

    def __init__(self, token: str, invitation: Invitation) -> None:
        self.token = token
        self.invitation = invitation
        self.cycle = invitation.cycle
        self.participation = invitation.participation
        cycle = self.cycle
        # Parsed once per process and snapshot; the JSON column is loaded only then.
        self.questionnaire = snapshot_questionnaire(
            cycle.id, cycle.content_hash, lambda: cycle.content)
        # The same items, codes and values in the partner's language (SPEC 13).
        self.questionnaire = self.questionnaire.localized(i18n.current_language())

    @property
    def open(self) -> bool:
        # The date once per request (pages ask a dozen times); the cycle's status is read
        # each time, since require_open refreshes it under the lock.
        return self.cycle.accepts_answers(self.today)

    @cached_property
    def today(self) -> dt.date:
        return site_today()

    @property
    def submitted(self) -> bool:
        return self.invitation.status == InvitationStatus.SUBMITTED

    def element(self, key: str) -> Element:
        try:
            return self.questionnaire.element(key)
        except KeyError:
            abort_with(404, _("This survey has no such page. Go back to the overview."))
            raise  # unreachable: abort_with raises

    def next_url(self, element: Element) -> str:
        keys = [e.key for e in self.questionnaire.elements]
        position = keys.index(element.key)
        if position + 1 < len(keys):
            return url_for(".element", token=self.token, element_key=keys[position + 1])
        return url_for(".review", token=self.token)


def find_invitation_for_page(session: Session, token: str) -> Invitation | None:
    """The invitation a partner token opens, with its member, cycle and participation, in
    one query (the cycle's snapshot column stays unloaded); None when unknown or revoked."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    row = session.execute(
        select(InvitationToken.token_hash, Invitation)
        .join(Invitation, InvitationToken.invitation_id == Invitation.id)
        .where(InvitationToken.token_hash == digest, InvitationToken.revoked_at.is_(None))
        .options(joinedload(Invitation.member), joinedload(Invitation.participation),
                 joinedload(Invitation.cycle).defer(Cycle.content))
    ).one_or_none()
    # Compare again in constant time, as find_invitation does.
    if row is None or not hmac.compare_digest(row[0], digest):
        return None
    return row[1]


def load_survey(token: str) -> Survey:
    """The partner's survey, or a clear page for an unknown, removed or not-yet-open link."""
    invitation = find_invitation_for_page(db.session, token)
    if invitation is None:
        abort_with(404, _("This link is not valid. Check that you copied the whole address "
                          "from your invitation, or ask your board for a new link."))
    assert invitation is not None
    # The link's chosen language, else the roster's, else the browser's.
    i18n.use_partner_language(invitation.language or invitation.member.language)
    if not invitation.member.active:
        abort_with(403, _("This link no longer works: you are not on the partnership's "
                          "roster any more. Ask your board if that is a mistake."))
    if invitation.cycle.status != CycleStatus.CLOSED and invitation.cycle.not_yet_open(
            site_today()):
        # Before the opening date (read in SURVEY_TIMEZONE) the link takes no answers.
        abort_with(403, _("This survey is not open yet. It opens on %(date)s; come back to "
                          "this link then.", date=long_date(invitation.cycle.opens_on)))
    return Survey(token, invitation)


def require_open(survey: Survey) -> None:
    """Refuse a write once the cycle has closed, checked under the lock that closing the
    cycle takes (held until this request commits), so no save lands after `closed_at`.
    Call inside the write transaction."""
    answer_service.lock_cycle(db.session, survey.invitation)
    refuse_if_closed(survey)


def refuse_if_closed(survey: Survey) -> None:
    """The closed-cycle page when the cycle, as last read, no longer takes answers."""
    if not survey.open:
        abort_with(403, _("This cycle closed on %(date)s; answers can no longer be changed.",
                          date=long_date(survey.cycle.closes_on)))


def csrf_valid() -> bool:
    """True when the form carries this session's CSRF token, unexpired."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


@bp.get("/<token>")
def overview(token: str) -> str:
    """The partnership, cycle, deadline, each element's state and overall progress."""
    survey = load_survey(token)
    answers = answer_service.saved_answers(db.session, survey.invitation)
    progress = answer_service.progress(survey.questionnaire, answers)
    return render_template("partner/overview.html", survey=survey, progress=progress)


@csrf.exempt
@bp.route("/<token>/<element_key>", methods=["GET", "POST"])
@writes_late  # reads and validation need no lock; the save is one short write transaction
def element(token: str, element_key: str) -> Response | tuple[str, int] | str:
    """One element: GET shows it filled with saved answers; POST saves it."""
    survey = load_survey(token)
    element = survey.element(element_key)
    session, invitation = db.session, survey.invitation
    saved = answer_service.saved_answers(session, invitation)
    comment = answer_service.saved_comments(session, invitation).get(element.key)
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if request.method == "GET":
        form = element_form(survey.questionnaire, element, limit, answers=saved, comment=comment)
        return render_element(survey, element, form)
    refuse_if_closed(survey)
    form = element_form(survey.questionnaire, element, limit, request.form, saved, comment)
    if not csrf_valid():
        return render_element(survey, element, form, expired=True), 400
    if not form.validate():
        return render_element(survey, element, form), 400
    session = db.begin_write()
    require_open(survey)
    answer_service.save_element(session, invitation, element, form.input.answers,
                                form.input.comment)
    switch = request.form.get("action", "").removeprefix("language-")
    if i18n.known(switch):  # the language switch on an open page saves the page first
        invitation.language = switch
    session.commit()
    if request.form.get("action") == "overview":
        return redirect(url_for(".overview", token=token), 303)
    if i18n.known(switch):
        return redirect(url_for(".element", token=token, element_key=element.key), 303)
    return redirect(survey.next_url(element), 303)


def render_element(survey: Survey, element: Element, form: Any, expired: bool = False) -> str:
    keys = [e.key for e in survey.questionnaire.elements]
    return render_template(
        "partner/element.html", survey=survey, element=element, form=form, expired=expired,
        position=keys.index(element.key) + 1, count=len(keys),
        comment_max_length=current_app.config["COMMENT_MAX_LENGTH"],
    )


@bp.get("/<token>/review")
def review(token: str) -> str:
    """Every answer, element by element, with links back, and the submit button."""
    return render_review(load_survey(token))


def render_review(survey: Survey, expired: bool = False, refused_empty: bool = False) -> str:
    session = db.session
    answers = answer_service.saved_answers(session, survey.invitation)
    return render_template(
        "partner/review.html", survey=survey, answers=answers, expired=expired,
        refused_empty=refused_empty,
        comments=answer_service.saved_comments(session, survey.invitation),
        progress=answer_service.progress(survey.questionnaire, answers),
        labels=answer_labels(survey.questionnaire),
    )


def answer_labels(questionnaire: Questionnaire) -> dict[str, str]:
    """What each stored answer value reads as on the page."""
    scale = questionnaire.scale
    labels = {str(level.value): level.label for level in scale.levels}
    labels.update(DK=scale.dont_know_label, NA=scale.not_applicable_label)
    return labels


@csrf.exempt
@bp.post("/<token>/submit")
@writes_late  # the write lock only for the submission itself
def submit(token: str) -> Response | tuple[str, int]:
    """Submit the response (again, harmlessly, when already submitted)."""
    survey = load_survey(token)
    refuse_if_closed(survey)
    if not csrf_valid():
        return render_review(survey, expired=True), 400
    # A response with no answer at all (no level, don't know or not applicable) is not a
    # response: it would count in the response rate with nothing behind it (SPEC 6).
    if not survey.submitted and not answer_service.saved_answers(db.session, survey.invitation):
        return render_review(survey, refused_empty=True), 422
    db.begin_write()
    require_open(survey)
    answer_service.submit(db.session, survey.invitation)
    db.session.commit()
    return redirect(url_for(".overview", token=token, submitted=1), 303)


@bp.post("/<token>/language")
def language(token: str) -> Response:
    """The language switch: kept on the invitation, for this link (CSRF-checked POST)."""
    survey = load_survey(token)
    chosen = i18n.known(request.form.get("language"))
    if chosen is None:
        abort_with(400, _("Choose English or Spanish."))
    survey.invitation.language = chosen
    db.session.commit()
    back = request.form.get("next", "")
    own = url_for(".overview", token=token)
    # Only back to this link's own pages (never an address from elsewhere).
    if back != own and not back.startswith(own + "/"):
        back = own
    return redirect(back, 303)
