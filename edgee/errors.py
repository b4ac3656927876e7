"""The exceptions of the Edgee SDK.

Every failure the SDK reports is an :class:`EdgeeError`. The tree mirrors the
official OpenAI client where it can, so ``except`` clauses written for one read
naturally for the other::

    EdgeeError
    ├── ConfigurationError          (also ValueError)
    ├── ClientStateError            (also RuntimeError)
    ├── ToolArgumentsError          (also ValueError)
    ├── APIError
    │   ├── APIStatusError          (also RuntimeError)
    │   │   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
    │   │   ├── NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
    │   │   └── RateLimitError 429, InternalServerError >= 500
    │   ├── APIConnectionError      (also ConnectionError, so OSError)
    │   │   └── APITimeoutError
    │   ├── APIResponseValidationError (also ValueError)
    │   └── StreamError             (also RuntimeError)
    │       ├── StreamAPIError
    │       ├── ChunkDecodeError
    │       ├── EventTooLargeError
    │       └── IncompleteStreamError

    ├── StructuredOutputError       (also ValueError; parse() / response_format=T)
    │   ├── LengthFinishReasonError, ContentFilterFinishReasonError
    │   └── OutputValidationError

    EdgeeWarning (a UserWarning)

Classes only: reading an error response into one of them is
``edgee._error_mapping``'s job. Nothing here knows ``requests`` or ``aiohttp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgee._headers import lower_headers, parse_retry_after

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
    "EdgeeWarning",
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
    "ToolArgumentsError",
    "UnprocessableEntityError",
]


class EdgeeError(Exception):
    """Base class of every exception raised by the Edgee SDK."""


class EdgeeWarning(UserWarning):
    """Base class of the warnings the Edgee SDK emits (e.g. an ignored input key)."""


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
        self.headers = lower_headers(headers or {})
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


class APIConnectionError(APIError, ConnectionError):
    """The request did not get an HTTP response: DNS failure, refused, reset.

    Also a :class:`ConnectionError` (so an :class:`OSError`), as the official
    SDK's ``URLError`` was.
    """

    def __init__(self, message: str = "Connection error.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class APITimeoutError(APIConnectionError):
    """Connecting, or waiting for the next piece of the response, took too long."""

    def __init__(self, message: str = "Request timed out.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class APIResponseValidationError(APIError, ValueError):
    """A successful response whose body is not what the API promises (not JSON, not a completion).

    Also a :class:`ValueError`, as the official SDK's JSON decoding error was.

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


class StreamError(APIError, RuntimeError):
    """Something went wrong after ``stream()`` returned, while reading the stream.

    Also a :class:`RuntimeError`, as the official SDK's stream errors were.
    """


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


class ToolArgumentsError(EdgeeError, ValueError):
    """The arguments a model sent do not fit the tool's signature (``edgee.tools``)."""


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
