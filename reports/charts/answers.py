"""Answer charts: answers at each level, partner types side by side, the industry gap."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from reports import palette
from reports.charts.base import (
    NO_DATA,
    NO_RESPONSES,
    SUPPRESSED,
    Chart,
    _board,
    _check_scope,
    _cycle,
    _empty_chart,
    _fmt,
    _hide_top_right,
    _level_ticks,
    _partnership,
    _scope_label,
    _scope_slug,
    _slug,
    _stage_bands,
    _value,
    _wrap,
)
from reports.results import STATE_SCOPE, CycleResults, ItemResult, two_decimals

# --- level distribution -------------------------------------------------------------


def level_distribution(results: CycleResults, board_code: str | None = None,
                       partnership_id: int | str | None = None) -> Chart:
    """Per element, the share of answers at each level, don't know and not applicable."""
    items: list[ItemResult] = list(results.item_results)
    where, name = "the state", "levels-state"
    if board_code is not None:
        board = _board(results, board_code)
        members = {p.partnership_id for p in results.partnerships if p.in_board(board_code)}
        items = [i for i in items if i.partnership_id in members]  # shared ones too
        where, name = f"board {board.key} {board.label}", f"levels-board-{_slug(board.key)}"
    if partnership_id is not None:
        partnership = _partnership(results, partnership_id)
        items = [i for i in items if str(i.partnership_id) == partnership.key]
        where, name = partnership.label, f"levels-partnership-{partnership.key}"
    scale = results.scale
    levels = scale.levels
    categories = [*(lv.label for lv in levels), scale.dont_know_label, scale.not_applicable_label]
    columns = ("Element", *categories, "Answers")
    title = f"How partners answered, {where}, {_cycle(results)}"
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
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("Share of answers")
        _hide_top_right(ax)
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
    title = f"Scores by partner type, {where}, {_cycle(results)}"
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
                     f"{two_decimals(min(shown))} to {two_decimals(max(shown))}")
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
        _level_ticks(ax.yaxis, results)
        ax.set_xticks(range(len(elements)))
        ax.set_xticklabels([_wrap(e.title, 16) for e in elements], fontsize=9.5)
        _hide_top_right(ax)
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
    title = f"Industry gap: business minus other partners, {where}, {_cycle(results)}"
    columns = ("Element", "Business", "Other partners", "Gap")
    elements = [e for e in results.elements if e.key in gaps]

    def gap_text(key: str) -> str:
        g = gaps[key]
        if g.gap is not None:
            return two_decimals(g.gap, True)
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
                       f"Largest gap: {widest[0]} {two_decimals(widest[1], True)}; "
                       f"business partners score "
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
            ax.text(g + (offset if g >= 0 else -offset), r, two_decimals(g, True), va="center",
                    ha="left" if g >= 0 else "right", fontsize=10)
        ax.axvline(0, color="#333333", linewidth=1)
        ax.set_xlim(-limit, limit)
        ax.set_yticks(range(len(elements)))
        ax.set_yticklabels([_wrap(e.title, 30) for e in elements])
        ax.set_ylim(len(elements) - 0.5, -0.5)
        ax.set_xlabel("Difference in score (business minus others)")
        _hide_top_right(ax)
        ax.set_title(title)
        figure.legend(handles=[
            Patch(facecolor=palette.GAP_COLORS[0], label="Business partners score higher"),
            Patch(facecolor=palette.GAP_COLORS[1], hatch="..", edgecolor="white",
                  label="Other partners score higher"),
        ], loc="outside lower center", ncol=2, frameon=False)

    return Chart(name, title, description, columns, rows, draw, size=(11.0, 6.0))

