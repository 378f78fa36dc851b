"""Partners saving while invitations go out through a slow mail server (issue 9 item 1).

Run: python benchmarks/bench_send_while_saving.py
A real SMTP server (aiosmtpd) takes 0.25 s per message; 24 invitations go out while four
partners save pages in a loop on SQLite. The baseline holds the write lock while sending,
as the app did before (claim and deliver in one transaction); `send_batch` claims in one
short transaction, sends with none open, then records the outcome. Both in the same run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aiosmtpd.controller import Controller

from survey import create_app
from survey.db import db
from survey.schema import upgrade
from survey.services import mail, sending

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.factories

MEMBERS, PARTNERS, SECONDS_PER_MESSAGE = 20, 4, 0.25


class SlowServer:
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        await asyncio.sleep(SECONDS_PER_MESSAGE)
        return "250 OK"


def lock_held_while_sending(recipients: sending.Recipients,
                            settings: mail.MailSettings) -> None:
    """The old way: one write transaction around choosing, sending and marking."""
    smtp = mail.connect(settings.smtp_url)
    try:
        with db.writing() as session:
            batch = sending.claim_batch(session, recipients, settings)
            sent, _, _ = sending.deliver(smtp, batch.outgoing)
            sending.finish_batch(session, batch, sent, recipients)
    finally:
        smtp.quit()


def run(folder: Path, port: int, send: Callable[..., object]) -> dict[str, float]:
    """Send once while partners save; the send's time and the saves' latencies."""
    from tests.factories import (  # the same builders the tests use
        make_board,
        make_cycle,
        make_invitation,
        make_member,
        make_partnership,
        shipped_questionnaire,
    )

    os.environ["SURVEY_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
                      "SMTP_URL": f"smtp://127.0.0.1:{port}", "BASE_URL": "http://bench"})
    assert db.engine is not None
    upgrade(db.engine)
    with app.app_context():
        session = db.session
        partnership = make_partnership(session, make_board(session, "03"), "Health")
        cycle = make_cycle(session, "2026")
        for n in range(MEMBERS):
            make_member(session, partnership, email=f"m{n}@example.org")
        tokens = [make_invitation(session, cycle, make_member(session, partnership))[1]
                  for _ in range(PARTNERS)]
        session.commit()
        recipients = sending.Recipients(cycle.id)
    elements = list(shipped_questionnaire().elements)
    latencies: list[float] = []
    failures = [0]
    busy = threading.Event()
    busy.set()

    def partner(token: str) -> None:
        client, round_ = app.test_client(), 0
        while busy.is_set():
            element = elements[round_ % len(elements)]
            form = {item.code: str(1 + round_ % 4) for item in element.items}
            start = time.perf_counter()
            status = client.post(f"/s/{token}/{element.key}", data=form).status_code
            latencies.append(time.perf_counter() - start)
            failures[0] += status != 303
            round_ += 1
            time.sleep(0.05)

    threads = [threading.Thread(target=partner, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.perf_counter()
    with app.app_context():
        send(recipients, mail.MailSettings.from_config(app.config))
    took = time.perf_counter() - started
    busy.clear()
    for thread in threads:
        thread.join()
    db.engine.dispose()
    return {"send": took, "saves": len(latencies), "failed": failures[0],
            "p50": statistics.median(latencies), "max": max(latencies)}


def main() -> None:
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(SlowServer(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            old = run(Path(a), port, lock_held_while_sending)
            new = run(Path(b), port, lambda r, s: sending.send_batch(db.writing, r, s))
    finally:
        controller.stop()
    print(f"{MEMBERS + PARTNERS} invitations at {SECONDS_PER_MESSAGE} s each while "
          f"{PARTNERS} partners save pages (SQLite)")
    for name, figures in (("lock held while sending (baseline)", old),
                          ("send_batch (lock only to claim and record)", new)):
        print(f"  {name:44s} send {figures['send']:5.2f} s, {figures['saves']:4.0f} saves, "
              f"{figures['failed']:.0f} failed, save p50 {figures['p50'] * 1000:6.1f} ms, "
              f"max {figures['max'] * 1000:7.1f} ms")
    print(f"  slowest save: {new['max'] / old['max']:.3f}x the baseline's")


if __name__ == "__main__":
    main()
