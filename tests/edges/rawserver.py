"""A raw-socket HTTP/1.1 server for the edge tests: exact bytes, per connection.

``FakeGateway`` speaks correct HTTP. Real servers and proxies do not always:
they compress, send ``103 Early Hints``, frame bodies ambiguously, send
endless error pages, close kept-alive connections as they are reused, drip a
byte at a time. :class:`RawServer` lets a test script each of those exactly:

* each accepted connection runs the next scripted *handler* (a function of a
  :class:`Conn`), or the default one once the script is used up;
* a handler reads requests with :meth:`Conn.read_request` (what the client
  sent is recorded on the server: :attr:`RawServer.requests`, with the index
  of the connection it came on) and writes whatever bytes it likes;
* bodies can be generated lazily (:meth:`Conn.send_iter`), so a 256 MiB or
  endless page is never held in memory; the bytes actually sent are counted;
* ``tls=`` wraps every connection with a server-side :class:`ssl.SSLContext`.

The module also has small builders for responses, completions, event streams
and compressed event streams.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import queue
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from edgee import Timeout

Handler = Callable[["Conn"], None]

API_KEY = "sk-edge-test-0123456789"
# Short, so a client that hangs on a fault today fails in seconds.
EDGE_TIMEOUT = Timeout(connect=2.0, read=3.0)


@dataclass
class Request:
    """One request as the client sent it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    conn: int  # index of the connection it came on
    raw_head: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        """The last message's content (what the test sent as ``input``)."""
        body = self.json() or {}
        messages = body.get("messages") or [{}]
        return str(messages[-1].get("content", ""))


class Conn:
    """One accepted connection, as a handler sees it."""

    def __init__(self, server: RawServer, sock: socket.socket, index: int) -> None:
        self.server = server
        self.sock = sock
        self.index = index
        self.sent = 0  # body bytes handed to the kernel so far
        self.closed_by_peer = False
        self._buf = b""

    # -- reading ---------------------------------------------------------------------

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except (OSError, ssl.SSLError):
            data = b""
        if not data:
            self.closed_by_peer = True
            return False
        self._buf += data
        return True

    def read_request(self, timeout: float = 10.0) -> Request | None:
        """The next request on this connection, or ``None`` if the client closed it."""
        self.sock.settimeout(timeout)
        try:
            while b"\r\n\r\n" not in self._buf:
                if not self._fill():
                    return None
            head, self._buf = self._buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = []
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers.append((name, value.strip()))
            request = Request(method, target, headers, b"", self.index, head)
            length = request.header("content-length")
            if request.header("transfer-encoding"):
                request.body = self._read_chunked()
            elif length:
                while len(self._buf) < int(length):
                    if not self._fill():
                        return None
                request.body, self._buf = self._buf[: int(length)], self._buf[int(length) :]
        except TimeoutError:
            return None
        self.server.requests.append(request)
        return request

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            while b"\r\n" not in self._buf:
                if not self._fill():
                    raise EOFError("the client closed inside a chunked body")
            size_line, self._buf = self._buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(self._buf) < size + 2:
                if not self._fill():
                    raise EOFError("the client closed inside a chunked body")
            body, self._buf = body + self._buf[:size], self._buf[size + 2 :]
            if size == 0:
                return body

    # -- writing ---------------------------------------------------------------------

    def send(self, data: bytes) -> bool:
        """Write ``data``; ``False`` if the client is gone."""
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError):
            return False
        self.sent += len(data)
        return True

    def send_iter(self, pieces: Iterable[bytes]) -> bool:
        """Write pieces made as they are sent, until the client stops reading or goes away."""
        self.sock.settimeout(5.0)  # a client that stops reading ends the page
        return all(self.send(piece) for piece in pieces)

    def close(self) -> None:
        """A clean close (FIN)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()

    def reset(self) -> None:
        """An abortive close (RST)."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.sock.close()

    def wait_closed(self, timeout: float = 10.0) -> bool:
        """Read until the client closes the connection; ``True`` if it did."""
        self.sock.settimeout(timeout)
        try:
            while self._fill():
                pass
        except TimeoutError:
            return False
        return True


