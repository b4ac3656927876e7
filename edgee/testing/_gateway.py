"""A real loopback Edgee gateway for tests.

`FakeGateway` is an HTTP/1.1 server written directly on ``asyncio.start_server`` and run in
its own event loop on a background daemon thread. Writing the protocol by hand (instead of
using an HTTP framework) gives full control of the bytes on the wire, which is what client
tests need: chunked or close-delimited bodies, a TCP reset in the middle of a stream, a
stall after the headers, a malformed event, a verbatim raw response.

The module deliberately depends on nothing but the standard library and never imports the
rest of the ``edgee`` package: it speaks plain dicts and bytes, so it can check the client
instead of sharing its bugs.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import itertools
import json as _json
import math
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FakeGateway", "Headers", "RecordedRequest"]

_CRLF = b"\r\n"
_DONE_EVENT = b"data: [DONE]\n\n"
# Headers bigger than this are refused with 431; also the StreamReader buffer limit.
_MAX_HEAD_BYTES = 64 * 1024
_MAX_BODY_BYTES = 64 * 1024 * 1024
# How often a pause re-checks whether the peer went away (so closed clients are noticed).
_PAUSE_SLICE = 0.05
# After the last chunk before a reset, give the client a moment to read what was sent, so
# "reset after N chunks" reliably means the client saw N chunks first.
_RESET_GRACE = 0.05
_WORD_PIECES = re.compile(r"\s*\S+")
_MODEL_CATALOGUE = (
    "anthropic/claude-3-5-sonnet",
    "mistral/mistral-large-latest",
    "google/gemini-1.5-pro",
)


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive mapping of HTTP header names to values.

    Lookups ignore case (``headers["authorization"] == headers["Authorization"]``); iteration
    yields each name once, spelled as first received. A header repeated on the wire maps to
    its values joined with ``", "``; `raw` keeps the original ``(name, value)`` pairs.
    """

    __slots__ = ("_index", "_names", "raw")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self.raw: tuple[tuple[str, str], ...] = tuple(items)
        index: dict[str, str] = {}
        names: dict[str, str] = {}
        for name, value in self.raw:
            key = name.lower()
            if key in index:
                index[key] = f"{index[key]}, {value}"
            else:
                index[key] = value
                names[key] = name
        self._index = index
        self._names = names

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._index)

    def get_all(self, name: str) -> list[str]:
        """Every value received for `name` (any case), in order."""
        key = name.lower()
        return [value for item_name, value in self.raw if item_name.lower() == key]

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the gateway received it.

    `path` includes the query string; `headers` is case-insensitive; `json` is the parsed
    body, or ``None`` when the body is empty or not valid JSON.
    """

    method: str
    path: str
    headers: Headers
    body: bytes
    json: Any = None
    http_version: str = "HTTP/1.1"

    @property
    def stream(self) -> bool:
        """True when the JSON body asked for a streamed answer (``"stream": true``)."""
        return isinstance(self.json, dict) and self.json.get("stream") is True


# --------------------------------------------------------------------------------------
# Wire helpers


class _PeerGoneError(Exception):
    """The client closed the connection; stop working on it."""


class _BadRequestError(Exception):
    """The request bytes are not acceptable HTTP; answer with `status` and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _dumps(obj: Any) -> bytes:
    # Compact separators and raw UTF-8, like real providers: clients must cope with
    # multi-byte characters split across reads.
    return _json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _data_event(obj: Any) -> bytes:
    return b"data: " + _dumps(obj) + b"\n\n"


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _error_body(message: str, type_: str | None, code: str | None, param: str | None) -> Any:
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


def _default_error_type(status: int) -> str:
    known = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        405: "invalid_request_error",
        409: "invalid_request_error",  # GATEWAY.md's types only
        413: "invalid_request_error",
        422: "invalid_request_error",
        429: "rate_limit_error",
    }
    return known.get(status, "server_error" if status >= 500 else "invalid_request_error")


def _check_header(name: str, value: str) -> None:
    # Reject header injection: a scripted header must stay one header.
    if any(ch in name for ch in "\r\n:") or not name or any(ch in value for ch in "\r\n"):
        raise ValueError(f"invalid header {name!r}: {value!r}")


