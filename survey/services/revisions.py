"""Revisions of a published cycle (SPEC 4b.2-4b.3, 4a rule 9): release 2 and on.

A revision is the cycle's results as they stand, compared with every earlier release
first: for each figure published in both, the respondents whose contribution differs
(added, removed, answers changed, moved into or out of the scope) must number 0 or at
least `min_respondents`. A figure where they do not is held back (suppressed), scoring
runs again with it held back (so rule 1's complementary suppression works around it),
and so on until nothing more is held back.

    plan = plan_revision(session, cycle)   # what would change; writes nothing
    row = publish_revision(session, cycle, author, note)   # flush only
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.results import STATE_SCOPE, CycleResults
from survey import disclosure, releases
from survey.disclosure import HeldBack
from survey.models import Cycle
from survey.models import Release as ReleaseRow
from survey.releases import Basis, ReleaseContent, Respondent
from survey.services import audit
from survey.services.tabular import ImportProblem

BUSINESS = "business"
_ROUNDS = 50  # each round holds back more; a cycle's figures run out long before this


@dataclass(frozen=True)
class HeldFigure:
    """One figure a revision holds back, and why."""

    figure: str  # e.g. "partnership Tampa Bay Manufacturing, vision"
    release: int  # the earlier release it is compared with
    differ: int  # respondents whose contribution differs

    @property
    def reason(self) -> str:
        if not self.differ:  # found by rule 1 over every release together
            return f"{self.figure}: would give respondents away with the earlier releases"
        who = "respondent differs" if self.differ == 1 else "respondents differ"
        return f"{self.figure}: {self.differ} {who} from release {self.release}"


@dataclass(frozen=True)
class RevisionPlan:
    """What publishing a revision now would store, and what it holds back."""

    cycle: str
    number: int  # the release number it would get
    changed: int  # responses changed since the current release
    content: ReleaseContent
    basis: Basis
    held: HeldBack
    reasons: tuple[HeldFigure, ...]

    @property
    def summary(self) -> str:
        """One line: "release 2: 3 responses changed, 4 figures held back"."""
        held = len(self.held)
        figures = "figure" if held == 1 else "figures"
        responses = "response" if self.changed == 1 else "responses"
        return (f"release {self.number}: {self.changed} {responses} changed since release "
                f"{self.number - 1}, {held} {figures} held back")


def plan_revision(session: Session, cycle: Cycle) -> RevisionPlan:
    """The next release of a published cycle, differenced against every earlier one."""
    earlier = releases.all_releases(session, cycle)
    if not earlier:
        raise ImportProblem([f"cycle {cycle.name} is not published yet: close it first"])
    basis = releases.respondent_basis(session, cycle)
    past = [(row.number, releases.content(row).results, releases.basis_of(row))
            for row in earlier]
    held = HeldBack(cycle.id)
    reasons: dict[tuple[str, ...], HeldFigure] = {}
    for _ in range(_ROUNDS):
        with disclosure.holding_back(held):
            content = releases.build_content(session, cycle)
        more = HeldBack(cycle.id)
        minimum = content.results.scale.min_respondents
        for number, results, old_basis in past:
            found, why = differences(results, old_basis, content.results, basis, number,
                                     minimum)
            more = more | found
            for key, figure in why.items():
                reasons.setdefault(key, figure)
        if len(more) == 0:  # each figure passes alone: now every release together (rule 1)
            found, why = combined_leaks([(r, b) for _, r, b in past], content.results, basis,
                                        minimum, past[-1][0])
            more = more | found
            for key, figure in why.items():
                reasons.setdefault(key, figure)
        if len(held | more) == len(held):
            break
        held = held | more
    changed = len(releases.changed_respondents(past[-1][2], basis))
    return RevisionPlan(cycle.name, earlier[-1].number + 1, changed, content, basis, held,
                        tuple(sorted(reasons.values(), key=lambda f: (f.release, f.figure))))


def publish_revision(session: Session, cycle: Cycle, author: str, note: str) -> ReleaseRow:
    """Store the next release of a published cycle (flush only); ImportProblem for a
    missing note or an unpublished cycle."""
    note = " ".join(note.split())
    if not note:
        raise ImportProblem(["a revision needs a note saying what changed"])
    if len(note) > 500:
        raise ImportProblem(["the note is longer than 500 characters"])
    session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())
    plan = plan_revision(session, cycle)
    row = releases.store(session, cycle, plan.content, plan.basis, author=author, note=note,
                         held_back={"count": len(plan.held),
                                    "reasons": [f.reason for f in plan.reasons]})
    audit.record(session, "cycle.publish", f"cycle {cycle.name}", actor=author,
                 release=row.number, note=note, held_back=len(plan.held))
    return row


# --- the comparison ---------------------------------------------------------------------


Contributors = dict[int, tuple[object, ...]]  # invitation id -> what they contribute


def _differ(before: Contributors, after: Contributors) -> int:
    return sum(1 for iid in before.keys() | after.keys() if before.get(iid) != after.get(iid))


def differences(old: CycleResults, old_basis: Basis, new: CycleResults, new_basis: Basis,
                number: int, minimum: int) -> tuple[HeldBack, dict[tuple[str, ...], HeldFigure]]:
    """What the new results must hold back against one earlier release, and why."""
    scores: set[tuple[int, str]] = set()
    groups: set[tuple[str, str, str]] = set()
    cells: set[tuple[str, str, str]] = set()
    others: set[tuple[str, str]] = set()
    items: set[tuple[int, str]] = set()
    comments: set[int] = set()
    why: dict[tuple[str, ...], HeldFigure] = {}

    def check(key: tuple[str, ...], label: str, before: Contributors,
              after: Contributors) -> bool:
        differ = _differ(before, after)
        if 0 < differ < minimum:
            why.setdefault(key, HeldFigure(label, number, differ))
            return True
        return False

    names = {p.partnership_id: p.label for p in (*old.partnerships, *new.partnerships)}
    old_shown = _published_scores(old)
    new_shown = _published_scores(new)
    elements = [e.key for e in new.elements]
    # partnership element scores
    for pid, key in old_shown & new_shown:
        if check(("p", str(pid), key), f"partnership {names[pid]}, {key}",
                 _members(old_basis, key, lambda r, p=pid: r.partnership_id == p),
                 _members(new_basis, key, lambda r, p=pid: r.partnership_id == p)):
            scores.add((pid, key))
    # board, sector and state element scores: means of published partnership scores
    for kind, old_scopes, new_scopes in (("board", old.boards, new.boards),
                                         ("sector", old.sectors, new.sectors),
                                         ("state", (old.state,), (new.state,))):
        old_by = {s.key: s for s in old_scopes}
        for scope in new_scopes:
            before = old_by.get(scope.key)
            if before is None:
                continue
            for key in elements:
                if not (before.elements[key].shown and scope.elements[key].shown):
                    continue
                old_c = _scope_members(old, old_basis, old_shown, kind, scope.key, key)
                new_c = _scope_members(new, new_basis, new_shown, kind, scope.key, key)
                if check(("g", kind, scope.key, key), f"{kind} {scope.label}, {key}",
                         old_c, new_c):
                    changed = {pid for pid, k in new_shown if k == key
                               and _differ(_members(old_basis, key, _in(pid)),
                                           _members(new_basis, key, _in(pid)))}
                    in_scope = {pid for pid in changed
                                if _scope_has(new, kind, scope.key, pid)}
                    if in_scope:
                        scores.update((pid, key) for pid in in_scope)
                    else:
                        groups.add((kind, scope.key, key))
    # partner-type cells and the industry gap's other side
    old_types = {(t.scope, t.partner_type): t for t in old.partner_types}
    for cell in new.partner_types:
        before = old_types.get((cell.scope, cell.partner_type))
        if before is None:
            continue
        for key in elements:
            if not (before.elements[key].shown and cell.elements[key].shown):
                continue
            if check(("t", cell.scope, cell.partner_type, key),
                     f"{cell.partner_type_label} in {_scope_label(cell.scope)}, {key}",
                     _type_members(old, old_basis, old_shown, cell.scope, key,
                                   lambda t, want=cell.partner_type: t == want),
                     _type_members(new, new_basis, new_shown, cell.scope, key,
                                   lambda t, want=cell.partner_type: t == want)):
                cells.add((cell.scope, cell.partner_type, key))
    old_gaps = {(g.scope, g.element_key): g for g in old.gaps}
    for gap in new.gaps:
        before = old_gaps.get((gap.scope, gap.element_key))
        if before is None or not (before.others.shown and gap.others.shown):
            continue
        if check(("o", gap.scope, gap.element_key),
                 f"partners other than business in {_scope_label(gap.scope)}, "
                 f"{gap.element_key}",
                 _type_members(old, old_basis, old_shown, gap.scope, gap.element_key,
                               lambda t: t != BUSINESS),
                 _type_members(new, new_basis, new_shown, gap.scope, gap.element_key,
                               lambda t: t != BUSINESS)):
            others.add((gap.scope, gap.element_key))
    # item figures, per partnership and element: every submitted respondent counts
    old_items = {(i.partnership_id, i.element_key) for i in old.item_results if not i.suppressed}
    new_items = {(i.partnership_id, i.element_key) for i in new.item_results if not i.suppressed}
    for pid, key in old_items & new_items:
        if check(("i", str(pid), key), f"item figures of {names[pid]}, {key}",
                 _answers(old_basis, pid, key), _answers(new_basis, pid, key)):
            items.add((pid, key))
    # comments, per partnership
    old_comments = {c.partnership_id for c in old.comments}
    for pid in {c.partnership_id for c in new.comments}:
        if check(("c", str(pid)), f"comments of {names.get(pid, pid)}",
                 _comments(old_basis, pid) if pid in old_comments else {},
                 _comments(new_basis, pid)):
            comments.add(pid)
    held = HeldBack(0, frozenset(scores), frozenset(groups), frozenset(cells),
                    frozenset(others), frozenset(items), frozenset(comments))
    return held, why


Variable = tuple[int, str]  # a respondent and their score: a changed answer is a new unknown


def known_sums(results: CycleResults, basis: Basis, element: str) -> list[frozenset[Variable]]:
    """The sets of respondents whose score sum in `element` a release gives (a mean times
    its n): shown partnership scores, partner-type cells and the gap's other side. Scope
    means are means of shown partnership scores and add nothing to them."""
    shown = _published_scores(results)
    sums: list[frozenset[Variable]] = []
    scored = {iid: r for iid, r in basis.items() if element in r.scores}
    for pid, key in shown:
        if key == element:
            sums.append(frozenset((i, r.scores[element]) for i, r in scored.items()
                                  if r.partnership_id == pid))
    pooled = {i: r for i, r in scored.items() if (r.partnership_id, element) in shown}
    for cell in results.partner_types:
        if cell.elements[element].shown:
            sums.append(frozenset(
                (i, r.scores[element]) for i, r in pooled.items()
                if r.partner_type == cell.partner_type
                and cell.scope in (STATE_SCOPE, r.board_code)))
    for gap in results.gaps:
        if gap.element_key == element and gap.others.shown:
            sums.append(frozenset(
                (i, r.scores[element]) for i, r in pooled.items()
                if r.partner_type != BUSINESS and gap.scope in (STATE_SCOPE, r.board_code)))
    return [s for s in sums if s]


def combined_leaks(past: list[tuple[CycleResults, Basis]], new: CycleResults, new_basis: Basis,
                   minimum: int, number: int,
                   ) -> tuple[HeldBack, dict[tuple[str, ...], HeldFigure]]:
    """Rule 1 over every release together (SPEC 4a rule 9): where the sums of all releases
    give away 1 to minimum - 1 respondents, hold back the new release's scores of their
    partnerships in that element (and its partner-type cells there, if one has left)."""
    scores: set[tuple[int, str]] = set()
    cells: set[tuple[str, str, str]] = set()
    why: dict[tuple[str, ...], HeldFigure] = {}
    names = {p.partnership_id: p.label for p in new.partnerships}
    for element in (e.key for e in new.elements):
        sums = [s for results, basis in (*past, (new, new_basis))
                for s in known_sums(results, basis, element)]
        involved = _leaked(sums, minimum)
        for iid, _ in involved:
            respondent = new_basis.get(iid)
            pid = respondent.partnership_id if respondent else None
            if pid is not None and (pid, element) in _published_scores(new):
                scores.add((pid, element))
                why.setdefault(("x", str(pid), element), HeldFigure(
                    f"partnership {names.get(pid, pid)}, {element}", number, 0))
            else:
                cells.update((c.scope, c.partner_type, element) for c in new.partner_types
                             if c.elements[element].shown)
    return HeldBack(0, frozenset(scores), cells=frozenset(cells)), why


def _leaked(sums: list[frozenset[Variable]], minimum: int) -> set[Variable]:
    """The respondents in any set of 1 to minimum - 1 whose sum the sums give away."""
    membership: dict[Variable, list[int]] = {}
    for index, members in enumerate(sums):
        for variable in members:
            membership.setdefault(variable, []).append(index)
    classes: dict[tuple[int, ...], list[Variable]] = {}
    for variable, where in membership.items():
        classes.setdefault(tuple(where), []).append(variable)
    parts = list(classes.values())
    generators: list[list[int]] = [[] for _ in sums]
    for index, where in enumerate(classes):
        for s in where:
            generators[s].append(index)
    found = disclosure.small_derivable([len(p) for p in parts], generators, minimum)
    if found == [()]:  # too many subsets to be sure: everyone counts as given away
        return set(membership)
    return {v for subset in found for index in subset for v in parts[index]}


def _published_scores(results: CycleResults) -> set[tuple[int, str]]:
    return {(p.partnership_id or 0, key) for p in results.partnerships
            for key, score in p.elements.items() if score.shown}


def _in(pid: int) -> Callable[[Respondent], bool]:
    return lambda r: r.partnership_id == pid


def _members(basis: Basis, key: str, where: Callable[[Respondent], bool]) -> Contributors:
    """Respondents with a score in the element, and that score."""
    return {iid: (r.scores[key],) for iid, r in basis.items() if key in r.scores and where(r)}


def _scope_has(results: CycleResults, kind: str, scope: str, pid: int) -> bool:
    for p in results.partnerships:
        if p.partnership_id == pid:
            return (kind == "state" or (kind == "board" and p.board_code == scope)
                    or (kind == "sector" and (p.sector or "") == scope))
    return False


def _scope_pids(results: CycleResults, kind: str, scope: str) -> set[int]:
    return {p.partnership_id or 0 for p in results.partnerships
            if _scope_has(results, kind, scope, p.partnership_id or 0)}


def _scope_members(results: CycleResults, basis: Basis, shown: set[tuple[int, str]],
                   kind: str, scope: str, key: str) -> Contributors:
    """Respondents behind a scope's mean of published partnership scores, with the
    partnership they count in (moving within the scope changes two means)."""
    pids = {pid for pid in _scope_pids(results, kind, scope) if (pid, key) in shown}
    return {iid: (r.partnership_id, r.scores[key]) for iid, r in basis.items()
            if key in r.scores and r.partnership_id in pids}


def _type_members(results: CycleResults, basis: Basis, shown: set[tuple[int, str]],
                  scope: str, key: str, wanted: Callable[[str], bool]) -> Contributors:
    """Respondents pooled in a partner-type figure of a scope (state or board)."""
    kind = "state" if scope == STATE_SCOPE else "board"
    pids = {pid for pid in _scope_pids(results, kind, scope) if (pid, key) in shown}
    return {iid: (r.scores[key],) for iid, r in basis.items()
            if key in r.scores and r.partnership_id in pids and wanted(r.partner_type)}


def _answers(basis: Basis, pid: int, key: str) -> Contributors:
    return {iid: (r.answers.get(key, ""),) for iid, r in basis.items() if r.partnership_id == pid}


def _comments(basis: Basis, pid: int) -> Contributors:
    return {iid: (r.comments,) for iid, r in basis.items() if r.partnership_id == pid}


def _scope_label(scope: str) -> str:
    return "the state" if scope == STATE_SCOPE else f"board {scope}"


def held_lines(plan: RevisionPlan, limit: int = 20) -> Iterable[str]:
    """The reasons, at most `limit` of them and a count of the rest."""
    for figure in plan.reasons[:limit]:
        yield figure.reason
    if len(plan.reasons) > limit:
        yield f"... and {len(plan.reasons) - limit} more"


def with_cycle(held: HeldBack, cycle_id: int) -> HeldBack:
    """The same holds, for this cycle."""
    return dataclasses.replace(held, cycle_id=cycle_id)
