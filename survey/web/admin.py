"""Administration: cycles and invitations, boards, partnerships, rosters, users.

Every page here is for administrators (others get 404), except the board roster page,
where a board lead sees their own members' statuses (never answers) and reminds them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from survey.db import db
from survey.models import (
    PARTNER_TYPE_LABELS,
    Board,
    BoardStatus,
    Cycle,
    CycleStatus,
    Member,
    Partnership,
    Role,
    User,
)
from survey.questionnaire import QuestionnaireError, load_questionnaire
from survey.services import accounts, boards, cycles, mail, rosters
from survey.services.tabular import ImportProblem, read_table
from survey.web.access import require_board, staff_required
from survey.web.staff_forms import (
    BoardNameForm,
    CycleForm,
    LinksForm,
    MemberForm,
    MergeBoardForm,
    MovePartnershipForm,
    PartnershipForm,
    RosterUploadForm,
    SendForm,
    UserForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_required = staff_required(Role.ADMIN)
Page = BaseResponse | str | tuple[str, int]


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"status_labels": mail.STATUS_LABELS, "role_labels": accounts.ROLE_LABELS,
            "partner_type_labels": PARTNER_TYPE_LABELS}


def _get(model: Any, **where: Any) -> Any:
    """One row by its columns, or 404."""
    query = select(model).filter_by(**where)
    return db.session.execute(query).scalar_one_or_none() or abort(404)


def _board_choices(blank: str | None = None, exclude: Board | None = None) -> list[SelectChoice]:
    query = select(Board).where(Board.status == BoardStatus.ACTIVE).order_by(Board.code)
    choices = [SelectChoice(b.code, f"{b.code} {b.name}")
               for b in db.session.execute(query).scalars()
               if exclude is None or b.id != exclude.id]
    return ([SelectChoice("", blank)] if blank is not None else []) + choices


def _questionnaire() -> Any:
    """The content in force; a broken content folder is a problem for the page to show."""
    folder = current_app.config["QUESTIONNAIRES"]
    try:
        return load_questionnaire(folder)
    except QuestionnaireError as exc:
        raise ImportProblem([f"The questionnaire content is broken (run `survey questionnaires "
                             f"check`): {'; '.join(exc.problems[:3])}"]) from exc


def _failed(problems: list[str]) -> None:
    db.session.rollback()
    for problem in problems:
        flash(problem, "error")


def current_cycle() -> Cycle | None:
    """The open cycle opened last; else the cycle that opens last."""
    query = select(Cycle).order_by(
        (Cycle.status == CycleStatus.OPEN).desc(), Cycle.opened_at.desc(), Cycle.opens_on.desc())
    return db.session.execute(query.limit(1)).scalar_one_or_none()


# --- index ------


@bp.get("/")
@admin_required
def index() -> Page:
    """What there is to administer."""
    count = db.session.execute
    counts = {
        "cycles": count(select(func.count(Cycle.id))).scalar_one(),
        "boards": count(select(func.count(Board.id)).where(Board.status == "active")).scalar_one(),
        "partnerships": count(select(func.count(Partnership.id))).scalar_one(),
        "members": count(select(func.count(Member.id)).where(Member.active)).scalar_one(),
        "users": count(select(func.count(User.id)).where(User.active)).scalar_one(),
    }
    return render_template("admin/index.html", counts=counts, cycle=current_cycle())


# --- cycles and invitations ------


def render_cycles(form: CycleForm | None = None, status: int = 200) -> tuple[str, int]:
    send_form, links_form = SendForm(formdata=None), LinksForm(formdata=None)
    send_form.board.choices = links_form.board.choices = _board_choices("All boards")
    all_cycles = cycles.list_cycles(db.session)
    # Invitations are mostly for the open cycle: its panel first, then the newest.
    inviting = sorted((c for c in all_cycles if c.status != CycleStatus.DRAFT),
                      key=lambda c: (c.status != CycleStatus.OPEN, -c.opens_on.toordinal()))
    return render_template(
        "admin/cycles.html", cycles=all_cycles, inviting=inviting,
        form=form or CycleForm(formdata=None), send_form=send_form, links_form=links_form,
        smtp_configured=bool(current_app.config.get("SMTP_URL")),
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
        db.session.rollback()
        form.name.errors = list(form.name.errors) + exc.problems
        return render_cycles(form, 422)
    db.session.commit()
    flash(f"Cycle {cycle.name} created as a draft. Open it to invite the partners.", "success")
    return redirect(url_for("admin.cycle_list"))


@bp.post("/cycles/<name>/open")
@admin_required
def cycle_open(name: str) -> Page:
    """Open a cycle: snapshot the content and create every member's invitation."""
    cycle = _get(Cycle, name=name)
    try:
        created = cycles.open_cycle(db.session, cycle, _questionnaire())
    except ImportProblem as exc:
        _failed(exc.problems)
        return redirect(url_for("admin.cycle_list"))
    db.session.commit()
    flash(f"Cycle {cycle.name} is open; {created} invitations created. "
          "Send them by email or download the links.", "success")
    return redirect(url_for("admin.cycle_list"))


