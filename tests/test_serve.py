"""`survey serve` for real: several processes, and idle or half-open connections do not
stop it answering (issue 9 item 6)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from survey.server_worker import HEADER_DEADLINE_SECONDS
from tests.conftest import TEST_DATABASE_URL, on_postgres

SURVEY = str(Path(sys.executable).with_name("survey"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthz(port: int, timeout: float) -> tuple[int, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as r:
        return r.status, r.read().decode()


def child_pids(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`survey serve --workers 2` on a free port, over the test database."""
    env = {**os.environ, "SURVEY_INSTANCE_PATH": str(tmp_path / "instance"),
           "SURVEY_DATABASE_URL": TEST_DATABASE_URL if on_postgres() else database_url,
           "SURVEY_SECRET_KEY": "serve-test"}
    subprocess.run([SURVEY, "init"], env=env, check=True, capture_output=True)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([SURVEY, "serve", "--port", str(port), "--workers", "2"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                healthz(port, 1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError((tmp_path / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield port, server
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def test_serve_runs_one_process_per_worker(served: tuple[int, subprocess.Popen[bytes]]) -> None:
    port, server = served
    deadline = time.monotonic() + 20  # the second worker may still be booting
    while len(child_pids(server.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(child_pids(server.pid)) == 2, child_pids(server.pid)
    status, body = healthz(port, 2)
    assert (status, json.loads(body)) == (200, {"database": "ok", "status": "ok"})


def test_150_idle_connections_do_not_stop_healthz(
    served: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _ = served
    idle: list[socket.socket] = []
    try:
        for _ in range(150):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.3)
        for _ in range(5):
            started = time.monotonic()
            status, body = healthz(port, 2)
            assert (status, '"status":"ok"' in body) == (200, True)
            assert time.monotonic() - started < 2
    finally:
        for s in idle:
            s.close()


def test_a_request_sent_halfway_is_dropped_and_others_are_answered(
    served: tuple[int, subprocess.Popen[bytes]],
) -> None:
    """A client that stops mid-headers holds no thread (the worker's event loop reads
    requests) and is closed at the header deadline; everyone else is answered at once."""
    port, _ = served
    stalled = []
    try:
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: survey.test\r\n")  # no blank line
            stalled.append(s)
        started = time.monotonic()
        assert healthz(port, 2)[0] == 200
        assert time.monotonic() - started < 2
        for s in stalled:
            s.settimeout(HEADER_DEADLINE_SECONDS + 3)
            assert s.recv(100) == b""  # closed by the server, not left open
        assert time.monotonic() - started < HEADER_DEADLINE_SECONDS + 3
    finally:
        for s in stalled:
            s.close()
