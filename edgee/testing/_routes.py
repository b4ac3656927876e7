"""Routing: which handler answers which path, through a route table.

`dispatch` records the request, checks the API key, looks the path up in `ROUTES` (404 for
an unknown path, 405 for a method the route does not take) and hands a `Request` to the
route's handler. Handlers only see the gateway through the small `GatewayState` protocol,
so this module does not depend on the server or the façade.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from edgee.testing._bodies import (
    count_tokens_answer,
    default_error_type,
    dumps,
    error_body,
    models_body,
)
from edgee.testing._completion import CompletionReply
from edgee.testing._compress import compress_payload, compressible
from edgee.testing._connection import Connection
from edgee.testing._exchange import Exchange, RecordedRequest
from edgee.testing._headers import HeaderList
from edgee.testing._readers import RequestHead
from edgee.testing._replies import Delivery, FullReply, Reply
from edgee.testing._text import provider_of

__all__ = ["ROUTES", "GatewayState", "Request", "Route", "dispatch"]


class GatewayState(Protocol):
    """What the handlers need from the gateway."""

    api_key: str
    model: str
    require_auth: bool
    default_delay: float
    content_encoding: str | None

    def record(self, request: RecordedRequest) -> None: ...

    def next_request_id(self) -> str: ...

    def pop_reply(self, *, full_only: bool = False) -> Reply | None:
        """The next scripted reply (``None`` if none); with `full_only`, only a whole-body
        reply (an error or `reply_json`) at the head of the queue is taken."""
        ...


@dataclass
class Request:
    """One received request, routed to a handler."""

    conn: Connection
    record: RecordedRequest
    request_id: str
    state: GatewayState
    base_headers: HeaderList = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.record.path.split("?", 1)[0]

    @property
    def query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(self.record.path.partition("?")[2])

    async def send_json(self, obj: Any, status: int = 200) -> None:
        coding = self.state.content_encoding
        await self.conn.send_full(status, self.base_headers, dumps(obj), coding=coding)

    async def fail(
        self,
        status: int,
        message: str,
        code: str | None,
        param: str | None = None,
        *,
        type_: str | None = None,
        extra: HeaderList | None = None,
    ) -> None:
        """Answer the error envelope with `status` (type from the status by default)."""
        envelope = error_body(message, type_ or default_error_type(status), code, param)
        headers = self.base_headers + (extra or [])
        coding = self.state.content_encoding
        await self.conn.send_full(status, headers, dumps(envelope), coding=coding)

    async def send_scripted_full(self) -> bool:
        """Send a scripted whole-body reply (error or JSON) queued first, if there is one:
        those apply to every POST endpoint, not only chat."""
        scripted = self.state.pop_reply(full_only=True)
        if not isinstance(scripted, FullReply):
            return False
        coding = scripted.delivery.coding
        await scripted.send(self.conn, self.base_headers, coding or self.state.content_encoding)
        return True


Handler = Callable[[Request], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """The methods a path accepts and the handler that answers it."""

    methods: tuple[str, ...]
    handler: Handler


async def _models(req: Request) -> None:
    # The ``provider`` query is documented as not implemented: the whole list comes back.
    await req.send_json(models_body(req.state.model))


_TOKENIZERS = ("cl100k_base", "o200k_base")


def _count_tokens_problem(body: Any) -> tuple[str, str] | None:
    """What is wrong with a count-tokens body, as ``(message, param)``, or ``None``."""
    if not isinstance(body, dict):
        return "The request body is not a JSON object", ""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return "'model' is required and must be a string", "model"
    if not isinstance(body.get("messages"), list):
        return "'messages' is required and must be a list", "messages"
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        return "'system' must be a string or a list of content parts", "system"
    tokenizer = body.get("tokenizer")
    if tokenizer is not None and tokenizer not in _TOKENIZERS:
        return f"'tokenizer' must be one of {', '.join(_TOKENIZERS)}", "tokenizer"
    return None


async def _count_tokens(req: Request) -> None:
    body = req.record.json
    problem = _count_tokens_problem(body)
    if problem is not None:
        message, param = problem
        await req.fail(400, message, "invalid_value", param or None)
        return
    if not await req.send_scripted_full():
        await req.send_json(count_tokens_answer(body))


async def _compress(req: Request) -> None:
    body = req.record.json
    if not compressible(body):
        message = "a chat, messages or responses payload is required ('messages' or 'input')"
        await req.fail(400, message, "invalid_value", "messages")
        return
    if not await req.send_scripted_full():
        header = req.record.headers.get("x-edgee-compression-model")
        model = body.get("compression_model") or header
        await req.send_json(compress_payload(body, compression_model=model))


async def _chat(req: Request) -> None:
    body = req.record.json
    if not isinstance(body, dict):
        await req.fail(400, "The request body is not a JSON object", "invalid_json")
        return
    if not isinstance(body.get("messages"), list):
        await req.fail(
            400, "'messages' is required and must be a list", "invalid_value", "messages"
        )
        return
    reply = req.state.pop_reply()
    model = body.get("model")
    if not isinstance(model, str) or not model:
        model = req.state.model
    stream_options = body.get("stream_options")
    exchange = Exchange(
        request=req.record,
        body=body,
        request_id=req.request_id,
        completion_id=f"chatcmpl-{req.request_id.removeprefix('req_')}",
        created=int(time.time()),
        model=model,
        provider=provider_of(model),
        stream=body.get("stream") is True,
        include_usage=isinstance(stream_options, dict)
        and stream_options.get("include_usage") is True,
        default_coding=req.state.content_encoding,
    )
    if reply is None:
        reply = CompletionReply(delivery=Delivery(delay=req.state.default_delay))
    await reply.respond(req.conn, exchange)


ROUTES: dict[str, Route] = {
    "/v1/chat/completions": Route(("POST",), _chat),
    "/v1/models": Route(("GET",), _models),
    "/v1/count_tokens": Route(("POST",), _count_tokens),
    "/v1/compress": Route(("POST",), _compress),
}


def _authorized(state: GatewayState, record: RecordedRequest) -> bool:
    scheme, _, token = record.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token.strip() == state.api_key


async def dispatch(state: GatewayState, conn: Connection, head: RequestHead, body: bytes) -> None:
    """Record one request and answer it through the route table."""
    parsed: Any = None
    if body:
        with contextlib.suppress(ValueError):
            parsed = json.loads(body)
    record = RecordedRequest(head.method, head.target, head.headers, body, parsed, head.version)
    state.record(record)
    request_id = state.next_request_id()
    base = [("x-request-id", request_id), ("X-Edgee-Provider", provider_of(state.model))]
    req = Request(conn, record, request_id, state, base)
    if state.require_auth and not _authorized(state, record):
        await req.fail(401, "Invalid API key", "invalid_api_key", type_="authentication_error")
        return
    route = ROUTES.get(req.path)
    if route is None:
        await req.fail(404, f"Unknown path {req.path}", "not_found")
        return
    if head.method not in route.methods:
        allow = ", ".join(route.methods)
        await req.fail(
            405,
            f"Method {head.method} not allowed",
            "method_not_allowed",
            extra=[("Allow", allow)],
        )
        return
    await route.handler(req)
