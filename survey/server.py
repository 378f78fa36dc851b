"""`survey serve`: gunicorn with several processes on Linux, waitress where gunicorn is missing.

Each gunicorn worker process reads requests in an event loop (Tornado's HTTP server, see
survey/server_worker.py) and runs the app on a pool of threads. A connection reaches a
thread only once its whole request has arrived; one that has not sent all its headers
within HEADER_DEADLINE_SECONDS, or its body within BODY_DEADLINE_SECONDS, is closed, so
slow, trickling or silent clients cannot starve the threads that answer real requests.
Nothing that must agree across processes lives in one process's memory: caches are keyed
by the database's results version, login limits live in the database.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

from survey.db import db

log = logging.getLogger("survey.server")

KEEPALIVE_SECONDS = 5  # keep-alive on (the idle limit is the header deadline)
REQUEST_TIMEOUT_SECONDS = 120  # a worker that stops answering its master this long is restarted


def default_workers() -> int:
    """One worker process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def gunicorn_available() -> bool:
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """The gunicorn settings `survey serve` runs with."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return {
        "bind": [bind],
        "workers": workers,
        "worker_class": buffering_worker(),
        "threads": threads,
        "keepalive": KEEPALIVE_SECONDS,
        "timeout": REQUEST_TIMEOUT_SECONDS,
        "graceful_timeout": 30,
        "worker_connections": 1000,
        "backlog": 2048,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        # Errors go to stderr; request lines are not logged, so partner tokens in URLs
        # never reach a log.
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "survey",
        "post_fork": _after_fork,
        # gunicorn 24+ opens a control socket in $HOME by default: one per user, so a
        # second instance would collide with the first. Nothing here uses it.
        "control_socket_disable": True,
    }


def buffering_worker() -> type:
    """The worker class: Tornado reads requests whole, within deadlines, then threads run
    the app (imported here: gunicorn loads it in the master before forking)."""
    from survey.server_worker import BufferingWorker

    return BufferingWorker


class _QuietTimeouts(logging.Filter):
    """A client that went quiet is one line in the log, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], BlockingIOError | TimeoutError):
            record.msg, record.args = "closed a connection that stalled mid-request", ()
            record.exc_info = record.exc_text = None
        return True


def _after_fork(_server: Any, _worker: Any) -> None:
    """A worker process starts with no database connections of the master's."""
    logging.getLogger("gunicorn.error").addFilter(_QuietTimeouts())
    if db.engine is not None:
        db.engine.dispose(close=False)


def serve(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app until interrupted: gunicorn when available, else waitress (1 process)."""
    if not gunicorn_available():
        from waitress import serve as waitress_serve

        log.warning("gunicorn is not installed: serving with waitress in one process")
        waitress_serve(app, host=host, port=port, threads=threads, ident="survey",
                       channel_timeout=KEEPALIVE_SECONDS * 6)
        return

    from gunicorn.app.base import BaseApplication

    class SurveyServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in gunicorn_options(host, port, workers, threads).items():
                if key in self.cfg.settings:  # older releases lack some settings
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    if db.engine is not None:
        db.engine.dispose()  # the master keeps no connection for the workers to inherit
    SurveyServer().run()