def _merge_headers(
    base: list[tuple[str, str]], extra: Mapping[str, str] | None
) -> list[tuple[str, str]]:
    """`base` with every header of `extra` replacing same-named (any case) entries."""
    if not extra:
        return base
    overridden = {name.lower() for name in extra}
    merged = [(n, v) for n, v in base if n.lower() not in overridden]
    merged.extend(extra.items())
    return merged


def split_words(text: str) -> list[str]:
    """Split `text` into word pieces that keep their leading whitespace.

    ``"hello world"`` -> ``["hello", " world"]``; joining the pieces gives back `text`
    exactly (trailing whitespace rides on the last piece). An empty text has no pieces.
    """
    pieces = _WORD_PIECES.findall(text)
    rest = text[sum(len(piece) for piece in pieces) :]
    if rest:
        if pieces:
            pieces[-1] += rest
        else:
            pieces = [rest]
    return pieces


def _content_text(content: Any) -> str:
    """The text of a message content: a string, or the text parts of a list joined by spaces."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        return " ".join(texts)
    return ""


def _count_words(text: str) -> int:
    return len(text.split())


def _echo_text(body: Mapping[str, Any]) -> str:
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return _content_text(message.get("content"))
    return ""


def _prompt_words(body: Mapping[str, Any]) -> int:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    return sum(
        _count_words(_content_text(message.get("content")))
        for message in messages
        if isinstance(message, dict)
    )


def _provider_of(model: str) -> str:
    # Edgee model names are "<provider>/<model>"; bare OpenAI names are routed to openai.
    return model.split("/", 1)[0] if "/" in model else "openai"


def _fragment(text: str, count: int) -> list[str]:
    if not text:
        return []
    size = max(1, math.ceil(len(text) / count))
    return [text[i : i + size] for i in range(0, len(text), size)]


# --------------------------------------------------------------------------------------
# One exchange (request being answered) and one connection


@dataclass(frozen=True)
class _Exchange:
    request: RecordedRequest
    body: dict[str, Any]
    request_id: str
    completion_id: str
    created: int
    model: str
    provider: str
    stream: bool
    include_usage: bool

    def base_headers(self) -> list[tuple[str, str]]:
        return [("x-request-id", self.request_id), ("X-Edgee-Provider", self.provider)]

    def chunk(
        self, choices: list[Any], **extra: Any
    ) -> dict[str, Any]:  # a chat.completion.chunk object
        obj: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        obj.update(extra)
        return obj

    def delta_chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return _data_event(self.chunk([choice]))

    def role_chunk(self) -> bytes:
        return self.delta_chunk({"role": "assistant", "content": ""})

    def prefix_pieces(self, count: int) -> list[str]:
        """`count` content pieces for a scripted failure: the echo text, padded if short."""
        pieces = split_words(_echo_text(self.body))[:count]
        pieces.extend(f" chunk{i}" for i in range(len(pieces) + 1, count + 1))
        return pieces


class _Connection:
    """The server side of one TCP connection, with the primitives replies are built from."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.must_close = False  # close after the current response
        self.http11 = True
        self._body_mode = "length"  # "chunked" | "close" | "length" for the current response

    # -- reading ------------------------------------------------------------------------

    async def read_request(self) -> tuple[str, str, str, Headers, bytes] | None:
        """Read one request; ``None`` on a clean end of the connection between requests."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError:
            raise _BadRequestError(431, "Request header fields too large") from None
        # RFC 9112 2.2: ignore empty lines before the request line.
        lines = head.lstrip(b"\r\n").decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequestError(400, "Malformed request line")
        method, target, version = parts
        items: list[tuple[str, str]] = []
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise _BadRequestError(400, "Malformed header line")
            items.append((name, value.strip(" \t")))
        headers = Headers(items)
        self.http11 = version == "HTTP/1.1"
        connection = headers.get("connection", "").lower()
        self.must_close = "close" in connection or (
            not self.http11 and "keep-alive" not in connection
        )
        if headers.get("expect", "").lower() == "100-continue":
            await self.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await self._read_body(headers)
        return method, target, version, headers, body

    async def _read_body(self, headers: Headers) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            total = 0
            while True:
                size_line = await self.reader.readuntil(_CRLF)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise _BadRequestError(400, "Malformed chunk size") from None
                if size == 0:
                    # Trailers, up to the empty line.
                    while (await self.reader.readuntil(_CRLF)) != _CRLF:
                        pass
                    return b"".join(parts)
                total += size
                if total > _MAX_BODY_BYTES:
                    raise _BadRequestError(413, "Request body too large")
                data = await self.reader.readexactly(size + 2)
                parts.append(data[:-2])
        length = headers.get("content-length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise _BadRequestError(400, "Malformed Content-Length") from None
        if size < 0:
            raise _BadRequestError(400, "Malformed Content-Length")
        if size > _MAX_BODY_BYTES:
            raise _BadRequestError(413, "Request body too large")
        return await self.reader.readexactly(size) if size else b""

    # -- writing ------------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        if self.writer.transport.is_closing():
            raise _PeerGoneError
        self.writer.write(data)
        await self.writer.drain()

    async def send_head(
        self,
        status: int,
        headers: list[tuple[str, str]],
        *,
        content_type: str,
        chunked: bool,
        content_length: int | None = None,
    ) -> None:
        """Send the status line and headers; the body framing follows from the arguments."""
        lines = [f"HTTP/1.1 {status} {_phrase(status)}", f"Content-Type: {content_type}"]
        if content_length is not None:
            self._body_mode = "length"
            lines.append(f"Content-Length: {content_length}")
        elif chunked and self.http11:
            self._body_mode = "chunked"
            lines.append("Transfer-Encoding: chunked")
        else:
            # Close-delimited body: the end of the body is the end of the connection.
            self._body_mode = "close"
            self.must_close = True
        lines.append("Connection: close" if self.must_close else "Connection: keep-alive")
        lines.extend(f"{name}: {value}" for name, value in headers)
        await self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def send_piece(self, data: bytes) -> None:
        """Send part of the body, framed as one HTTP chunk when the body is chunked."""
        if self._body_mode == "chunked":
            data = b"%x\r\n%b\r\n" % (len(data), data)
        await self.write(data)

    async def end_body(self) -> None:
        if self._body_mode == "chunked":
            await self.write(b"0\r\n\r\n")

    async def send_full(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        content_type: str = "application/json",
        close_delimited: bool = False,
    ) -> None:
        """Send a whole response: Content-Length body, or close-delimited when asked."""
        if close_delimited:
            await self.send_head(status, headers, content_type=content_type, chunked=False)
        else:
            await self.send_head(
                status, headers, content_type=content_type, chunked=False, content_length=len(body)
            )
        await self.write(body)

    # -- time and failures --------------------------------------------------------------

    def peer_gone(self) -> bool:
        return self.writer.transport.is_closing() or self.reader.at_eof()

    async def pause(self, seconds: float) -> None:
        """Sleep, but notice (and raise `_PeerGoneError`) when the client goes away."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, _PAUSE_SLICE))
            if self.peer_gone():
                raise _PeerGoneError

    async def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()
        await asyncio.sleep(_RESET_GRACE)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()
        self.must_close = True


