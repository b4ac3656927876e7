"""Exit codes of the command line, and one clear line for every SDK error.

Kept free of the HTTP libraries so ``import edgee.cli`` stays cheap.
"""

from __future__ import annotations

import http
import re

from edgee.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ChunkDecodeError,
    ConfigurationError,
    EdgeeError,
    IncompleteStreamError,
    RateLimitError,
    StreamAPIError,
)

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_BROKEN_PIPE",
    "EXIT_CONNECTION",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "describe_error",
]

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2  # what argparse uses for its own errors
EXIT_CONNECTION = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of stdout went away

# Gateway messages can be long or multi-line; the error stays one readable line.
_MAX_MESSAGE = 300
_ERRNO_REASON = re.compile(r"\[Errno -?\d+\] ([^)\"'\]]+)")


class UsageError(Exception):
    """The command line itself is wrong (no model, empty prompt, invalid URL): exit 2."""


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return text.rstrip(".")


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _status_hint(exc: APIStatusError) -> str:
    status = exc.status_code
    if status == 401:
        return "check your API key (EDGEE_API_KEY or --api-key)"
    if status == 403:
        return "your API key is not allowed to do this; check its permissions"
    if status == 404:
        return "check the model name ('edgee models' lists them) and the gateway URL"
    if isinstance(exc, RateLimitError):
        if exc.code == "usage_limit_exceeded":
            return "a spend limit was reached; raise it or wait for it to reset"
        wait = exc.retry_after
        if wait is not None:
            return f"rate limited; wait {wait:g} s and try again"
        return "rate limited; wait a moment and try again"
    if status >= 500:
        return "the gateway or the model provider failed; try again later"
    if status in (400, 422):
        return "the gateway rejected the request; check the model name and options"
    return ""


def _connection_reason(exc: BaseException) -> str:
    """The short cause of a connection failure ("Connection refused"), else the message."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        strerror = getattr(current, "strerror", None)
        if isinstance(current, OSError) and isinstance(strerror, str) and strerror:
            return strerror
        for inner in (current.__cause__, current.__context__, *current.args):
            if isinstance(inner, BaseException):
                stack.append(inner)
    text = str(exc)
    match = _ERRNO_REASON.search(text)
    return match.group(1).strip() if match else text


def _with_request_id(text: str, exc: APIError) -> str:
    return f"{text} (request {exc.request_id})" if exc.request_id else text


def describe_error(exc: BaseException, *, base_url: str | None) -> tuple[int, str] | None:
    """The exit code and the one-line message for `exc`, or ``None`` if it is a bug.

    `base_url` is the gateway the command talked to, named in connection errors.
    """
    where = f" at {base_url}" if base_url else ""
    if isinstance(exc, ConfigurationError):
        message = _one_line(str(exc))
        if "EDGEE_API_KEY" in message:
            hint = "set EDGEE_API_KEY or pass --api-key ('edgee demo' runs without a key)"
        else:
            hint = "check EDGEE_API_KEY / --api-key"
        return EXIT_USAGE, f"{message}; {hint}"
    if isinstance(exc, APIStatusError):
        status = exc.status_code
        text = f"{status} {_phrase(status)} from the gateway: {_one_line(exc.message)}"
        hint = _status_hint(exc)
        text = _with_request_id(text, exc)
        return EXIT_API_ERROR, f"{text}; {hint}" if hint else text
    if isinstance(exc, APITimeoutError):
        text = f"timed out waiting for the gateway{where}"
        return EXIT_CONNECTION, f"{text}; try again, or raise --timeout"
    if isinstance(exc, APIConnectionError):
        reason = _one_line(_connection_reason(exc))
        text = f"cannot reach the gateway{where}: {reason}"
        return EXIT_CONNECTION, f"{text}; check --base-url / EDGEE_BASE_URL and your network"
    if isinstance(exc, IncompleteStreamError):
        # The SDK appends the raw transport error; show its short cause instead.
        what = exc.message.split(" (connection lost:", 1)[0]
        text = f"the connection was cut mid-answer: {_one_line(what)}"
        if exc.__cause__ is not None:
            text += f": {_one_line(_connection_reason(exc.__cause__))}"
        return EXIT_CONNECTION, f"{_with_request_id(text, exc)}; try again"
    if isinstance(exc, StreamAPIError):
        code = f" [{exc.code}]" if exc.code else ""
        text = f"the gateway reported an error mid-stream{code}: {_one_line(exc.message)}"
        return EXIT_API_ERROR, f"{_with_request_id(text, exc)}; try again later"
    if isinstance(exc, ChunkDecodeError):
        text = f"the gateway sent data that is not a valid chunk: {_one_line(exc.message)}"
        return EXIT_API_ERROR, f"{_with_request_id(text, exc)}; check --base-url"
    if isinstance(exc, APIError):
        return EXIT_API_ERROR, _with_request_id(_one_line(exc.message), exc)
    if isinstance(exc, EdgeeError):
        return EXIT_API_ERROR, _one_line(str(exc))
    return None
