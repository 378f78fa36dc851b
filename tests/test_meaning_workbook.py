"""SPEC 15's sheets read back with openpyxl against an independent computation: random
answers written through the factories, the workbook written by `survey export`, and
every Agreement, Benchmarks, Instrument and Change Margin figure recomputed here from
the raw answers with numpy and pingouin (nothing from survey.scoring)."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pingouin as pg
import pytest

from survey.models import CycleStatus
from tests.factories import (
    answer,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)

Q = shipped_questionnaire()
MINIMUM = Q.scale.min_respondents
TITLES = {e.key: e.title for e in Q.elements}
SECTORS = ["Healthcare", "Healthcare", "Healthcare", "Healthcare", "Healthcare", "Healthcare",
           "Marine", "Marine", "Construction"]
Answers = dict[str, int | str]


@dataclass
class World:
    """What was written: per cycle, partnership (name) -> its respondents' answers."""

    boards: dict[str, str] = field(default_factory=dict)  # partnership -> board code
    sectors: dict[str, str] = field(default_factory=dict)
    answers: dict[str, dict[str, list[Answers]]] = field(default_factory=dict)


def _answers(rng: random.Random, centre: float, spread: float, split: bool) -> Answers:
    values: Answers = {}
    offset = rng.gauss(0, spread)
    for element in Q.elements:
        for item in element.items:
            draw = rng.random()
            if draw < 0.06:
                values[item.code] = "DK"
            elif draw < 0.09:
                values[item.code] = "NA"
            elif draw < 0.12:
                continue  # unanswered
            elif split and element.key == "industry":
                values[item.code] = rng.choice((1, 4))
            else:
                values[item.code] = min(4, max(1, round(centre + offset + rng.gauss(0, 0.6))))
    return values


def build(session, seed: int) -> World:
    rng = random.Random(seed)
    world = World()
    boards = [make_board(session, code=code) for code in ("31", "32")]
    cycles = {"2025": make_cycle(session, "2025", CycleStatus.CLOSED,
                                 opens_on=dt.date(2025, 3, 1), closes_on=dt.date(2025, 4, 1)),
              "2026": make_cycle(session, "2026", CycleStatus.CLOSED)}
    partnerships = []
    for index, sector in enumerate(SECTORS):
        board = boards[index % 2]
        p = make_partnership(session, board, name=f"{sector} {index}", sector=sector)
        partnerships.append(p)
        world.boards[p.name], world.sectors[p.name] = board.code, sector
        roster = [make_member(session, p, rng.choice(("business", "education", "workforce")))
                  for _ in range(10)]
        centre, split = rng.uniform(1.6, 3.4), index == 1
        for name, cycle in cycles.items():
            sizes = (3, 4, 5, 6, 8) if sector == "Healthcare" else (2, 3, 5)
            size = rng.choice(sizes) if index else 7
            world.answers.setdefault(name, {})[p.name] = []
            for member in rng.sample(roster, size):
                invitation, _ = make_invitation(session, cycle, member)
                values = _answers(rng, centre + (0.3 if name == "2026" else 0), 0.4, split)
                answer(session, invitation, values)
                world.answers[name][p.name].append(values)
    session.commit()
    return world


# --- the independent computation ---------------------------------------------------------


def element_scores(respondents: list[Answers], key: str) -> list[float]:
    codes = [i.code for i in Q.element(key).items]
    scores = []
    for values in respondents:
        levels = [values[c] for c in codes if isinstance(values.get(c), int)]
        if len(levels) >= math.ceil(len(codes) / 2):
            scores.append(float(np.mean(levels)))
    return scores


def rwg(respondents: list[Answers], key: str) -> tuple[float, int] | None:
    variances = []
    for item in Q.element(key).items:
        levels = [v[item.code] for v in respondents if isinstance(v.get(item.code), int)]
        if len(levels) >= 2:
            variances.append(float(np.var(levels, ddof=1)))
    if not variances:
        return None
    j, mean_var = len(variances), float(np.mean(variances))
    if mean_var >= 1.25:
        return 0.0, j
    return j * (1 - mean_var / 1.25) / (j * (1 - mean_var / 1.25) + mean_var / 1.25), j


def reading(value: float) -> str:
    return "agree" if value >= 0.7 else "mixed" if value >= 0.5 else "split"


