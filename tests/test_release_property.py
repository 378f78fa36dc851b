"""SPEC 4a rule 9, played by the adversary across releases: a world is published, changed
at random (reopened and submitted to, paper answers imported, a member removed, a
partnership moved, boards merged, a historical cycle added), and a revision published;
with every release in hand, no set of 1 or 2 respondents is derivable.

The adversary of tests/test_confidentiality.py reads each release (its known sums,
checked against the answers this test wrote, with each respondent where that release saw
them); the sums of all releases together go through its exact rational elimination.
Answers never change here once given, so each respondent is one unknown in every release.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from survey import releases
from survey.models import Board, CycleStatus, Partnership
from survey.services.boards import merge_boards, move_partnership
from survey.services.cycles import close_cycle, open_cycle
from survey.services.revisions import publish_revision
from survey.services.rosters import remove_member
from survey.services.tabular import ImportProblem
from tests.factories import (
    all_answers,
    answer,
    element_answers,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
)
from tests.test_confidentiality import (
    ELEMENTS,
    MINIMUM,
    TYPES,
    Q,
    Respondent,
    Roster,
    derivable,
    known_sets,
)


@dataclass
class Person:
    """A respondent as this test wrote them: their invitation and answers."""

    invitation_id: int
    partner_type: str
    scores: dict[str, int | None]


respondent_st = st.tuples(st.sampled_from(TYPES), st.integers(1, 4),
                          st.sets(st.sampled_from(ELEMENTS[:2]), max_size=1))
world_st = st.lists(st.lists(st.lists(respondent_st, min_size=1, max_size=5),
                             min_size=1, max_size=3), min_size=2, max_size=3)
mutation_st = st.one_of(
    st.tuples(st.just("submit"), st.integers(0, 8), respondent_st),
    st.tuples(st.just("import"), st.integers(0, 8), respondent_st),
    st.tuples(st.just("remove"), st.integers(0, 8), st.integers(0, 5)),
    st.tuples(st.just("move"), st.integers(0, 8), st.integers(0, 2)),
    st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("history"), st.integers(0, 8), st.integers(1, 4)),
)
_counter = itertools.count()


def submit(session: Session, cycle, partnership: Partnership, people: list[Person],
           partner_type: str, level: int, dont_know: set[str]) -> None:
    member = make_member(session, partnership, partner_type)
    invitation, _ = make_invitation(session, cycle, member)
    values = all_answers(Q, level)
    for key in dont_know:
        values.update(element_answers(Q, key, "DK"))
    answer(session, invitation, values)
    people.append(Person(invitation.id, partner_type,
                         {key: None if key in dont_know else level for key in ELEMENTS}))


def release_sets(row, people: list[Person], element: str) -> list[list[int]]:
    """The known sums of one release, as sets of people (indexes into `people`)."""
    basis = releases.basis_of(row)
    local = [i for i, p in enumerate(people) if p.invitation_id in basis]
    roster = Roster(None)  # type: ignore[arg-type]
    for i in local:
        seen = basis[people[i].invitation_id]
        roster.respondents.append(Respondent(seen.board_code, seen.partnership_id,
                                             seen.partner_type, people[i].scores))
    sets = known_sets(releases.release_results(row), roster, element)
    return [[local[j] for j in members] for members in sets]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=world_st, mutations=st.lists(mutation_st, min_size=1, max_size=5))
@example(  # found by this test: each figure passed differencing alone, together they did not
    world=[[[("business", 2, set()), ("business", 3, set()), ("business", 2, set())],
            [("business", 2, {"data"}), ("business", 3, {"data"}), ("business", 2, {"data"}),
             ("business", 2, {"data"}), ("labor", 1, {"vision"})],
            [("education", 4, {"data"})]],
           [[("labor", 4, {"vision"}), ("business", 1, {"data"}), ("workforce", 1, set()),
             ("labor", 2, {"vision"}), ("workforce", 4, set())],
            [("workforce", 2, set()), ("business", 3, {"data"}), ("business", 4, {"vision"}),
             ("workforce", 3, {"data"})],
            [("business", 2, {"data"}), ("labor", 1, {"data"}), ("education", 2, {"data"}),
             ("business", 2, {"vision"}), ("labor", 3, set())]]],
    mutations=[("import", 3, ("business", 4, {"vision"})), ("history", 2, 3),
               ("move", 7, 1), ("history", 7, 1), ("submit", 0, ("business", 1, set()))])
def test_no_one_or_two_respondents_are_derivable_from_all_releases_together(
        session: Session, world, mutations) -> None:
    run = next(_counter)
    cycle = make_cycle(session, f"r{run}", status=CycleStatus.OPEN, questionnaire=Q)
    cycle.opens_on = cycle.opens_on.replace(year=2100 + run)  # the latest: history is earlier
    people: list[Person] = []
    boards: list[Board] = []
    partnerships: list[Partnership] = []
    for b, board_partnerships in enumerate(world):
        board = make_board(session, f"q{run}-{b}", f"Board {run}-{b}")
        boards.append(board)
        for members in board_partnerships:
            partnership = make_partnership(session, board)
            partnerships.append(partnership)
            for partner_type, level, dont_know in members:
                submit(session, cycle, partnership, people, partner_type, level, dont_know)
    assert close_cycle(session, cycle)
    open_cycle(session, cycle, Q)  # reopened: everything below waits for a revision
    for kind, first, second in mutations:
        partnership = partnerships[first % len(partnerships)]
        if kind in ("submit", "import"):
            partner_type, level, dont_know = second
            submit(session, cycle, partnership, people, partner_type, level, dont_know)
        elif kind == "remove" and partnership.members:
            remove_member(session, partnership.members[second % len(partnership.members)])
        elif kind == "move":
            try:
                move_partnership(session, partnership, boards[second % len(boards)])
            except ImportProblem:
                pass
        elif kind == "merge" and first != second and len(boards) > max(first, second):
            try:
                merge_boards(session, boards[first], boards[second])
            except ImportProblem:
                pass
        elif kind == "history":
            earlier = make_cycle(session, f"r{run}h{first}", status=CycleStatus.CLOSED,
                                 questionnaire=Q)
            earlier.published_at = None  # imported, never published: feeds nothing
            earlier.opens_on = cycle.opens_on.replace(year=2000 + run % 90)
            member = make_member(session, partnership, "business")
            invitation, _ = make_invitation(session, earlier, member)
            answer(session, invitation, all_answers(Q, second))
    close_cycle(session, cycle)
    publish_revision(session, cycle, "test", "after random changes")
    rows = releases.all_releases(session, cycle)
    assert [r.number for r in rows] == [1, 2]
    for element in ELEMENTS:
        known = [s for row in rows for s in release_sets(row, people, element)]
        scored = [i for i, p in enumerate(people) if p.scores[element] is not None]
        leaks = derivable(known, scored, MINIMUM)
        assert not leaks, (element, [[people[i] for i in leak] for leak in leaks])
