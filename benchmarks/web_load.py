"""Load against a served instance for benchmarks/run.py: wrk for pages, threaded partners
for saves, one signed-in staff member for /state and the workbook download.

Every client runs in processes or threads of the benchmark, never inside the server.
"""

from __future__ import annotations

import http.client
import random
import re
import shutil
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Sequence
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WRK_SCRIPT = """
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A server process on a free port, stopped on exit."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log: Path, cwd: Path,
                 health: str = "/healthz") -> None:
        self.port = free_port()
        self.args = [a.replace("{port}", str(self.port)) for a in args]
        self.env, self.log, self.cwd, self.health = env, log, cwd, health
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Served:
        self._log = self.log.open("ab")
        self.process = subprocess.Popen(self.args, env=self.env, cwd=self.cwd,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", self.health)
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def __exit__(self, *_exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(45)
        except subprocess.TimeoutExpired:  # a worker still busy with a long request
            self.process.kill()
            self.process.wait(10)
        self._log.close()


def wrk(port: int, paths: Sequence[str], folder: Path, seconds: int = 10,
        connections: int = 16) -> dict[str, Any]:
    """wrk's requests per second (and errors) for GETs of random `paths`."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk; ./run-tests adds it)")
    script, listing = folder / "paths.lua", folder / "paths.txt"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(paths) + "\n")
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
         f"http://127.0.0.1:{port}", "--", str(listing)],
        capture_output=True, text=True, check=True)
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"req_per_s": round(rate, 1), "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else ""}


class Browser:
    """One keep-alive connection with a cookie jar: a partner's or a staff member's tab."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def request(self, method: str, path: str,
                form: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        """(status, body, seconds) for one request, reconnecting once if the server closed."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                if attempt:
                    raise
                continue
            seconds = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, data, seconds
        raise AssertionError("unreachable")

    def csrf(self, path: str) -> str:
        status, body, _ = self.request("GET", path)
        match = CSRF_RE.search(body.decode("utf-8", "replace"))
        if status != 200 or match is None:
            raise RuntimeError(f"no form at {path} ({status})")
        return match.group(1)


def partner_saves(port: int, tokens: Sequence[str], items: dict[str, list[str]],
                  seconds: float, think: float = 0.0) -> dict[str, Any]:
    """Each token a partner in its own thread, saving element pages (GET then POST) for
    `seconds`, pausing a random 0.5-1.5 x `think` seconds after each save (0: none, a
    closed loop that saturates the server): POST and GET latencies (ms: median, p95,
    max) and failures."""
    saves: list[float] = []
    gets: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(tokens))

    def partner(token: str, seed: int) -> None:
        rng = random.Random(seed)
        tab = Browser(port)
        keys = list(items)
        csrf = tab.csrf(f"/s/{token}/{keys[0]}")
        ready.wait()
        deadline = time.monotonic() + seconds
        if think:  # partners arrive spread over one pause, not all in the same instant
            time.sleep(think * rng.random())
        while time.monotonic() < deadline:
            key = rng.choice(keys)
            status, _, get_s = tab.request("GET", f"/s/{token}/{key}")
            form = {code: str(rng.randint(1, 4)) for code in items[key]}
            form["csrf_token"] = csrf
            saved, _, save_s = tab.request("POST", f"/s/{token}/{key}", form)
            if think:
                time.sleep(think * rng.uniform(0.5, 1.5))
            with lock:
                gets.append(get_s)
                saves.append(save_s)
                if status != 200 or saved != 303:
                    failures.append(f"GET {status} POST {saved}")

    threads = [threading.Thread(target=partner, args=(t, n)) for n, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"partners": len(tokens), "think_s": think, "saves": len(saves),
            "failures": len(failures),
            "save_ms": summary(saves), "get_ms": summary(gets),
            "saves_per_s": round(len(saves) / seconds, 1)}


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, p95 and max of seconds, in milliseconds."""
    if not values:
        return {"median": 0.0, "p95": 0.0, "max": 0.0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median": round(statistics.median(ordered) * 1000, 1),
            "p95": round(p95 * 1000, 1), "max": round(ordered[-1] * 1000, 1)}


def staff_timings(port: int, email: str, password: str, cycle: str, bump: Any,
                  rounds: int = 3) -> dict[str, Any]:
    """Cold (right after the results version moved) and cached /state, and the state
    workbook download, on one keep-alive connection (so one server process)."""
    tab = Browser(port)
    csrf = tab.csrf("/login")
    status, _, _ = tab.request("POST", "/login",
                               {"email": email, "password": password, "csrf_token": csrf})
    if status not in (302, 303):
        raise RuntimeError(f"login failed ({status})")
    cold, cached, workbook = [], [], []
    for _ in range(rounds):
        bump()
        status, _, seconds = tab.request("GET", f"/state?cycle={cycle}")
        if status != 200:
            raise RuntimeError(f"/state answered {status}")
        cold.append(seconds)
        for _ in range(5):
            cached.append(tab.request("GET", f"/state?cycle={cycle}")[2])
    for _ in range(2):
        bump()
        status, body, seconds = tab.request("GET", f"/exports/{cycle}.xlsx")
        if status != 200 or not body.startswith(b"PK"):
            raise RuntimeError(f"workbook download answered {status}: {body[-300:]!r}")
        workbook.append(seconds)
    return {"state_cold_s": round(statistics.median(cold), 3),
            "state_cached_s": round(statistics.median(cached), 4),
            "workbook_download_s": round(max(workbook), 2),
            "workbook_bytes": len(body)}
