"""What every chart shares: the Chart record and its rendering, styling, cell text, scopes.

matplotlib's object API in, PNG and SVG bytes out. Never import pyplot here: it keeps
global state.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import matplotlib
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from reports import palette
from reports.results import STATE_SCOPE, CycleResults, ScopeResult, Score, two_decimals

SUPPRESSED = "suppressed"
NO_DATA = "–"
NO_RESPONSES = "No submitted responses yet"
# Control characters XML 1.0 cannot hold; one typed into a name would make the SVG unreadable.
_NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# Applied while drawing and saving only (rc_context), so nothing global changes.
_STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "hatch.color": "#7F7F7F",
    "hatch.linewidth": 0.8,
    "svg.hashsalt": "sector-survey",  # stable ids: same input, same bytes
    "svg.fonttype": "path",
    # Names are typed by people: a "$" must be drawn as a dollar, never parsed as maths.
    "text.parse_math": False,
}

Draw = Callable[[Figure], None]


@dataclass(frozen=True)
class Chart:
    """One chart: its file stem, title, text alternative and data table; renders lazily."""

    name: str
    title: str
    description: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    draw: Draw = field(repr=False, compare=False)
    size: tuple[float, float] = (10.0, 6.0)

    def _render(self, fmt: str, metadata: dict) -> bytes:
        with matplotlib.rc_context(_STYLE):
            figure = Figure(figsize=self.size, dpi=100, layout="constrained")
            self.draw(figure)
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, metadata=metadata, bbox_inches="tight",
                           pad_inches=0.2, facecolor="white")
        return buffer.getvalue()

    def png(self) -> bytes:
        """The chart as PNG bytes (100 dpi)."""
        return self._render("png", {"Software": None})

    def svg(self) -> bytes:
        """The chart as SVG bytes, identical for identical input."""
        svg = self._render("svg", {"Date": None, "Creator": None, "Title": self.title})
        return _NOT_XML.sub(b"", svg)  # UTF-8 puts these bytes in no other character


# --- shared helpers -----------------------------------------------------------------


def _cycle(results: CycleResults) -> str:
    """The cycle as chart titles name it: "2026 (provisional)" while not yet published."""
    return f"{results.cycle} (provisional)" if results.provisional else results.cycle


def _fmt(score: Score | None) -> str:
    """A score for a table cell: two decimals, "suppressed" or a dash."""
    if score is None or (score.value is None and not score.suppressed):
        return NO_DATA
    if score.suppressed:
        return SUPPRESSED
    return two_decimals(score.value)


def _stage_text(scope: ScopeResult) -> str:
    if scope.overall.suppressed:
        return SUPPRESSED
    return scope.stage.label if scope.stage else NO_DATA


def _value(score: Score | None) -> float | None:
    return score.value if score is not None and score.shown else None


def _wrap(text: str, width: int = 18) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _no_data(title: str, message: str = NO_RESPONSES) -> Draw:
    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        ax.set_axis_off()
        ax.set_title(title)
        ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=16, color="#4D4D4D",
                transform=ax.transAxes,
                bbox={"boxstyle": "round,pad=0.8", "facecolor": "#F2F2F2",
                      "edgecolor": "#BFBFBF"})

    return draw


def _empty_chart(name: str, title: str, columns: tuple[str, ...], message: str = NO_RESPONSES
                 ) -> Chart:
    return Chart(name, title, f"{title}: {message.lower()}.", columns, (), _no_data(title, message),
                 size=(8.0, 3.0))


def _board(results: CycleResults, board_code: str) -> ScopeResult:
    for board in results.boards:
        if board.key == board_code:
            return board
    known = ", ".join(b.key for b in results.boards) or "none"
    raise KeyError(f"no board {board_code!r} in cycle {results.cycle} (boards: {known})")


def _partnership(results: CycleResults, partnership_id: int | str) -> ScopeResult:
    for partnership in results.partnerships:
        if partnership.key == str(partnership_id):
            return partnership
    raise KeyError(f"no partnership {partnership_id!r} in cycle {results.cycle}")


def _check_scope(results: CycleResults, scope: str) -> None:
    if scope != STATE_SCOPE:
        _board(results, scope)


def _scope_label(results: CycleResults, scope: str) -> str:
    return "the state" if scope == STATE_SCOPE else f"board {scope} {_board(results, scope).label}"


def _scope_slug(scope: str) -> str:
    return "state" if scope == STATE_SCOPE else f"board-{_slug(scope)}"


def _level_axis_labels(results: CycleResults) -> list[str]:
    return [f"{level.value} {level.label}" for level in results.scale.levels]


def _stage_legend(results: CycleResults, with_suppressed: bool = True) -> list[Patch]:
    handles = [
        Patch(facecolor=palette.stage_color(level.value), edgecolor="#4D4D4D",
              label=f"{level.label} (from {level.min_score:.2f})")
        for level in results.scale.levels
    ]
    if with_suppressed:
        handles.append(Patch(facecolor=palette.SUPPRESSED_COLOR, edgecolor="#4D4D4D",
                             hatch=palette.SUPPRESSED_HATCH, label="Suppressed (small n)"))
    return handles


def _stage_bands(ax, results: CycleResults, horizontal: bool) -> None:
    """Thin dotted reference lines at each level's min_score (above the first level)."""
    for level in results.scale.levels[1:]:
        if horizontal:
            ax.axhline(level.min_score, color="#7F7F7F", linewidth=0.8, linestyle=":", zorder=0)
        else:
            ax.axvline(level.min_score, color="#7F7F7F", linewidth=0.8, linestyle=":", zorder=0)


def _stage_level(results: CycleResults, value: float) -> int | None:
    """The value of the scale level a score falls in (None below the first)."""
    stage = results.scale.stage(value)
    return stage.value if stage else None


def _level_ticks(axis: Axis, results: CycleResults) -> None:
    """Put a score axis's ticks at the scale's levels, labelled with number and name."""
    axis.set_ticks([level.value for level in results.scale.levels])
    axis.set_ticklabels(_level_axis_labels(results))


def _hide_top_right(ax) -> None:
    """Drop the top and right frame lines, which carry no scale."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
