"""Issue 9's reproductions: typed names in charts, login limits, sessions, proxies, reminders."""

from __future__ import annotations

import dataclasses
import re

import pytest

from reports import charts, sample
from reports.charts import base

# --- item 4: a "$" in a name is a dollar sign, not maths ------

MATH_NAMES = (r"$\frac{X9}$", "X10 $x^2$ $$")


@pytest.fixture
def dollar_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sample results whose partnership, sector and board names hold mathtext."""
    renamed = tuple(
        dataclasses.replace(p, name=MATH_NAMES[i % 2], sector=f"{MATH_NAMES[(i + 1) % 2]} {i}")
        for i, p in enumerate(sample._PARTNERSHIPS)
    )
    monkeypatch.setattr(sample, "_PARTNERSHIPS", renamed)
    for code, name in zip(sorted(sample.BOARDS), MATH_NAMES, strict=True):
        monkeypatch.setitem(sample.BOARDS, code, name)
    # Real text in the SVG (not glyph paths), so that the test can read what was drawn.
    monkeypatch.setitem(base._STYLE, "svg.fonttype", "none")


def svg_texts(svg: bytes) -> list[str]:
    """The text runs of an SVG drawn with svg.fonttype none, unescaped."""
    import html

    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg.decode(), re.S)]


@pytest.mark.parametrize("board_code", [None, "01", "02"])
def test_dollar_signs_in_names_are_drawn_literally_in_every_chart(dollar_names, board_code):
    results = sample.sample_results(board_code)
    drawn: set[str] = set()
    for chart in charts.all_charts(results):
        chart.png()
        texts = svg_texts(chart.svg())
        drawn.update(name for name in MATH_NAMES if any(name in text for text in texts))
    # Mathtext would have refused \frac{X9} (a ValueError) and drawn x^2 as a formula.
    assert drawn == set(MATH_NAMES)


def test_dollar_names_appear_literally_in_the_heatmap_and_sector_comparison(dollar_names):
    results = sample.sample_results()
    heatmap = svg_texts(charts.partnership_heatmap(results).svg())
    assert "01 · X10 $x^2$ $$" in heatmap and r"02 · $\frac{X9}$" in heatmap
    boards = svg_texts(charts.board_heatmap(results).svg())
    assert any(r"$\frac{X9}$" in text for text in boards)
    sectors = svg_texts(charts.sector_comparison(results).svg())
    assert any(text.startswith("X10 $x^2$ $$ ") for text in sectors)
