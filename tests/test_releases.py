"""Published releases (SPEC 4b): stored, immutable, numbered snapshots of a cycle's results."""

from __future__ import annotations

import dataclasses
import json

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from reports import codec
from reports.results import CycleResults
from reports.sample import sample_results
from survey import releases
from survey.db import db
from survey.models import Cycle, CycleStatus, Release
from survey.scoring import cycle_by_name, cycle_results
from survey.services.cycles import close_cycle, open_cycle
from tests.factories import (
    all_answers,
    answer,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)


def submit_all(session: Session, cycle: Cycle, members: list, level: int | str) -> None:
    """Each member submits the same answer to every item."""
    for member in members:
        invitation, _ = make_invitation(session, cycle, member)
        answer(session, invitation, all_answers(shipped_questionnaire(), level))


def test_sample_results_survive_encode_and_decode_exactly() -> None:
    for board in (None, sample_results().boards[0].key):
        results = sample_results(board)
        text = json.dumps(codec.encode(results))  # plain JSON, no pickle
        assert codec.decode(CycleResults, json.loads(text)) == results


def test_a_field_added_to_a_result_class_is_stored_with_no_change_to_the_codec() -> None:
    @dataclasses.dataclass(frozen=True)
    class Margin:
        low: float | None
        high: float | None

    @dataclasses.dataclass(frozen=True)
    class Widened:
        results: CycleResults
        margins: dict[str, tuple[Margin, ...]]
        counts: dict[int, int]

    globals()["Margin"] = Margin  # the hints name module-level classes, as results.py does
    try:
        value = Widened(sample_results(), {"vision": (Margin(1.5, None),)}, {3: 4})
        assert codec.decode(Widened, json.loads(json.dumps(codec.encode(value)))) == value
    finally:
        del globals()["Margin"]


def test_demo_releases_round_trip_and_board_views_match_live_board_results(
        app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        session = db.session
        published = {c.name: releases.current(session, c)
                     for c in session.execute(select(Cycle)).scalars()}
        assert {name: row and row.number for name, row in published.items()} == {
            "2024": 1, "2025": 1, "2026": None}  # the open cycle has no release
        cycle = cycle_by_name(session, "2025")
        row = published["2025"]
        stored = releases.content(row)
        assert codec.decode(releases.ReleaseContent,
                            json.loads(codec.dumps(stored))) == stored
        live = cycle_results(session, cycle)
        assert without_time(stored.results) == without_time(
            dataclasses.replace(live, provisional=False))
        codes = sorted({p.board_code for p in live.partnerships})
        assert len(codes) == 24
        for code in codes:  # a board's view of the stored state is what scoring builds
            view = releases.release_results(row, code)
            assert view.release is not None and view.release.number == 1
            assert releases.release_results(row, code, session) == view  # its stored part
            assert without_time(dataclasses.replace(view, release=None)) == without_time(
                dataclasses.replace(cycle_results(session, cycle, code), provisional=False)
            ), code


def without_time(results: CycleResults) -> CycleResults:
    return dataclasses.replace(results, generated_at=results.opens_on)


def small_world(session: Session) -> tuple[Cycle, list]:
    """One board, one partnership of four members; an open cycle with three submitted."""
    board = make_board(session, "15", "CareerSource Tampa Bay")
    partnership = make_partnership(session, board, "Tampa Bay Manufacturing")
    members = [make_member(session, partnership, "business" if i < 2 else "education")
               for i in range(4)]
    cycle = make_cycle(session, "2026", CycleStatus.OPEN)
    return cycle, members


def test_the_first_close_publishes_release_1_and_a_second_close_does_not(
        session: Session) -> None:
    cycle, members = small_world(session)
    submit_all(session, cycle, members[:3], level=2)
    assert releases.current(session, cycle) is None
    assert close_cycle(session, cycle)
    first = releases.current(session, cycle)
    assert first is not None and first.number == 1 and first.note == releases.FIRST_NOTE
    assert first.created_at is not None and len(first.figures_hash) == 64
    before = releases.release_results(first)
    assert before.partnerships[0].responded == 3
    open_cycle(session, cycle, shipped_questionnaire())
    submit_all(session, cycle, members[3:], level=4)
    assert close_cycle(session, cycle)
    assert [r.number for r in releases.all_releases(session, cycle)] == [1]
    assert releases.release_results(releases.current(session, cycle)) == before
    row, pending = releases.pending_changes(session, cycle)
    assert (row.number, pending) == (1, 1)
    assert session.execute(select(Release.id)).scalars().all() == [first.id]


def test_the_release_line_is_on_the_workbook_summary_and_about_as_text() -> None:
    import datetime as dt
    import io

    import openpyxl

    from reports.results import ReleaseStamp
    from reports.workbook import build_workbook

    stamp = ReleaseStamp(2, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), "=HYPERLINK(1) paper")
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(
        dataclasses.replace(sample_results(), release=stamp))))
    for sheet in ("Summary", "About"):
        cells = {row[0].value: row[1] for row in book[sheet].iter_rows() if row[0].value}
        assert cells["Release"].value == "Release 2, 2026-03-02: =HYPERLINK(1) paper"
        assert cells["Release"].data_type == "s"  # text, never a formula
