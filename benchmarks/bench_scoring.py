"""Time cycle_results on a realistic volume against a naive Python loop over every answer.

Builds a SQLite database (24 boards x 4 partnerships x 12 respondents x every item, two
cycles), then times `cycle_results` for the state and for one board, and a naive
implementation that walks every answer row in Python to compute the partnership element
scores; asserts both agree and prints the ratio.

    python benchmarks/bench_scoring.py [--keep DB_PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from statistics import fmean
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from survey.db import make_engine  # noqa: E402
from survey.models import (  # noqa: E402
    Answer,
    Board,
    Cycle,
    Invitation,
    Member,
    Participation,
    Partnership,
)
from survey.questionnaire import Questionnaire, default_folder, load_questionnaire  # noqa: E402
from survey.schema import upgrade  # noqa: E402
from survey.scoring import cycle_results, partnership_scores  # noqa: E402

BOARDS, PARTNERSHIPS, RESPONDENTS = 24, 4, 12
TYPES = ("business", "business", "business", "workforce", "education", "economic_development",
         "labor", "community")


def build(engine: Engine, questionnaire: Questionnaire, seed: int = 7) -> int:
    """Fill the database; return the number of answer rows."""
    rng = random.Random(seed)
    answers = 0
    with Session(engine) as session:
        cycles = [
            Cycle(name=name, status=status, opens_on=dt.date(year, 2, 1),
                  closes_on=dt.date(year, 4, 1), content=questionnaire.to_dict(),
                  content_hash=questionnaire.content_hash)
            for name, status, year in (("2025", "closed", 2025), ("2026", "open", 2026))
        ]
        session.add_all(cycles)
        members: list[Member] = []
        participations: dict[tuple[int, int], Participation] = {}
        for b in range(1, BOARDS + 1):
            board = Board(code=f"{b:02d}", name=f"Board {b}")
            for p in range(PARTNERSHIPS):
                partnership = Partnership(board=board, name=f"Partnership {b}-{p}",
                                          sector=rng.choice(["Health", "Logistics", "IT"]))
                for cycle in cycles:
                    participations[id(cycle), id(partnership)] = Participation(
                        cycle=cycle, partnership=partnership, board=board, board_code=board.code,
                        board_name=board.name, partnership_name=partnership.name,
                        sector=partnership.sector)
                for r in range(RESPONDENTS):
                    members.append(Member(partnership=partnership, partner_type=rng.choice(TYPES),
                                          email=f"m{b}-{p}-{r}@example.org"))
        session.add_all(members)
        session.add_all(participations.values())
        session.flush()
        invitations = []
        for cycle in cycles:
            for member in members:
                status = rng.choices(["submitted", "in_progress", "not_started"], [85, 10, 5])[0]
                invitations.append(Invitation(
                    cycle=cycle, member=member, status=status, partner_type=member.partner_type,
                    participation=participations[id(cycle), id(member.partnership)]))
        session.add_all(invitations)
        session.flush()
        rows: list[dict[str, Any]] = []
        for invitation in invitations:
            if invitation.status == "not_started":
                continue
            lean = rng.uniform(1.0, 4.0)
            for item in questionnaire.items:
                roll = rng.random()
                if roll < 0.05:
                    continue  # unanswered
                special = "DK" if roll < 0.10 else "NA" if roll < 0.12 else None
                level = None if special else max(1, min(4, round(rng.gauss(lean, 0.8))))
                rows.append({"invitation_id": invitation.id, "element_key": item.element_key,
                             "item_code": item.code, "level": level, "special": special})
        session.execute(insert(Answer), rows)
        answers = len(rows)
        session.commit()
    return answers


def naive_partnership_scores(engine: Engine, cycle_name: str) -> dict[tuple[int, str], tuple]:
    """The baseline: walk every invitation and answer in Python (as a first draft would)."""
    with Session(engine) as session:
        cycle = session.execute(select(Cycle).where(Cycle.name == cycle_name)).scalar_one()
        questionnaire = Questionnaire.from_dict(cycle.content)
        needed = {e.key: math.ceil(len(e.items) / 2) for e in questionnaire.elements}
        by_partnership: dict[tuple[int, str], list[float]] = defaultdict(list)
        invitations = session.execute(
            select(Invitation).where(Invitation.cycle_id == cycle.id)).scalars()
        for invitation in invitations:
            if invitation.status != "submitted":
                continue
            levels: dict[str, list[int]] = defaultdict(list)
            for row in invitation.answers:
                if row.level is not None:
                    levels[row.element_key].append(row.level)
            for key, values in levels.items():
                if len(values) >= needed[key]:
                    pid = invitation.participation.partnership_id
                    by_partnership[pid, key].append(fmean(values))
        return {k: (fmean(v), len(v)) for k, v in by_partnership.items()}


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of several runs, and the last result."""
    timings, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    path = args.keep or Path(folder.name) / "bench.sqlite3"
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    questionnaire = load_questionnaire(default_folder())
    started = time.perf_counter()
    answers = build(engine, questionnaire)
    print(f"database: {BOARDS} boards x {PARTNERSHIPS} partnerships x {RESPONDENTS} respondents "
          f"x {len(questionnaire.items)} items, 2 cycles: {answers} answers "
          f"(built in {time.perf_counter() - started:.1f} s)")

    def run(board: str | None = None, responses: bool = True) -> Any:
        with Session(engine) as session:
            cycle = session.execute(select(Cycle).where(Cycle.name == "2026")).scalar_one()
            return cycle_results(session, cycle, board, include_responses=responses,
                                 respondent_salt="benchmark-secret")

    def scores_only() -> dict[tuple[int, str], tuple]:
        with Session(engine) as session:
            cycle = session.execute(select(Cycle).where(Cycle.name == "2026")).scalar_one()
            return {(p.partnership_id, key): (f.value, f.n)
                    for p in partnership_scores(session, cycle).partnerships
                    for key, f in p.elements.items()}

    state_s, results = best_of(args.runs, run)
    lean_s, _ = best_of(args.runs, lambda: run(responses=False))
    board_s, board_results = best_of(args.runs, lambda: run("05"))
    scores_s, scores = best_of(args.runs, scores_only)
    naive_s, naive = best_of(args.runs, lambda: naive_partnership_scores(engine, "2026"))

    assert scores.keys() == naive.keys(), "partnership element scores differ in coverage"
    for key, (value, n) in naive.items():
        assert scores[key][1] == n and math.isclose(scores[key][0], value, abs_tol=1e-9), key
    by_id = {p.partnership_id: p for p in results.partnerships}
    for (pid, key), (value, n) in naive.items():
        shown = by_id[pid].elements[key]
        assert shown.n == n and (shown.suppressed or math.isclose(shown.value, value)), (pid, key)

    print(f"state: {len(results.partnerships)} partnerships, {len(results.item_results)} item "
          f"rows, {len(results.responses)} response rows, {len(results.changes)} change rows, "
          f"{len(results.trends)} trend points; board 05: {len(board_results.partnerships)} "
          f"partnerships")
    print(f"cycle_results (state): {state_s:.3f} s; without responses: {lean_s:.3f} s; "
          f"board 05: {board_s:.3f} s")
    print(f"partnership scores (SQL): {scores_s:.3f} s; naive loop: {naive_s:.3f} s; "
          f"ratio {naive_s / scores_s:.1f}x")
    print(f"cycle_results (state): {state_s:.3f} s; naive loop: {naive_s:.3f} s; "
          f"ratio {naive_s / state_s:.1f}x")
    engine.dispose()
    folder.cleanup()


if __name__ == "__main__":
    main()
