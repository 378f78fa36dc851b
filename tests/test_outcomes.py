"""Outcomes (SPEC 16): measures as content, entered on the partnership page by the lead
board's lead or imported by state staff, shown beside maturity with change since the
last cycle, in the workbook's Outcomes sheet and the PDF."""

from __future__ import annotations

import html
import re
import shutil

from survey.outcome_measures import load_measures
from tests.test_questionnaire import SHIPPED, run

PASSWORD = "correct horse battery"
HEADER = ["board", "partnership", "measure", "value", "source"]


def text_of(response) -> str:
    body = response.get_data(as_text=True)
    main = body[body.index("<main"):body.index("</main>")] if "<main" in body else body
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def test_the_shipped_measures_load_with_spanish_labels():
    measures = {m.key: m for m in load_measures(SHIPPED)}
    assert list(measures) == ["employers_engaged", "job_seekers_trained", "credentials_earned",
                              "placements", "median_wage", "retention_6_months"]
    assert measures["median_wage"].unit == "money"
    assert measures["retention_6_months"].unit == "percent"
    assert measures["placements"].label_in("es") == "Colocaciones laborales"
    assert measures["placements"].label_in("en") == "Placements"


def test_check_names_file_measure_and_problem(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(SHIPPED, folder)
    text = (folder / "outcomes.yaml").read_text(encoding="utf-8")
    text = text.replace("unit: money", "unit: euros").replace(
        "key: placements", "key: employers_engaged")
    (folder / "outcomes.yaml").write_text(text, encoding="utf-8")
    spanish = (folder / "es" / "outcomes.yaml").read_text(encoding="utf-8")
    (folder / "es" / "outcomes.yaml").write_text(
        spanish.replace("  credentials_earned:", "  credentials:"), encoding="utf-8")
    result = run(folder, "check")
    assert result.exit_code == 1
    out = result.output
    assert "outcomes.yaml: measure 'employers_engaged': duplicate key" in out
    assert "outcomes.yaml: measure 'median_wage': unit must be one of count, money, " \
        "percent, not 'euros'" in out
    assert "es/outcomes.yaml: measure 'credentials': extra, no such measure in English" in out
    assert "es/outcomes.yaml: measure 'credentials_earned': missing translation" in out
