"""Score charts: the element radar, the board and partnership heatmaps, sectors ranked."""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from reports import palette
from reports.charts.base import (
    NO_DATA,
    SUPPRESSED,
    Chart,
    _board,
    _cycle,
    _empty_chart,
    _fmt,
    _hide_top_right,
    _level_axis_labels,
    _level_ticks,
    _partnership,
    _slug,
    _stage_bands,
    _stage_legend,
    _stage_level,
    _stage_text,
    _value,
    _wrap,
)
from reports.results import OVERALL, CycleResults, ScopeResult, Score, two_decimals

# --- radar --------------------------------------------------------------------------


def radar(results: CycleResults, board_code: str | None = None,
          partnership_id: int | str | None = None) -> Chart:
    """The six element scores as a radar: the state, plus a board and/or a partnership."""
    scopes: list[tuple[str, ScopeResult]] = [("State", results.state)]
    name = "radar-state"
    if partnership_id is not None:
        partnership = _partnership(results, partnership_id)
        board_code = board_code or partnership.board_code
        if not partnership.in_board(board_code):
            raise ValueError(f"partnership {partnership_id} is not in board {board_code}")
        name = f"radar-partnership-{partnership.key}"
        if not any(b.key == board_code for b in results.boards):
            board_code = None  # results without the board (a moved partnership, SPEC 4a)
    if board_code is not None:
        board = _board(results, board_code)
        scopes.append((f"Board {board.key} {board.label}", board))
        if partnership_id is None:
            name = f"radar-board-{_slug(board.key)}"
    if partnership_id is not None:
        scopes.append((partnership.label, partnership))
    focus_label, focus = scopes[-1]
    title = f"Where {focus_label if focus is not results.state else 'the state'} stands, " \
            f"{_cycle(results)}"
    elements = results.elements
    columns = ("Element", *(label for label, _ in scopes))
    rows = tuple(
        (e.title, *(_fmt(scope.elements.get(e.key)) for _, scope in scopes)) for e in elements
    ) + (("Overall", *(_fmt(scope.overall) for _, scope in scopes)),)
    if all(_value(s.elements.get(e.key)) is None and not s.elements.get(e.key, Score(None, 0))
           .suppressed for _, s in scopes for e in elements):
        return _empty_chart(name, title, columns)

    parts = []
    for label, scope in scopes:
        if scope.overall.suppressed:
            parts.append(f"{label}: suppressed (fewer than {results.scale.min_respondents} "
                         "respondents)")
        elif scope.overall.value is not None:
            stage = scope.stage.label if scope.stage else ""
            parts.append(f"{label}: overall {two_decimals(scope.overall.value)} ({stage})")
        else:
            parts.append(f"{label}: overall not defined")
    shown = [(e.title, _value(focus.elements.get(e.key))) for e in elements]
    shown = [(t, v) for t, v in shown if v is not None]
    description = f"Element scores on the 1 to 4 scale. {'; '.join(parts)}."
    if shown:
        high = max(shown, key=lambda tv: tv[1])
        low = min(shown, key=lambda tv: tv[1])
        description += (f" Highest for {focus_label if focus is not results.state else 'the state'}"
                        f": {high[0]} {two_decimals(high[1])}; "
                        f"lowest: {low[0]} {two_decimals(low[1])}.")

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot(projection="polar")
        count = len(elements)
        ax.set_theta_offset(math.pi / 2)  # first element at the top, then clockwise
        ax.set_theta_direction(-1)
        angles = [2 * math.pi * i / count for i in range(count)]
        styles = [("#000000", "-", "o"), (palette.CATEGORICAL[3], "--", "s"),
                  (palette.CATEGORICAL[0], "-.", "^")]
        for (label, scope), (color, style, marker) in zip(scopes, styles, strict=False):
            values = [_value(scope.elements.get(e.key)) for e in elements]
            if all(v is None for v in values):
                suffix = SUPPRESSED if scope.overall.suppressed else "no data"
                ax.plot([], [], color=color, linestyle=style, marker=marker,
                        label=f"{label} ({suffix})")
                continue
            closed_angles = [*angles, angles[0]]
            closed_values = [math.nan if v is None else v for v in [*values, values[0]]]
            ax.plot(closed_angles, closed_values, color=color, linestyle=style, linewidth=2.2,
                    marker=marker, markersize=7, label=label)
            if all(v is not None for v in values):
                ax.fill(closed_angles, closed_values, color=color, alpha=0.08)
        ax.set_ylim(0, 4)
        ax.set_yticks([level.value for level in results.scale.levels])
        ax.set_yticklabels(_level_axis_labels(results), fontsize=9, color="#4D4D4D")
        ax.set_rlabel_position(180 / count)
        ax.set_xticks(angles)
        ax.set_xticklabels([_wrap(e.title, 20) for e in elements], fontsize=10)
        ax.tick_params(axis="x", pad=14)
        ax.set_title(title, pad=24)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=1, frameon=False)

    return Chart(name, title, description, columns, rows, draw, size=(9.0, 9.0))


