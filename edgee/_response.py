"""Whole (non-streaming) responses: body bytes -> :class:`SendResponse`, shared by both clients.

Also the answers that need the same decision whatever the transport: a
redirect (:func:`follow_redirect`), and a stream request answered with a
whole JSON body or an HTML page instead of an event stream
(:func:`reads_whole_body`, :func:`stream_fallback`).
"""

from __future__ import annotations

import codecs
import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from edgee._convert import converter
from edgee._error_mapping import error_from_response, html_summary, is_error_envelope
from edgee._logging import logger
from edgee._request import PreparedRequest
from edgee.errors import APIResponseValidationError, APIStatusError
from edgee.models import (
    FunctionCallDelta,
    SendResponse,
    StreamChoice,
    StreamChunk,
    StreamDelta,
    ToolCallDelta,
)

__all__ = [
    "MAX_REDIRECTS",
    "REDIRECT_STATUSES",
    "attach_headers",
    "chunk_from_completion",
    "follow_redirect",
    "is_interim",
    "parse_completion",
    "parse_json",
    "reads_whole_body",
    "stream_fallback",
]

#: Redirects followed, each with the same method and body (a 301/302 does not turn the
#: POST into a GET, which no chat endpoint would answer). 303 means "GET it elsewhere".
REDIRECT_STATUSES = frozenset({301, 302, 307, 308})
#: Redirects followed for one request before giving up.
MAX_REDIRECTS = 10
# Headers that carry credentials: never sent to another origin than the one they were for.
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

T = TypeVar("T")

# converter.get_structure_hook(cls) per class: what converter.structure() looks up per call.
_HOOKS: dict[type[Any], Callable[[Any, Any], Any]] = {}


def attach_headers(response: SendResponse, headers: Mapping[str, str]) -> SendResponse:
    """Give a response its HTTP headers, outside its wire fields (never in ``to_dict()``)."""
    response.attach_http_headers(headers)
    return response


def _loads(body: bytes) -> object:
    try:
        if body[:1] == b"{" and body[1:2] != b"\x00":
            # What json.loads(bytes) does for a body it detects as UTF-8 (a "{" then not
            # NUL: not UTF-16/32, no BOM), without the detection.
            return json.loads(body.decode("utf-8", "surrogatepass"))
        return json.loads(body)
    except UnicodeDecodeError:
        # Invalid UTF-8 inside the JSON: U+FFFD, as the event-stream decoder does.
        return json.loads(codecs.decode(body, "utf-8", "replace"))


def parse_json(status: int, headers: Mapping[str, str], body: bytes, cls: type[T], what: str) -> T:
    """Decode a 2xx JSON body into ``cls``, or raise :class:`APIResponseValidationError`.

    ``headers`` must already have lower-case names; ``what`` names the
    expected object in the error message. A body that is the gateway's error
    object (``{"error": {...}}`` and none of ``cls``'s fields) raises the
    matching :class:`~edgee.errors.APIStatusError` instead.
    """
    request_id = headers.get("x-request-id")
    try:
        payload = _loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested garbage
        text = body.decode("utf-8", "replace")
        shown = html_summary(text)
        raise APIResponseValidationError(
            "the gateway's response is not JSON: "
            + (f"an HTML page ({shown})" if shown else repr(body[:200])),
            status_code=status,
            body=text,
            request_id=request_id,
        ) from None
    if is_error_envelope(payload):
        fields = {a.name for a in getattr(cls, "__attrs_attrs__", ())} - {"_extra", "error"}
        if isinstance(payload, dict) and not fields & payload.keys():
            raise error_from_response(status, headers, body)
    hook = _HOOKS.get(cls)
    if hook is None:
        hook = _HOOKS[cls] = converter.get_structure_hook(cls)
    try:
        result: T = hook(payload, cls)
    except Exception as exc:  # cattrs raises several types, some grouping others
        raise APIResponseValidationError(
            f"the gateway's response is not {what}: {exc}",
            status_code=status,
            body=payload,
            request_id=request_id,
        ) from exc
    return result


def parse_completion(status: int, headers: Mapping[str, str], body: bytes) -> SendResponse:
    """Decode a 2xx chat-completion body and attach its headers."""
    response = parse_json(status, headers, body, SendResponse, "a chat completion")
    return attach_headers(response, headers)


# --------------------------------------------------------------------------------------
# Answers to a stream request that are not an event stream


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_interim(status: int) -> bool:
    """A 1xx interim head (``100 Continue``, ``103 Early Hints``): skipped, the final one follows.

    ``101 Switching Protocols`` is not: it ends HTTP on the connection.
    """
    return 100 <= status < 200 and status != 101


