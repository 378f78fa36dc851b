"""What the results say about a partnership's plan (SPEC 11): suggested priorities on
the plan page, and the next cycle's invitation line on what changed since the last.

Only published figures: suggestions read what the partnership page shows, the
invitation line reads survey.disclosure's results.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from reports.results import OVERALL, CycleResults, two_decimals
from survey import disclosure
from survey.models import Cycle
from survey.questionnaire import Questionnaire
from survey.services.plans import latest_published, plan_rows, plans_version

# Suggest an item when at least this share of its answers chose the lowest level or
# "don't know".
LOW_SHARE = 0.5
ITEMS_SUGGESTED = 3  # at most this many items, the most pronounced first


@dataclass(frozen=True)
class Suggestion:
    """Why an element might be a priority, in one sentence."""

    element_key: str
    reason: str  # follows the element's title: "<title>: <reason>"


def suggestions(results: CycleResults, partnership_id: int, lowest: int = 2) -> list[Suggestion]:
    """Priorities the results suggest: the lowest elements, items where many partners
    chose the lowest level or "don't know", and the board's widest industry gap.

    Reads only figures the partnership page shows (nothing suppressed).
    """
    partnership = next((p for p in results.partnerships if p.partnership_id == partnership_id),
                       None)
    if partnership is None:
        return []
    found: list[Suggestion] = []
    minimum = results.scale.min_respondents
    if partnership.responded >= minimum:
        shown = sorted(((s.value, key) for key, s in partnership.elements.items() if s.shown))
        for value, key in shown[:lowest]:
            stage = results.scale.stage(value)
            found.append(Suggestion(key, f"among the lowest elements, at {two_decimals(value)}"
                                         f"{f' ({stage.label})' if stage else ''}."))
        bottom = results.scale.levels[0]
        lows = []
        for item in results.item_results:
            if item.partnership_id != partnership_id or item.mean_score(minimum).suppressed:
                continue
            answered = item.n + item.dont_know + item.not_applicable
            low = item.counts.get(bottom.value, 0) + item.dont_know
            if answered and low / answered >= LOW_SHARE:
                lows.append((-low / answered, item.item_code, item, low, answered))
        for _, _, item, low, answered in sorted(lows, key=lambda t: t[:2])[:ITEMS_SUGGESTED]:
            # The item by its number and text, as partners saw it (SPEC 9), never its code.
            name = results.item_name(item.item_code)
            found.append(Suggestion(item.element_key, (
                f"{low} of {answered} partners chose \u201c{bottom.label}\u201d or "
                f"\u201c{results.scale.dont_know_label}\u201d for item {name}"
                f"{'' if name.endswith(('.', '?', '!')) else '.'}")))
    gaps = [g for g in results.gaps if g.scope == partnership.board_code and g.gap is not None]
    if gaps:
        widest = max(gaps, key=lambda g: abs(g.gap or 0.0))
        side = "lower" if (widest.gap or 0.0) < 0 else "higher"
        board = partnership.board_name or f"board {partnership.board_code}"
        found.append(Suggestion(widest.element_key, (
            f"the widest industry gap in {board}: business partners rate it "
            f"{two_decimals(abs(widest.gap or 0))} {side} than the other partners.")))
    return found


@dataclass(frozen=True)
class SinceLast:
    """What a partnership's last published cycle says, before it is put into words."""

    cycle: str
    overall: float | None = None
    stage: int | None = None  # the stage's level value
    stage_labels: Mapping[str, Mapping[int, str]] = field(default_factory=dict)  # language
    delta: float | None = None
    previous_cycle: str | None = None
    status: str | None = None
    priorities: int = 0


_SINCE_LAST: dict[tuple[int, str], dict[int, SinceLast]] = {}


def since_last_line(session: Session, cycle: Cycle, partnership_id: int) -> str:
    """One sentence for the next cycle's invitation: what changed in the partnership's
    last published cycle, and its action plan ("" when there is nothing to say), in the
    language of the email being written (flask_babel.force_locale).

    Only published figures (survey.disclosure); the last cycle's facts are computed once
    per results version and kept for the batch of messages that follows.
    """
    earlier = latest_published(session, cycle, include_self=False)
    if earlier is None:
        return ""
    key = (earlier.id, disclosure_version(session, earlier))
    if key not in _SINCE_LAST:
        _SINCE_LAST.clear()  # one cycle's lines at a time: the batch being sent
        _SINCE_LAST[key] = _since_last_facts(session, earlier)
    facts = _SINCE_LAST[key].get(partnership_id)
    return _since_last_words(facts) if facts else ""


def disclosure_version(session: Session, cycle: Cycle) -> str:
    from survey.scoring.cycles import results_version

    return f"{results_version(session, cycle)}:{plans_version(session, cycle)}"


def _since_last_facts(session: Session, earlier: Cycle) -> dict[int, SinceLast]:
    results = disclosure.published_results(session, earlier)
    overall = {c.partnership_id: c for c in results.changes if c.element_key == OVERALL}
    priorities: Counter[int] = Counter()
    for row in plan_rows(session, earlier):
        priorities[row.partnership_id] += row.priority
    content = Questionnaire.from_dict(earlier.content)
    stage_labels = {language: {level.value: level.label
                               for level in content.localized(language).scale.levels}
                    for language in ("en", *content.translations)}
    facts = {}
    for p in results.partnerships:
        pid = p.partnership_id or 0
        fact = SinceLast(earlier.name, priorities=priorities[pid])
        if p.overall.shown and p.overall.value is not None:
            fact = dataclasses.replace(fact, overall=p.overall.value,
                                       stage=p.stage.value if p.stage else None,
                                       stage_labels=stage_labels)
            change = overall.get(pid)
            if change and change.delta is not None and not change.suppressed:
                fact = dataclasses.replace(fact, delta=change.delta,
                                           previous_cycle=change.previous_cycle,
                                           status=change.status)
        if fact.overall is not None or fact.priorities:
            facts[pid] = fact
    return facts


def _since_last_words(fact: SinceLast) -> str:
    """The sentence, in the current language (English outside a request)."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    from survey.i18n import current_language, translate

    parts = []
    if fact.overall is not None:
        labels = fact.stage_labels.get(current_language()) or fact.stage_labels.get("en", {})
        stage = f" ({labels[fact.stage]})" if fact.stage in labels else ""
        parts.append(_("In cycle %(cycle)s the partnership's overall score was %(score)s",
                       cycle=fact.cycle, score=two_decimals(fact.overall)) + stage)
        if fact.delta is not None:
            parts[-1] += _(", %(delta)s since cycle %(previous)s (%(status)s)",
                           delta=two_decimals(fact.delta, True), previous=fact.previous_cycle,
                           status=translate(fact.status) if fact.status else "")
        parts[-1] += "."
    if fact.priorities:
        parts.append(ngettext("Its action plan set %(num)s priority for this cycle.",
                              "Its action plan set %(num)s priorities for this cycle.",
                              fact.priorities))
    return _("What changed since the last cycle:") + " " + " ".join(parts)
