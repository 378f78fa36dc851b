"""Slow clients cannot take the site down (issue 18 item 1): 300 sockets that trickle
headers, trickle a body or say nothing, against `survey serve --workers 2` and against the
README's nginx configuration in front of it, while partners save; and the server's total
deadlines for headers and body, and its 413 page, on the worker's own HTTP server."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, Response, request
from tornado.ioloop import IOLoop

from survey.server_worker import build_server
from tests.conftest import TEST_DATABASE_URL, on_postgres
from tests.slow_clients import KINDS, Attack, partners_save, save_once, seed_partners
from tests.test_serve import SURVEY, free_port, healthz

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ATTACK_SECONDS = 13  # past the 10 s header deadline: trickling sockets are closed and reopened
SAVE_SECONDS = 10
PARTNERS = 4


def start_serve(tmp_path: Path, database_url: str) -> tuple[int, subprocess.Popen[bytes]]:
    env = {**os.environ, "SURVEY_INSTANCE_PATH": str(tmp_path / "instance"),
           "SURVEY_DATABASE_URL": TEST_DATABASE_URL if on_postgres() else database_url,
           "SURVEY_SECRET_KEY": "test-secret-key"}
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:  # the child keeps its own copy
        server = subprocess.Popen([SURVEY, "serve", "--port", str(port), "--workers", "2"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            healthz(port, 1)
            return port, server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise AssertionError((tmp_path / "serve.log").read_text()) from None
            time.sleep(0.2)


@pytest.fixture
def served_partners(app: Flask, tmp_path: Path, database_url: str
                    ) -> Iterator[tuple[int, list[tuple[str, list[str]]]]]:
    """`survey serve --workers 2` over a database with four partners in an open cycle."""
    partners = seed_partners(app, PARTNERS)
    port, server = start_serve(tmp_path, database_url)
    try:
        yield port, partners
    finally:
        server.terminate()
        server.wait(30)


def assert_partners_unhurt(port: int, target: int, partners: list[tuple[str, list[str]]],
                           kind: str) -> None:
    """300 slow sockets of `kind` on `target` while partners save through `port`: every
    save (opening the page and saving it) answers within 2 s."""
    for token, codes in partners:  # warm both workers (templates, content) before timing
        save_once(port, token, codes, "2", timeout=30)
        save_once(port, token, codes, "3", timeout=30)
    with Attack(target, kind, sockets=300, seconds=ATTACK_SECONDS) as attack:
        saves = partners_save(port, partners, SAVE_SECONDS, timeout=10)
        time.sleep(max(0.0, ATTACK_SECONDS - SAVE_SECONDS - 1))
    assert saves.failures == [], saves.failures[:3]
    assert len(saves.seconds) >= 2 * PARTNERS, saves.figures()
    assert max(saves.seconds) < 2, saves.figures()
    assert attack.opened >= 300
    if kind == "headers":  # the header deadline closed them, though each kept sending
        assert attack.closed_by_server >= 250, attack


@pytest.mark.parametrize("kind", KINDS)
def test_partners_save_within_2_s_while_300_slow_clients_attack(served_partners, kind):
    port, partners = served_partners
    assert_partners_unhurt(port, port, partners, kind)


# --- the README's nginx configuration in front ----------------------------------------------


def readme_nginx_server(listen: int, upstream: int) -> str:
    """The README's nginx `server` block for the app, on a loopback port without TLS (no
    certificate here): the same timeouts, limits and proxy settings."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```nginx\n.*?\n(server \{.*?\n\})\n", readme, re.S)
    assert block is not None, "README has no nginx server block"
    text = block.group(1)
    text = re.sub(r"listen 443 ssl[^;]*;", f"listen 127.0.0.1:{listen};", text)
    text = re.sub(r"\n\s*ssl_[a-z_]+\s[^;]*;", "", text)
    text = text.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{upstream}")
    assert f"127.0.0.1:{listen}" in text and f"127.0.0.1:{upstream}" in text
    return text


def readme_nginx_events() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"```nginx\n.*?(events \{[^}]*\})", readme, re.S)
    assert found is not None, "README names no events block (worker_connections)"
    return found.group(1)


@pytest.fixture
def nginx_in_front(served_partners, tmp_path: Path) -> Iterator[int]:
    assert Path(NGINX).exists(), "nginx is not installed (./run-tests installs it)"
    port, _ = served_partners
    listen = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        f"{readme_nginx_events()}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n"
        f"  proxy_temp_path {prefix}/proxy;\n"
        f"{readme_nginx_server(listen, port)}\n}}\n")
    with (prefix / "stderr.log").open("wb") as stderr:
        nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                                  "-g", "daemon off;"], stderr=stderr)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                healthz(listen, 1)
                break
            except OSError:
                if time.monotonic() > deadline or nginx.poll() is not None:
                    nginx.kill()
                    raise AssertionError((prefix / "stderr.log").read_text()) from None
                time.sleep(0.1)
        yield listen
    finally:
        nginx.terminate()
        nginx.wait(10)


