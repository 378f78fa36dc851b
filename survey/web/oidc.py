"""Staff sign-in through the agency's identity provider: OpenID Connect (SPEC 17).

Authlib's Flask client does the protocol: the state and nonce it keeps in the session
are checked and used up on the way back, and the ID token's signature, issuer,
audience, expiry and nonce are verified. An account is matched by the provider's
*verified* email; signing in never creates one.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response

from survey.db import db
from survey.services import accounts, audit
from survey.web.staff_forms import ActionForm

log = logging.getLogger(__name__)
bp = Blueprint("oidc", __name__)
EXTENSION = "survey.oidc"
NO_ACCOUNT = ("There is no staff account for {email}. An administrator creates accounts, "
              "with their role and board, before anyone signs in.")


def init_oidc(app: Flask) -> None:
    """Register the provider when SURVEY_OIDC_ISSUER and a client are configured."""
    issuer, client_id = app.config.get("OIDC_ISSUER"), app.config.get("OIDC_CLIENT_ID")
    if not issuer or not client_id:
        return
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)  # one per app: each app may name another provider
    oauth.register(
        "agency", client_id=client_id, client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email", "code_challenge_method": "S256"})
    app.extensions[EXTENSION] = oauth


def enabled(app: Flask | None = None) -> bool:
    """Whether sign-in through the identity provider is configured."""
    return EXTENSION in (app or current_app).extensions


def _client() -> Any:
    if not enabled():
        abort(404)
    return current_app.extensions[EXTENSION].agency


def refused(message: str) -> tuple[str, int]:
    """The sign-in page's look with one line saying why the provider's answer was refused."""
    return render_template("signin/oidc_refused.html", message=message), 403


@bp.post("/login/oidc")
def start() -> Response:
    """Go to the identity provider (a form post with the CSRF token: no login CSRF)."""
    client = _client()
    if not ActionForm().validate_on_submit():
        abort(400)
    redirect_uri = current_app.config["BASE_URL"] + url_for("oidc.callback")
    return client.authorize_redirect(redirect_uri)


@bp.get("/login/oidc/callback")
def callback() -> Response | tuple[str, int]:
    """Back from the provider: check everything, find the account, sign in."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError  # Authlib checks ID tokens with joserfc

    from survey.web.auth import sign_in

    client = _client()
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as exc:
        # a replayed or forged state, a wrong audience, an expired token, a bad nonce
        log.warning("OpenID Connect sign-in refused: %s", exc)
        return refused("The identity provider's answer could not be accepted (it was "
                       "used already, has expired, or was not meant for this site). "
                       "Please sign in again.")
    claims = token.get("userinfo") or {}
    email = str(claims.get("email") or "")
    if not email or claims.get("email_verified") is not True:
        return refused("Your identity provider has not verified your email address, so it "
                       "cannot be matched to a staff account. Ask your IT service desk.")
    with db.writing() as writing:  # a GET (the provider's redirect) that signs in
        user = accounts.find_user(writing, email)
        if user is None or not user.active:
            return refused(NO_ACCOUNT.format(email=email))
        session_token = accounts.start_session(writing, user)
        audit.record(writing, "user.sign_in", user.email, actor=user.email,
                     via="OpenID Connect")
    sign_in(user, session_token)
    return redirect(url_for("main.index"))
