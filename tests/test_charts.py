"""Charts: valid PNG and SVG, deterministic, honest about suppressed figures."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from reports import charts
from reports.results import STATE_SCOPE, Score
from reports.sample import sample_results

STATE_CHARTS = [
    lambda r: charts.radar(r),
    lambda r: charts.radar(r, board_code="01"),
    lambda r: charts.radar(r, partnership_id=11),
    lambda r: charts.board_heatmap(r),
    lambda r: charts.partnership_heatmap(r),
    lambda r: charts.partnership_heatmap(r, board_code="02"),
    lambda r: charts.level_distribution(r),
    lambda r: charts.level_distribution(r, partnership_id=21),
    lambda r: charts.partner_types(r),
    lambda r: charts.partner_types(r, "01"),
    lambda r: charts.industry_gap(r),
    lambda r: charts.change(r, STATE_SCOPE),
    lambda r: charts.change(r, "12"),
    lambda r: charts.sector_comparison(r),
]


@pytest.fixture(scope="module")
def results():
    return sample_results()


def _check_png(data: bytes) -> None:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 5_000
    from matplotlib.image import imread

    image = imread(io.BytesIO(data), format="png")
    assert image.shape[0] > 200 and image.shape[1] > 300


def _check_svg(data: bytes) -> None:
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize("make", STATE_CHARTS)
def test_chart_renders_png_and_svg(results, make):
    chart = make(results)
    _check_png(chart.png())
    _check_svg(chart.svg())
    assert chart.title and chart.description and chart.rows
    assert all(len(row) == len(chart.columns) for row in chart.rows)


def test_same_input_gives_same_bytes(results):
    first, second = charts.radar(results, board_code="01"), charts.radar(sample_results(), "01")
    assert first.svg() == second.svg()
    assert first.png() == second.png()


def test_description_names_the_figures(results):
    radar = charts.radar(results)
    assert f"{results.state.overall.value:.2f}" in radar.description
    assert results.state.stage.label in radar.description
    heatmap = charts.board_heatmap(results)
    best = max(results.boards, key=lambda b: b.overall.value)
    assert f"{best.overall.value:.2f}" in heatmap.description
    gap = charts.industry_gap(results)
    widest = max((g for g in results.gaps if g.scope == STATE_SCOPE), key=lambda g: abs(g.gap))
    assert f"{widest.gap:+.2f}" in gap.description


def test_suppressed_values_never_appear_as_numbers(results):
    suppressed = next(p for p in results.partnerships if p.overall.suppressed)
    heatmap = charts.partnership_heatmap(results)
    row = next(r for r in heatmap.rows if suppressed.label in r[0])
    assert set(row[1:]) == {"suppressed"}
    radar = charts.radar(results, partnership_id=suppressed.key)
    assert {r[-1] for r in radar.rows} == {"suppressed"}
    assert "suppressed" in radar.description
    types = charts.partner_types(results)
    for result in results.partner_types:
        if result.scope != STATE_SCOPE:
            continue
        row = next(r for r in types.rows if r[0] == result.partner_type_label)
        for element, cell in zip(results.elements, row[2:], strict=True):
            assert (cell == "suppressed") == result.elements[element.key].suppressed
    change = charts.change(results, suppressed.key)
    assert all(cell == "suppressed" for row in change.rows for cell in row[1:])


def test_all_charts_have_unique_file_safe_names(results):
    for scope in (results, sample_results("01")):
        names = [c.name for c in charts.all_charts(scope)]
        assert len(names) == len(set(names))
        assert all(n.replace("-", "").isalnum() and n == n.lower() for n in names)
    board_names = [c.name for c in charts.all_charts(sample_results("01"))]
    assert "radar-partnership-11" in board_names and "change-partnership-12" in board_names
    assert "board-heatmap" not in board_names


def test_unknown_scope_is_a_clear_error(results):
    with pytest.raises(KeyError, match="99"):
        charts.radar(results, board_code="99")
    with pytest.raises(KeyError, match="999"):
        charts.radar(results, partnership_id=999)
    with pytest.raises(KeyError, match="nowhere"):
        charts.partner_types(results, "nowhere")
    with pytest.raises(KeyError, match="nowhere"):
        charts.change(results, "nowhere")
    with pytest.raises(ValueError, match="not in board"):
        charts.radar(results, board_code="02", partnership_id=11)


def test_empty_results_give_a_no_data_chart(results):
    empty_scope = replace(
        results.state,
        elements={k: Score(None, 0) for k in results.state.elements},
        overall=Score(None, 0), stage=None, responded=0,
    )
    empty = replace(results, state=empty_scope, boards=(), sectors=(), partnerships=(),
                    item_results=(), partner_types=(), gaps=(), changes=(), responses=(),
                    trends=())
    made = charts.all_charts(empty)
    assert made
    for chart in made:
        _check_png(chart.png())
        _check_svg(chart.svg())
        assert "no submitted responses yet" in chart.description.lower()


def test_reports_imports_neither_flask_nor_sqlalchemy():
    code = ("import sys, reports.charts, reports.workbook, reports.sample; "
            "bad = {'flask', 'sqlalchemy', 'matplotlib.pyplot'} & set(sys.modules); "
            "assert not bad, bad; "
            "assert not any(m == 'survey' or m.startswith('survey.') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_markdown_index_escapes_typed_text():
    """A partnership named with Markdown or table syntax cannot break the page."""
    from reports.charts import Chart, markdown_index

    chart = Chart(name="c", title="Scores | *bold*", description="line one\nline two",
                  columns=("Partnership", "Score"), rows=(("A|B <script>", "2.00"),),
                  draw=lambda figure: None)
    text = markdown_index([chart], "Charts")
    assert "## Scores \\| \\*bold\\*" in text
    assert "| A\\|B \\<script\\> | 2.00 |" in text
    assert "line one line two" in text
