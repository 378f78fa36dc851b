"""Web layer: thin views grouped in blueprints."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Register every blueprint of the web layer."""
    from survey.web import admin, auth, dashboards, downloads, main, partner

    app.register_blueprint(main.bp)  # /, /healthz
    app.register_blueprint(partner.bp)  # /s/<token>
    app.register_blueprint(auth.bp)  # /login, /logout, /account/password
    app.register_blueprint(dashboards.bp)  # /state, /boards/<code>, /partnerships/<id>
    app.register_blueprint(downloads.bp)  # /charts/..., /exports/...
    app.register_blueprint(admin.bp)  # /admin/...
    from survey.web import partner_results, plans, reports

    app.register_blueprint(partner_results.bp)  # /s/<token>/results
    app.register_blueprint(plans.bp)  # /partnerships/<id>/plan
    app.register_blueprint(reports.bp)  # /reports/<cycle>.pdf, /reports/<cycle>/<code>.pdf
    from survey.web import oidc, password_reset, second_factor

    oidc.init_oidc(app)
    app.register_blueprint(oidc.bp)  # /login/oidc (SPEC 17)

    app.register_blueprint(password_reset.bp)  # /login/reset (SPEC 17)
    app.register_blueprint(second_factor.bp)  # /login/code, /login/enrol, /account/second-factor
    from survey.api import views as api
    from survey.web import api_tokens

    app.register_blueprint(api_tokens.bp)  # /account/tokens

    api.init_api(app)
    app.register_blueprint(api.bp)  # /api/v1/ (SPEC 17)

    register_filters(app)


def register_filters(app: Flask) -> None:
    """Template filters every page shares: `score` prints a figure as people read it (two
    decimals, half up, the same rounding its stage colour is taken from, SPEC 4)."""
    from reports.results import two_decimals

    app.jinja_env.filters["score2"] = two_decimals