@pytest.mark.parametrize("kind", KINDS)
def test_behind_the_readme_nginx_partners_save_within_2_s_while_300_slow_clients_attack(
        served_partners, nginx_in_front, kind):
    _, partners = served_partners
    assert_partners_unhurt(nginx_in_front, nginx_in_front, partners, kind)


# --- the worker's HTTP server: deadlines in total, and the 413 page --------------------------


@contextmanager
def running(app: Flask, **deadlines: float) -> Iterator[int]:
    """The worker's HTTP server for `app` in a thread of its own: its port."""
    started = threading.Event()
    state: dict = {}

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        executor = ThreadPoolExecutor(2)
        server = build_server(app, executor, **deadlines)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.setblocking(False)
        server.add_socket(listener)
        state.update(loop=loop, port=listener.getsockname()[1])
        started.set()
        loop.start()
        server.stop()
        executor.shutdown()
        loop.close(all_fds=True)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield state["port"]
    finally:
        state["loop"].add_callback(state["loop"].stop)
        thread.join(10)


@pytest.fixture
def worker_server(app: Flask) -> Iterator[int]:
    """The worker's HTTP server with a 1 s header and a 2 s body deadline."""
    with running(app, header_deadline=1, body_deadline=2) as port:
        yield port


def closed_after(s: socket.socket, every: float, byte: bytes, limit: float) -> float:
    """Send `byte` every `every` s until the server closes the socket: seconds it took."""
    started = time.monotonic()
    s.settimeout(every)
    while time.monotonic() - started < limit:
        try:
            if s.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        try:
            s.sendall(byte)
        except OSError:
            return time.monotonic() - started
    raise AssertionError(f"still open after {limit} s")


def test_trickled_headers_are_cut_at_the_total_header_deadline(worker_server):
    with socket.create_connection(("127.0.0.1", worker_server)) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: survey.test\r\n")
        took = closed_after(s, 0.2, b"X-Slow: 1\r\n", 10)  # a line every 0.2 s
    assert 0.8 < took < 2.5


def test_a_trickled_body_is_cut_at_the_total_body_deadline(worker_server):
    with socket.create_connection(("127.0.0.1", worker_server)) as s:
        s.sendall(b"POST /login HTTP/1.1\r\nHost: survey.test\r\nContent-Length: 5000\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
        took = closed_after(s, 0.2, b"a", 10)  # a byte every 0.2 s
    assert 1.8 < took < 4


def test_a_body_over_the_limit_gets_the_413_page_without_being_read(app, worker_server):
    limit = app.config["MAX_CONTENT_LENGTH"]
    with socket.create_connection(("127.0.0.1", worker_server), timeout=5) as s:
        s.sendall(b"POST /admin/roster/import HTTP/1.1\r\nHost: survey.test\r\n"
                  b"Content-Type: multipart/form-data; boundary=x\r\n"
                  + f"Content-Length: {limit + 1}\r\n\r\n".encode() + b"x" * 65536)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), head[:100]
    assert b"Connection: close" in head
    page = body.decode()
    assert "Too large" in page and "5 MB" in page and 'href="/static/site.css"' in page
    assert re.search(r"request id <code>[0-9a-f]{16}</code>", page)


def test_a_response_goes_out_as_the_app_yields_it() -> None:
    """A streamed download (the answers CSV) is sent chunk by chunk, not held whole."""
    tiny = Flask("tiny")
    release = threading.Event()

    @tiny.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[bytes]:
            yield b"first,"
            release.wait(10)
            yield b"last"
        return Response(chunks(), mimetype="text/csv")

    with running(tiny) as port, socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: survey.test\r\n\r\n")
        received = b""
        while b"first," not in received:
            received += s.recv(4096)  # times out (a failure) if the server waits for "last"
        assert b"last" not in received
        release.set()
        while not received.endswith(b"0\r\n\r\n"):
            received += s.recv(4096)
    assert b"Transfer-Encoding: chunked" in received and b"last" in received


def test_a_chunked_body_reaches_the_app_and_a_bad_host_is_a_400() -> None:
    tiny = Flask("tiny")

    @tiny.post("/echo")
    def echo() -> str:
        return f"{len(request.get_data())} {request.form.get('name')}"

    with running(tiny) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: survey.test\r\nTransfer-Encoding: chunked\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
                      b"5\r\nname=\r\n3\r\nAna\r\n0\r\n\r\n")
            answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"8 Ana"), answer
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: survey.test:http\r\n\r\n")
            answer = s.recv(4096)
            assert answer.startswith(b"HTTP/1.1 400 "), answer
            assert s.recv(4096) == b""  # and closed