@dataclass
class RawServer:
    """A threaded TCP server on 127.0.0.1 that runs scripted handlers per connection."""

    default: Handler | None = None
    tls: ssl.SSLContext | None = None
    requests: list[Request] = field(default_factory=list)
    handshake_failures: int = 0
    accepted: int = 0

    def __post_init__(self) -> None:
        self._script: queue.SimpleQueue[Handler] = queue.SimpleQueue()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self.conns: list[Conn] = []
        self.errors: list[BaseException] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def script(self, *handlers: Handler) -> RawServer:
        """The handlers of the next connections, in order."""
        for handler in handlers:
            self._script.put(handler)
        return self

    def __enter__(self) -> RawServer:
        self._accept_thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._accept_thread.join(5)
        for sock in self._socks:
            # shutdown() wakes a handler blocked in recv(); close() alone does not.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            index = self.accepted
            self.accepted += 1
            self._socks.append(sock)
            thread = threading.Thread(target=self._run, args=(sock, index), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, sock: socket.socket, index: int) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            try:
                sock.settimeout(10)
                sock = self.tls.wrap_socket(sock, server_side=True)
                self._socks.append(sock)
            except (OSError, ssl.SSLError):
                self.handshake_failures += 1
                sock.close()
                return
        conn = Conn(self, sock, index)
        self.conns.append(conn)
        try:
            handler = self._script.get_nowait()
        except queue.Empty:
            handler = self.default or keep_alive(answer_completion)
        try:
            handler(conn)
        except BaseException as exc:
            if not self._stop.is_set():
                self.errors.append(exc)
        finally:
            conn.close()


# --------------------------------------------------------------------------------------
# Handlers


def keep_alive(answer: Callable[[Request], bytes]) -> Handler:
    """Serve requests on the connection until the client closes it."""

    def handler(conn: Conn) -> None:
        while (request := conn.read_request()) is not None:
            if not conn.send(answer(request)):
                return

    return handler


def once(data: bytes | Callable[[Request], bytes], *, then: str = "close") -> Handler:
    """Read one request, write ``data`` (bytes, or made from the request), then close."""

    def handler(conn: Conn) -> None:
        request = conn.read_request()
        if request is None:
            return
        conn.send(data(request) if callable(data) else data)
        if then == "reset":
            conn.reset()
        elif then == "wait":
            conn.wait_closed()

    return handler


# --------------------------------------------------------------------------------------
# Response builders


def head(status: int = 200, *headers: str, reason: str = "X") -> bytes:
    """A status line and headers, exactly as given (no framing added)."""
    return ("\r\n".join([f"HTTP/1.1 {status} {reason}", *headers]) + "\r\n\r\n").encode("latin-1")


def response(
    status: int = 200, body: bytes = b"", *headers: str, content_type: str = "application/json"
) -> bytes:
    """A whole response framed by ``Content-Length``."""
    return (
        head(status, f"Content-Type: {content_type}", f"Content-Length: {len(body)}", *headers)
        + body
    )


def completion(text: str = "a whole answer") -> dict[str, Any]:
    return {
        "id": "chatcmpl-raw",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
    }


def completion_body(text: str = "a whole answer") -> bytes:
    return json.dumps(completion(text)).encode()


def answer_completion(request: Request) -> bytes:
    """A keep-alive completion that echoes the request's input (``echo:<input>``)."""
    return response(200, completion_body(f"echo:{request.text}"))


def text_chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "delta": {"content": text}}
    if finish:
        choice["finish_reason"] = finish
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [choice]}


def event(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def stream_events(texts: Iterable[str]) -> list[bytes]:
    """The events of a stream of ``texts``, the last one finishing, then ``[DONE]``."""
    items = list(texts)
    events = [
        event(text_chunk(t, "stop" if i == len(items) - 1 else None)) for i, t in enumerate(items)
    ]
    return [*events, b"data: [DONE]\n\n"]


def chunk(data: bytes) -> bytes:
    """One chunk of chunked transfer coding."""
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


def compressor(coding: str) -> Any:
    if coding == "gzip":
        return zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return zlib.compressobj(wbits=zlib.MAX_WBITS)
    if coding == "raw-deflate":
        return zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raise ValueError(coding)


def compressed_pieces(pieces: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """Each piece compressed and flushed on its own (``Z_SYNC_FLUSH``), as nginx's
    ``gzip`` with ``X-Accel-Buffering: no`` does for event streams."""
    obj = compressor(coding)
    for piece in pieces:
        yield obj.compress(piece) + obj.flush(zlib.Z_SYNC_FLUSH)
    yield obj.flush()


def gzip_body(body: bytes) -> bytes:
    return gzip.compress(body)


def lazy_bytes(total: int | None, piece: bytes = b"x" * 65536) -> Iterator[bytes]:
    """``total`` bytes (``None``: endless), made piece by piece as they are sent."""
    sent = 0
    while total is None or sent < total:
        part = piece if total is None else piece[: total - sent]
        sent += len(part)
        yield part