# --------------------------------------------------------------------------------------
# Scripted replies


class _Reply:
    """One queued answer to the next chat-completions request."""

    async def respond(self, conn: _Connection, ex: _Exchange) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class _ToolCallSpec:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class _CompletionReply(_Reply):
    """A successful answer: text and/or tool calls, streamed or whole."""

    pieces: tuple[str, ...] | None = None  # None: echo the request
    tool_calls: tuple[_ToolCallSpec, ...] = ()
    fragments: int = 3
    finish_reason: str | None = None  # None: "tool_calls" if there are calls, else "stop"
    usage: Mapping[str, Any] | None = None  # None: computed from word counts
    compression: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    delay: float = 0.0
    chunked: bool = True

    def _pieces(self, ex: _Exchange) -> list[str]:
        if self.pieces is None:
            return split_words(_echo_text(ex.body))
        return list(self.pieces)

    def _usage(self, ex: _Exchange, text: str) -> dict[str, Any]:
        if self.usage is not None:
            return dict(self.usage)
        completion = _count_words(text) + sum(
            _count_words(call.arguments) for call in self.tool_calls
        )
        prompt = _prompt_words(ex.body)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"

    async def respond(self, conn: _Connection, ex: _Exchange) -> None:
        pieces = self._pieces(ex)
        text = "".join(pieces)
        usage = self._usage(ex, text)
        headers = _merge_headers(ex.base_headers(), self.headers)
        if not ex.stream:
            await conn.pause(self.delay)
            message: dict[str, Any] = {
                "role": "assistant",
                "content": text if (text or not self.tool_calls) else None,
            }
            if self.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    }
                    for call in self.tool_calls
                ]
            completion: dict[str, Any] = {
                "id": ex.completion_id,
                "object": "chat.completion",
                "created": ex.created,
                "model": ex.model,
                "choices": [
                    {"index": 0, "message": message, "finish_reason": self._finish_reason()}
                ],
                "usage": usage,
            }
            if self.compression is not None:
                completion["compression"] = dict(self.compression)
            await conn.send_full(200, headers, _dumps(completion), close_delimited=not self.chunked)
            return

        events = [ex.role_chunk()]
        events.extend(ex.delta_chunk({"content": piece}) for piece in pieces)
        for index, call in enumerate(self.tool_calls):
            first = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append(ex.delta_chunk({"tool_calls": [first]}))
            events.extend(
                ex.delta_chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
                for part in _fragment(call.arguments, self.fragments)
            )
        trailer: dict[str, Any] = {"usage": usage}
        if self.compression is not None:
            trailer["compression"] = dict(self.compression)
        finish = {"index": 0, "delta": {}, "finish_reason": self._finish_reason()}
        if ex.include_usage:
            # OpenAI's stream_options.include_usage: usage travels on an extra chunk whose
            # "choices" is empty, after the finish chunk.
            events.append(_data_event(ex.chunk([finish])))
            events.append(_data_event(ex.chunk([], **trailer)))
        else:
            events.append(_data_event(ex.chunk([finish], **trailer)))
        events.append(_DONE_EVENT)

        await conn.send_head(200, headers, content_type="text/event-stream", chunked=self.chunked)
        for i, event in enumerate(events):
            if i and self.delay > 0:
                await conn.pause(self.delay)
            await conn.send_piece(event)
        await conn.end_body()