def published_scores(world: World, cycle: str) -> dict[str, dict[str, float]]:
    """Per partnership its published element scores and overall (all six published)."""
    out = {}
    for name, respondents in world.answers[cycle].items():
        scores = {}
        for e in Q.elements:
            s = element_scores(respondents, e.key)
            if len(s) >= MINIMUM:
                scores[e.key] = float(np.mean(s))
        if len(scores) == len(Q.elements):
            scores["overall"] = float(np.mean(list(scores.values())))
        out[name] = scores
    return out


def margin_se(respondents: list[Answers], key: str) -> float | None:
    s = element_scores(respondents, key)
    if len(s) < MINIMUM + 2:
        return None
    return float(np.std(s, ddof=1)) / math.sqrt(len(s))


def rows_of(book, name: str) -> list[dict]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def export(runner, path: Path, *args: str):
    result = runner.invoke(args=["export", str(path), "--cycle", "2026", *args])
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(path)


@pytest.mark.parametrize("seed", [3, 19])
def test_sheets_equal_an_independent_computation(session, runner, tmp_path, seed):
    world = build(session, seed)
    book = export(runner, tmp_path / "state.xlsx")
    current = world.answers["2026"]

    # Agreement: one row per published partnership element score, rwg(J) and reading
    expected = {}
    for name, respondents in current.items():
        for e in Q.elements:
            n = len(element_scores(respondents, e.key))
            found = rwg(respondents, e.key)
            if n >= MINIMUM and found is not None:
                expected[name, e.title] = (world.boards[name], n, found[0], reading(found[0]))
    got = {(r["Partnership"], r["Element"]): (r["Board code"], r["n"], r["Agreement"],
                                              r["Reading"]) for r in rows_of(book, "Agreement")}
    assert got.keys() == expected.keys()
    for key, (board, n, value, word) in expected.items():
        assert got[key][:2] == (board, n) and got[key][3] == word, key
        assert got[key][2] == pytest.approx(value, abs=1e-12), key
    assert ("Healthcare 1", TITLES["industry"]) in got  # the split partnership has a row
    assert got["Healthcare 1", TITLES["industry"]][3] == "split"

    # Benchmarks: quartiles of published scores, state and sectors with 5 or more
    scores = published_scores(world, "2026")
    expected_b = {}
    for scope in ["State", *sorted(set(SECTORS))]:
        for key in [*TITLES, "overall"]:
            values = [s[key] for n, s in scores.items()
                      if key in s and (scope == "State" or world.sectors[n] == scope)]
            if len(values) >= 5:
                expected_b[scope, TITLES.get(key, "Overall")] = (
                    len(values), *np.percentile(values, [25, 50, 75], method="linear"))
    got_b = {(r["Scope"], r["Element"]): (r["Partnerships"], r["Lower quartile"], r["Median"],
                                          r["Upper quartile"]) for r in rows_of(book, "Benchmarks")}
    assert got_b.keys() == expected_b.keys() and ("Healthcare", "Overall") in got_b
    for key, value in expected_b.items():
        assert got_b[key] == pytest.approx(value, abs=1e-12), key

    # Instrument: alpha over complete respondents statewide; items' item-rest, dropped, DK, NA
    everyone = [v for respondents in current.values() for v in respondents]
    rows = rows_of(book, "Instrument")
    for e in Q.elements:
        codes = [i.code for i in e.items]
        complete = np.array([[v[c] for c in codes] for v in everyone
                             if all(isinstance(v.get(c), int) for c in codes)])
        frame = pd.DataFrame(complete, columns=codes)
        alpha, (low, high) = pg.cronbach_alpha(data=frame)
        head = next(r for r in rows if r["Element"] == e.title and r["Item"] is None)
        assert head["Respondents"] == len(complete)
        assert head["Alpha"] == pytest.approx(alpha, abs=1e-10)
        assert (head["Alpha low"], head["Alpha high"]) == pytest.approx((low, high), abs=5e-4)
        for j, code in enumerate(codes):
            row = next(r for r in rows if r["Item"] == code)
            rest = np.delete(complete, j, axis=1).sum(axis=1)
            assert row["Item-rest"] == pytest.approx(
                np.corrcoef(complete[:, j], rest)[0, 1], abs=1e-10)
            assert row["Alpha if dropped"] == pytest.approx(
                pg.cronbach_alpha(data=frame.drop(columns=code))[0], abs=1e-10)
            assert row["Don't know"] == pytest.approx(
                sum(v.get(code) == "DK" for v in everyone) / len(everyone))
            assert row["Not applicable"] == pytest.approx(
                sum(v.get(code) == "NA" for v in everyone) / len(everyone))
            assert row["No."] == f"{e.order}.{j + 1}"

    # Change, Margin: within margin where |delta| < 1.645 sqrt(SE1^2 + SE2^2), both known
    change = rows_of(book, "Change")
    before = world.answers["2025"]
    checked = 0
    for row in change:
        key = next((k for k, t in TITLES.items() if t == row["Element"]), None)
        name = row["Partnership"]
        if key is None or row["Previous cycle"] != "2025" or row["Delta"] == "suppressed":
            assert row["Margin"] is None
            continue
        se_now, se_then = margin_se(current[name], key), margin_se(before[name], key)
        if se_now is None or se_then is None:
            assert row["Margin"] is None, (name, key)
            continue
        checked += 1
        within = abs(row["Delta"]) < 1.645 * math.hypot(se_now, se_then)
        assert row["Margin"] == ("within margin" if within else "beyond margin"), (name, key)
    assert checked >= 6

    # A board workbook: the same agreement rows for its partnerships, no Instrument sheet
    board = export(runner, tmp_path / "board.xlsx", "--board", "31")
    assert "Instrument" not in board.sheetnames
    board_rows = {(r["Partnership"], r["Element"]) for r in rows_of(board, "Agreement")}
    assert board_rows == {k for k in expected if world.boards[k[0]] == "31"}
    assert rows_of(board, "Benchmarks") == rows_of(book, "Benchmarks")