# --- heatmaps -----------------------------------------------------------------------


def _heatmap(results: CycleResults, name: str, title: str,
             row_scopes: list[tuple[str, ScopeResult]], description_head: str) -> Chart:
    elements = results.elements
    columns = ("Scope", *(e.title for e in elements), "Overall", "Stage")
    rows = tuple(
        (label, *(_fmt(scope.elements.get(e.key)) for e in elements), _fmt(scope.overall),
         _stage_text(scope))
        for label, scope in row_scopes
    )
    if not row_scopes or all(not s.responded and s.overall.value is None
                             and not s.overall.suppressed
                             and all(v.value is None and not v.suppressed
                                     for v in s.elements.values())
                             for _, s in row_scopes):
        return _empty_chart(name, title, columns)
    ranked = [(label, s.overall.value) for label, s in row_scopes if s.overall.shown]
    suppressed = sum(1 for _, s in row_scopes if s.overall.suppressed)
    description = f"{description_head} {len(row_scopes)} rows, scores by element and overall."
    if len(ranked) > 1:
        top = max(ranked, key=lambda r: r[1])
        low = min(ranked, key=lambda r: r[1])
        description += (f" Highest overall: {top[0]} {two_decimals(top[1])}; lowest: {low[0]} "
                        f"{two_decimals(low[1])}.")
    elif ranked:
        description += f" Overall: {ranked[0][0]} {two_decimals(ranked[0][1])}."
    if suppressed:
        description += f" {suppressed} suppressed (fewer than " \
                       f"{results.scale.min_respondents} respondents)."

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        cells = [*(e.key for e in elements), OVERALL]
        for r, (_, scope) in enumerate(row_scopes):
            for c, key in enumerate(cells):
                score = scope.overall if key == OVERALL else scope.elements.get(key)
                if score is not None and score.suppressed:
                    face, text, hatch, color = (palette.SUPPRESSED_COLOR, SUPPRESSED,
                                                palette.SUPPRESSED_HATCH, palette.DARK_TEXT)
                elif score is None or score.value is None:
                    face, text, hatch, color = palette.NO_DATA_COLOR, NO_DATA, None, \
                        palette.DARK_TEXT
                else:
                    level = _stage_level(results, score.value)
                    face, text, hatch = palette.stage_color(level), two_decimals(score.value), None
                    color = palette.stage_text_color(level)
                ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="white",
                                       linewidth=2, hatch=hatch))
                weight = "bold" if key == OVERALL else "normal"
                ax.text(c + 0.5, r + 0.5, text, ha="center", va="center", color=color,
                        fontsize=10 if text == SUPPRESSED else 11, fontweight=weight,
                        bbox={"facecolor": face, "edgecolor": "none", "pad": 1}
                        if hatch else None)
        ax.set_xlim(0, len(cells))
        ax.set_ylim(len(row_scopes), 0)
        ax.set_xticks([c + 0.5 for c in range(len(cells))])
        ax.set_xticklabels([*(_wrap(e.title, 16) for e in elements), "Overall"], fontsize=9.5)
        ax.xaxis.tick_top()
        ax.set_yticks([r + 0.5 for r in range(len(row_scopes))])
        ax.set_yticklabels([_wrap(label, 34) for label, _ in row_scopes])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(title)
        figure.legend(handles=_stage_legend(results), loc="outside lower center", ncol=5,
                      frameon=False)

    height = 2.8 + 0.55 * max(len(row_scopes), 1)
    return Chart(name, title, description, columns, rows, draw, size=(12.0, height))