@bp.post("/cycles/<name>/close")
@admin_required
def cycle_close(name: str) -> Page:
    """Close a cycle: links stop accepting answers."""
    cycle = _get(Cycle, name=name)
    try:
        cycles.close_cycle(db.session, cycle)
    except ImportProblem as exc:
        _failed(exc.problems)
    else:
        db.session.commit()
        flash(f"Cycle {cycle.name} is closed.", "success")
    return redirect(url_for("admin.cycle_list"))


def send_links(cycle: Cycle, board_code: str | None, reminders: bool) -> None:
    """Email fresh links (all members, or those who have not submitted) and flash the outcome."""
    settings = mail.MailSettings.from_config(current_app.config)
    if not settings.smtp_url:
        flash("SURVEY_SMTP_URL is not set, so no email can be sent. "
              "Download the links instead.", "error")
        return
    links = mail.links_to_send(db.session, cycle, board_code, reminders,
                               not_emailed=not reminders)
    if not links:
        db.session.rollback()
        flash(mail.NOTHING_TO_SEND if not reminders else "Every member has submitted.",
              "success")
        return
    try:
        summary = mail.send_invitations(db.session, cycle, links, reminders, settings)
    except mail.MailError as exc:
        db.session.commit() if exc.sent else db.session.rollback()
        flash(str(exc), "error")
        return
    db.session.commit()
    flash(summary.describe(reminders).capitalize() + ".",
          "error" if summary.failed else "success")


@bp.post("/cycles/<name>/send")
@admin_required
def cycle_send(name: str) -> Page:
    """Send invitations, or reminders to those who have not submitted, for all or one board."""
    cycle = _get(Cycle, name=name)
    form = SendForm()
    form.board.choices = _board_choices("All boards")
    if not form.validate():
        abort(400)
    send_links(cycle, form.board.data or None, reminders=bool(form.remind.data))
    return redirect(url_for("admin.cycle_list"))


@bp.post("/cycles/<name>/links.csv")
@admin_required
def cycle_links(name: str) -> Page:
    """Every member's fresh link as CSV (POST: each download issues new tokens)."""
    cycle = _get(Cycle, name=name)
    form = LinksForm()
    form.board.choices = _board_choices("All boards")
    if not form.validate():
        abort(400)
    board_code = form.board.data or None
    links = mail.links_to_send(db.session, cycle, board_code, bool(form.reminders.data))
    body = mail.links_csv(links, current_app.config["BASE_URL"])
    db.session.commit()
    filename = f"links-{cycle.name}{'-' + board_code if board_code else ''}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


# --- boards and partnerships ------


@bp.get("/boards")
@admin_required
def board_list() -> Page:
    """Every board with its partnership count."""
    query = (select(Board, func.count(Partnership.id)).outerjoin(Board.partnerships)
             .group_by(Board.id).order_by(Board.code))
    return render_template("admin/boards.html", rows=db.session.execute(query).all())