@dataclass(frozen=True)
class _FullReply(_Reply):
    """A fixed body with a status: HTTP errors and `reply_json`."""

    status: int
    body: bytes
    headers: Mapping[str, str] | None = None

    async def respond(self, conn: _Connection, ex: _Exchange) -> None:
        headers = _merge_headers(ex.base_headers(), self.headers)
        await conn.send_full(self.status, headers, self.body)


@dataclass(frozen=True)
class _RawReply(_Reply):
    """Bytes written verbatim as the whole response (pieces of an iterable in turn)."""

    data: bytes | Iterable[bytes]
    close: bool = True
    drip: float = 0.0
    reset: bool = False
    stall: float = 0.0

    async def respond(self, conn: _Connection, ex: _Exchange) -> None:
        if self.close:
            conn.must_close = True
        pieces = [self.data] if isinstance(self.data, bytes) else self.data
        in_head = True
        for piece in pieces:
            if self.drip and in_head:
                # The head goes at once; the body one byte at a time.
                end = piece.find(b"\r\n\r\n")
                if end < 0:
                    await conn.write(piece)
                    continue
                await conn.write(piece[: end + 4])
                piece, in_head = piece[end + 4 :], False
            if not self.drip:
                await conn.write(piece)
                continue
            for i in range(len(piece)):
                await conn.pause(self.drip)
                await conn.write(piece[i : i + 1])
        if self.stall:
            await conn.pause(self.stall)
        if self.reset:
            await conn.reset()


