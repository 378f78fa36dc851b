"""The gunicorn worker of `survey serve`: Tornado reads each request whole, then a thread
runs the app.

gunicorn's own threaded worker gives a connection to a thread as soon as its first bytes
arrive, and the thread then reads the rest: 300 clients sending a header line every few
seconds held every thread and partners waited for minutes. Here every connection is read
by the worker's event loop (Tornado's HTTP server, through gunicorn's Tornado worker),
which costs a slow client a socket and a buffer, not a thread, and closes it when its
headers have not all arrived within HEADER_DEADLINE_SECONDS or its body within
BODY_DEADLINE_SECONDS (totals, however the bytes trickle in). Only a complete request
reaches the thread pool that runs the Flask app.

A body declared larger than the app's limit is not read at all: the app answers it (its
413 page, in the site's look) at once and the connection is closed after a short drain,
so the client sees the page rather than a cut connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tornado.httpserver
import tornado.httputil
import tornado.iostream
from gunicorn.workers.gtornado import TornadoWorker
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.wsgi import WSGIContainer

HEADER_DEADLINE_SECONDS = 10  # a request's line and headers, in total; also keep-alive idle
BODY_DEADLINE_SECONDS = 60  # a request's body, in total (5 MB at ~0.7 Mbit/s)
DRAIN_SECONDS = 2  # after refusing a too-large body, how long its bytes are read and dropped

log = logging.getLogger("survey.server")


class _Container(WSGIContainer):
    """Tornado's WSGI adapter, streaming: a response goes out chunk by chunk as the app
    yields it (a large CSV is never held whole in memory), each chunk taken from the app on
    a thread and written, waiting while a slow client reads. No access log: request lines
    hold partner tokens, which never go to a log."""

    def environ(self, request: tornado.httputil.HTTPServerRequest) -> dict[str, Any]:
        environ = super().environ(request)
        environ["wsgi.input_terminated"] = True  # the body was read whole (chunked ones too)
        if "CONTENT_LENGTH" not in environ:
            environ["CONTENT_LENGTH"] = str(len(request.body))
        return environ

    async def handle_request(self, request: tornado.httputil.HTTPServerRequest) -> None:
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Any:
            answer.update(status=status, headers=headers)
            return lambda data: None  # the legacy write() callable: Flask never uses it

        loop = IOLoop.current()
        connection = request.connection
        assert connection is not None
        try:
            environ = self.environ(request)
        except ValueError:  # a Host header with a port that is not a number
            await connection.write_headers(
                tornado.httputil.ResponseStartLine("HTTP/1.1", 400, "Bad Request"),
                tornado.httputil.HTTPHeaders({"Content-Length": "0", "Connection": "close"}))
            connection.finish()
            connection.close()  # after the answer was written (awaited above)
            return
        result = await loop.run_in_executor(self.executor, self.wsgi_application, environ,
                                            start_response)
        chunks = iter(result)
        try:
            first = await loop.run_in_executor(self.executor, next, chunks, None)
            code, reason = answer["status"].split(" ", 1)
            headers = tornado.httputil.HTTPHeaders()
            for name, value in answer["headers"]:
                headers.add(name, value)
            await connection.write_headers(
                tornado.httputil.ResponseStartLine("HTTP/1.1", int(code), reason), headers,
                chunk=first or None)
            while (chunk := await loop.run_in_executor(self.executor, next, chunks, None)) \
                    is not None:
                if chunk:
                    await connection.write(chunk)
            connection.finish()
        except tornado.iostream.StreamClosedError:
            pass  # the client went away; the app's iterator is closed below
        except Exception:
            log.exception("a response failed while being sent")
            connection.close()
        finally:
            if hasattr(result, "close"):
                await loop.run_in_executor(self.executor, result.close)


class _RefuseOversized(tornado.httputil.HTTPMessageDelegate):
    """Passes a request on, unless it declares a body over the limit: then the app answers
    with no body read (Flask's 413) and the connection closes."""

    def __init__(self, inner: tornado.httputil.HTTPMessageDelegate,
                 connection: Any, container: _Container, limit: int) -> None:
        self.inner, self.connection = inner, connection
        self.container, self.limit = container, limit

    def headers_received(self, start_line: Any, headers: tornado.httputil.HTTPHeaders) -> Any:
        declared = headers.get("Content-Length", "")
        if not (declared.isdigit() and int(declared) > self.limit):
            return self.inner.headers_received(start_line, headers)
        request = tornado.httputil.HTTPServerRequest(
            connection=self.connection, start_line=start_line, headers=headers)
        request.body = b""
        environ = self.container.environ(request)
        stream = self.connection.detach()  # tornado reads no more of this connection
        IOLoop.current().spawn_callback(self._answer_and_close, environ, stream)
        return None

    async def _answer_and_close(self, environ: dict[str, Any],
                                stream: tornado.iostream.IOStream) -> None:
        try:
            head, body = await IOLoop.current().run_in_executor(
                self.container.executor, _run_app, self.container.wsgi_application, environ)
            await stream.write(head + body)
            stream.socket.shutdown(socket.SHUT_WR)
            # Read and drop what the client is still sending, for a moment: closing a socket
            # with unread bytes resets it, and the client could lose the page.
            deadline = IOLoop.current().time() + DRAIN_SECONDS
            while IOLoop.current().time() < deadline:
                await asyncio.wait_for(stream.read_bytes(65536, partial=True),
                                       deadline - IOLoop.current().time())
        except (tornado.iostream.StreamClosedError, TimeoutError, OSError):
            pass
        finally:
            stream.close()

    def data_received(self, chunk: bytes) -> Any:
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        self.inner.finish()

    def on_connection_close(self) -> None:
        self.inner.on_connection_close()


def _run_app(app: Any, environ: dict[str, Any]) -> tuple[bytes, bytes]:
    """Run the WSGI app on one request: (status line and headers, body), connection closed."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer.update(status=status, headers=headers)
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    headers = [(k, v) for k, v in answer["headers"]
               if k.lower() not in ("content-length", "connection")]
    lines = [f"HTTP/1.1 {answer['status']}", *(f"{k}: {v}" for k, v in headers),
             f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1"), body


def build_server(app: Any, executor: ThreadPoolExecutor,
                 header_deadline: float = HEADER_DEADLINE_SECONDS,
                 body_deadline: float = BODY_DEADLINE_SECONDS,
                 keep_alive: bool = True,
                 on_close: Any = None) -> tornado.httpserver.HTTPServer:
    """Tornado's HTTP server for the Flask app: requests read whole within the deadlines
    (in total), bodies up to the app's MAX_CONTENT_LENGTH, the app run on `executor`."""
    limit = int(app.config.get("MAX_CONTENT_LENGTH") or 5 * 1024 * 1024)
    container = _Container(app, executor=executor)

    class Server(tornado.httpserver.HTTPServer):  # type: ignore[misc]
        def start_request(self, server_conn: object, request_conn: Any) -> Any:
            return _RefuseOversized(super().start_request(server_conn, request_conn),
                                    request_conn, container, limit)

        def on_close(self, server_conn: Any) -> None:
            if on_close is not None:
                on_close()
            super().on_close(server_conn)

    return Server(
        container,
        idle_connection_timeout=header_deadline,  # Tornado's total for the headers
        body_timeout=body_deadline,
        max_body_size=limit,
        max_buffer_size=limit + 1024 * 1024,
        max_header_size=64 * 1024,
        no_keep_alive=not keep_alive,
    )


class BufferingWorker(TornadoWorker):
    """gunicorn's Tornado worker with deadlines, a body limit and a thread pool for the app."""

    def run(self) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        self.ioloop = IOLoop.current()
        self.alive = True
        self.server_alive = False
        self.callbacks = [PeriodicCallback(self.watchdog, 1000),
                          PeriodicCallback(self.heartbeat, 1000)]
        for callback in self.callbacks:
            callback.start()
        executor = ThreadPoolExecutor(max_workers=self.cfg.threads,
                                      thread_name_prefix="survey-request")
        self.server = build_server(self.wsgi, executor, keep_alive=self.cfg.keepalive > 0,
                                   on_close=self.handle_request)
        self.server_alive = True
        for listener in self.sockets:
            listener.setblocking(False)
            self.server.add_socket(listener)
        try:
            self.ioloop.start()
        finally:
            executor.shutdown(wait=True)
            sys.stdout.flush()
