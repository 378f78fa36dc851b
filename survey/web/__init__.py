"""Web layer: thin views grouped in blueprints."""

from __future__ import annotations

import importlib

from flask import Flask

# Each module defines `bp`; listed here so a newcomer sees every URL family at once.
BLUEPRINT_MODULES = (
    "survey.web.main",  # /, /healthz
    "survey.web.partner",  # /s/<token>
    "survey.web.auth",  # /login, /logout, /account/password
    "survey.web.dashboards",  # /state, /boards/<code>, /partnerships/<id>
    "survey.web.downloads",  # /charts/..., /exports/...
    "survey.web.admin",  # /admin/...
)


def register_blueprints(app: Flask) -> None:
    """Register every blueprint of the web layer."""
    for name in BLUEPRINT_MODULES:
        try:  # TEMPORARY while the tree is being built: tolerate modules not written yet
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        app.register_blueprint(module.bp)
