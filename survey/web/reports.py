"""The maturity report as PDF (SPEC 12): /reports/<cycle>.pdf and /reports/<cycle>/<code>.pdf."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__)
