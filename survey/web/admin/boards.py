"""Boards (rename, retire, merge) and their partnerships (create, edit, move)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from sqlalchemy import func, select

from survey.db import db
from survey.models import Board, Partnership
from survey.services import audit, boards, mail, rosters
from survey.services import partnerships as shared
from survey.services.tabular import ImportProblem
from survey.web.admin.blueprint import (
    Page,
    admin_required,
    board_choices,
    bp,
    current_cycle,
    failed,
    get_or_404,
    saved,
)
from survey.web.staff_forms import (
    BoardNameForm,
    MemberForm,
    MergeBoardForm,
    MovePartnershipForm,
    PartnershipForm,
)

# --- boards ------


@bp.get("/boards")
@admin_required
def board_list() -> Page:
    """Every board with its partnership count."""
    query = (select(Board, func.count(Partnership.id)).outerjoin(Board.partnerships)
             .group_by(Board.id).order_by(Board.code))
    return render_template("admin/boards.html", rows=db.session.execute(query).all())


def render_board(board: Board, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The board page; `forms` holds the submitted form to show again with its errors."""
    merge = forms.get("merge_form") or MergeBoardForm(formdata=None)
    merge.target.choices = board_choices("Choose a board", exclude=board)
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
    return render_board(get_or_404(Board, code=code))


@bp.post("/boards/<code>/rename")
@admin_required
def board_rename(code: str) -> Page:
    """Give a board a new name."""
    board = get_or_404(Board, code=code)
    form = BoardNameForm()
    if not form.validate():
        return render_board(board, 422, name_form=form)
    boards.rename_board(db.session, board, form.name.data)
    return saved(f"Board {board.code} is now named {board.name}.",
                  "admin.board_detail", code=code)


@bp.post("/boards/<code>/<any(retire, reactivate):change>")
@admin_required
def board_status(code: str, change: str) -> Page:
    """Retire a board (its partnerships are no longer invited), or undo that."""
    board = get_or_404(Board, code=code)
    try:
        (boards.retire_board if change == "retire" else boards.reactivate_board)(db.session, board)
    except ImportProblem as exc:
        return failed(exc.problems, "admin.board_detail", code=code)
    return saved(f"Board {board.code} is {board.status}.", "admin.board_detail", code=code)


@bp.post("/boards/<code>/merge")
@admin_required
def board_merge(code: str) -> Page:
    """Merge this board into another: partnerships move; closed cycles keep their board."""
    board = get_or_404(Board, code=code)
    form = MergeBoardForm()
    form.target.choices = board_choices("Choose a board", exclude=board)
    if not form.validate():
        return render_board(board, 422, merge_form=form)
    target = get_or_404(Board, code=form.target.data)
    try:
        moved = boards.merge_boards(db.session, board, target)
    except ImportProblem as exc:
        return failed(exc.problems, "admin.board_detail", code=code)
    return saved(f"Board {board.code} merged into {target.code}: {moved} partnerships moved.",
                  "admin.board_detail", code=target.code)


# --- partnerships ------


@bp.post("/boards/<code>/partnerships")
@admin_required
def partnership_create(code: str) -> Page:
    """Add a partnership to a board."""
    board = get_or_404(Board, code=code)
    form = PartnershipForm()
    index = rosters.PartnershipIndex(db.session)
    if form.validate() and index.find(board, form.name.data):
        form.name.errors = [f"Board {board.code} already has a partnership of that name."]
    also = _also_boards(form, board)
    if form.errors:
        return render_board(board, 422, partnership_form=form)
    partnership = index.get_or_create(board, form.name.data, form.sector.data or "")
    db.session.flush()
    shared.set_participating_boards(db.session, partnership, also)
    audit.record(db.session, "partnership.create", f"partnership {partnership.id} "
                 f"{partnership.name}", board=board.code, sector=partnership.sector)
    db.session.commit()  # before url_for: the new partnership gets its id here
    flash(f"Partnership {partnership.name} added.", "success")
    return redirect(url_for("admin.partnership_detail", partnership_id=partnership.id))


def _also_boards(form: PartnershipForm, lead: Board) -> list[Board]:
    """The participating boards typed on the form; problems go under the field."""
    try:
        return shared.check_also_boards(db.session, lead, form.also_boards.data or "")
    except ImportProblem as exc:
        form.also_boards.errors = list(form.also_boards.errors) + [
            p[0].upper() + p[1:] + "." for p in exc.problems]
        return []


def render_partnership(partnership: Partnership, status: int = 200, **forms: Any) -> Page:
    """The partnership page; `forms` holds the submitted form to show again with its errors."""
    move = forms.get("move_form") or MovePartnershipForm(
        formdata=None, board=partnership.board.code)
    move.board.choices = board_choices()
    cycle = current_cycle()
    members = sorted(partnership.members, key=lambda m: (not m.active, m.name.lower()))
    statuses = mail.member_statuses(db.session, cycle, [m.id for m in members]) if cycle else {}
    return render_template(
        "admin/partnership.html", partnership=partnership, members=members, cycle=cycle,
        statuses=statuses, move_form=move,
        edit_form=forms.get("edit_form") or PartnershipForm(
            formdata=None, obj=partnership,
            also_boards=" ".join(b.code for b in partnership.shared_with)),
        member_form=forms.get("member_form") or MemberForm(formdata=None),
    ), status


@bp.get("/partnerships/<int:partnership_id>")
@admin_required
def partnership_detail(partnership_id: int) -> Page:
    """A partnership: edit, move, and its roster with each member's status."""
    return render_partnership(get_or_404(Partnership, id=partnership_id))


@bp.post("/partnerships/<int:partnership_id>")
@admin_required
def partnership_edit(partnership_id: int) -> Page:
    """Rename a partnership or change its sector."""
    partnership = get_or_404(Partnership, id=partnership_id)
    form = PartnershipForm()
    if form.validate():
        other = rosters.PartnershipIndex(db.session).find(partnership.board, form.name.data)
        if other is not None and other.id != partnership.id:
            form.name.errors = ["This board already has a partnership of that name."]
    also = _also_boards(form, partnership.board)
    if form.errors:
        return render_partnership(partnership, 422, edit_form=form)
    before = {"name": partnership.name, "sector": partnership.sector,
              "also_boards": " ".join(b.code for b in partnership.shared_with)}
    partnership.name = rosters.clean_text(form.name.data)
    partnership.sector = rosters.clean_text(form.sector.data)
    shared.set_participating_boards(db.session, partnership, also)
    audit.record(db.session, "partnership.edit", f"partnership {partnership.id} "
                 f"{partnership.name}", before=before,
                 after={"name": partnership.name, "sector": partnership.sector,
                        "also_boards": " ".join(b.code for b in also)})
    return saved("Partnership saved.", "admin.partnership_detail", partnership_id=partnership_id)


@bp.post("/partnerships/<int:partnership_id>/move")
@admin_required
def partnership_move(partnership_id: int) -> Page:
    """Move a partnership, with its history, to another board."""
    partnership = get_or_404(Partnership, id=partnership_id)
    form = MovePartnershipForm()
    form.board.choices = board_choices()
    if not form.validate():
        return render_partnership(partnership, 422, move_form=form)
    try:
        boards.move_partnership(db.session, partnership, get_or_404(Board, code=form.board.data))
    except ImportProblem as exc:
        return failed(exc.problems, "admin.partnership_detail", partnership_id=partnership_id)
    return saved(f"Partnership moved to board {partnership.board.code}.",
                  "admin.partnership_detail", partnership_id=partnership_id)
