"""Partners' saves while 300 slow clients attack `survey serve` (issue 18 item 1).

Run: python benchmarks/bench_slow_clients.py [--seconds 15] [--workers 2] [--nginx]
For each attack (trickled headers, a trickled body, silent sockets; 300 sockets, reopened
when the server closes one) four partners save a page again and again on SQLite. Figures
are the seconds a partner waits to open the page and save it (p50, p95, max; a save still
waiting after 20 s counts as failed). The baseline is gunicorn's gthread worker configured
as `survey serve` shipped it before (5 s per-read timeout, no total deadline), in the same
run.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.slow_clients

from survey import create_app  # noqa: E402
from survey.db import db  # noqa: E402
from tests.slow_clients import KINDS, Attack, partners_save, seed_partners  # noqa: E402
from tests.test_slow_clients import (  # noqa: E402
    NGINX,
    readme_nginx_events,
    readme_nginx_server,
)

SURVEY = str(Path(sys.executable).with_name("survey"))
# The gthread configuration `survey serve` had before: threads read requests themselves.
BASELINE = """
import socket, struct, sys
import survey.server as server
from gunicorn.workers import gthread
gthread.DEFAULT_WORKER_DATA_TIMEOUT = 0.05
options = server.gunicorn_options
def when_ready(arbiter):
    for listener in arbiter.LISTENERS:
        listener.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 5, 0))
        listener.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 30, 0))
server.gunicorn_options = lambda *a: {**options(*a), "worker_class": "gthread",
                                      "when_ready": when_ready}
from survey.cli import main
sys.argv = ["survey", *sys.argv[1:]]
main()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(env: dict[str, str], port: int, workers: int, baseline: bool) -> subprocess.Popen:
    command = ([sys.executable, "-c", BASELINE] if baseline else [SURVEY])
    server = subprocess.Popen([*command, "serve", "--port", str(port), "--workers",
                               str(workers)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def start_nginx(folder: str, upstream: int) -> tuple[int, subprocess.Popen]:
    """The README's nginx configuration (without TLS) in front of `upstream`."""
    listen = free_port()
    prefix = Path(folder) / f"nginx-{upstream}"
    prefix.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        f"{readme_nginx_events()}\nhttp {{\n  access_log off;\n"
        f"  client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n"
        f"{readme_nginx_server(listen, upstream)}\n}}\n")
    nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                              "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    time.sleep(1)
    return listen, nginx


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--nginx", action="store_true", help="the README's nginx in front")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/survey.sqlite3"
        env = {**os.environ, "SURVEY_INSTANCE_PATH": f"{folder}/instance",
               "SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": "bench"}
        subprocess.run([SURVEY, "init"], env=env, check=True, capture_output=True)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        partners = seed_partners(app, 4)
        db.engine.dispose()
        for baseline in (True, False):
            name = "gthread (before)" if baseline else "buffering worker"
            port = free_port()
            server = start(env, port, args.workers, baseline)
            nginx = None
            if args.nginx:
                port, nginx = start_nginx(folder, port)
                name += " behind nginx"
            try:
                print(f"{name}, no attack: {partners_save(port, partners, 5).figures()}")
                for kind in KINDS:
                    with Attack(port, kind, sockets=args.sockets, seconds=args.seconds):
                        saves = partners_save(port, partners, args.seconds - 2, timeout=20)
                    print(f"{name}, {args.sockets} {kind}: {saves.figures()}", flush=True)
                    time.sleep(1)
            finally:
                if nginx is not None:
                    nginx.terminate()
                    nginx.wait(10)
                server.terminate()
                server.wait(30)


if __name__ == "__main__":
    main()
