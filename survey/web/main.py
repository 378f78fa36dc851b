"""The front page and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from survey.db import db

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Response | str:
    """Staff go to their own home (administrators to administration, state staff to the
    state, leads to their board); everyone else sees what this site is."""
    if current_user.is_authenticated:
        if current_user.is_admin:
            return redirect(url_for("admin.index"))
        if current_user.sees_all_boards:
            return redirect(url_for("dashboards.state"))
        return redirect(url_for("dashboards.board", code=current_user.board_code))
    return render_template("index.html")


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness and database reachability, for load balancers and monitors."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200
