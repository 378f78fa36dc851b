"""Charts of one cycle's results: matplotlib's object API in, PNG and SVG bytes out.

Every chart carries its data as a small table and a one- or two-sentence text
alternative, so pages can show both under the image. Suppressed figures appear as the
word "suppressed", never as a number. Never import pyplot here: it keeps global state.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from reports import palette
from reports.results import OVERALL, STATE_SCOPE, CycleResults, ItemResult, ScopeResult, Score

SUPPRESSED = "suppressed"
NO_DATA = "–"
NO_RESPONSES = "No submitted responses yet"

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
        return self._render("svg", {"Date": None, "Creator": None, "Title": self.title})


# --- shared helpers -----------------------------------------------------------------


def _fmt(score: Score | None) -> str:
    """A score for a table cell: two decimals, "suppressed" or a dash."""
    if score is None or (score.value is None and not score.suppressed):
        return NO_DATA
    if score.suppressed:
        return SUPPRESSED
    return f"{score.value:.2f}"


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
    """Thin reference lines at each level's min_score, labelled with the level."""
    for level in results.scale.levels[1:]:
        if horizontal:
            ax.axhline(level.min_score, color="#7F7F7F", linewidth=0.8, linestyle=":", zorder=0)
        else:
            ax.axvline(level.min_score, color="#7F7F7F", linewidth=0.8, linestyle=":", zorder=0)


# --- radar --------------------------------------------------------------------------


def radar(results: CycleResults, board_code: str | None = None,
          partnership_id: int | str | None = None) -> Chart:
    """The six element scores as a radar: the state, plus a board and/or a partnership."""
    scopes: list[tuple[str, ScopeResult]] = [("State", results.state)]
    name = "radar-state"
    if partnership_id is not None:
        partnership = _partnership(results, partnership_id)
        board_code = board_code or partnership.board_code
        if partnership.board_code != board_code:
            raise ValueError(f"partnership {partnership_id} is not in board {board_code}")
        name = f"radar-partnership-{partnership.key}"
    if board_code is not None:
        board = _board(results, board_code)
        scopes.append((f"Board {board.key} {board.label}", board))
        if partnership_id is None:
            name = f"radar-board-{_slug(board.key)}"
    if partnership_id is not None:
        scopes.append((partnership.label, partnership))
    focus_label, focus = scopes[-1]
    title = f"Where {focus_label if focus is not results.state else 'the state'} stands, " \
            f"{results.cycle}"
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
            parts.append(f"{label}: overall {scope.overall.value:.2f} ({stage})")
        else:
            parts.append(f"{label}: overall not defined")
    shown = [(e.title, _value(focus.elements.get(e.key))) for e in elements]
    shown = [(t, v) for t, v in shown if v is not None]
    description = f"Element scores on the 1 to 4 scale. {'; '.join(parts)}."
    if shown:
        high = max(shown, key=lambda tv: tv[1])
        low = min(shown, key=lambda tv: tv[1])
        description += (f" Highest for {focus_label if focus is not results.state else 'the state'}"
                        f": {high[0]} {high[1]:.2f}; lowest: {low[0]} {low[1]:.2f}.")

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
        description += (f" Highest overall: {top[0]} {top[1]:.2f}; lowest: {low[0]} "
                        f"{low[1]:.2f}.")
    elif ranked:
        description += f" Overall: {ranked[0][0]} {ranked[0][1]:.2f}."
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
                    stage = results.scale.stage(score.value)
                    level = stage.value if stage else None
                    face, text, hatch = palette.stage_color(level), f"{score.value:.2f}", None
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
    title = f"Board scores by element, {results.cycle}"
    scopes = [(f"{b.key} {b.label}", b) for b in results.boards]
    return _heatmap(results, "board-heatmap", title, scopes, "Board heatmap:")


def partnership_heatmap(results: CycleResults, board_code: str | None = None) -> Chart:
    """Partnerships (of one board, or all) by element and overall, coloured by stage."""
    partnerships = list(results.partnerships)
    name = "partnership-heatmap"
    where = ""
    if board_code is not None:
        board = _board(results, board_code)
        partnerships = [p for p in partnerships if p.board_code == board_code]
        name += f"-board-{_slug(board_code)}"
        where = f" in board {board.key} {board.label}"
    title = f"Partnership scores by element{where}, {results.cycle}"
    scopes = [(p.label if board_code else f"{p.board_code} · {p.label}", p) for p in partnerships]
    return _heatmap(results, name, title, scopes, "Partnership heatmap:")


