"""Rosters: a partnership's members, roster import, and a board lead's roster page."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError

from survey.config import site_today
from survey.db import database_fault, database_problem, db, writes_late
from survey.models import Board, Member, Partnership, Role
from survey.services import audit, mail, rosters, sending
from survey.services.invitations import shared_with_board
from survey.services.tabular import WEB_LIMITS, ImportProblem, iter_table
from survey.web.access import require_board, staff_required
from survey.web.admin.blueprint import (
    Page,
    admin_required,
    bp,
    current_cycle,
    failed_field,
    get_or_404,
    saved,
)
from survey.web.admin.boards import render_partnership
from survey.web.admin.cycles import send_links
from survey.web.faults import log_database_fault
from survey.web.staff_forms import MemberForm, RemindForm, RosterUploadForm

# --- members of a partnership ------


def _member_details(form: MemberForm) -> tuple[str, str, str, str]:
    """Name, email, organization and partner type, as the roster services take them."""
    return (form.name.data, form.email.data or "", form.organization.data or "",
            form.partner_type.data)


def _member_target(member: Member) -> str:
    """How the audit log names a member: id, name and partnership (not the email)."""
    return f"member {member.id} {member.name} (partnership {member.partnership_id})"


@bp.post("/partnerships/<int:partnership_id>/members")
@admin_required
def member_add(partnership_id: int) -> Page:
    """Add a member to a partnership's roster."""
    partnership = get_or_404(Partnership, id=partnership_id)
    form = MemberForm()
    if form.validate():
        try:
            member = rosters.add_member(db.session, partnership, *_member_details(form))
            audit.record(db.session, "member.add", _member_target(member))
        except ImportProblem as exc:
            failed_field(form.email, exc.problems)
    if form.errors:
        return render_partnership(partnership, 422, member_form=form)
    return saved(f"{form.name.data} added to the roster.",
                  "admin.partnership_detail", partnership_id=partnership_id)


@bp.route("/members/<int:member_id>", methods=["GET", "POST"])
@admin_required
def member_edit(member_id: int) -> Page:
    """Edit one member's name, email, organization and partner type."""
    member = get_or_404(Member, id=member_id)
    form = MemberForm(obj=member)
    if form.validate_on_submit():
        try:
            rosters.update_member(db.session, member, *_member_details(form))
            audit.record(db.session, "member.edit", _member_target(member))
        except ImportProblem as exc:
            failed_field(form.email, exc.problems)
        else:
            return saved("Member saved.",
                          "admin.partnership_detail", partnership_id=member.partnership_id)
    status = 422 if form.errors else 200
    return render_template("admin/member.html", member=member, form=form), status


@bp.post("/members/<int:member_id>/<any(remove, restore):change>")
@admin_required
def member_status(member_id: int, change: str) -> Page:
    """Take a member off the roster (answers are kept), or put them back."""
    member = get_or_404(Member, id=member_id)
    (rosters.remove_member if change == "remove" else rosters.restore_member)(db.session, member)
    audit.record(db.session, f"member.{change}", _member_target(member))
    return saved(
        f"{member.name} {'removed from' if change == 'remove' else 'restored to'} the roster.",
        "admin.partnership_detail", partnership_id=member.partnership_id)


# --- roster import ------


@bp.route("/roster/import", methods=["GET", "POST"])
@writes_late
@admin_required
def roster_import() -> Page:
    """Upload a roster (CSV or XLSX): every bad row is shown and nothing is saved.

    The file is read (bounded: WEB_LIMITS) and checked without the write lock, so
    partners keep saving meanwhile; only the writes, in db.writing(), hold it.
    """
    form = RosterUploadForm()
    problems: list[str] = []
    fault = None  # the database full or unavailable: a 503 that says so
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = iter_table(upload.read(), upload.filename or "", rosters.ROSTER_COLUMNS,
                              WEB_LIMITS)
            plan = rosters.check_roster(db.session, rows)
            with db.writing() as session:
                summary = rosters.write_roster(session, plan)
        except ImportProblem as exc:
            db.session.rollback()
            problems = exc.problems
        except DBAPIError as exc:
            db.session.rollback()
            problems = [database_problem(exc)]
            fault = database_fault(exc)
            if fault is not None:
                log_database_fault(exc, fault)
        else:
            return saved(f"Roster {str(summary)}.", "admin.roster_import")
    status = 503 if fault else 422 if problems or form.errors else 200
    return render_template("admin/roster_import.html", form=form, problems=problems,
                           columns=rosters.ROSTER_COLUMNS), status


