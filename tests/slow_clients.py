"""Slow-client attacks and partners saving over real HTTP, for tests/test_slow_clients.py
and benchmarks/bench_slow_clients.py.

Every attack is bounded: at most `sockets` connections open at once, for `seconds`, to an
address on the loopback interface only; it stops by itself.
"""

from __future__ import annotations

import http.client
import re
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import select

from survey.db import db
from survey.models import Board
from survey.questionnaire import Questionnaire
from tests.factories import make_board, make_cycle, make_invitation, make_member, make_partnership

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ELEMENT = "data"
KINDS = ("headers", "body", "silent")


def seed_partners(app: Flask, count: int) -> list[tuple[str, list[str]]]:
    """`count` partners in an open cycle: (token, item codes of the element they save)."""
    with app.app_context():
        session = db.session
        board = (session.execute(select(Board).where(Board.code == "15")).scalar()
                 or make_board(session, "15", "Board 15"))  # `survey init` loads Florida's
        partnership = make_partnership(session, board, "Partnership of 15")
        cycle = make_cycle(session, "2026")
        codes = [item.code for item in
                 Questionnaire.from_dict(cycle.content).element(ELEMENT).items]
        tokens = [make_invitation(session, cycle, make_member(session, partnership))[1]
                  for _ in range(count)]
        session.commit()
    return [(token, codes) for token in tokens]


def save_once(port: int, token: str, codes: list[str], value: str, timeout: float) -> float:
    """Open the element page, then save it as a browser does: the seconds both took."""
    path = f"/s/{token}/{ELEMENT}"
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        page = conn.getresponse()
        html = page.read().decode()
        assert page.status == 200, page.status
        cookie = page.getheader("Set-Cookie", "").split(";")[0]
        found = CSRF_RE.search(html)
        assert found is not None
        body = "&".join([f"csrf_token={found.group(1)}", "action=continue",
                         *(f"{code}={value}" for code in codes)])
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 303, answer.status
        return time.monotonic() - started
    finally:
        conn.close()


@dataclass
class Saves:
    """Partners saving in a loop: each save's seconds, and failures."""

    seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def figures(self) -> str:
        if not self.seconds:
            return f"no save completed ({len(self.failures)} failed)"
        ordered = sorted(self.seconds)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return (f"{len(ordered)} saves, p50 {statistics.median(ordered):.3f} s, "
                f"p95 {p95:.3f} s, max {ordered[-1]:.3f} s, {len(self.failures)} failed")


def partners_save(port: int, partners: list[tuple[str, list[str]]], seconds: float,
                  timeout: float = 60) -> Saves:
    """Every partner saves its page again and again for `seconds`."""
    saves = Saves()
    stop = time.monotonic() + seconds

    def run(token: str, codes: list[str]) -> None:
        value = 1
        while time.monotonic() < stop:
            try:
                saves.seconds.append(save_once(port, token, codes, str(value), timeout))
            except (OSError, AssertionError, http.client.HTTPException) as exc:
                saves.failures.append(repr(exc))
                time.sleep(0.2)
            value = value % 4 + 1

    threads = [threading.Thread(target=run, args=partner) for partner in partners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return saves


@dataclass
class Attack:
    """`sockets` slow connections of one kind, kept open (reopened when the server closes
    one) for `seconds`: trickled headers (a header line every `every` s), a trickled body
    (a byte every `every` s after complete headers) or silent (connect, send nothing)."""

    port: int
    kind: str
    sockets: int = 300
    seconds: float = 15
    every: float = 1.0
    opened: int = 0
    closed_by_server: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Attack:
        assert self.kind in KINDS
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        time.sleep(1)  # let the sockets connect and start trickling
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)

    def _open(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        self.opened += 1
        if self.kind == "headers":
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: survey.test\r\n")
        elif self.kind == "body":
            s.sendall(b"POST /login HTTP/1.1\r\nHost: survey.test\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: 100000\r\n\r\nemail=")
        s.setblocking(False)
        return s

    def _poke(self, s: socket.socket) -> bool:
        """Send the next slow byte; False when the server has closed the connection."""
        try:
            if s.recv(4096) == b"":
                return False
        except BlockingIOError:
            pass
        except OSError:
            return False
        if self.kind == "silent":
            return True
        try:
            s.send(b"X-Slow: 1\r\n" if self.kind == "headers" else b"a")
        except BlockingIOError:
            pass
        except OSError:
            return False
        return True

    def _run(self) -> None:
        deadline = time.monotonic() + self.seconds
        live: list[socket.socket] = []
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                while len(live) < self.sockets and not self._stop.is_set():
                    try:
                        live.append(self._open())
                    except OSError:
                        break
                kept = []
                for s in live:
                    if self._poke(s):
                        kept.append(s)
                    else:
                        self.closed_by_server += 1
                        s.close()
                live = kept
                self._stop.wait(self.every)
        finally:
            for s in live:
                s.close()
