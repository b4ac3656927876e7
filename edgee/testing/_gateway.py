"""The `FakeGateway` façade: construction and the ``reply_*`` scripting API.

Serving and observation live in `_server`, routing in `_routes`, the answers in
`_completion` and `_replies`, argument checks in `_script`; this module only turns
friendly arguments into queued replies, and documents them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from edgee.testing._bodies import default_error_type, dumps, error_body
from edgee.testing._codings import check_coding
from edgee.testing._completion import CompletionReply
from edgee.testing._replies import BrokenStreamReply, Delivery, FullReply, RawReply
from edgee.testing._script import (
    checked_after,
    checked_compression,
    checked_delay,
    delivery,
    tool_call_specs,
)
from edgee.testing._server import GatewayServer
from edgee.testing._text import fragment, split_words
from edgee.testing._writers import phrase

__all__ = ["FakeGateway"]


def _answer_wire(
    headers: dict[str, str] | None,
    fallback: str | None,
    delay: float,
    content_encoding: str | None,
    interim: Iterable[int],
    chunked: bool = True,
) -> Delivery:
    """The wire options of the answers (``reply_text`` and kin), in the order they declare
    them, checked by `delivery`."""
    return delivery(
        headers=headers,
        fallback=fallback,
        interim=interim,
        content_encoding=content_encoding,
        chunked=chunked,
        delay=delay,
    )


class FakeGateway(GatewayServer):
    """A loopback Edgee AI Gateway for tests, speaking real HTTP/1.1 on 127.0.0.1.

    Use it as a context manager (``with FakeGateway() as gw:``), or call `start` and
    `stop`. Point a client at `url` with `api_key`. Each ``reply_*`` call queues one
    scripted answer for the next ``POST /v1/chat/completions`` (first in, first out;
    `reply_error` and `reply_json` also answer the next count-tokens or compress request);
    with nothing queued the gateway is an echo model that answers with the last user
    message, word by word. Every request is recorded in `requests`.

    Endpoints, as the gateway documents them: ``POST /v1/chat/completions``,
    ``GET /v1/models`` (the whole list; ``provider`` is ignored), ``POST /v1/count_tokens``
    (``{input_tokens}``) and ``POST /v1/compress`` (the payload back, compressed, with a
    ``compression`` report); anything else gets a 404 error envelope. With `require_auth`,
    every request must carry ``Authorization: Bearer <api_key>`` or gets a 401 (which
    consumes no scripted reply).

    ``content_encoding="gzip"`` or ``"deflate"`` compresses every JSON and event-stream
    answer (a reply's own `content_encoding` wins; ``"identity"`` turns it off). With
    ``tls=True`` the gateway serves HTTPS with a throwaway CA (needs ``trustme``): `url`
    starts with ``https://``, `ca_path` is the CA bundle and `client_ssl_context()` a
    client context trusting it.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "gpt-4o",
        require_auth: bool = True,
        content_encoding: str | None = None,
        tls: bool = False,
    ) -> None:
        super().__init__(
            api_key,
            host=host,
            port=port,
            model=model,
            require_auth=require_auth,
            content_encoding=check_coding(content_encoding),
            tls=tls,
        )
        self._call_numbers = itertools.count(1)

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        where = f" {self.url}" if self.port else ""
        return f"<FakeGateway {state}{where}>"

    # -- scripting ----------------------------------------------------------------------
    #
    # Wire options shared by the answers (reply_text, reply_tool_calls, reply_structured,
    # reply_refusal): `headers` add to (or replace) the response headers; `fallback` names
    # the provider that answered instead (X-Edgee-Provider, plus X-Edgee-Fallback-Used: 1);
    # `delay` pauses between stream chunks (before the body when not streaming);
    # `chunked=False` sends a close-delimited body; `content_encoding` ("gzip",
    # "deflate", "identity") compresses the body, a stream event by event (each event
    # compressed and flushed as its own HTTP chunk); `interim` lists 1xx statuses (e.g.
    # [103]) sent before the final response (not to HTTP/1.0 clients).

    def set_default_delay(self, seconds: float) -> None:
        """Seconds the echo model waits between stream chunks (and before a whole answer)."""
        self.default_delay = checked_delay(seconds)

    def reply_text(
        self,
        text: str | None = None,
        *,
        chunks: list[str] | None = None,
        finish_reason: str = "stop",
        usage: dict[str, Any] | None = None,
        compression: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        fallback: str | None = None,
        delay: float = 0.0,
        chunked: bool = True,
        content_encoding: str | None = None,
        interim: Iterable[int] = (),
    ) -> None:
        """Queue a text answer.

        Streamed as a role chunk, one content chunk per item of `chunks` (else `text` split
        into words that keep their leading spaces), a finish chunk carrying `finish_reason`,
        then ``data: [DONE]``. `usage` (default: word counts) and `compression` ride on the
        finish chunk, or on an extra chunk with empty ``choices`` when the request set
        ``stream_options.include_usage``. With neither `text` nor `chunks` the request is
        echoed. `compression` takes the chat shape: integer ``saved_tokens``,
        ``cost_savings`` (micro-USD) and ``time_ms``, ``reduction`` a float percent
        (`ValueError` otherwise). See above for the wire options.
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
                compression=checked_compression(compression),
                delivery=_answer_wire(headers, fallback, delay, content_encoding, interim, chunked),
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
        fallback: str | None = None,
        delay: float = 0.0,
        content_encoding: str | None = None,
        interim: Iterable[int] = (),
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
        self._queue(
            CompletionReply(
                pieces=tuple(split_words(text)) if text is not None else (),
                tool_calls=tool_call_specs(calls, self._call_numbers),
                fragments=fragments,
                usage=usage,
                delivery=_answer_wire(headers, fallback, delay, content_encoding, interim),
            )
        )

    def reply_structured(
        self,
        value: Any,
        *,
        chunks: list[str] | None = None,
        fragments: int = 5,
        require_schema: bool = False,
        finish_reason: str = "stop",
        usage: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        fallback: str | None = None,
        delay: float = 0.0,
        content_encoding: str | None = None,
        interim: Iterable[int] = (),
    ) -> None:
        """Queue a structured-output answer: `value` encoded as JSON is the content.

        A `str` `value` is sent as it is (to script invalid or cut JSON, with e.g.
        ``finish_reason="length"``). Streamed, the JSON text comes in `fragments` pieces
        of about equal length, or exactly as `chunks` (which must join to it). The request's
        ``response_format`` is recorded (see `RecordedRequest.json_schema`); with
        `require_schema`, a request without a well-formed
        ``{"type": "json_schema", "json_schema": {"name", "schema", ...}}`` gets a 400
        ``invalid_request_error`` (param ``response_format``) instead, consuming the reply.
        """
        content = value if isinstance(value, str) else dumps(value).decode("utf-8")
        if fragments < 1:
            raise ValueError("fragments must be >= 1")
        if chunks is not None and "".join(chunks) != content:
            raise ValueError("chunks must join to the JSON content")
        pieces = tuple(chunks) if chunks is not None else tuple(fragment(content, fragments))
        self._queue(
            CompletionReply(
                pieces=pieces,
                finish_reason=finish_reason,
                usage=usage,
                require_schema=require_schema,
                delivery=_answer_wire(headers, fallback, delay, content_encoding, interim),
            )
        )

    def reply_refusal(
        self,
        refusal: str = "I'm sorry, I can't help with that.",
        *,
        chunks: list[str] | None = None,
        finish_reason: str = "stop",
        usage: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        fallback: str | None = None,
        delay: float = 0.0,
        content_encoding: str | None = None,
        interim: Iterable[int] = (),
    ) -> None:
        """Queue a refusal: ``message.refusal`` set and ``content`` null.

        Streamed, a role chunk with ``content: null``, then ``delta.refusal`` pieces (one
        per item of `chunks`, else the words of `refusal`), the finish chunk, ``[DONE]``.
        """
        if chunks is not None and "".join(chunks) != refusal:
            raise ValueError("refusal and chunks disagree; give one of them")
        pieces = tuple(chunks) if chunks is not None else tuple(split_words(refusal))
        self._queue(
            CompletionReply(
                pieces=(),
                refusal=pieces,
                finish_reason=finish_reason,
                usage=usage,
                delivery=_answer_wire(headers, fallback, delay, content_encoding, interim),
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
        content_encoding: str | None = None,
        interim: Iterable[int] = (),
    ) -> None:
        """Queue an HTTP error (for stream and non-stream requests alike).

        The body is ``{"error": {"message", "type", "code", "param"}}`` unless `body` gives
        raw bytes. `message` defaults to the status phrase and `type` to the documented one
        for the status: ``authentication_error`` (401), ``permission_error`` (403),
        ``not_found_error`` (404), ``rate_limit_error`` (429), ``provider_error`` (502),
        ``server_error`` (other 5xx), else ``invalid_request_error``. `headers` adds e.g.
        ``{"Retry-After": "0"}``.
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
        wire = delivery(headers=headers, interim=interim, content_encoding=content_encoding)
        self._queue(FullReply(status=status, body=body, delivery=wire))

    def reply_json(
        self,
        obj: Any,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_encoding: str | None = None,
        interim: Iterable[int] = (),
    ) -> None:
        """Queue `obj` as a JSON body with `status`, whatever the request asked for (e.g. a
        whole ``chat.completion`` for a stream request)."""
        wire = delivery(headers=headers, interim=interim, content_encoding=content_encoding)
        self._queue(FullReply(status=status, body=dumps(obj), delivery=wire))

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
                action="error", after=checked_after(after), payload=payload, as_event=as_event
            )
        )

    def reply_malformed(self, after: int = 1, payload: bytes = b"{not json") -> None:
        """Queue a stream whose data payload after `after` content chunks is `payload`
        (not valid JSON by default), followed by ``[DONE]``. A non-streaming request gets
        `payload` as a 200 body."""
        self._queue(
            BrokenStreamReply(action="malformed", after=checked_after(after), payload=payload)
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
        self._queue(BrokenStreamReply(action="stall", after=after, seconds=checked_delay(seconds)))

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
