"""Stage and change from the figure shown (SPEC 4, revised): a score is classified by its
value rounded to two decimals, half up, so a shown 1.75 is Building and a shown 2.50
Implementing everywhere: pages, charts, workbooks and the PDF. The boundaries
1.745-1.7499 and 2.495-2.4999 are walked through every output, and every coloured figure
is checked against the legend."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess

import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from openpyxl import load_workbook

from reports import charts, palette, report_pdf
from reports.results import Score, shown_value, two_decimals
from reports.sample import sample_results
from reports.workbook import build_workbook

# value -> (as shown, stage): the boundaries of Building and Implementing.
BOUNDARY = {
    1.7449: ("1.74", "Exploring"),
    1.7449999999999999: ("1.75", "Building"),  # the float just below 1.745; f"{:.2f}" says 1.74
    1.745: ("1.75", "Building"),
    1.7499: ("1.75", "Building"),
    1.75: ("1.75", "Building"),
    2.4949: ("2.49", "Building"),
    2.4949999999999997: ("2.50", "Implementing"),
    2.495: ("2.50", "Implementing"),
    2.4999: ("2.50", "Implementing"),
    2.5: ("2.50", "Implementing"),
}
FIRST, SECOND = list(BOUNDARY)[:6], [*list(BOUNDARY)[6:], 1.7449, 1.745]
OVERALLS = (2.4999, 1.745)  # Implementing and Building, as shown


@pytest.fixture(scope="module")
def results():
    """Board 01's sample results with boundary scores in its two partnerships."""
    sample = sample_results("01")
    keys = [e.key for e in sample.elements]
    partnerships = []
    for p, values, total in zip(sample.partnerships, (FIRST, SECOND), OVERALLS, strict=True):
        elements = {key: Score(value, 6) for key, value in zip(keys, values, strict=True)}
        overall = Score(total, 6)  # an overall at a boundary too
        partnerships.append(dataclasses.replace(
            p, elements=elements, overall=overall, stage=sample.scale.stage(overall.value)))
    return dataclasses.replace(sample, partnerships=tuple(partnerships), changes=())


def test_the_scale_reads_the_figure_shown(results):
    scale = results.scale
    for value, (text, label) in BOUNDARY.items():
        assert two_decimals(value) == text, value
        assert scale.stage(value).label == label, value
        assert scale.stage(value).min_score <= shown_value(value)


@pytest.mark.parametrize(("delta", "status"), [
    (0.245, "improved"), (0.2449999999999999, "improved"), (0.2449, "no change"),
    (0.25, "improved"), (2.75 - 2.5, "improved"), (-0.245, "declined"), (-0.2449, "no change"),
])
def test_change_status_reads_the_delta_shown(results, delta, status):
    assert results.scale.change_status(delta, 1.9) == status


def stage_of_text(results, text: str):
    """The stage the legend gives a figure as printed."""
    return results.scale.stage(float(text))


def test_pages_colour_each_figure_as_its_legend_says(app, results):
    with app.app_context():
        macros = app.jinja_env.get_template("dashboards/_macros.html").module
        for value, (text, label) in BOUNDARY.items():
            cell = str(macros.stage_score_td(Score(value, 6), results.scale))
            level = results.scale.stage(value).value
            assert f"stage-{level}" in cell and f">{text}<" in cell and f"({label})" in cell
            assert str(macros.score(Score(value, 6))).strip() == text


def test_charts_colour_each_figure_as_its_legend_says(results):
    chart = charts.partnership_heatmap(results, board_code="01")
    figure = Figure(figsize=chart.size)
    chart.draw(figure)
    ax = figure.axes[0]
    cells = {(p.get_x(), p.get_y()): p.get_facecolor() for p in ax.patches
             if isinstance(p, Rectangle)}
    seen = []
    for label in ax.texts:
        text = label.get_text()
        if not re.fullmatch(r"\d\.\d\d", text):
            continue
        x, y = label.get_position()
        stage = stage_of_text(results, text)
        assert cells[(x - 0.5, y - 0.5)] == to_rgba(palette.stage_color(stage.value)), text
        seen.append(text)
    assert {"1.74", "1.75", "2.49", "2.50"} <= set(seen)
    rows = {row[0]: row for row in chart.rows}
    assert rows  # the data table prints the same figures the cells show
    printed = [v for row in chart.rows for v in row if isinstance(v, str)]
    assert all(not re.fullmatch(r"1\.7449\d*|2\.4999", v) for v in printed)


def test_workbook_cells_are_filled_as_their_legend_says(results):
    workbook = load_workbook(io.BytesIO(build_workbook(results)))
    ws = workbook["Partnerships"]
    headers = [c.value for c in ws[1]]
    titles = [e.title for e in results.elements]
    checked = 0
    for row in ws.iter_rows(min_row=2):
        for header, cell in zip(headers, row, strict=False):
            if header not in (*titles, "Overall") or not isinstance(cell.value, float):
                continue
            stage = results.scale.stage(cell.value)
            # Excel shows the unrounded value at 0.00; its fill is the stage of that figure.
            assert cell.number_format == "0.00"
            assert cell.fill.fgColor.rgb.endswith(palette.stage_color(stage.value)[1:].upper())
            checked += 1
        by = dict(zip(headers, (c.value for c in row), strict=False))
        if by["Partnership"] == results.partnerships[0].label:
            assert by["Stage"] == "Implementing"  # overall 2.4999, shown 2.50
    assert checked >= 14


def test_the_pdf_prints_each_figure_with_the_stage_its_legend_gives(results, tmp_path):
    html = report_pdf.render_html(report_pdf.report_data(results))
    # Each score row: score, margin, n, agreement, then the stage (SPEC 15 added the two).
    rows = re.findall(
        r'<td class="num">(\d\.\d\d)</td>\s*<td class="num">[^<]*</td><td class="num">\d+</td>'
        r'\s*<td>[^<]*</td><td><span class="stage stage-(\d)">', html)
    assert len(rows) >= 6
    for text, stage in rows:
        assert stage_of_text(results, text).value == int(stage), text
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_pdf.build_report(results))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    lines = [" ".join(line.split()) for line in text.splitlines()]
    # The first partnership's table (the second has too few respondents to be shown).
    first, second, last = (results.elements[i].title for i in (0, 1, 5))
    assert any(line.startswith(f"{first} 1.74 – 6 – Exploring") for line in lines)  # 1.7449
    assert any(line.startswith(f"{second} 1.75 – 6 – Building") for line in lines)  # 1.74499..
    assert any(line.startswith(f"{last} 2.49 – 6 – Building") for line in lines)  # 2.4949
    assert any(re.match(r"Overall 2\.50 .*Implementing", line) or
               "Overall 2.50 · stage Implementing" in line for line in lines)