def reads_whole_body(stream: bool, headers: Mapping[str, str]) -> bool:
    """Whether a 2xx body is read whole inside the retry loop, rather than streamed.

    Every non-streaming answer is (so a connection lost in its middle is retried
    like one lost before the headers); so is the answer to a stream request
    that came as JSON or HTML instead of ``text/event-stream``
    (see :func:`stream_fallback`). ``headers`` may be any case-insensitive
    mapping, or a dict with lower-case names.
    """
    if not stream:
        return True
    media = _media_type(headers)
    return media in ("application/json", "text/html") or media.endswith("+json")


def stream_fallback(status: int, headers: Mapping[str, str], body: bytes) -> SendResponse:
    """The whole answer to a stream request that is not an event stream (``headers`` lower-case).

    A JSON error object raises the matching :class:`~edgee.errors.APIStatusError`
    (from ``stream()``, as an HTTP error status would); a whole
    ``chat.completion`` is returned, for the stream to yield as one chunk
    (:func:`chunk_from_completion`) and ``final_response()`` to return; an HTML
    page (a proxy's login or error page) raises
    :class:`~edgee.errors.APIResponseValidationError` with its summary.
    """
    if _media_type(headers) == "text/html":
        text = body.decode("utf-8", "replace")
        raise APIResponseValidationError(
            "the gateway answered a stream request with an HTML page, not an event stream: "
            + (html_summary(text) or text[:200]),
            status_code=status,
            body=text,
            request_id=headers.get("x-request-id"),
        )
    return parse_completion(status, headers, body)


def chunk_from_completion(response: SendResponse) -> StreamChunk:
    """The one stream chunk that says what a whole ``chat.completion`` says."""
    choices = []
    for choice in response.choices:
        message = choice.message
        calls = [
            ToolCallDelta(
                index=i,
                id=call.id,
                type=call.type,
                function=FunctionCallDelta(
                    name=call.function.name, arguments=call.function.arguments
                ),
            )
            for i, call in enumerate(message.tool_calls or ())
        ]
        delta = StreamDelta(
            role=message.role,
            content=message.content,
            tool_calls=calls or None,
            refusal=message.refusal,
        )
        choices.append(
            StreamChoice(index=choice.index, delta=delta, finish_reason=choice.finish_reason)
        )
    return StreamChunk(
        id=response.id,
        object="chat.completion.chunk",
        created=response.created,
        model=response.model,
        choices=choices,
        usage=response.usage,
        compression=response.compression,
        edgee_pending_id=response.edgee_pending_id,
        edgee_tools_executed=response.edgee_tools_executed,
    )


# --------------------------------------------------------------------------------------
# Redirects


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port out of range: no origin worth trusting
        port = -1
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def follow_redirect(
    request: PreparedRequest, status: int, headers: Mapping[str, str], hops: int
) -> PreparedRequest:
    """The request to send after a 3xx answer, or raise :class:`~edgee.errors.APIStatusError`.

    Both transports leave redirects to this function, so they follow the same
    ones: 301, 302, 307 and 308, each with the same method and body, at most
    :data:`MAX_REDIRECTS` of them, to ``http``/``https`` URLs only. A redirect to
    another origin (scheme, host, port) is followed without the credentials
    (``Authorization``, ``Proxy-Authorization``, ``Cookie``): the API key only
    ever goes to the origin it was configured for. ``hops`` counts the
    redirects already followed; ``headers`` are the 3xx answer's
    (case-insensitive, or lower-case names).
    """
    location = (headers.get("location") or "").strip()

    def refuse(reason: str) -> APIStatusError:
        return APIStatusError(
            f"redirect not followed: {reason}",
            status_code=status,
            headers=headers,
            request_id=headers.get("x-request-id"),
        )

    if status not in REDIRECT_STATUSES:
        raise refuse(
            f"HTTP {status} (Location: {location or 'none'}); only 301, 302, 307 and 308 "
            f"are followed, with the same {request.method}"
        )
    if not location:
        raise refuse(f"HTTP {status} without a Location header")
    if hops >= MAX_REDIRECTS:
        raise refuse(f"more than {MAX_REDIRECTS} redirects (last to {location})")
    target = urllib.parse.urljoin(request.url, location)
    scheme, host, port = _origin(target)
    if scheme not in _DEFAULT_PORTS or not host or port == -1:
        raise refuse(f"{location!r} is not an http(s) URL")
    new_headers = request.headers
    if (scheme, host, port) != _origin(request.url):
        new_headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in _CREDENTIAL_HEADERS
        }
    logger.info("%s %s redirected (%d) to %s", request.method, request.url, status, target)
    return attrs.evolve(request, url=target, headers=new_headers)
