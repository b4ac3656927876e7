"""The `FakeGateway` façade: construction, observation and the ``reply_*`` scripting API.

Serving lives in `_server`, routing in `_routes`, the replies in `_replies`; this module
only turns friendly arguments into checked, queued replies and exposes what was recorded.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable
from typing import Any

from edgee.testing._bodies import default_error_type, dumps, error_body
from edgee.testing._exchange import RecordedRequest
from edgee.testing._headers import checked_headers
from edgee.testing._replies import (
    BrokenStreamReply,
    CompletionReply,
    FullReply,
    RawReply,
    ToolCallSpec,
)
from edgee.testing._server import GatewayServer
from edgee.testing._text import split_words
from edgee.testing._writers import phrase

__all__ = ["FakeGateway"]


class FakeGateway(GatewayServer):
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
        super().__init__(api_key, host=host, port=port, model=model, require_auth=require_auth)
        self._call_numbers = itertools.count(1)

    # -- lifecycle ----------------------------------------------------------------------

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

    def set_default_delay(self, seconds: float) -> None:
        """Seconds the echo model waits between stream chunks (and before a whole answer)."""
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        self.default_delay = seconds

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
            CompletionReply(
                pieces=pieces,
                finish_reason=finish_reason,
                usage=usage,
                compression=compression,
                headers=checked_headers(headers),
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
                arguments = json.dumps(arguments)
            call_id = call.get("id")
            if call_id is None:
                call_id = f"call_{next(self._call_numbers)}"
            specs.append(ToolCallSpec(id=str(call_id), name=name, arguments=arguments))
        self._queue(
            CompletionReply(
                pieces=tuple(split_words(text)) if text is not None else (),
                tool_calls=tuple(specs),
                fragments=fragments,
                usage=usage,
                headers=checked_headers(headers),
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
        the status (``rate_limit_error`` for 429, ``api_error`` for 5xx, ...). `headers`
        adds e.g. ``{"Retry-After": "0"}``.
        """
        if not 100 <= status <= 999:
            raise ValueError(f"invalid HTTP status {status}")
        if body is None:
            body = dumps(
                error_body(
                    message if message is not None else phrase(status),
                    type if type is not None else default_error_type(status),
                    code,
                    param,
                )
            )
        self._queue(FullReply(status=status, body=body, headers=checked_headers(headers)))

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
        payload = dumps(error_body(message, "provider_error", code, None))
        self._queue(
            BrokenStreamReply(
                action="error", after=_checked_after(after), payload=payload, as_event=as_event
            )
        )

    def reply_malformed(self, after: int = 1, payload: bytes = b"{not json") -> None:
        """Queue a stream whose data payload after `after` content chunks is `payload`
        (not valid JSON by default), followed by ``[DONE]``. A non-streaming request gets
        `payload` as a 200 body."""
        self._queue(
            BrokenStreamReply(action="malformed", after=_checked_after(after), payload=payload)
        )

    def reply_reset(self, after: int = 1) -> None:
        """Queue a stream that is aborted with a TCP RST after `after` content chunks
        (``after=-1``: before the status line). A non-streaming request is reset before
        any response byte."""
        if after < -1:
            raise ValueError("after must be >= -1")
        self._queue(BrokenStreamReply(action="reset", after=after))

    def reply_stall(self, seconds: float, after: int = 0) -> None:
        """Queue a stream that sends its headers (and `after` content chunks), then nothing
        for `seconds` (cut short by `stop` or by the client leaving), then closes the
        connection (``after=-1``: nothing at all, not even the status line). A
        non-streaming request stalls before the status line."""
        if after < -1:
            raise ValueError("after must be >= -1")
        self._queue(BrokenStreamReply(action="stall", after=after, seconds=_checked_delay(seconds)))

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
            RawReply(
                data=data, close=close or reset, drip=float(drip), reset=reset, stall=float(stall)
            )
        )

    def reply_json(
        self, obj: Any, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        """Queue `obj` as a JSON body with `status`, whatever the request asked for (e.g. a
        whole ``chat.completion`` for a stream request)."""
        self._queue(FullReply(status=status, body=dumps(obj), headers=checked_headers(headers)))


def _checked_delay(seconds: float) -> float:
    if seconds < 0:
        raise ValueError("delay must be >= 0")
    return float(seconds)


def _checked_after(after: int) -> int:
    if after < 0:
        raise ValueError("after must be >= 0")
    return after
