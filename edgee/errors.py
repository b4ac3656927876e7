"""The exceptions of the Edgee SDK.

Every failure the SDK reports is an :class:`EdgeeError`. The tree mirrors the
official OpenAI client where it can, so ``except`` clauses written for one read
naturally for the other::

    EdgeeError
    ├── ConfigurationError          (also ValueError)
    ├── ClientStateError            (also RuntimeError)
    ├── APIError
    │   ├── APIStatusError          (also RuntimeError)
    │   │   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
    │   │   ├── NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
    │   │   └── RateLimitError 429, InternalServerError >= 500
    │   ├── APIConnectionError
    │   │   └── APITimeoutError
    │   ├── APIResponseValidationError
    │   └── StreamError
    │       ├── StreamAPIError
    │       ├── ChunkDecodeError
    │       ├── EventTooLargeError
    │       └── IncompleteStreamError

This module is pure: it knows nothing of ``requests`` or ``aiohttp``.
"""

from __future__ import annotations

import datetime
import email.utils
import html
import json
import re
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ChunkDecodeError",
    "ClientStateError",
    "ConfigurationError",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "EdgeeError",
    "EventTooLargeError",
    "IncompleteStreamError",
    "InternalServerError",
    "LengthFinishReasonError",
    "NotFoundError",
    "OutputValidationError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamAPIError",
    "StreamError",
    "StructuredOutputError",
    "UnprocessableEntityError",
    "error_from_response",
    "html_summary",
    "is_error_envelope",
    "parse_retry_after",
]

# Bodies can be large HTML pages; messages quote at most this much of them.
_MAX_QUOTED_BODY = 500
# An HTML error page (a proxy's 502, a captive portal) is summarised from this much of it.
_MAX_HTML_SCAN = 64 * 1024


class EdgeeError(Exception):
    """Base class of every exception raised by the Edgee SDK."""


class ConfigurationError(EdgeeError, ValueError):
    """The client cannot be built as configured (for example, no API key)."""