def test_margin_appears_only_from_min_respondents_plus_two(session, runner, tmp_path):
    world = build(session, 5)
    book = export(runner, tmp_path / "state.xlsx")
    sizes = {name: len(r) for name, r in world.answers["2026"].items()}
    assert {n for n in sizes.values()} & {3, 4} and max(sizes.values()) >= 5
    for row in rows_of(book, "Change"):
        if row["Margin"] is not None:
            assert sizes[row["Partnership"]] >= MINIMUM + 2


def test_scoring_edge_cases(session):
    """Through survey.scoring on the database: all answers equal, an item everyone
    skipped, two respondents, and variance above the null."""
    from survey.scoring import cycle_results
    from tests.factories import all_answers

    cycle = make_cycle(session, "2026", CycleStatus.CLOSED)
    board = make_board(session, "41")
    made = {name: make_partnership(session, board, name) for name in
            ("Same", "Skipped", "Pair", "Camps")}

    def respond(name: str, values: Answers) -> None:
        invitation, _ = make_invitation(session, cycle, make_member(session, made[name]))
        answer(session, invitation, values)

    for _ in range(3):
        respond("Same", all_answers(Q, 3))
    for level in (1, 2, 4):
        respond("Skipped", {**all_answers(Q, level), "data-1": "DK"})
    for level in (2, 3):
        respond("Pair", all_answers(Q, level))
    for level in (1, 1, 1, 4, 4, 4):
        respond("Camps", all_answers(Q, level))
    session.commit()
    results = cycle_results(session, cycle)
    ids = {name: p.id for name, p in made.items()}
    data_items = len(Q.element("data").items)

    same = results.agreement_of(ids["Same"], "data")
    assert (same.rwg, same.reading, same.items, same.n) == (1.0, "agree", data_items, 3)
    assert results.margin_of(ids["Same"], "data") is None  # 3 < min_respondents + 2
    skipped = results.agreement_of(ids["Skipped"], "data")
    assert skipped.items == data_items - 1  # data-1: nobody scored it, left out
    assert skipped.rwg == 0.0 and skipped.reading == "split"  # 1, 2, 4: s^2 = 2.33 > 1.25
    assert results.agreement_of(ids["Pair"], "data") is None  # suppressed: nothing shown
    assert results.margin_of(ids["Pair"], "data") is None
    camps = results.agreement_of(ids["Camps"], "data")
    assert (camps.rwg, camps.reading) == (0.0, "split")  # s^2 = 2.7, above the null 1.25
    margin = results.margin_of(ids["Camps"], "data")
    se = math.sqrt(2.7 / 6)
    assert margin.se == pytest.approx(se)
    assert (margin.low, margin.high) == pytest.approx((2.5 - 2.015048 * se, 2.5 + 2.015048 * se),
                                                      abs=1e-6)  # t(0.95, 5) from the table
    data = next(e for e in results.instrument if e.element_key == "data")
    assert data.respondents == 3 + 2 + 6  # Skipped's three never scored every data item
    first = next(i for i in results.instrument_items if i.item_code == "data-1")
    assert first.dont_know is None  # Pair's two are hidden rows: 0 < 2 < 3, shares withheld