# --- the board roster: statuses for board leads ------


def _board_for_roster(code: str) -> Board:
    if not current_user.is_authenticated:
        abort(404)
    require_board(code)
    return get_or_404(Board, code=code)


@bp.get("/boards/<code>/roster")
@staff_required()
def board_roster(code: str) -> Page:
    """Each member's status in the current cycle (never their answers), by partnership."""
    board = _board_for_roster(code)
    cycle = current_cycle()
    partnerships = db.session.execute(
        select(Partnership).where(or_(Partnership.board_id == board.id,  # and shared ones
                                      Partnership.id.in_(shared_with_board(board.code))),
                                  Partnership.active)
        .order_by(Partnership.name)
    ).scalars().all()
    members = {p.id: sorted((m for m in p.members if m.active), key=lambda m: m.name.lower())
               for p in partnerships}
    ids = [m.id for group in members.values() for m in group]
    statuses = mail.member_statuses(db.session, cycle, ids) if cycle else {}
    # A lead cannot download links, so without email there is nothing for them to press.
    remindable = bool(cycle and cycle.accepts_answers(site_today())) and _may_remind(board)
    email_ready = bool(current_app.config.get("SMTP_URL"))
    return render_template(
        "admin/board_roster.html", board=board, cycle=cycle, partnerships=partnerships,
        members=members, statuses=statuses,
        can_remind=remindable and (email_ready or current_user.is_admin),
        no_email=remindable and not email_ready and not current_user.is_admin,
        remind_note=sending.THROTTLE_NOTE,
    )


def _on_board(board: Board, partnership_id: int) -> bool:
    """Whether a partnership is the board's own or shared with it (SPEC 16)."""
    partnership = db.session.get(Partnership, partnership_id)
    return partnership is not None and (
        partnership.board_id == board.id or any(b.id == board.id
                                                for b in partnership.shared_with))


def _may_remind(board: Board) -> bool:
    """Administrators and the board's own lead send reminders; state staff only look."""
    return current_user.is_admin or (current_user.role == Role.BOARD
                                     and current_user.board_code == board.code)


def _remind_target(board: Board, form: RemindForm) -> tuple[int | None, int | None]:
    """The partnership and member ids the form names (None: all); 404 outside the board."""
    partnership_id = int(form.partnership.data) if form.partnership.data else None
    member_id = int(form.member.data) if form.member.data else None
    if partnership_id is not None and not _on_board(board, partnership_id):
        abort(404)
    if member_id is not None:
        member = get_or_404(Member, id=member_id)
        if not _on_board(board, member.partnership_id):
            abort(404)
    return partnership_id, member_id


@bp.post("/boards/<code>/remind")
@writes_late  # mail goes out with no write lock held
@staff_required(Role.ADMIN, Role.BOARD)
def board_remind(code: str) -> Page:
    """Email a reminder to this board's members who have not submitted: all of them, one
    partnership's or one member (each member at most once every 24 hours)."""
    board = _board_for_roster(code)
    form = RemindForm()
    if not form.validate():
        abort(400)
    partnership_id, member_id = _remind_target(board, form)
    cycle = current_cycle()
    if cycle is None or not cycle.accepts_answers(site_today()):
        flash("There is no open cycle to remind anyone about.", "error")
    else:
        send_links(sending.Recipients(cycle.id, reminders=True, board_code=board.code,
                                      partnership_id=partnership_id, member_id=member_id))
    return redirect(url_for("admin.board_roster", code=board.code))
