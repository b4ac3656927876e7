"""Reading an error response into an exception: status, body, HTML page, error object.

The exception classes live in :mod:`edgee.errors`; this private module holds
everything that decides which one a response becomes and what it says, shared
by both clients (and by the retry policy, which reads the same error object).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping

from edgee._headers import lower_headers
from edgee.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamAPIError,
    UnprocessableEntityError,
)

__all__ = [
    "decode_body",
    "error_fields",
    "error_from_response",
    "html_summary",
    "is_error_envelope",
    "stream_error_from_payload",
]

# Bodies can be large HTML pages; messages quote at most this much of them.
_MAX_QUOTED_BODY = 500
# An HTML error page (a proxy's 502, a captive portal) is summarised from this much of it.
_MAX_HTML_SCAN = 64 * 1024

_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


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


def error_fields(body: object) -> tuple[str | None, str | None, str | None, str | None]:
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
    h = lower_headers(headers)
    decoded = decode_body(body)
    message, type_, code, param = error_fields(decoded)
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
    message, type_, code, param = error_fields(payload)
    return StreamAPIError(
        message or f"error event in stream: {data[:_MAX_QUOTED_BODY]}",
        data=data,
        code=code,
        type=type_,
        param=param,
        body=payload,
    )