def render_board(board: Board, status: int = 200, **forms: Any) -> tuple[str, int]:
    merge = forms.get("merge_form") or MergeBoardForm(formdata=None)
    merge.target.choices = _board_choices("Choose a board", exclude=board)
    partnerships = db.session.execute(
        select(Partnership).where(Partnership.board_id == board.id).order_by(Partnership.name)
    ).scalars().all()
    return render_template(
        "admin/board.html", board=board, partnerships=partnerships, merge_form=merge,
        name_form=forms.get("name_form") or BoardNameForm(formdata=None, name=board.name),
        partnership_form=forms.get("partnership_form") or PartnershipForm(formdata=None),
    ), status


@bp.get("/boards/<code>")
@admin_required
def board_detail(code: str) -> Page:
    """One board: rename, retire, merge, its partnerships."""
    return render_board(_get(Board, code=code))


@bp.post("/boards/<code>/rename")
@admin_required
def board_rename(code: str) -> Page:
    board = _get(Board, code=code)
    form = BoardNameForm()
    if not form.validate():
        return render_board(board, 422, name_form=form)
    boards.rename_board(db.session, board, form.name.data)
    db.session.commit()
    flash(f"Board {board.code} is now named {board.name}.", "success")
    return redirect(url_for("admin.board_detail", code=code))


@bp.post("/boards/<code>/<any(retire, reactivate):change>")
@admin_required
def board_status(code: str, change: str) -> Page:
    """Retire a board (its partnerships are no longer invited), or undo that."""
    board = _get(Board, code=code)
    try:
        (boards.retire_board if change == "retire" else boards.reactivate_board)(db.session, board)
    except ImportProblem as exc:
        _failed(exc.problems)
    else:
        db.session.commit()
        flash(f"Board {board.code} is {board.status}.", "success")
    return redirect(url_for("admin.board_detail", code=code))


@bp.post("/boards/<code>/merge")
@admin_required
def board_merge(code: str) -> Page:
    """Merge this board into another: partnerships move; closed cycles keep their board."""
    board = _get(Board, code=code)
    form = MergeBoardForm()
    form.target.choices = _board_choices("Choose a board", exclude=board)
    if not form.validate():
        return render_board(board, 422, merge_form=form)
    target = _get(Board, code=form.target.data)
    try:
        moved = boards.merge_boards(db.session, board, target)
    except ImportProblem as exc:
        _failed(exc.problems)
        return redirect(url_for("admin.board_detail", code=code))
    db.session.commit()
    flash(f"Board {board.code} merged into {target.code}: {moved} partnerships moved.", "success")
    return redirect(url_for("admin.board_detail", code=target.code))


@bp.post("/boards/<code>/partnerships")
@admin_required
def partnership_create(code: str) -> Page:
    """Add a partnership to a board."""
    board = _get(Board, code=code)
    form = PartnershipForm()
    index = rosters.PartnershipIndex(db.session)
    if form.validate() and index.find(board, form.name.data):
        form.name.errors = [f"Board {board.code} already has a partnership of that name."]
    if form.errors:
        return render_board(board, 422, partnership_form=form)
    partnership = index.get_or_create(board, form.name.data, form.sector.data or "")
    db.session.commit()
    flash(f"Partnership {partnership.name} added.", "success")
    return redirect(url_for("admin.partnership_detail", partnership_id=partnership.id))


def render_partnership(partnership: Partnership, status: int = 200, **forms: Any) -> Page:
    move = forms.get("move_form") or MovePartnershipForm(
        formdata=None, board=partnership.board.code)
    move.board.choices = _board_choices()
    cycle = current_cycle()
    members = sorted(partnership.members, key=lambda m: (not m.active, m.name.lower()))
    statuses = mail.member_statuses(db.session, cycle, [m.id for m in members]) if cycle else {}
    return render_template(
        "admin/partnership.html", partnership=partnership, members=members, cycle=cycle,
        statuses=statuses, move_form=move,
        edit_form=forms.get("edit_form") or PartnershipForm(formdata=None, obj=partnership),
        member_form=forms.get("member_form") or MemberForm(formdata=None),
    ), status


