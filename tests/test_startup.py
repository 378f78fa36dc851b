"""Command start-up: building the app and running a light command loads no heavy library.

Every `survey` command pays for what `create_app` imports, so matplotlib, numpy, alembic,
email-validator, WeasyPrint and openpyxl are imported by the functions that use them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("matplotlib", "numpy", "alembic", "email_validator", "weasyprint", "openpyxl")


def test_a_light_command_imports_no_heavy_library(tmp_path):
    env = {**os.environ, "SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.sqlite3'}"}
    survey = str(Path(sys.executable).with_name("survey"))
    init = subprocess.run([survey, "init"], capture_output=True, text=True, env=env)
    assert init.returncode == 0, init.stderr
    code = (
        "import sys\n"
        "from survey.cli import main\n"
        "sys.argv = ['survey', 'cycle', 'list']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_the_heavy_libraries_still_load_where_they_are_used():
    from survey.services.accounts import AccountError, checked_email

    assert checked_email(" Lead@Example.ORG ") == "lead@example.org"
    try:
        checked_email("not an address")
    except AccountError as error:
        assert "is not an email address" in str(error)
    else:
        raise AssertionError("a bad address was accepted")
