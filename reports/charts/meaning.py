"""Charts of what the figures mean (SPEC 15): a partnership's scores with their 90%
margins and partner agreement, a partnership against its peers' quartiles, and a
board's partnerships by agreement. Figures arrive through the gate: a score without a
margin or agreement simply has none drawn."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from reports import palette
from reports.charts.base import (
    NO_DATA,
    SUPPRESSED,
    Chart,
    _board,
    _cycle,
    _empty_chart,
    _hide_top_right,
    _level_ticks,
    _partnership,
    _slug,
    _stage_bands,
    _stage_level,
    _wrap,
)
from reports.results import OVERALL, STATE_SCOPE, CycleResults, ScopeResult, Score

# How agreement is marked: shape and word, so it reads in greyscale and without colour.
READING_MARKERS = {"agree": "o", "mixed": "D", "split": "X"}
READING_LABELS = {"agree": "partners agree (0.70 or more)",
                  "mixed": "mixed (0.50 to 0.70)", "split": "partners split (below 0.50)"}
SPLIT_COLOR = "#B2182B"  # red, only ever with the X marker and the word "split"


def _reading_handles() -> list[Line2D]:
    return [Line2D([], [], marker=marker, linestyle="none", markersize=9,
                   markerfacecolor="white" if reading != "split" else SPLIT_COLOR,
                   markeredgecolor="#1A1A1A", label=READING_LABELS[reading])
            for reading, marker in READING_MARKERS.items()]


def score_margins(results: CycleResults, partnership_id: int | str) -> Chart:
    """A partnership's element scores as dots, their 90% intervals as bars, and a marker
    for how far its partners agree."""
    p = _partnership(results, partnership_id)
    name = f"margins-partnership-{_slug(p.key)}"
    title = f"Scores, margins and agreement, {p.label}, {_cycle(results)}"
    columns = ("Element", "Score", "n", "90% low", "90% high", "Agreement", "Reading")
    rows = []
    drawn = []
    for e in results.elements:
        score = p.elements.get(e.key)
        margin = results.margin_of(p.partnership_id, e.key)
        agreement = results.agreement_of(p.partnership_id, e.key)
        if score is None or not score.shown:
            text = SUPPRESSED if score is not None and score.suppressed else NO_DATA
            rows.append((e.title, text, score.n if score else 0, NO_DATA, NO_DATA, NO_DATA,
                         NO_DATA))
            drawn.append((e.title, None, None, None))
            continue
        rows.append((e.title, f"{score.value:.2f}", score.n,
                     f"{margin.low:.2f}" if margin else NO_DATA,
                     f"{margin.high:.2f}" if margin else NO_DATA,
                     f"{agreement.rwg:.2f}" if agreement else NO_DATA,
                     agreement.reading if agreement else NO_DATA))
        drawn.append((e.title, score.value, margin, agreement))
    if all(value is None for _, value, _, _ in drawn):
        return _empty_chart(name, title, columns)
    split = [t for t, v, _, a in drawn if a is not None and a.reading == "split"]
    with_margin = sum(1 for _, v, m, _ in drawn if m is not None)
    description = (f"Each element's score for {p.label} on the 1 to 4 scale; "
                   f"{with_margin} of {len(drawn)} have a 90% margin drawn as a bar "
                   f"(shown where at least {results.scale.min_respondents + 2} responded).")
    description += (f" Partners are split on {', '.join(split)}." if split
                    else " Partners are not split on any element.")

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        for row, (_label, value, margin, agreement) in enumerate(drawn):
            if value is None:
                ax.text(2.5, row, rows[row][1], ha="center", va="center", style="italic",
                        color="#4D4D4D")
                continue
            level = _stage_level(results, value)
            if margin is not None:
                ax.plot([margin.low, margin.high], [row, row], color="#1A1A1A", linewidth=2.2,
                        solid_capstyle="butt", zorder=2)
                for end in (margin.low, margin.high):
                    ax.plot([end, end], [row - 0.18, row + 0.18], color="#1A1A1A",
                            linewidth=2, zorder=2)
            reading = agreement.reading if agreement else "agree"
            face = SPLIT_COLOR if reading == "split" else palette.stage_color(level)
            ax.plot([value], [row], marker=READING_MARKERS[reading], markersize=13,
                    markerfacecolor=face, markeredgecolor="#1A1A1A", linestyle="none",
                    zorder=3)
            note = f"{value:.2f}"
            if agreement is not None and agreement.reading != "agree":
                note += f"  {agreement.reading}"
            ax.text(4.08, row, note, va="center", fontsize=10,
                    fontweight="bold" if reading == "split" else "normal")
        _stage_bands(ax, results, horizontal=False)
        ax.set_yticks(range(len(drawn)))
        ax.set_yticklabels([_wrap(label, 30) for label, *_ in drawn])
        ax.set_ylim(len(drawn) - 0.5, -0.5)
        ax.set_xlim(0.9, 4.6)
        _level_ticks(ax.xaxis, results)
        _hide_top_right(ax)
        ax.set_title(title)
        handles = [Line2D([], [], color="#1A1A1A", linewidth=2.2, label="90% margin"),
                   *_reading_handles()]
        figure.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)

    return Chart(name, title, description, columns, tuple(rows), draw,
                 size=(10.0, 2.8 + 0.55 * len(drawn)))


def _peer_scope(results: CycleResults, sector: str, key: str) -> tuple[str, object] | None:
    """The sector's quartiles where published, else the state's: (label, benchmark)."""
    found = results.benchmark_of(sector, key) if sector else None
    if found is not None:
        return f"{sector} partnerships", found
    found = results.benchmark_of(STATE_SCOPE, key)
    return ("partnerships statewide", found) if found is not None else None


def peers(results: CycleResults, partnership_id: int | str) -> Chart:
    """A partnership's element and overall scores against its peers' quartiles: its
    sector's where at least 5 partnerships have a published score, else the state's."""
    p = _partnership(results, partnership_id)
    name = f"peers-partnership-{_slug(p.key)}"
    title = f"{p.label} against its peers, {_cycle(results)}"
    columns = ("Element", "Score", "Peers", "Partnerships", "Lower quartile", "Median",
               "Upper quartile")
    keys = [(e.key, e.title) for e in results.elements] + [(OVERALL, "Overall")]
    drawn = []
    rows = []
    for key, label in keys:
        score: Score = p.overall if key == OVERALL else p.elements.get(key, Score(None, 0))
        peer = _peer_scope(results, p.sector, key)
        value = score.value if score.shown else None
        shown = f"{value:.2f}" if value is not None else (
            SUPPRESSED if score.suppressed else NO_DATA)
        if peer is None:
            rows.append((label, shown, NO_DATA, 0, NO_DATA, NO_DATA, NO_DATA))
        else:
            who, b = peer
            rows.append((label, shown, who, b.partnerships, f"{b.lower:.2f}", f"{b.median:.2f}",
                         f"{b.upper:.2f}"))
        drawn.append((label, value, peer))
    if not any(peer for _, _, peer in drawn):
        return _empty_chart(name, title, columns, "Fewer than 5 partnerships with a published "
                            "score: no peers to compare with")
    sector_rows = sum(1 for _, _, peer in drawn if peer and peer[0].startswith(p.sector or "\0"))
    description = (f"For each element and overall, the middle half of the peers' published "
                   f"scores (lower to upper quartile, median marked) and {p.label}'s score; "
                   f"peers are {p.sector or 'its sector'} partnerships in {sector_rows} of "
                   f"{len(drawn)} rows, partnerships statewide where its sector has fewer "
                   "than 5.")

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        for row, (_label, value, peer) in enumerate(drawn):
            if peer is not None:
                _, b = peer
                ax.add_patch(Rectangle((b.lower, row - 0.28), b.upper - b.lower, 0.56,
                                       facecolor="#D9D9D9", edgecolor="#4D4D4D", zorder=1))
                ax.plot([b.median, b.median], [row - 0.28, row + 0.28], color="#1A1A1A",
                        linewidth=2.5, zorder=2)
            if value is not None:
                level = _stage_level(results, value)
                ax.plot([value], [row], marker="o", markersize=12, linestyle="none",
                        markerfacecolor=palette.stage_color(level), markeredgecolor="#1A1A1A",
                        zorder=3)
                ax.text(4.08, row, f"{value:.2f}", va="center", fontsize=10)
            else:
                ax.text(4.08, row, SUPPRESSED, va="center", fontsize=10, style="italic")
        _stage_bands(ax, results, horizontal=False)
        ax.set_yticks(range(len(drawn)))
        ax.set_yticklabels([_wrap(f"{label} ({peer[0].split(' partnerships')[0]})"
                                  if peer else label, 34) for label, _, peer in drawn])
        ax.set_ylim(len(drawn) - 0.5, -0.5)
        ax.set_xlim(0.9, 4.6)
        _level_ticks(ax.xaxis, results)
        _hide_top_right(ax)
        ax.set_title(title)
        handles = [Patch(facecolor="#D9D9D9", edgecolor="#4D4D4D",
                         label="Peers: lower to upper quartile"),
                   Line2D([], [], color="#1A1A1A", linewidth=2.5, label="Peers' median"),
                   Line2D([], [], marker="o", linestyle="none", markersize=10,
                          markerfacecolor="white", markeredgecolor="#1A1A1A",
                          label=f"{p.label}")]
        figure.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)

    return Chart(name, title, description, columns, tuple(rows), draw,
                 size=(10.0, 3.0 + 0.55 * len(drawn)))


def board_agreement(results: CycleResults, board_code: str) -> Chart:
    """A board's partnerships by element: each score with its margin (±) and a marker for
    how far the partnership's partners agree."""
    board = _board(results, board_code)
    members: list[ScopeResult] = sorted(
        (p for p in results.partnerships if p.board_code == board_code),
        key=lambda p: p.label.casefold())
    name = f"agreement-board-{_slug(board_code)}"
    title = f"Where partners agree, board {board.key} {board.label}, {_cycle(results)}"
    columns = ("Partnership", *(e.title for e in results.elements))
    rows = []
    for p in members:
        cells = []
        for e in results.elements:
            agreement = results.agreement_of(p.partnership_id, e.key)
            score = p.elements.get(e.key)
            if score is not None and score.suppressed:
                cells.append(SUPPRESSED)
            elif agreement is None:
                cells.append(NO_DATA)
            else:
                cells.append(f"{agreement.reading} {agreement.rwg:.2f}")
        rows.append((p.label, *cells))
    if not any(results.agreement_of(p.partnership_id, e.key) for p in members
               for e in results.elements):
        return _empty_chart(name, title, columns, "No published score to show agreement for")
    split = sorted({p.label for p in members for e in results.elements
                    if (a := results.agreement_of(p.partnership_id, e.key))
                    and a.reading == "split"})
    description = (f"Agreement of each partnership's partners on each element, for "
                   f"{len(members)} partnerships of board {board.key}. ")
    description += (f"Split on at least one element: {', '.join(split)}." if split
                    else "No partnership is split on any element.")

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        for r, p in enumerate(members):
            for c, e in enumerate(results.elements):
                agreement = results.agreement_of(p.partnership_id, e.key)
                margin = results.margin_of(p.partnership_id, e.key)
                score = p.elements.get(e.key)
                if agreement is None or score is None or not score.shown:
                    text = SUPPRESSED if score is not None and score.suppressed else NO_DATA
                    ax.text(c + 0.5, r + 0.5, text, ha="center", va="center", fontsize=9,
                            style="italic", color="#4D4D4D")
                    continue
                split = agreement.reading == "split"
                ax.plot([c + 0.22], [r + 0.5], marker=READING_MARKERS[agreement.reading],
                        markersize=12, linestyle="none",
                        markerfacecolor=SPLIT_COLOR if split else "white",
                        markeredgecolor="#1A1A1A")
                text = f"{score.value:.2f}"
                if margin is not None:
                    text += f"\n±{(margin.high - margin.low) / 2:.2f}"
                ax.text(c + 0.4, r + 0.5, text, va="center", fontsize=9.5,
                        fontweight="bold" if split else "normal")
        ax.set_xlim(0, len(results.elements))
        ax.set_ylim(len(members), 0)
        ax.set_xticks([c + 0.5 for c in range(len(results.elements))])
        ax.set_xticklabels([_wrap(e.title, 16) for e in results.elements], fontsize=9.5)
        ax.xaxis.tick_top()
        ax.set_yticks([r + 0.5 for r in range(len(members))])
        ax.set_yticklabels([_wrap(p.label, 34) for p in members])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        for r in range(1, len(members)):
            ax.axhline(r, color="#E0E0E0", linewidth=0.8)
        ax.set_title(title)
        figure.legend(handles=_reading_handles(), loc="outside lower center", ncol=3,
                      frameon=False)

    return Chart(name, title, description, columns, tuple(rows), draw,
                 size=(12.0, 2.8 + 0.7 * max(len(members), 1)))