@bp.get("/partnerships/<int:partnership_id>")
@admin_required
def partnership_detail(partnership_id: int) -> Page:
    """A partnership: edit, move, and its roster with each member's status."""
    return render_partnership(_get(Partnership, id=partnership_id))


@bp.post("/partnerships/<int:partnership_id>")
@admin_required
def partnership_edit(partnership_id: int) -> Page:
    partnership = _get(Partnership, id=partnership_id)
    form = PartnershipForm()
    if form.validate():
        other = rosters.PartnershipIndex(db.session).find(partnership.board, form.name.data)
        if other is not None and other.id != partnership.id:
            form.name.errors = ["This board already has a partnership of that name."]
    if form.errors:
        return render_partnership(partnership, 422, edit_form=form)
    partnership.name = rosters.clean_text(form.name.data)
    partnership.sector = rosters.clean_text(form.sector.data)
    db.session.commit()
    flash("Partnership saved.", "success")
    return redirect(url_for("admin.partnership_detail", partnership_id=partnership_id))


@bp.post("/partnerships/<int:partnership_id>/move")
@admin_required
def partnership_move(partnership_id: int) -> Page:
    """Move a partnership, with its history, to another board."""
    partnership = _get(Partnership, id=partnership_id)
    form = MovePartnershipForm()
    form.board.choices = _board_choices()
    if not form.validate():
        return render_partnership(partnership, 422, move_form=form)
    try:
        boards.move_partnership(db.session, partnership, _get(Board, code=form.board.data))
    except ImportProblem as exc:
        _failed(exc.problems)
    else:
        db.session.commit()
        flash(f"Partnership moved to board {partnership.board.code}.", "success")
    return redirect(url_for("admin.partnership_detail", partnership_id=partnership_id))


# --- rosters ------


@bp.post("/partnerships/<int:partnership_id>/members")
@admin_required
def member_add(partnership_id: int) -> Page:
    partnership = _get(Partnership, id=partnership_id)
    form = MemberForm()
    if form.validate():
        try:
            rosters.add_member(db.session, partnership, form.name.data, form.email.data or "",
                               form.organization.data or "", form.partner_type.data)
        except ImportProblem as exc:
            db.session.rollback()
            form.email.errors = list(form.email.errors) + exc.problems
    if form.errors:
        return render_partnership(partnership, 422, member_form=form)
    db.session.commit()
    flash(f"{form.name.data} added to the roster.", "success")
    return redirect(url_for("admin.partnership_detail", partnership_id=partnership_id))


@bp.route("/members/<int:member_id>", methods=["GET", "POST"])
@admin_required
def member_edit(member_id: int) -> Page:
    """Edit one member's name, email, organization and partner type."""
    member = _get(Member, id=member_id)
    form = MemberForm(obj=member)
    if form.validate_on_submit():
        try:
            rosters.update_member(db.session, member, form.name.data, form.email.data or "",
                                  form.organization.data or "", form.partner_type.data)
        except ImportProblem as exc:
            db.session.rollback()
            form.email.errors = list(form.email.errors) + exc.problems
        else:
            db.session.commit()
            flash("Member saved.", "success")
            return redirect(url_for("admin.partnership_detail",
                                    partnership_id=member.partnership_id))
    status = 422 if form.errors else 200
    return render_template("admin/member.html", member=member, form=form), status


@bp.post("/members/<int:member_id>/<any(remove, restore):change>")
@admin_required
def member_status(member_id: int, change: str) -> Page:
    """Take a member off the roster (answers are kept), or put them back."""
    member = _get(Member, id=member_id)
    (rosters.remove_member if change == "remove" else rosters.restore_member)(db.session, member)
    db.session.commit()
    flash(f"{member.name} {'removed from' if change == 'remove' else 'restored to'} the roster.",
          "success")
    return redirect(url_for("admin.partnership_detail", partnership_id=member.partnership_id))


