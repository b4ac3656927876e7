"""Tests of :mod:`edgee.errors`: the class tree and response -> exception mapping."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

import edgee
from edgee import errors
from edgee._error_mapping import error_from_response, stream_error_from_payload
from edgee._headers import parse_retry_after
from edgee.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChunkDecodeError,
    ClientStateError,
    ConfigurationError,
    ConflictError,
    EdgeeError,
    EdgeeWarning,
    EventTooLargeError,
    IncompleteStreamError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamAPIError,
    StreamError,
    ToolArgumentsError,
    UnprocessableEntityError,
)


def envelope(
    message: str = "Model not found",
    type: str | None = "invalid_request_error",
    code: str | None = "model_not_found",
    param: str | None = "model",
) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": type, "code": code, "param": param}}
    ).encode()


# --- the class tree (contract section 5) ----------------------------------------

TREE: list[tuple[type[BaseException], tuple[type[BaseException], ...]]] = [
    (EdgeeError, (Exception,)),
    (ConfigurationError, (EdgeeError, ValueError)),
    (APIError, (EdgeeError,)),
    (APIStatusError, (APIError, RuntimeError)),
    (BadRequestError, (APIStatusError,)),
    (AuthenticationError, (APIStatusError,)),
    (PermissionDeniedError, (APIStatusError,)),
    (NotFoundError, (APIStatusError,)),
    (ConflictError, (APIStatusError,)),
    (UnprocessableEntityError, (APIStatusError,)),
    (RateLimitError, (APIStatusError,)),
    (InternalServerError, (APIStatusError,)),
    (APIConnectionError, (APIError, ConnectionError, OSError)),
    (APITimeoutError, (APIConnectionError,)),
    (APIResponseValidationError, (APIError, ValueError)),
    (StreamError, (APIError, RuntimeError)),
    (StreamAPIError, (StreamError,)),
    (ChunkDecodeError, (StreamError,)),
    (EventTooLargeError, (StreamError,)),
    (IncompleteStreamError, (StreamError,)),
    (ClientStateError, (EdgeeError, RuntimeError)),
    (ToolArgumentsError, (EdgeeError, ValueError)),
    (EdgeeWarning, (UserWarning,)),
]


@pytest.mark.parametrize(("cls", "parents"), TREE, ids=[c.__name__ for c, _ in TREE])
def test_class_tree(cls: type[BaseException], parents: tuple[type[BaseException], ...]) -> None:
    for parent in parents:
        assert issubclass(cls, parent)
    if cls is not ToolArgumentsError:  # that one is edgee.tools'
        assert getattr(edgee, cls.__name__) is cls  # re-exported from edgee


def test_the_builtin_bases_are_the_official_sdks() -> None:
    # Code written for the official package catches RuntimeError (HTTP and stream
    # errors), OSError (its URLError) and ValueError (its JSON errors).
    for cls in (APIStatusError, StreamAPIError, ChunkDecodeError, IncompleteStreamError):
        assert issubclass(cls, RuntimeError)
    assert issubclass(EventTooLargeError, RuntimeError)
    assert issubclass(APITimeoutError, OSError)
    assert not issubclass(APIConnectionError, RuntimeError)
    assert not issubclass(ConfigurationError, RuntimeError)
    assert not issubclass(APIStatusError, ValueError)
    assert not issubclass(StreamError, (ValueError, OSError))


def test_connection_error_keeps_its_message_as_an_oserror() -> None:
    err = APIConnectionError("Connection error: refused", request_id="r")
    assert str(err) == "Connection error: refused"
    assert (err.message, err.request_id, err.errno) == ("Connection error: refused", "r", None)


def test_the_tool_argument_error_is_the_same_class_in_tools() -> None:
    from edgee import tools

    assert tools.ToolArgumentsError is ToolArgumentsError
    assert issubclass(tools.MaxIterationsError, EdgeeError)


def test_every_public_name_exists() -> None:
    for name in errors.__all__:
        assert hasattr(errors, name)


# --- status -> class ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (599, InternalServerError),
        (418, APIStatusError),
        (405, APIStatusError),
        (408, APIStatusError),
    ],
)
def test_status_mapping(status: int, cls: type[APIStatusError]) -> None:
    err = error_from_response(status, {}, envelope())
    assert type(err) is cls
    assert err.status_code == status
    assert isinstance(err, RuntimeError)
    assert isinstance(err, APIError)
    assert str(err).startswith(f"API error {status}: ")


def test_runtime_error_catches_status_errors() -> None:
    with pytest.raises(RuntimeError, match=r"^API error 401: bad key$"):
        raise error_from_response(401, {}, envelope("bad key"))


# --- message and fields ---------------------------------------------------------


def test_gateway_envelope_fields() -> None:
    err = error_from_response(404, {"Content-Type": "application/json"}, envelope())
    assert err.message == "Model not found"
    assert str(err) == "API error 404: Model not found"
    assert err.type == "invalid_request_error"
    assert err.code == "model_not_found"
    assert err.param == "model"
    assert err.body == json.loads(envelope())


def test_envelope_with_missing_and_null_fields() -> None:
    err = error_from_response(400, {}, envelope("bad", type=None, code=None, param=None))
    assert (err.message, err.type, err.code, err.param) == ("bad", None, None, None)
    err = error_from_response(400, {}, b'{"error": {"message": "only message"}}')
    assert (err.message, err.type, err.code, err.param) == ("only message", None, None, None)


def test_non_string_code_is_stringified() -> None:
    err = error_from_response(400, {}, b'{"error": {"message": "m", "code": 1234}}')
    assert err.code == "1234"


def test_error_as_plain_string() -> None:
    err = error_from_response(400, {}, b'{"error": "something broke"}')
    assert err.message == "something broke"


def test_top_level_message() -> None:
    err = error_from_response(500, {}, b'{"message": "upstream down"}')
    assert err.message == "upstream down"


def test_json_without_message_is_quoted() -> None:
    err = error_from_response(400, {}, b'{"detail": "nope"}')
    assert "nope" in err.message
    assert err.body == {"detail": "nope"}


def test_fallback_to_body_text() -> None:
    err = error_from_response(502, {}, b"  Bad Gateway from upstream\n")
    assert err.message == "Bad Gateway from upstream"
    assert str(err) == "API error 502: Bad Gateway from upstream"
    assert err.body == "  Bad Gateway from upstream\n"
    assert err.code is None


def test_html_body_is_quoted_but_bounded() -> None:
    html = b"<html><head><title>503</title></head><body>" + b"x" * 5000 + b"</body></html>"
    err = error_from_response(503, {"content-type": "text/html"}, html)
    assert isinstance(err, InternalServerError)
    # Summarised (title, then text), not quoted as markup (tests/hardening has more).
    assert err.message.startswith("503: xxx") and "<" not in err.message
    assert len(err.message) <= 500
    assert isinstance(err.body, str)


@pytest.mark.parametrize("body", [b"", b"   ", b"\n"])
def test_empty_body(body: bytes) -> None:
    err = error_from_response(500, {}, body)
    assert str(err).startswith("API error 500: ")
    assert err.message  # something readable, never empty
    assert err.code is None


def test_invalid_utf8_body_does_not_raise() -> None:
    err = error_from_response(500, {}, b"\xff\xfe\xfa broken")
    assert "broken" in err.message


def test_deeply_nested_garbage_body_does_not_raise() -> None:
    err = error_from_response(500, {}, b"[" * 100_000)
    assert str(err).startswith("API error 500: ")


# --- headers and request id -----------------------------------------------------


@pytest.mark.parametrize("name", ["x-request-id", "X-Request-Id", "X-REQUEST-ID"])
def test_request_id_any_header_case(name: str) -> None:
    err = error_from_response(400, {name: "req_123"}, envelope())
    assert err.request_id == "req_123"


def test_no_request_id() -> None:
    assert error_from_response(400, {}, envelope()).request_id is None


def test_headers_are_lowercased_copy() -> None:
    given = {"X-Edgee-Provider": "openai"}
    err = error_from_response(400, given, envelope())
    assert err.headers == {"x-edgee-provider": "openai"}
    given["X-Edgee-Provider"] = "changed"
    assert err.headers["x-edgee-provider"] == "openai"


# --- RateLimitError.retry_after -------------------------------------------------


def rate_limit(headers: dict[str, str]) -> RateLimitError:
    err = error_from_response(429, headers, envelope("slow down", code="rate_limit_exceeded"))
    assert isinstance(err, RateLimitError)
    return err


def test_retry_after_seconds() -> None:
    assert rate_limit({"Retry-After": "7"}).retry_after == 7.0


def test_retry_after_ms_wins() -> None:
    assert rate_limit({"Retry-After": "7", "retry-after-ms": "1500"}).retry_after == 1.5


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    wait = rate_limit({"Retry-After": when}).retry_after
    assert wait is not None
    assert 28 <= wait <= 30


def test_retry_after_absent_or_garbage() -> None:
    assert rate_limit({}).retry_after is None
    assert rate_limit({"Retry-After": "whenever"}).retry_after is None
    assert rate_limit({"Retry-After": "-3"}).retry_after is None


# --- parse_retry_after ----------------------------------------------------------


def test_parse_retry_after_date_with_fixed_now() -> None:
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}
    assert parse_retry_after(headers, now=now) == 10.0
    assert parse_retry_after(headers, now=now + 60) == 0.0  # past: no wait


def test_parse_retry_after_zoneless_date_is_gmt(monkeypatch: pytest.MonkeyPatch) -> None:
    # HTTP dates are GMT even when written "-0000"; the local zone must not matter.
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX only")
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:10 -0000"}
        assert parse_retry_after(headers, now=now) == 10.0
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "value", ["inf", "nan", "-1", "", "Wed, 21 Oct 99999 07:28:00 GMT", "Mon, 32 Foo"]
)
def test_parse_retry_after_rejects(value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None


@pytest.mark.parametrize(
    "value", ["1_0", "+5", " 5", "5 5", "\u0665", "\uff15", "1e1", "0x10", "5.", "inf"]
)
def test_retry_after_is_ascii_digits_or_a_date_only(value: str) -> None:
    # Python's float()/int() syntax (underscores, signs, exponents, other scripts'
    # digits) is not HTTP's: such a value is no hint at all.
    assert parse_retry_after({"retry-after": value}) is None


@pytest.mark.parametrize(("value", "seconds"), [("10", 10.0), ("2.5", 2.5), ("007", 7.0)])
def test_parse_retry_after_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after({"Retry-After": value}) == seconds


@pytest.mark.parametrize(("value", "seconds"), [("1500", 1.5), ("2.5", 0.0025), ("0", 0.0)])
def test_retry_after_ms(value: str, seconds: float) -> None:
    assert parse_retry_after({"retry-after-ms": value}) == seconds


@pytest.mark.parametrize("value", ["1_000", "-5", "+5", "inf", "\u0665", "1e3", ""])
def test_retry_after_ms_rejects(value: str) -> None:
    assert parse_retry_after({"retry-after-ms": value}) is None


# --- other constructors ---------------------------------------------------------


def test_connection_errors_defaults() -> None:
    assert APIConnectionError().message == "Connection error."
    assert APITimeoutError().message == "Request timed out."
    err = APITimeoutError(request_id="r1")
    assert err.request_id == "r1"
    assert isinstance(err, APIConnectionError)


def test_stream_error_from_gateway_payload() -> None:
    payload = {"error": {"message": "provider failed", "type": "server_error", "code": "502"}}
    data = json.dumps(payload)
    err = stream_error_from_payload(data, payload)
    assert isinstance(err, StreamAPIError)
    assert isinstance(err, StreamError)
    assert isinstance(err, RuntimeError)  # as the official SDK's stream errors
    assert err.message == "provider failed"
    assert str(err) == "provider failed"
    assert (err.type, err.code, err.param) == ("server_error", "502", None)
    assert err.data == data
    assert err.body == payload


def test_stream_error_from_payload_without_envelope() -> None:
    err = stream_error_from_payload("oops", "oops")
    assert "oops" in err.message
    assert err.code is None
    long = "y" * 2000
    assert len(stream_error_from_payload(long, None).message) < 600


def test_chunk_decode_error_keeps_raw() -> None:
    err = ChunkDecodeError("bad chunk", raw="{not json", request_id="r")
    assert (err.raw, err.body, err.request_id) == ("{not json", "{not json", "r")


def test_event_too_large_and_incomplete_stream() -> None:
    assert EventTooLargeError(1024).limit == 1024
    assert "1024" in str(EventTooLargeError(1024))
    err = IncompleteStreamError("cut", chunks_received=3)
    assert err.chunks_received == 3
    assert isinstance(err, APIError)
