"""The gateway's server machinery: an asyncio loop on a daemon thread, the accept loop,
one task per connection, and the state the routes read (scripted replies, records).

`GatewayServer` is the base of `FakeGateway`: it knows how to start, serve and stop, and
keeps the queue and the records under one lock (scripting happens on the test's thread,
serving on the gateway's). What is answered is decided by `_routes.dispatch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import ssl
import threading
import time
import weakref
from collections import deque
from typing import Any, TypeVar

from edgee.testing._bodies import dumps, error_body
from edgee.testing._connection import Connection, PeerGoneError
from edgee.testing._exchange import RecordedRequest
from edgee.testing._readers import MAX_HEAD_BYTES, BadRequestError
from edgee.testing._replies import FullReply, Reply
from edgee.testing._routes import dispatch
from edgee.testing._text import provider_of
from edgee.testing._tls import ThrowawayCA

__all__ = ["GatewayServer"]

_Self = TypeVar("_Self", bound="GatewayServer")


class GatewayServer:
    """Serves HTTP/1.1 on `host`:`port` from a background thread (see `FakeGateway`)."""

    def __init__(
        self,
        api_key: str,
        *,
        host: str,
        port: int,
        model: str,
        require_auth: bool,
        content_encoding: str | None,
        tls: bool,
    ) -> None:
        self.api_key = api_key
        self.content_encoding = content_encoding
        self._ca: ThrowawayCA | None = None
        if tls:
            self._ca = ThrowawayCA()
            weakref.finalize(self, self._ca.remove)
        self.host = host
        self.port = port
        self.model = model
        self.require_auth = require_auth
        self.default_delay = 0.0
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._connections_opened = 0
        self._open_connections = 0
        self._request_numbers = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # -- state the routes use (GatewayState) --------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def next_request_id(self) -> str:
        return f"req_{next(self._request_numbers)}"

    def pop_reply(self, *, full_only: bool = False) -> Reply | None:
        with self._lock:
            if not self._replies:
                return None
            if full_only and not isinstance(self._replies[0], FullReply):
                return None
            return self._replies.popleft()

    def _queue(self, reply: Reply) -> None:
        with self._lock:
            self._replies.append(reply)

    # -- observation --------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a snapshot copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request; raises `LookupError` if none arrived yet."""
        with self._lock:
            if not self._requests:
                raise LookupError("FakeGateway has received no request")
            return self._requests[-1]

    def clear_requests(self) -> None:
        """Forget the requests recorded so far (a long soak would otherwise keep them all)."""
        with self._lock:
            self._requests.clear()

    @property
    def connections_opened(self) -> int:
        """How many TCP connections the gateway has accepted in total."""
        with self._lock:
            return self._connections_opened

    @property
    def open_connections(self) -> int:
        """How many client connections are open right now (for connection-leak tests)."""
        with self._lock:
            return self._open_connections

    @property
    def pending_replies(self) -> int:
        """How many scripted replies are still waiting for a request."""
        with self._lock:
            return len(self._replies)

    def wait_until_idle(self, timeout: float = 2.0) -> bool:
        """Wait until no client connection is open; returns whether that happened in time.

        The server notices a client's close asynchronously, so leak tests poll with this.
        """
        deadline = time.monotonic() + timeout
        while self.open_connections:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the gateway, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self.port == 0:
            raise RuntimeError("FakeGateway is not started: its port is not known yet")
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self._ca is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def tls(self) -> bool:
        """Whether the gateway serves HTTPS."""
        return self._ca is not None

    @property
    def ca_path(self) -> str:
        """Path of the PEM bundle of the throwaway CA that signed the gateway's certificate
        (``tls=True`` only); the file lives as long as the gateway object."""
        if self._ca is None:
            raise RuntimeError("FakeGateway was not created with tls=True")
        return self._ca.ca_path

    def client_ssl_context(self) -> ssl.SSLContext:
        """A new client `ssl.SSLContext` trusting only the gateway's CA (``tls=True`` only)."""
        if self._ca is None:
            raise RuntimeError("FakeGateway was not created with tls=True")
        return self._ca.client_context()

    def start(self: _Self) -> _Self:
        """Start serving in a background thread; returns self. The port is bound on return.

        A stopped gateway may be started again: it reuses its port and keeps its history.
        """
        if self._thread is not None:
            raise RuntimeError("FakeGateway is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # Bind here, in the caller's thread: errors surface directly, and connections made
        # right after start() returns wait in the backlog until the loop accepts them.
        sock = socket.create_server((self.host, self.port), family=family, backlog=2048)
        self.port = sock.getsockname()[1]
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet_exception_handler)
        ready = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._run, args=(loop, sock, ready, failure), name="edgee-fake-gateway"
        )
        thread.daemon = True
        self._loop, self._thread = loop, thread
        thread.start()
        ready.wait(5.0)
        if failure or not ready.is_set():
            self._loop = self._thread = None
            sock.close()
            cause = failure[0] if failure else None
            raise RuntimeError("FakeGateway failed to start") from cause
        return self

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        ready: threading.Event,
        failure: list[BaseException],
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            try:
                context = self._ca.server_context() if self._ca is not None else None
                self._server = loop.run_until_complete(
                    asyncio.start_server(
                        self._serve_connection, sock=sock, limit=MAX_HEAD_BYTES, ssl=context
                    )
                )
            except BaseException as exc:  # reported to start() in the caller's thread
                failure.append(exc)
                return
            finally:
                ready.set()
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        """Stop serving: close the listening socket and every client connection (even
        mid-stream or mid-stall), and join the thread. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(2.0)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        thread.join(2.0)
        self._loop = self._thread = None
        self._server = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)

    # -- serving ------------------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        with self._lock:
            self._connections_opened += 1
            self._open_connections += 1
        # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and the
        # listening socket from socket.create_server() has proto 0: without this, a reply
        # written in several pieces waits on the client's delayed ACK (about 40 ms).
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(reader, writer)
        try:
            await self._serve_requests(conn)
        except (
            PeerGoneError,
            ConnectionError,
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            asyncio.CancelledError,
        ):
            # The client left, the connection was reset, or stop() is tearing us down.
            pass
        finally:
            writer.close()
            with self._lock:
                self._open_connections -= 1
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)

    async def _serve_requests(self, conn: Connection) -> None:
        while True:
            try:
                request = await conn.read_request()
            except BadRequestError as bad:
                conn.must_close = True
                body = dumps(error_body(bad.message, "invalid_request_error", None, None))
                base = [("x-request-id", self.next_request_id())]
                base.append(("X-Edgee-Provider", provider_of(self.model)))
                await conn.send_full(bad.status, base, body)
                return
            if request is None:
                return
            await dispatch(self, conn, *request)
            if conn.must_close:
                return


def _quiet_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Clients vanishing mid-response is the point of many tests: do not log it as an error.
    if isinstance(context.get("exception"), (ConnectionError, OSError, PeerGoneError)):
        return
    loop.default_exception_handler(context)