@dataclass(frozen=True)
class _BrokenStreamReply(_Reply):
    """A stream that goes wrong after `after` content chunks.

    `action` is "error" (an error event, then a clean end), "malformed" (an undecodable
    data payload, then ``[DONE]``), "reset" (TCP RST) or "stall" (silence, then close).
    The role chunk is sent with the first content chunk, so ``after=0`` means "right
    after the headers".
    """

    action: str
    after: int = 1
    payload: bytes = b""
    as_event: bool = False
    seconds: float = 0.0

    async def respond(self, conn: _Connection, ex: _Exchange) -> None:
        if not ex.stream:
            await self._respond_whole(conn, ex)
            return
        if self.action == "reset" and self.after < 0:
            await conn.reset()
            return
        if self.action == "stall" and self.after < 0:
            conn.must_close = True
            await conn.pause(self.seconds)
            return
        await conn.send_head(200, ex.base_headers(), content_type="text/event-stream", chunked=True)
        if self.after > 0:
            await conn.send_piece(ex.role_chunk())
            for piece in ex.prefix_pieces(self.after):
                await conn.send_piece(ex.delta_chunk({"content": piece}))
        if self.action == "error":
            prefix = b"event: error\n" if self.as_event else b""
            await conn.send_piece(prefix + b"data: " + self.payload + b"\n\n")
            await conn.end_body()
        elif self.action == "malformed":
            await conn.send_piece(b"data: " + self.payload + b"\n\n")
            await conn.send_piece(_DONE_EVENT)
            await conn.end_body()
        elif self.action == "reset":
            await conn.reset()
        else:  # stall: the body is never finished
            conn.must_close = True
            await conn.pause(self.seconds)

    async def _respond_whole(self, conn: _Connection, ex: _Exchange) -> None:
        # What each failure means for a request that did not ask for a stream.
        if self.action == "error":
            await conn.send_full(502, ex.base_headers(), self.payload)
        elif self.action == "malformed":
            await conn.send_full(200, ex.base_headers(), self.payload)
        elif self.action == "reset":
            await conn.reset()
        else:
            conn.must_close = True
            await conn.pause(self.seconds)


# --------------------------------------------------------------------------------------
# The server