class APIError(EdgeeError):
    """A request to the gateway failed.

    ``message`` is a human-readable explanation, ``request_id`` the gateway's
    ``x-request-id`` header when one was received, and ``body`` the decoded
    response body (a dict for JSON bodies, else text) when there was one.
    """

    message: str
    request_id: str | None
    body: object | None

    def __init__(
        self, message: str, *, request_id: str | None = None, body: object | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.body = body


class APIStatusError(APIError, RuntimeError):
    """The gateway answered with an HTTP error status (4xx or 5xx).

    Also a :class:`RuntimeError`, so code written for the official ``edgee``
    package (``except RuntimeError``) keeps catching it.
    """

    status_code: int
    headers: dict[str, str]
    code: str | None
    type: str | None
    param: str | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        headers: Mapping[str, str] | None = None,
        body: object | None = None,
        request_id: str | None = None,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(f"API error {status_code}: {message}", request_id=request_id, body=body)
        self.message = message
        self.status_code = status_code
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.code = code
        self.type = type
        self.param = param


class BadRequestError(APIStatusError):
    """HTTP 400: the gateway rejected the request as malformed."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key may not use this model or feature."""


class NotFoundError(APIStatusError):
    """HTTP 404: unknown endpoint or model."""


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the gateway's state."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the request is well formed but cannot be processed."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests, or a spend cap was reached.

    ``retry_after`` is the wait in seconds the gateway asked for (from
    ``retry-after-ms`` or ``Retry-After``), or ``None``.
    """

    @property
    def retry_after(self) -> float | None:
        """Seconds the gateway asked the client to wait, if it said."""
        return parse_retry_after(self.headers)


class InternalServerError(APIStatusError):
    """HTTP 5xx: the gateway or the provider behind it failed."""


class APIConnectionError(APIError):
    """The request did not get an HTTP response: DNS failure, refused, reset."""

    def __init__(self, message: str = "Connection error.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class APITimeoutError(APIConnectionError):
    """Connecting, or waiting for the next piece of the response, took too long."""

    def __init__(self, message: str = "Request timed out.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class APIResponseValidationError(APIError):
    """A successful response whose body is not what the API promises (not JSON, not a completion).

    ``status_code`` is the HTTP status; ``body`` holds the body text.
    """

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, body=body)
        self.status_code = status_code


class ClientStateError(EdgeeError, RuntimeError):
    """The client cannot be used now: it was closed, or belongs to another event loop."""


class StreamError(APIError):
    """Something went wrong after ``stream()`` returned, while reading the stream."""


class StreamAPIError(StreamError):
    """The gateway sent an error inside the stream (an error object or ``event: error``).

    ``data`` is the raw payload of the event; ``code``, ``type`` and ``param``
    come from its ``error`` object when it has one.
    """

    data: str
    code: str | None
    type: str | None
    param: str | None

    def __init__(
        self,
        message: str,
        *,
        data: str,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: object | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, body=body)
        self.data = data
        self.code = code
        self.type = type
        self.param = param


class ChunkDecodeError(StreamError):
    """A ``data:`` payload of the stream is not valid JSON or not a chunk. ``raw`` holds it."""

    raw: str

    def __init__(self, message: str, *, raw: str, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id, body=raw)
        self.raw = raw


class EventTooLargeError(StreamError):
    """One server-sent event grew past the decoder's ``max_event_bytes`` limit."""

    limit: int

    def __init__(self, limit: int) -> None:
        super().__init__(f"server-sent event larger than {limit} bytes")
        self.limit = limit


class IncompleteStreamError(StreamError):
    """The stream ended before ``[DONE]`` and before every choice had finished.

    ``chunks_received`` counts the chunks delivered before the cut.
    """

    chunks_received: int

    def __init__(
        self, message: str, *, chunks_received: int, request_id: str | None = None
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.chunks_received = chunks_received


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Return the wait in seconds asked for by ``retry-after-ms`` or ``Retry-After``.

    ``Retry-After`` may be a number of seconds or an HTTP date. Negative,
    non-finite or unparsable values give ``None``.
    """
    h = _lower(headers)
    ms = h.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if 0 <= value < float("inf"):
            return value
    ra = h.get("retry-after")
    if ra is None:
        return None
    ra = ra.strip()
    try:
        value = float(ra)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(ra)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if parsed is None:  # pragma: no cover - older Pythons returned None
            return None
        if parsed.tzinfo is None:
            # HTTP dates are always GMT; a naive datetime ("-0000" or no zone)
            # would otherwise be read in the machine's local time zone.
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        value = parsed.timestamp() - (time.time() if now is None else now)
        return max(value, 0.0)
    if 0 <= value < float("inf"):
        return value
    return None


def decode_body(body: bytes) -> object | None:
    """Decode an error body: a JSON value when it parses, else text, ``None`` when empty."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    try:
        decoded: object = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested garbage
        return text
    return decoded


def _error_fields(body: object) -> tuple[str | None, str | None, str | None, str | None]:
    """(message, type, code, param) from the gateway's ``{"error": {...}}`` envelope."""
    if not isinstance(body, dict):
        return None, None, None, None
    err = body.get("error")
    if isinstance(err, str):
        return err, None, None, None
    if not isinstance(err, dict):
        msg = body.get("message")
        return (msg if isinstance(msg, str) else None), None, None, None

    def _s(key: str) -> str | None:
        v = err.get(key)
        return None if v is None else str(v)

    return _s("message"), _s("type"), _s("code"), _s("param")


_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html|<head|<body|<title|<h1|<center)", re.I)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_HTML_HIDDEN = re.compile(r"<(head|script|style)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_HTML_TAG = re.compile(r"<[^>]*>")


def html_summary(text: str) -> str | None:
    """A one-line, readable summary of an HTML page (its title, then its text), or ``None``.

    ``None`` when ``text`` does not look like HTML. A proxy's error page
    ``<html><head><title>502 Bad Gateway</title>...<h1>502 Bad Gateway</h1>
    <hr>nginx`` becomes ``"502 Bad Gateway: nginx"``.
    """
    if not _HTML_START.match(text):
        return None
    text = text[:_MAX_HTML_SCAN]

    def clean(fragment: str) -> str:
        return " ".join(html.unescape(_HTML_TAG.sub(" ", fragment)).split())

    match = _HTML_TITLE.search(text)
    title = clean(match.group(1)) if match else ""
    body = clean(_HTML_HIDDEN.sub(" ", text))
    if title and body.startswith(title):
        body = body[len(title) :].strip(" :-|")
    summary = f"{title}: {body}" if title and body else title or body or "empty HTML page"
    if len(summary) > 200:
        summary = summary[:199].rstrip() + "…"
    return summary


# Error types some gateways send with a 2xx status, and the status they stand for.
_ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "permission_denied_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "rate_limit_error": 429,
    "api_error": 500,
    "server_error": 500,
    "internal_server_error": 500,
    "provider_error": 502,
    "overloaded_error": 503,
    "timeout_error": 504,
}