def board_heatmap(results: CycleResults) -> Chart:
    """Boards by element and overall, each cell coloured by its stage."""
    title = f"Board scores by element, {_cycle(results)}"
    scopes = [(f"{b.key} {b.label}", b) for b in results.boards]
    return _heatmap(results, "board-heatmap", title, scopes, "Board heatmap:")


def partnership_heatmap(results: CycleResults, board_code: str | None = None) -> Chart:
    """Partnerships (of one board, or all) by element and overall, coloured by stage."""
    partnerships = list(results.partnerships)
    name = "partnership-heatmap"
    where = ""
    if board_code is not None:
        board = _board(results, board_code)
        partnerships = [p for p in partnerships if p.in_board(board_code)]
        name += f"-board-{_slug(board_code)}"
        where = f" in board {board.key} {board.label}"
    title = f"Partnership scores by element{where}, {_cycle(results)}"
    scopes = [(p.label if board_code else f"{p.board_code} · {p.label}", p) for p in partnerships]
    return _heatmap(results, name, title, scopes, "Partnership heatmap:")


# --- sectors ------------------------------------------------------------------------


def sector_comparison(results: CycleResults) -> Chart:
    """Sectors ranked by overall score, each bar coloured by its stage."""
    title = f"Overall score by sector, {_cycle(results)}"
    columns = ("Sector", "Partnerships", "Overall", "Stage")
    sectors = sorted(results.sectors,
                     key=lambda s: (s.overall.value is None, -(s.overall.value or 0), s.label))
    rows = tuple((s.label, s.partnerships, _fmt(s.overall),
                  _stage_text(s)) for s in sectors)
    if not any(s.overall.shown or s.overall.suppressed for s in sectors):
        return _empty_chart("sector-comparison", title, columns)
    ranked = [(s.label, s.overall.value) for s in sectors if s.overall.shown]
    description = f"Overall score of {len(sectors)} sectors."
    if ranked:
        description += (f" Highest: {ranked[0][0]} {two_decimals(ranked[0][1])}; lowest: "
                        f"{ranked[-1][0]} {two_decimals(ranked[-1][1])}.")

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        for r, s in enumerate(sectors):
            if s.overall.shown:
                level = _stage_level(results, s.overall.value)
                ax.barh(r, s.overall.value, color=palette.stage_color(level),
                        edgecolor="#4D4D4D", height=0.65)
                ax.text(s.overall.value + 0.04, r, two_decimals(s.overall.value), va="center")
            else:
                text = SUPPRESSED if s.overall.suppressed else NO_DATA
                ax.barh(r, 4, color=palette.SUPPRESSED_COLOR, hatch=palette.SUPPRESSED_HATCH,
                        edgecolor="white", height=0.65)
                ax.text(2, r, text, va="center", ha="center", style="italic",
                        bbox={"facecolor": palette.SUPPRESSED_COLOR, "edgecolor": "none"})
        _stage_bands(ax, results, horizontal=False)
        ax.set_yticks(range(len(sectors)))
        ax.set_yticklabels([_wrap(f"{s.label} ({s.partnerships})", 30) for s in sectors])
        ax.set_ylim(len(sectors) - 0.5, -0.5)
        ax.set_xlim(0, 4.3)
        _level_ticks(ax.xaxis, results)
        _hide_top_right(ax)
        ax.set_title(title)
        figure.legend(handles=_stage_legend(results, with_suppressed=False),
                      loc="outside lower center", ncol=4, frameon=False)

    return Chart("sector-comparison", title, description, columns, rows, draw,
                 size=(10.0, 2.6 + 0.5 * len(sectors)))