# --- level distribution -------------------------------------------------------------


def level_distribution(results: CycleResults, board_code: str | None = None,
                       partnership_id: int | str | None = None) -> Chart:
    """Per element, the share of answers at each level, don't know and not applicable."""
    items: list[ItemResult] = list(results.item_results)
    where, name = "the state", "levels-state"
    if board_code is not None:
        board = _board(results, board_code)
        items = [i for i in items if i.board_code == board_code]
        where, name = f"board {board.key} {board.label}", f"levels-board-{_slug(board.key)}"
    if partnership_id is not None:
        partnership = _partnership(results, partnership_id)
        items = [i for i in items if str(i.partnership_id) == partnership.key]
        where, name = partnership.label, f"levels-partnership-{partnership.key}"
    scale = results.scale
    levels = scale.levels
    categories = [*(lv.label for lv in levels), scale.dont_know_label, scale.not_applicable_label]
    columns = ("Element", *categories, "Answers")
    title = f"How partners answered, {where}, {results.cycle}"
    table = []
    for element in results.elements:
        mine = [i for i in items if i.element_key == element.key]
        counts = [sum(i.counts.get(lv.value, 0) for i in mine) for lv in levels]
        counts += [sum(i.dont_know for i in mine), sum(i.not_applicable for i in mine)]
        table.append((element.title, counts))
    total = sum(sum(c) for _, c in table)
    if not total:
        return _empty_chart(name, title, columns)

    def share(count: int, n: int) -> str:
        return f"{count / n:.0%}" if n else NO_DATA

    rows = tuple((t, *(share(c, sum(cs)) for c in cs), sum(cs)) for t, cs in table)
    dk = sum(cs[-2] for _, cs in table)
    top = levels[-1]
    top_share = sum(cs[len(levels) - 1] for _, cs in table) / total
    description = (f"Share of {total} answers from {where} at each level, per element. "
                   f"{top.label}: {top_share:.0%} of all answers; {scale.dont_know_label}: "
                   f"{dk / total:.0%}.")
    colors = [*(palette.stage_color(lv.value) for lv in levels), palette.DONT_KNOW_COLOR,
              palette.NOT_APPLICABLE_COLOR]
    texts = [*(palette.stage_text_color(lv.value) for lv in levels), palette.DARK_TEXT,
             palette.DARK_TEXT]
    hatches = [*([None] * len(levels)), "//", ".."]

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        for r, (_, counts) in enumerate(table):
            n = sum(counts)
            left = 0.0
            for c, count in enumerate(counts):
                width = count / n if n else 0
                if width:
                    ax.barh(r, width, left=left, color=colors[c], edgecolor="white",
                            hatch=hatches[c], height=0.7)
                    if width >= 0.06:
                        ax.text(left + width / 2, r, f"{width:.0%}", ha="center", va="center",
                                color=texts[c], fontsize=9.5,
                                bbox={"facecolor": colors[c], "edgecolor": "none", "pad": 0.5}
                                if hatches[c] else None)
                left += width
            ax.text(1.01, r, f"n={n}", va="center", fontsize=9, color="#4D4D4D")
        ax.set_yticks(range(len(table)))
        ax.set_yticklabels([_wrap(t, 30) for t, _ in table])
        ax.set_ylim(len(table) - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel("Share of answers")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(title)
        handles = [Patch(facecolor=colors[c], edgecolor="#4D4D4D", hatch=hatches[c],
                         label=categories[c]) for c in range(len(categories))]
        figure.legend(handles=handles, loc="outside lower center", ncol=len(categories),
                      frameon=False)

    return Chart(name, title, description, columns, rows, draw, size=(11.0, 6.5))


# --- partner types and industry gap --------------------------------------------------


def partner_types(results: CycleResults, scope: str = STATE_SCOPE) -> Chart:
    """Element scores side by side for each partner type in a scope (suppressed omitted)."""
    _check_scope(results, scope)
    types = [t for t in results.partner_types if t.scope == scope]
    elements = results.elements
    where = _scope_label(results, scope)
    name = f"partner-types-{_scope_slug(scope)}"
    title = f"Scores by partner type, {where}, {results.cycle}"
    columns = ("Partner type", "Respondents", *(e.title for e in elements))
    rows = tuple((t.partner_type_label, t.respondents,
                  *(_fmt(t.elements.get(e.key)) for e in elements)) for t in types)
    drawn = [t for t in types if any(s.shown for s in t.elements.values())]
    if not drawn:
        message = NO_RESPONSES if not types else \
            f"Every partner type has fewer than {results.scale.min_respondents} respondents"
        return _empty_chart(name, title, columns, message)
    hidden = [t.partner_type_label for t in types
              if any(s.suppressed for s in t.elements.values())]
    parts = []
    for t in drawn:
        shown = [s.value for s in t.elements.values() if s.shown]
        parts.append(f"{t.partner_type_label} ({t.respondents} respondents) from "
                     f"{min(shown):.2f} to {max(shown):.2f}")
    description = f"Element scores by partner type for {where}: {'; '.join(parts)}."
    if hidden:
        description += (f" Suppressed (fewer than {results.scale.min_respondents} respondents)"
                        f" and not drawn: {', '.join(hidden)}.")

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        width = 0.8 / len(drawn)
        for index, t in enumerate(drawn):
            xs, ys = [], []
            for e_index, e in enumerate(elements):
                value = _value(t.elements.get(e.key))
                if value is not None:
                    xs.append(e_index - 0.4 + width * (index + 0.5))
                    ys.append(value)
            ax.bar(xs, ys, width=width * 0.95, label=t.partner_type_label,
                   color=palette.CATEGORICAL[index % len(palette.CATEGORICAL)],
                   hatch=palette.HATCHES[index % len(palette.HATCHES)], edgecolor="#333333",
                   linewidth=0.6)
        _stage_bands(ax, results, horizontal=True)
        ax.set_ylim(0, 4.05)
        ax.set_yticks([lv.value for lv in results.scale.levels])
        ax.set_yticklabels(_level_axis_labels(results))
        ax.set_xticks(range(len(elements)))
        ax.set_xticklabels([_wrap(e.title, 16) for e in elements], fontsize=9.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(title)
        note = (f"Not drawn (fewer than {results.scale.min_respondents} respondents): "
                f"{', '.join(hidden)}") if hidden else None
        figure.legend(loc="outside lower center", ncol=min(len(drawn), 4), frameon=False,
                      title=_wrap(note, 110) if note else None, title_fontsize=9.5)

    return Chart(name, title, description, columns, rows, draw, size=(12.0, 6.5))


def industry_gap(results: CycleResults, scope: str = STATE_SCOPE) -> Chart:
    """Per element, business partners' score minus all other partner types' score."""
    _check_scope(results, scope)
    titles = results.element_titles
    gaps = {g.element_key: g for g in results.gaps if g.scope == scope}
    where = _scope_label(results, scope)
    name = f"industry-gap-{_scope_slug(scope)}"
    title = f"Industry gap: business minus other partners, {where}, {results.cycle}"
    columns = ("Element", "Business", "Other partners", "Gap")
    elements = [e for e in results.elements if e.key in gaps]

    def gap_text(key: str) -> str:
        g = gaps[key]
        if g.gap is not None:
            return f"{g.gap:+.2f}"
        return SUPPRESSED if g.business.suppressed or g.others.suppressed else NO_DATA

    rows = tuple((e.title, _fmt(gaps[e.key].business), _fmt(gaps[e.key].others),
                  gap_text(e.key)) for e in elements)
    if not elements or all(gaps[e.key].gap is None and gap_text(e.key) == NO_DATA
                           for e in elements):
        return _empty_chart(name, title, columns)
    known = [(titles[e.key], gaps[e.key].gap) for e in elements if gaps[e.key].gap is not None]
    if known:
        widest = max(known, key=lambda kv: abs(kv[1]))
        description = (f"Business partners' score minus other partners' score for {where}. "
                       f"Largest gap: {widest[0]} {widest[1]:+.2f}; business partners score "
                       f"higher on {sum(1 for _, v in known if v > 0)} of {len(known)} "
                       "elements.")
    else:
        description = f"Industry gap for {where}: every element is suppressed or undefined."
    missing = [titles[e.key] for e in elements if gaps[e.key].gap is None]
    if missing:
        description += f" Not shown (suppressed or no data): {', '.join(missing)}."

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        limit = max([0.5, *(abs(v) * 1.3 for _, v in known)])
        for r, e in enumerate(elements):
            g = gaps[e.key].gap
            if g is None:
                ax.text(0, r, gap_text(e.key), ha="center", va="center", fontsize=10,
                        color="#4D4D4D", style="italic",
                        bbox={"facecolor": palette.SUPPRESSED_COLOR, "edgecolor": "none"})
                continue
            color = palette.GAP_COLORS[0] if g >= 0 else palette.GAP_COLORS[1]
            ax.barh(r, g, color=color, height=0.6, hatch=None if g >= 0 else "..",
                    edgecolor="white")
            offset = limit * 0.02
            ax.text(g + (offset if g >= 0 else -offset), r, f"{g:+.2f}", va="center",
                    ha="left" if g >= 0 else "right", fontsize=10)
        ax.axvline(0, color="#333333", linewidth=1)
        ax.set_xlim(-limit, limit)
        ax.set_yticks(range(len(elements)))
        ax.set_yticklabels([_wrap(e.title, 30) for e in elements])
        ax.set_ylim(len(elements) - 0.5, -0.5)
        ax.set_xlabel("Difference in score (business minus others)")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(title)
        figure.legend(handles=[
            Patch(facecolor=palette.GAP_COLORS[0], label="Business partners score higher"),
            Patch(facecolor=palette.GAP_COLORS[1], hatch="..", edgecolor="white",
                  label="Other partners score higher"),
        ], loc="outside lower center", ncol=2, frameon=False)

    return Chart(name, title, description, columns, rows, draw, size=(11.0, 6.0))


# --- change over cycles -------------------------------------------------------------


def _scope_name(results: CycleResults, scope_key: str) -> tuple[str, str]:
    """(readable name, file-safe kind-key) for "State", a board code or a partnership id."""
    if scope_key == STATE_SCOPE:
        return "the state", "state"
    if any(b.key == scope_key for b in results.boards):
        return f"board {scope_key} {_board(results, scope_key).label}", f"board-{_slug(scope_key)}"
    if any(p.key == scope_key for p in results.partnerships):
        return _partnership(results, scope_key).label, f"partnership-{_slug(scope_key)}"
    if any(t.scope_key == scope_key for t in results.trends):
        return scope_key, _slug(scope_key)
    raise KeyError(f"no scope {scope_key!r} in cycle {results.cycle}: use 'State', a board "
                   "code or a partnership id")


def change(results: CycleResults, scope_key: str | int) -> Chart:
    """Element and overall scores of one scope across cycles, one line each."""
    scope_key = str(scope_key)
    where, slug = _scope_name(results, scope_key)
    name = f"change-{slug}"
    title = f"Change across cycles, {where}"
    points = [t for t in results.trends if t.scope_key == scope_key]
    cycles: list[str] = []
    for point in points:
        if point.cycle not in cycles:
            cycles.append(point.cycle)
    series_keys = [*(e.key for e in results.elements), OVERALL]
    labels = {**results.element_titles, OVERALL: "Overall"}
    lookup = {(t.element_key, t.cycle): t.score for t in points}
    columns = ("Element", *cycles)
    rows = tuple((labels[k], *(_fmt(lookup.get((k, c))) for c in cycles)) for k in series_keys)
    if not any(s.shown or s.suppressed for s in lookup.values()):
        return _empty_chart(name, title, columns)
    overall = [(c, lookup.get((OVERALL, c))) for c in cycles]
    shown = [(c, s.value) for c, s in overall if s is not None and s.shown]
    if len(shown) >= 2:
        description = (f"Scores of {where} across {len(cycles)} cycles. Overall went from "
                       f"{shown[0][1]:.2f} in {shown[0][0]} to {shown[-1][1]:.2f} in "
                       f"{shown[-1][0]} ({shown[-1][1] - shown[0][1]:+.2f}).")
    elif shown:
        description = (f"Scores of {where} across {len(cycles)} cycles; overall "
                       f"{shown[0][1]:.2f} in {shown[0][0]}, no other cycle to compare.")
    else:
        description = f"Scores of {where} across {len(cycles)} cycles; overall not shown " \
                      "(suppressed or undefined)."
    suppressed = sorted({c for (_, c), s in lookup.items() if s.suppressed}, key=cycles.index)
    if suppressed:
        description += f" Suppressed in {', '.join(suppressed)}."

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        xs = list(range(len(cycles)))
        for index, key in enumerate(series_keys):
            values = [_value(lookup.get((key, c))) for c in cycles]
            ys = [math.nan if v is None else v for v in values]
            if key == OVERALL:
                ax.plot(xs, ys, color="#000000", linewidth=3.5, marker="o", markersize=9,
                        label="Overall", zorder=5)
            else:
                ax.plot(xs, ys, color=palette.CATEGORICAL[index % len(palette.CATEGORICAL)],
                        linestyle=palette.LINESTYLES[index % len(palette.LINESTYLES)],
                        marker=palette.MARKERS[index % len(palette.MARKERS)], linewidth=1.8,
                        markersize=7, label=_wrap(labels[key], 40))
        for x, c in enumerate(cycles):
            if any((lookup.get((k, c)) or Score(None, 0)).suppressed for k in series_keys):
                ax.text(x, 0.6, SUPPRESSED, ha="center", fontsize=9, style="italic",
                        color="#4D4D4D")
        _stage_bands(ax, results, horizontal=True)
        ax.set_xticks(xs)
        ax.set_xticklabels(cycles)
        ax.set_xlim(-0.3, len(cycles) - 0.7)
        ax.set_ylim(0.5, 4.05)
        ax.set_yticks([lv.value for lv in results.scale.levels])
        ax.set_yticklabels(_level_axis_labels(results))
        ax.set_xlabel("Cycle")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(title)
        figure.legend(loc="outside right center", frameon=False, handlelength=3.5)

    return Chart(name, title, description, columns, rows, draw, size=(12.0, 6.0))


# --- sectors ------------------------------------------------------------------------


def sector_comparison(results: CycleResults) -> Chart:
    """Sectors ranked by overall score, each bar coloured by its stage."""
    title = f"Overall score by sector, {results.cycle}"
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
        description += (f" Highest: {ranked[0][0]} {ranked[0][1]:.2f}; lowest: "
                        f"{ranked[-1][0]} {ranked[-1][1]:.2f}.")

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        for r, s in enumerate(sectors):
            if s.overall.shown:
                stage = results.scale.stage(s.overall.value)
                level = stage.value if stage else None
                ax.barh(r, s.overall.value, color=palette.stage_color(level),
                        edgecolor="#4D4D4D", height=0.65)
                ax.text(s.overall.value + 0.04, r, f"{s.overall.value:.2f}", va="center")
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
        ax.set_xticks([lv.value for lv in results.scale.levels])
        ax.set_xticklabels(_level_axis_labels(results))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(title)
        figure.legend(handles=_stage_legend(results, with_suppressed=False),
                      loc="outside lower center", ncol=4, frameon=False)

    return Chart("sector-comparison", title, description, columns, rows, draw,
                 size=(10.0, 2.6 + 0.5 * len(sectors)))


# --- everything for a scope ---------------------------------------------------------


def all_charts(results: CycleResults) -> list[Chart]:
    """Every chart for the results' scope: the state's, or one board's and its partnerships'."""
    if results.board_code is None:
        charts = [
            radar(results),
            board_heatmap(results),
            partnership_heatmap(results),
            level_distribution(results),
            partner_types(results),
            industry_gap(results),
            change(results, STATE_SCOPE),
            sector_comparison(results),
        ]
    else:
        code = results.board_code
        charts = [
            radar(results, board_code=code),
            partnership_heatmap(results, board_code=code),
            level_distribution(results, board_code=code),
            partner_types(results, code),
            industry_gap(results, code),
            change(results, code),
        ]
        for partnership in results.partnerships:
            if partnership.board_code == code:
                charts.append(radar(results, partnership_id=partnership.key))
                charts.append(change(results, partnership.key))
    seen: set[str] = set()
    unique = []
    for chart in charts:
        name, number = chart.name, 2
        while name in seen:
            name, number = f"{chart.name}-{number}", number + 1
        seen.add(name)
        unique.append(chart if name == chart.name else _renamed(chart, name))
    return unique


def _renamed(chart: Chart, name: str) -> Chart:
    return replace(chart, name=name)


__all__ = [
    "Chart",
    "all_charts",
    "board_heatmap",
    "change",
    "industry_gap",
    "level_distribution",
    "partner_types",
    "partnership_heatmap",
    "radar",
    "sector_comparison",
]