def is_error_envelope(payload: object) -> bool:
    """Whether a decoded body is the gateway's error object ``{"error": {...}}`` (or a string)."""
    return isinstance(payload, dict) and isinstance(payload.get("error"), (dict, str))


def _status_of_error(payload: object) -> int | None:
    """The HTTP error status an error object names (``status``, a numeric ``code``, or its type)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    err = payload["error"]
    for key in ("status", "status_code", "code"):
        value = err.get(key)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == 3:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599:
            return value
    kind = err.get("type")
    return _ERROR_TYPE_STATUS.get(kind) if isinstance(kind, str) else None


def error_from_response(
    status_code: int, headers: Mapping[str, str], body: bytes
) -> APIStatusError:
    """Build the exception for an HTTP error response (status >= 400).

    The message is the gateway's own ``error.message`` when the body has one,
    a summary of an HTML error page, else the start of the body text, else
    the HTTP status alone.

    It also serves a 2xx (or 3xx) answer that carries the gateway's error
    object instead of a result: the class and ``status_code`` follow the
    status the error names (its ``status``/``code``, else its ``type``:
    ``rate_limit_error`` is a 429, ``api_error`` a 500, ...) and the message
    says which HTTP status it really came with.
    """
    h = _lower(headers)
    decoded = decode_body(body)
    message, type_, code, param = _error_fields(decoded)
    if message is None:
        if isinstance(decoded, str) and decoded.strip():
            message = html_summary(decoded) or decoded.strip()[:_MAX_QUOTED_BODY]
        elif decoded is not None and not isinstance(decoded, str):
            message = json.dumps(decoded)[:_MAX_QUOTED_BODY]
        else:
            message = "no body"
    if status_code < 400:
        named = _status_of_error(decoded)
        message = f"{message} (an error object sent with HTTP {status_code})"
        status_code = named if named is not None else status_code
    if status_code >= 500:
        cls: type[APIStatusError] = InternalServerError
    else:
        cls = _STATUS_CLASSES.get(status_code, APIStatusError)
    return cls(
        message,
        status_code=status_code,
        headers=h,
        body=decoded,
        request_id=h.get("x-request-id"),
        code=code,
        type=type_,
        param=param,
    )


def stream_error_from_payload(data: str, payload: object) -> StreamAPIError:
    """Build the exception for an error sent inside a stream."""
    message, type_, code, param = _error_fields(payload)
    return StreamAPIError(
        message or f"error event in stream: {data[:_MAX_QUOTED_BODY]}",
        data=data,
        code=code,
        type=type_,
        param=param,
        body=payload,
    )


class StructuredOutputError(EdgeeError, ValueError):
    """A structured answer (``parse()``, ``response_format=T``) cannot be turned into ``T``.

    ``content`` is the raw text the model answered (``None`` when it sent
    none) and ``response`` the whole response it came in. Also a
    ``ValueError``. The subclasses say why.
    """

    content: str | None
    response: object | None

    def __init__(
        self, message: str, *, content: str | None = None, response: object | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.content = content
        self.response = response


class LengthFinishReasonError(StructuredOutputError):
    """The structured answer was cut by the token limit (``finish_reason == "length"``)."""


class ContentFilterFinishReasonError(StructuredOutputError):
    """The provider's content filter stopped the structured answer (``"content_filter"``)."""


class OutputValidationError(StructuredOutputError):
    """The answer is not JSON, or its JSON does not fit ``T``; the message says where."""
