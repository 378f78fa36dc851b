"""Who may see what: the login manager, role checks and board confinement."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, session
from flask_login import LoginManager, UserMixin, current_user

from survey.db import db
from survey.models import Role, User
from survey.services.accounts import session_user

login_manager = LoginManager()
SESSION_TOKEN_KEY = "staff_session"  # the cookie's server-side session token (staff_sessions)
F = TypeVar("F", bound=Callable[..., Any])


class StaffUser(UserMixin):
    """The logged-in account as Flask-Login sees it (a detached, read-only view)."""

    def __init__(self, user: User, board_code: str | None) -> None:
        self.id = f"{user.id}:{user.session_version}"
        self.user_id = user.id
        self.email = user.email
        self.role = user.role
        self.board_id = user.board_id
        self.board_code = board_code

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def sees_all_boards(self) -> bool:
        return self.role in (Role.ADMIN, Role.STATE)

    def can_see_board(self, board_code: str) -> bool:
        """State staff and administrators see every board; a board lead only their own."""
        return self.sees_all_boards or board_code == self.board_code


def init_login(app: Flask) -> None:
    """Bind Flask-Login: sessions name the user and their session version."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(session_id: str) -> StaffUser | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    # Only a session recorded at sign-in and not yet revoked (logout, password reset)
    # opens pages: a copied cookie dies with the session it copied.
    user = session_user(db.session, int(user_id), session.get(SESSION_TOKEN_KEY))
    if user is None or user.session_version != int(version):
        return None
    return StaffUser(user, user.board.code if user.board else None)


def staff_required(*roles: str) -> Callable[[F], F]:
    """Require a signed-in staff account, optionally of one of these roles (else 404)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def require_board(board_code: str) -> None:
    """404 unless the current user may see this board (a board lead only their own)."""
    if not current_user.is_authenticated or not current_user.can_see_board(board_code):
        abort(404)