@bp.route("/roster/import", methods=["GET", "POST"])
@admin_required
def roster_import() -> Page:
    """Upload a roster (CSV or XLSX): every bad row is shown and nothing is saved."""
    form = RosterUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = read_table(upload.read(), upload.filename or "", rosters.ROSTER_COLUMNS)
            summary = rosters.import_roster(db.session, rows)
        except ImportProblem as exc:
            db.session.rollback()
            problems = exc.problems
        else:
            db.session.commit()
            flash(f"Roster {str(summary)}.", "success")
            return redirect(url_for("admin.roster_import"))
    status = 422 if problems or form.errors else 200
    return render_template("admin/roster_import.html", form=form, problems=problems,
                           columns=rosters.ROSTER_COLUMNS), status


# --- the board roster: statuses for board leads ------


def _board_for_roster(code: str) -> Board:
    if not current_user.is_authenticated:
        abort(404)
    require_board(code)
    return _get(Board, code=code)


@bp.get("/boards/<code>/roster")
@staff_required()
def board_roster(code: str) -> Page:
    """Each member's status in the current cycle (never their answers), by partnership."""
    board = _board_for_roster(code)
    cycle = current_cycle()
    partnerships = db.session.execute(
        select(Partnership).where(Partnership.board_id == board.id, Partnership.active)
        .order_by(Partnership.name)
    ).scalars().all()
    members = {p.id: sorted((m for m in p.members if m.active), key=lambda m: m.name.lower())
               for p in partnerships}
    ids = [m.id for group in members.values() for m in group]
    statuses = mail.member_statuses(db.session, cycle, ids) if cycle else {}
    return render_template(
        "admin/board_roster.html", board=board, cycle=cycle, partnerships=partnerships,
        members=members, statuses=statuses,
        can_remind=bool(cycle and cycle.accepts_answers()),
    )


@bp.post("/boards/<code>/remind")
@staff_required()
def board_remind(code: str) -> Page:
    """Email a reminder to this board's members who have not submitted."""
    board = _board_for_roster(code)
    cycle = current_cycle()
    if cycle is None or not cycle.accepts_answers():
        flash("There is no open cycle to remind anyone about.", "error")
    else:
        send_links(cycle, board.code, reminders=True)
    return redirect(url_for("admin.board_roster", code=board.code))


# --- users ------


def render_users(form: UserForm | None = None, status: int = 200, problems: list[str] | None = None,
                 **shown: Any) -> Page:
    form = form or UserForm(formdata=None)
    form.board.choices = _board_choices("No board")
    return render_template("admin/users.html", users=accounts.list_users(db.session),
                           form=form, problems=problems or [],
                           **shown), status


@bp.get("/users")
@admin_required
def user_list() -> Page:
    """Every account; create, reset a password, deactivate."""
    return render_users()


@bp.post("/users")
@admin_required
def user_create() -> Page:
    """Create an account with a random password, shown once."""
    form = UserForm()
    form.board.choices = _board_choices("No board")
    if form.validate():
        board = _get(Board, code=form.board.data) if form.board.data else None
        password = accounts.random_password()
        try:
            user = accounts.create_user(db.session, form.email.data, password, form.role.data,
                                        board)
        except accounts.AccountError as exc:
            db.session.rollback()
            return render_users(form, 422, problems=[str(exc)])
        db.session.commit()
        return render_users(shown_password=password, shown_user=user)
    return render_users(form, 422)


@bp.post("/users/<int:user_id>/<any(reset, deactivate, reactivate):change>")
@admin_required
def user_change(user_id: int, change: str) -> Page:
    """Reset a password (shown once; sessions end), deactivate or reactivate an account."""
    user = _get(User, id=user_id)
    if change == "reset":
        password = accounts.reset_password(db.session, user)
        db.session.commit()
        return render_users(shown_password=password, shown_user=user)
    try:
        (accounts.deactivate_user if change == "deactivate" else accounts.reactivate_user)(
            db.session, user)
    except accounts.AccountError as exc:
        _failed([str(exc)])
    else:
        db.session.commit()
        flash(f"{user.email} is {'active' if user.active else 'deactivated'}.", "success")
    return redirect(url_for("admin.user_list"))
