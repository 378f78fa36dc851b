"""Cycles (create, open, close) and their invitations (email, reminders, links as CSV)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from survey.config import site_today
from survey.db import db, writes_late
from survey.models import Cycle, CycleStatus
from survey.questionnaire import QuestionnaireError, load_questionnaire
from survey.services import audit, cycles, mail, sending
from survey.services.tabular import ImportProblem
from survey.web.admin.blueprint import (
    Page,
    admin_required,
    board_choices,
    bp,
    failed,
    failed_field,
    get_or_404,
    saved,
)
from survey.web.staff_forms import CycleForm, LinksForm, SendForm


def _questionnaire() -> Any:
    """The content in force; a broken content folder is a problem for the page to show."""
    folder = current_app.config["QUESTIONNAIRES"]
    try:
        return load_questionnaire(folder)
    except QuestionnaireError as exc:
        raise ImportProblem([f"The questionnaire content is broken (run `survey questionnaires "
                             f"check`): {'; '.join(exc.problems[:3])}"]) from exc


def render_cycles(form: CycleForm | None = None, status: int = 200) -> tuple[str, int]:
    send_form, links_form = SendForm(formdata=None), LinksForm(formdata=None)
    send_form.board.choices = links_form.board.choices = board_choices("All boards")
    all_cycles = cycles.list_cycles(db.session)
    # Invitations are mostly for the open cycle: its panel first, then the newest.
    inviting = sorted((c for c in all_cycles if c.status != CycleStatus.DRAFT),
                      key=lambda c: (c.status != CycleStatus.OPEN, -c.opens_on.toordinal()))
    return render_template(
        "admin/cycles.html", cycles=all_cycles, inviting=inviting,
        form=form or CycleForm(formdata=None), send_form=send_form, links_form=links_form,
        smtp_configured=bool(current_app.config.get("SMTP_URL")), today=site_today(),
    ), status


@bp.get("/cycles")
@admin_required
def cycle_list() -> Page:
    """Cycles with their counts; create, open, close; send invitations and reminders."""
    return render_cycles()


@bp.post("/cycles")
@admin_required
def cycle_create() -> Page:
    """Create a draft cycle with a snapshot of the current questionnaire."""
    form = CycleForm()
    if not form.validate():
        return render_cycles(form, 422)
    try:
        cycle = cycles.create_cycle(db.session, form.name.data, form.opens_on.data,
                                    form.closes_on.data, _questionnaire())
    except ImportProblem as exc:
        failed_field(form.name, exc.problems)
        return render_cycles(form, 422)
    return saved(f"Cycle {cycle.name} created as a draft. Open it to invite the partners.",
                  "admin.cycle_list")


def confirmed() -> bool:
    """True when the form repeats the action from its confirmation page."""
    return request.form.get("confirm") == "yes"


def render_confirmation(confirmation: cycles.Confirmation, endpoint: str) -> tuple[str, int]:
    """The page that says what the action would do, with the button that does it."""
    return render_template("admin/cycle_confirm.html", confirmation=confirmation,
                           action_url=url_for(endpoint, name=confirmation.cycle)), 200


@bp.post("/cycles/<name>/open")
@admin_required
def cycle_open(name: str) -> Page:
    """Open a cycle: snapshot the content and create every member's invitation; while
    another cycle is open, first a page that says what opening this one would do."""
    cycle = get_or_404(Cycle, name=name)
    confirmation = cycles.open_confirmation(db.session, cycle)
    if confirmation.needed and not confirmed():
        return render_confirmation(confirmation, "admin.cycle_open")
    try:
        created = cycles.open_cycle(db.session, cycle, _questionnaire())
    except ImportProblem as exc:
        return failed(exc.problems, "admin.cycle_list")
    when = ("" if cycle.opens_on <= site_today()
            else f" Links take answers from {cycle.opens_on.isoformat()}.")
    return saved(f"Cycle {cycle.name} is open; {created} invitations created.{when} "
                  "Send them by email or download the links below.", "admin.cycle_list")


@bp.post("/cycles/<name>/close")
@admin_required
def cycle_close(name: str) -> Page:
    """Close a cycle (links stop accepting answers), after a page that says what follows."""
    cycle = get_or_404(Cycle, name=name)
    confirmation = cycles.close_confirmation(db.session, cycle)
    if confirmation.needed and not confirmed():
        return render_confirmation(confirmation, "admin.cycle_close")
    first_close = cycle.published_at is None
    try:
        cycles.close_cycle(db.session, cycle)
    except ImportProblem as exc:
        return failed(exc.problems, "admin.cycle_list")
    seen = ("board leads now see its results" if first_close
            else "board leads go on seeing the results published before")
    return saved(f"Cycle {cycle.name} is closed: partners can no longer answer, and {seen}.",
                 "admin.cycle_list")


@bp.post("/cycles/<name>/delete")
@admin_required
def cycle_delete(name: str) -> Page:
    """Delete a cycle that was never opened (a mistaken draft), after a confirmation."""
    cycle = get_or_404(Cycle, name=name)
    confirmation = cycles.delete_confirmation(db.session, cycle)
    if confirmation.problem:
        return failed([confirmation.problem[0].upper() + confirmation.problem[1:] + "."],
                      "admin.cycle_list")
    if not confirmed():
        return render_confirmation(confirmation, "admin.cycle_delete")
    cycles.delete_cycle(db.session, cycle)
    return saved(f"Cycle {name} is deleted.", "admin.cycle_list")


# What each reader can do when the server has no email set up (SURVEY_SMTP_URL).
NO_EMAIL_ADMIN = ("Nothing was sent: email is not set up on this server yet. Download the "
                  "links CSV below and send them from your own email, or set up email "
                  "(SURVEY_SMTP_URL, see the README) and send again.")
NO_EMAIL_LEAD = ("Nothing was sent: email is not set up on this site yet. Ask your "
                 "administrator to send the reminders, or to set up email.")


def send_links(recipients: sending.Recipients) -> None:
    """Email fresh links (invitations, or reminders to those who have not submitted) and
    flash the outcome. The mail goes out with no write lock held (see services/sending),
    so the calling view must be @writes_late."""
    settings = mail.MailSettings.from_config(current_app.config)
    if not settings.smtp_url:
        flash(NO_EMAIL_ADMIN if current_user.is_admin else NO_EMAIL_LEAD, "error")
        return
    try:
        summary = sending.send_batch(db.writing, recipients, settings)
    except mail.MailError as exc:
        flash(str(exc), "error")
        return
    if not (summary.sent or summary.failed or summary.skipped_no_email
            or summary.skipped_recent):
        flash("Every member has submitted." if recipients.reminders else mail.NOTHING_TO_SEND,
              "success")
        return
    flash(summary.describe(recipients.reminders).capitalize() + ".",
          "error" if summary.failed else "success")


def _chosen_board(form: SendForm | LinksForm) -> str | None:
    """The board code the form asks for (None: all boards); a board not offered is a 400."""
    form.board.choices = board_choices("All boards")
    if not form.validate():
        abort(400)
    return form.board.data or None


@bp.post("/cycles/<name>/send")
@writes_late  # mail goes out with no write lock held
@admin_required
def cycle_send(name: str) -> Page:
    """Send invitations, or reminders to those who have not submitted, for all or one board."""
    cycle = get_or_404(Cycle, name=name)
    form = SendForm()
    send_links(sending.Recipients(cycle.id, reminders=bool(form.remind.data),
                                  board_code=_chosen_board(form)))
    return redirect(url_for("admin.cycle_list"))


@bp.post("/cycles/<name>/links.csv")
@admin_required
def cycle_links(name: str) -> Page:
    """Every member's fresh link as CSV (POST: each download issues new tokens)."""
    cycle = get_or_404(Cycle, name=name)
    form = LinksForm()
    board_code = _chosen_board(form)
    links = mail.links_to_send(db.session, cycle, board_code, bool(form.reminders.data))
    body = mail.links_csv(links, current_app.config["BASE_URL"])
    audit.record(db.session, "export.download", f"partner links, cycle {cycle.name}",
                 board=board_code or "all", links=len(links))
    db.session.commit()
    filename = f"links-{cycle.name}{'-' + board_code if board_code else ''}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