class FakeGateway:
    """A loopback Edgee AI Gateway for tests, speaking real HTTP/1.1 on 127.0.0.1.

    Use it as a context manager (``with FakeGateway() as gw:``), or call `start` and
    `stop`. Point a client at `url` with `api_key`. Each ``reply_*`` call queues one
    scripted answer for the next ``POST /v1/chat/completions`` (first in, first out);
    with nothing queued the gateway is an echo model that answers with the last user
    message, word by word. Every request is recorded in `requests`.

    Endpoints: ``POST /v1/chat/completions``, ``GET /v1/models``; anything else gets a 404
    error envelope. With `require_auth`, every request must carry
    ``Authorization: Bearer <api_key>`` or gets a 401 (which consumes no scripted reply).
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "gpt-4o",
        require_auth: bool = True,
    ) -> None:
        self.api_key = api_key
        self.host = host
        self.port = port
        self.model = model
        self.require_auth = require_auth
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._replies: deque[_Reply] = deque()
        self._connections_opened = 0
        self._open_connections = 0
        self._default_delay = 0.0
        self._request_numbers = itertools.count(1)
        self._call_numbers = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the gateway, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self.port == 0:
            raise RuntimeError("FakeGateway is not started: its port is not known yet")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> FakeGateway:
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
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve_connection, sock=sock, limit=_MAX_HEAD_BYTES)
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

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        where = f" {self.url}" if self.port else ""
        return f"<FakeGateway {state}{where}>"

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

    # -- scripting ----------------------------------------------------------------------

    def _queue(self, reply: _Reply) -> None:
        with self._lock:
            self._replies.append(reply)

    def set_default_delay(self, seconds: float) -> None:
        """Seconds the echo model waits between stream chunks (and before a whole answer)."""
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        self._default_delay = seconds

    def reply_text(
        self,
        text: str | None = None,
        *,
        chunks: list[str] | None = None,
        finish_reason: str = "stop",
        usage: dict[str, Any] | None = None,
        compression: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        chunked: bool = True,
    ) -> None:
        """Queue a text answer.

        Streamed as a role chunk, one content chunk per item of `chunks` (else `text` split
        into words that keep their leading spaces), a finish chunk carrying `finish_reason`,
        then ``data: [DONE]``. `usage` (default: word counts) and `compression` ride on the
        finish chunk, or on an extra chunk with empty ``choices`` when the request set
        ``stream_options.include_usage``. With neither `text` nor `chunks` the request is
        echoed. `delay` is the pause between chunks (before the body when not streaming).
        ``chunked=False`` sends a close-delimited body instead of chunked encoding (a
        non-streaming answer otherwise has a Content-Length). `headers` are added to (or
        replace) the response headers.
        """
        if chunks is not None and text is not None and "".join(chunks) != text:
            raise ValueError("text and chunks disagree; give one of them")
        pieces: tuple[str, ...] | None
        if chunks is not None:
            pieces = tuple(chunks)
        elif text is not None:
            pieces = tuple(split_words(text))
        else:
            pieces = None
        self._queue(
            _CompletionReply(
                pieces=pieces,
                finish_reason=finish_reason,
                usage=usage,
                compression=compression,
                headers=_checked_headers(headers),
                delay=_checked_delay(delay),
                chunked=chunked,
            )
        )

    def reply_tool_calls(
        self,
        calls: list[dict[str, Any]],
        *,
        text: str | None = None,
        fragments: int = 3,
        usage: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue an answer that calls tools, with ``finish_reason: "tool_calls"``.

        `calls` holds ``{"name": ..., "arguments": <JSON string, or a dict to encode>,
        "id": optional}``; several entries are parallel calls. Streamed, each call is a
        first delta with its ``index``, ``id``, ``type`` and ``function.name`` (arguments
        ``""``), then its arguments in `fragments` pieces (deltas with only ``index`` and
        ``function.arguments``). `text`, if given, is streamed as content first. Not
        streamed, the calls are ``message.tool_calls``.
        """
        if fragments < 1:
            raise ValueError("fragments must be >= 1")
        specs = []
        for call in calls:
            name = call.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError(f"tool call without a name: {call!r}")
            arguments = call.get("arguments", "{}")
            if not isinstance(arguments, str):
                arguments = _json.dumps(arguments)
            call_id = call.get("id")
            if call_id is None:
                call_id = f"call_{next(self._call_numbers)}"
            specs.append(_ToolCallSpec(id=str(call_id), name=name, arguments=arguments))
        self._queue(
            _CompletionReply(
                pieces=tuple(split_words(text)) if text is not None else (),
                tool_calls=tuple(specs),
                fragments=fragments,
                usage=usage,
                headers=_checked_headers(headers),
            )
        )

    def reply_error(
        self,
        status: int,
        message: str | None = None,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        """Queue an HTTP error (for stream and non-stream requests alike).

        The body is ``{"error": {"message", "type", "code", "param"}}`` unless `body` gives
        raw bytes. `message` defaults to the status phrase and `type` to the usual one for
        the status (``rate_limit_error`` for 429, ``server_error`` for 5xx, ...). `headers`
        adds e.g. ``{"Retry-After": "0"}``.
        """
        if not 100 <= status <= 999:
            raise ValueError(f"invalid HTTP status {status}")
        if body is None:
            body = _dumps(
                _error_body(
                    message if message is not None else _phrase(status),
                    type if type is not None else _default_error_type(status),
                    code,
                    param,
                )
            )
        self._queue(_FullReply(status=status, body=body, headers=_checked_headers(headers)))

    def reply_stream_error(
        self,
        after: int = 1,
        message: str = "provider failed",
        *,
        code: str | None = None,
        as_event: bool = False,
    ) -> None:
        """Queue a stream that fails: after `after` content chunks, an error object
        ``data: {"error": {...}}`` (preceded by ``event: error`` when `as_event`), then a
        clean end of the body without ``[DONE]``. A non-streaming request gets a 502 with
        the same error body."""
        payload = _dumps(_error_body(message, "provider_error", code, None))
        self._queue(
            _BrokenStreamReply(
                action="error", after=_checked_after(after), payload=payload, as_event=as_event
            )
        )

    def reply_malformed(self, after: int = 1, payload: bytes = b"{not json") -> None:
        """Queue a stream whose data payload after `after` content chunks is `payload`
        (not valid JSON by default), followed by ``[DONE]``. A non-streaming request gets
        `payload` as a 200 body."""
        self._queue(
            _BrokenStreamReply(action="malformed", after=_checked_after(after), payload=payload)
        )

    def reply_reset(self, after: int = 1) -> None:
        """Queue a stream that is aborted with a TCP RST after `after` content chunks
        (``after=-1``: before the status line). A non-streaming request is reset before
        any response byte."""
        if after < -1:
            raise ValueError("after must be >= -1")
        self._queue(_BrokenStreamReply(action="reset", after=after))

    def reply_stall(self, seconds: float, after: int = 0) -> None:
        """Queue a stream that sends its headers (and `after` content chunks), then nothing
        for `seconds` (cut short by `stop` or by the client leaving), then closes the
        connection (``after=-1``: nothing at all, not even the status line). A
        non-streaming request stalls before the status line."""
        if after < -1:
            raise ValueError("after must be >= -1")
        self._queue(
            _BrokenStreamReply(action="stall", after=after, seconds=_checked_delay(seconds))
        )

    def reply_raw(
        self,
        data: bytes | Iterable[bytes],
        *,
        close: bool = True,
        drip: float = 0.0,
        reset: bool = False,
        stall: float = 0.0,
    ) -> None:
        """Queue `data` written verbatim as the whole response (status line included);
        the connection is then closed unless ``close=False``, or aborted with a TCP RST
        when ``reset=True`` (a reset in the middle of a body). With `stall`, nothing more
        is sent for that many seconds first (cut short when the client leaves).

        `data` may also be an iterable of byte strings (a generator, say, to send a huge
        body without holding it), written one after the other. With `drip` > 0 the head,
        up to the first blank line, is written at once and every later byte alone,
        `drip` seconds after the previous one (a slow link).
        """
        if drip < 0 or stall < 0:
            raise ValueError("drip and stall must be >= 0")
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data)
        self._queue(
            _RawReply(
                data=data, close=close or reset, drip=float(drip), reset=reset, stall=float(stall)
            )
        )

    def reply_json(
        self, obj: Any, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        """Queue `obj` as a JSON body with `status`, whatever the request asked for (e.g. a
        whole ``chat.completion`` for a stream request)."""
        self._queue(_FullReply(status=status, body=_dumps(obj), headers=_checked_headers(headers)))

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
        conn = _Connection(reader, writer)
        try:
            while True:
                try:
                    request = await conn.read_request()
                except _BadRequestError as bad:
                    conn.must_close = True
                    body = _dumps(_error_body(bad.message, "invalid_request_error", None, None))
                    base = [("x-request-id", self._next_request_id())]
                    base.append(("X-Edgee-Provider", _provider_of(self.model)))
                    await conn.send_full(bad.status, base, body)
                    break
                if request is None:
                    break
                await self._dispatch(conn, *request)
                if conn.must_close:
                    break
        except (
            _PeerGoneError,
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

    def _next_request_id(self) -> str:
        return f"req_{next(self._request_numbers)}"

    async def _dispatch(
        self,
        conn: _Connection,
        method: str,
        target: str,
        version: str,
        headers: Headers,
        body: bytes,
    ) -> None:
        parsed: Any = None
        if body:
            with contextlib.suppress(ValueError):
                parsed = _json.loads(body)
        record = RecordedRequest(method, target, headers, body, parsed, version)
        with self._lock:
            self._requests.append(record)
        request_id = self._next_request_id()
        base = [("x-request-id", request_id), ("X-Edgee-Provider", _provider_of(self.model))]

        async def fail(
            status: int,
            message: str,
            code: str | None,
            param: str | None = None,
            type_: str | None = None,
            extra: list[tuple[str, str]] | None = None,
        ) -> None:
            envelope = _error_body(message, type_ or _default_error_type(status), code, param)
            await conn.send_full(status, base + (extra or []), _dumps(envelope))

        if self.require_auth and not self._authorized(headers):
            await fail(401, "Invalid API key", "invalid_api_key", type_="authentication_error")
            return
        path = target.split("?", 1)[0]
        if path == "/v1/models":
            if method != "GET":
                await fail(
                    405,
                    f"Method {method} not allowed",
                    "method_not_allowed",
                    extra=[("Allow", "GET")],
                )
                return
            query = urllib.parse.parse_qs(target.partition("?")[2])
            provider = query.get("provider", [None])[0]
            await conn.send_full(200, base, _dumps(self._models_body(provider)))
            return
        if path in ("/v1/count_tokens", "/v1/compress"):
            if method != "POST":
                await fail(
                    405,
                    f"Method {method} not allowed",
                    "method_not_allowed",
                    extra=[("Allow", "POST")],
                )
                return
            if not isinstance(parsed, dict) or not isinstance(parsed.get("messages"), list):
                await fail(
                    400, "'messages' is required and must be a list", "invalid_value", "messages"
                )
                return
            with self._lock:
                scripted = self._replies[0] if self._replies else None
                if isinstance(scripted, _FullReply):
                    self._replies.popleft()  # a scripted error applies to any endpoint
                else:
                    scripted = None
            if isinstance(scripted, _FullReply):
                reply_headers = _merge_headers(base, scripted.headers)
                await conn.send_full(scripted.status, reply_headers, scripted.body)
                return
            answer = (
                {"input_tokens": _prompt_words(parsed), "model": parsed.get("model")}
                if path == "/v1/count_tokens"
                else _compress_answer(parsed)
            )
            await conn.send_full(200, base, _dumps(answer))
            return
        if path != "/v1/chat/completions":
            await fail(404, f"Unknown path {path}", "not_found")
            return
        if method != "POST":
            await fail(
                405, f"Method {method} not allowed", "method_not_allowed", extra=[("Allow", "POST")]
            )
            return
        if not isinstance(parsed, dict):
            await fail(400, "The request body is not a JSON object", "invalid_json")
            return
        if not isinstance(parsed.get("messages"), list):
            await fail(
                400, "'messages' is required and must be a list", "invalid_value", "messages"
            )
            return

        with self._lock:
            reply = self._replies.popleft() if self._replies else None
        model = parsed.get("model")
        if not isinstance(model, str) or not model:
            model = self.model
        stream_options = parsed.get("stream_options")
        include_usage = (
            isinstance(stream_options, dict) and stream_options.get("include_usage") is True
        )
        exchange = _Exchange(
            request=record,
            body=parsed,
            request_id=request_id,
            completion_id=f"chatcmpl-{request_id.removeprefix('req_')}",
            created=int(time.time()),
            model=model,
            provider=_provider_of(model),
            stream=parsed.get("stream") is True,
            include_usage=include_usage,
        )
        if reply is None:
            reply = _CompletionReply(delay=self._default_delay)
        await reply.respond(conn, exchange)

    def _authorized(self, headers: Headers) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() == self.api_key

    def _models_body(self, provider: str | None = None) -> Any:
        default = self.model if "/" in self.model else f"openai/{self.model}"
        names = [default, *(name for name in _MODEL_CATALOGUE if name != default)]
        if provider is not None:
            names = [name for name in names if _provider_of(name) == provider]
        return {
            "object": "list",
            "data": [
                {
                    "id": name,
                    "object": "model",
                    "created": 1700000000,
                    "owned_by": _provider_of(name),
                }
                for name in names
            ],
        }


# Words the echo compressor drops: a stand-in for the gateway's real compression.
_FILLER_WORDS = frozenset(
    {"a", "an", "the", "very", "really", "just", "please", "basically", "actually", "quite"}
)


def _compress_answer(body: Mapping[str, Any]) -> Any:
    """A deterministic /v1/compress answer: filler words removed from string contents."""
    messages = []
    before = after = 0
    for message in body["messages"]:
        compressed = dict(message) if isinstance(message, dict) else {"content": message}
        content = compressed.get("content")
        if isinstance(content, str):
            words = content.split()
            kept = [w for w in words if w.lower().strip(",.!?") not in _FILLER_WORDS]
            before += len(words)
            after += len(kept)
            compressed["content"] = " ".join(kept)
        messages.append(compressed)
    saved = before - after
    return {
        "model": body.get("model"),
        "messages": messages,
        "compression": {
            "saved_tokens": saved,
            "cost_savings": saved * 3,
            "reduction": round(100.0 * saved / before, 2) if before else 0.0,
            "time_ms": 1,
        },
        "original_tokens": before,
        "compressed_tokens": after,
    }


def _checked_headers(headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
    if headers is None:
        return None
    for name, value in headers.items():
        _check_header(name, value)
    return dict(headers)


def _checked_delay(seconds: float) -> float:
    if seconds < 0:
        raise ValueError("delay must be >= 0")
    return float(seconds)


def _checked_after(after: int) -> int:
    if after < 0:
        raise ValueError("after must be >= 0")
    return after


def _quiet_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Clients vanishing mid-response is the point of many tests: do not log it as an error.
    if isinstance(context.get("exception"), (ConnectionError, OSError, _PeerGoneError)):
        return
    loop.default_exception_handler(context)
