"""Tests of :mod:`edgee._retry`, the pure retry policy."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgee._attempts import Deliver, Head, ReadBody, Send, Sleep, attempt_flow
from edgee._config import resolve_options
from edgee._request import PreparedRequest, build_chat_request
from edgee._retry import INITIAL_DELAY, MAX_DELAY, MAX_RETRY_AFTER, backoff, retry_delay
from edgee.errors import APIConnectionError, APIStatusError, NotFoundError


def no_jitter() -> float:
    return 0.0


def full_jitter() -> float:
    return 0.999999


def delay(
    status: int | None,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    *,
    attempt: int = 0,
    max_retries: int = 2,
) -> float | None:
    return retry_delay(
        attempt,
        status=status,
        headers=headers,
        body=body,
        max_retries=max_retries,
        rand=no_jitter,
    )


def gateway_error(code: str, message: str = "no") -> bytes:
    return json.dumps({"error": {"message": message, "type": "x", "code": code}}).encode()


# --- which failures are retried -------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 520, 599])
def test_retryable_statuses(status: int) -> None:
    assert delay(status) == INITIAL_DELAY


@pytest.mark.parametrize("status", [200, 301, 400, 401, 403, 404, 405, 413, 418, 422, 451])
def test_non_retryable_statuses(status: int) -> None:
    assert delay(status) is None


def test_connection_error_is_retried() -> None:
    assert delay(None) == INITIAL_DELAY
    assert delay(None, {}) == INITIAL_DELAY


@pytest.mark.parametrize("value", ["true", "True", "TRUE", " true "])
@pytest.mark.parametrize("status", [400, 401, 404, 418])
def test_x_should_retry_true_forces_retry(status: int, value: str) -> None:
    assert delay(status, {"x-should-retry": value}) == INITIAL_DELAY


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503])
@pytest.mark.parametrize("name", ["x-should-retry", "X-Should-Retry"])
def test_x_should_retry_false_forbids_retry(status: int, name: str) -> None:
    assert delay(status, {name: "false"}) is None


@pytest.mark.parametrize("value", ["", "yes", "1", "maybe"])
def test_x_should_retry_other_values_are_ignored(value: str) -> None:
    assert delay(503, {"x-should-retry": value}) == INITIAL_DELAY
    assert delay(400, {"x-should-retry": value}) is None


def test_x_should_retry_true_still_bounded_by_max_retries() -> None:
    assert delay(400, {"x-should-retry": "true"}, attempt=2, max_retries=2) is None


# --- usage_limit_exceeded -------------------------------------------------------


def test_usage_limit_without_retry_after_is_permanent() -> None:
    assert delay(429, {}, gateway_error("usage_limit_exceeded")) is None
    assert delay(429, None, gateway_error("usage_limit_exceeded")) is None


def test_usage_limit_with_retry_after_is_retried_after_it() -> None:
    body = gateway_error("usage_limit_exceeded")
    assert delay(429, {"Retry-After": "3"}, body) == 3.0
    assert delay(429, {"retry-after-ms": "1500"}, body) == 1.5


def test_usage_limit_with_garbage_retry_after_is_still_permanent() -> None:
    assert delay(429, {"Retry-After": "soon"}, gateway_error("usage_limit_exceeded")) is None


def test_usage_limit_with_x_should_retry_true_is_retried() -> None:
    body = gateway_error("usage_limit_exceeded")
    assert delay(429, {"x-should-retry": "true"}, body) == INITIAL_DELAY


@pytest.mark.parametrize(
    "body",
    [
        gateway_error("rate_limit_exceeded"),
        b"",
        b"Too Many Requests",
        b"<html>slow down</html>",
        b'{"error": "usage_limit_exceeded"}',  # a bare string is a message, not a code
        b"[1, 2]",
        b"\xff\xfe not utf-8",
    ],
)
def test_other_429s_are_retried(body: bytes) -> None:
    assert delay(429, {}, body) == INITIAL_DELAY


def test_usage_limit_code_on_other_status_is_not_special() -> None:
    assert delay(503, {}, gateway_error("usage_limit_exceeded")) == INITIAL_DELAY


# --- how long to wait -----------------------------------------------------------


def test_retry_after_seconds() -> None:
    assert delay(429, {"Retry-After": "5"}) == 5.0
    assert delay(503, {"retry-after": "2.5"}) == 2.5
    assert delay(503, {"Retry-After": "60"}) == 60.0


def test_retry_after_ms_preferred_over_seconds() -> None:
    assert delay(429, {"retry-after-ms": "250", "Retry-After": "5"}) == 0.25
    assert delay(429, {"Retry-After-Ms": "1200"}) == 1.2


def test_bad_retry_after_ms_falls_back_to_retry_after() -> None:
    assert delay(429, {"retry-after-ms": "soon", "Retry-After": "4"}) == 4.0
    assert delay(429, {"retry-after-ms": "-10", "Retry-After": "4"}) == 4.0


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 10, usegmt=True)
    wait = delay(429, {"Retry-After": when})
    assert wait is not None
    assert 8.0 <= wait <= 10.0


def test_retry_after_http_date_in_the_past_uses_backoff() -> None:
    assert delay(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == INITIAL_DELAY


@pytest.mark.parametrize(
    "value", ["garbage", "", "-5", "0", "nan", "inf", "61", "3600", "1e9", "Wed, 99 Foo"]
)
def test_unusable_retry_after_uses_backoff(value: str) -> None:
    assert delay(503, {"Retry-After": value}, attempt=1) == INITIAL_DELAY * 2


@pytest.mark.parametrize("value", ["0", "-1", "60001", "abc", "nan"])
def test_unusable_retry_after_ms_uses_backoff(value: str) -> None:
    assert delay(503, {"retry-after-ms": value}) == INITIAL_DELAY


def test_retry_after_far_future_date_uses_backoff() -> None:
    when = email.utils.formatdate(time.time() + 3600, usegmt=True)
    assert delay(503, {"Retry-After": when}) == INITIAL_DELAY


def test_retry_after_is_not_jittered_or_capped_at_max_delay() -> None:
    wait = retry_delay(
        0, status=429, headers={"Retry-After": "30"}, body=None, max_retries=2, rand=full_jitter
    )
    assert wait == 30.0


# --- backoff --------------------------------------------------------------------


def test_backoff_doubles_then_caps() -> None:
    waits = [delay(503, attempt=a, max_retries=100) for a in range(8)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    assert delay(503, attempt=99, max_retries=100) == MAX_DELAY


def test_backoff_of_huge_attempt_does_not_overflow() -> None:
    assert backoff(10_000, no_jitter) == MAX_DELAY


@pytest.mark.parametrize("attempt", range(7))
def test_jitter_bounds(attempt: int) -> None:
    base = min(INITIAL_DELAY * 2**attempt, MAX_DELAY)
    lo = retry_delay(attempt, status=500, headers=None, body=None, max_retries=10, rand=full_jitter)
    hi = retry_delay(attempt, status=500, headers=None, body=None, max_retries=10, rand=no_jitter)
    mid = retry_delay(
        attempt, status=500, headers=None, body=None, max_retries=10, rand=lambda: 0.5
    )
    assert hi == base
    assert lo == pytest.approx(base * 0.75, rel=1e-5)
    assert mid == base * 0.875
    assert lo is not None and lo >= base * 0.75


@pytest.mark.parametrize("rand_value", [-5.0, 1.0, 7.0, float("inf"), float("nan")])
def test_misbehaving_rand_cannot_leave_bounds(rand_value: float) -> None:
    wait = backoff(10, lambda: rand_value)
    assert MAX_DELAY * 0.75 <= wait <= MAX_DELAY


def test_default_rand_stays_within_bounds() -> None:
    for _ in range(200):
        wait = retry_delay(4, status=None, headers=None, body=None, max_retries=5)
        assert wait is not None
        assert MAX_DELAY * 0.75 <= wait <= MAX_DELAY


# --- max_retries ----------------------------------------------------------------


def test_max_retries_exhaustion() -> None:
    assert delay(503, attempt=0, max_retries=2) is not None
    assert delay(503, attempt=1, max_retries=2) is not None
    assert delay(503, attempt=2, max_retries=2) is None
    assert delay(503, attempt=3, max_retries=2) is None


def test_max_retries_zero_never_retries() -> None:
    assert delay(None, max_retries=0) is None
    assert delay(503, {"Retry-After": "1"}, max_retries=0) is None
    assert delay(429, {"x-should-retry": "true"}, max_retries=0) is None


# --- properties -----------------------------------------------------------------

header_values = st.one_of(
    # A fixed alphabet: header values are ASCII, and it spares Hypothesis
    # building its Unicode tables (slow on first use).
    st.text(alphabet="0123456789.-+eE, :abcdefinrtuGMTWOS", max_size=30),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e6, 1e6).map(lambda s: email.utils.formatdate(time.time() + s, usegmt=True)),
)
header_maps = st.dictionaries(
    st.sampled_from(
        ["Retry-After", "retry-after", "retry-after-ms", "x-should-retry", "X-Request-Id"]
    ),
    header_values,
    max_size=4,
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.sampled_from([gateway_error("usage_limit_exceeded"), gateway_error("other")]),
)


@given(
    attempt=st.integers(0, 1000),
    max_retries=st.integers(0, 1000),
    status=st.one_of(st.none(), st.integers(100, 599)),
    headers=st.one_of(st.none(), header_maps),
    body=bodies,
    rand=st.floats(0, 1, exclude_max=True),
)
def test_delay_always_bounded_and_none_past_max_retries(
    attempt: int,
    max_retries: int,
    status: int | None,
    headers: dict[str, str] | None,
    body: bytes | None,
    rand: float,
) -> None:
    wait = retry_delay(
        attempt,
        status=status,
        headers=headers,
        body=body,
        max_retries=max_retries,
        rand=lambda: rand,
    )
    if attempt >= max_retries:
        assert wait is None
    if wait is not None:
        assert 0 <= wait <= MAX_RETRY_AFTER


@given(attempt=st.integers(0, 10_000), rand=st.floats(0, 1))
def test_backoff_property(attempt: int, rand: float) -> None:
    wait = backoff(attempt, lambda: rand)
    base = min(INITIAL_DELAY * 2 ** min(attempt, 16), MAX_DELAY)
    assert base * 0.75 <= wait <= base <= MAX_DELAY


# --- the attempt flow (_attempts.attempt_flow), driven by hand ---------------------------


def chat(stream: bool, retries: int = 2) -> PreparedRequest:
    options = resolve_options(
        None, api_key="sk-flow", base_url="https://gw.test", max_retries=retries
    )
    return build_chat_request(options, "gpt-4o", "hi", stream=stream)


def drive(request: PreparedRequest, outcomes: list[object]) -> list[object]:
    """Run the flow; each command gets the next outcome (None for Release/Sleep)."""
    flow = attempt_flow(request)
    commands: list[object] = [next(flow)]
    replies = iter(outcomes)
    while type(commands[-1]) is not Deliver:
        kind = type(commands[-1])
        reply = next(replies) if kind in (Send, ReadBody) else None
        commands.append(flow.send(reply))  # type: ignore[arg-type]
    return commands


JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}


def kinds(commands: list[object]) -> list[str]:
    return [type(c).__name__ for c in commands]


def test_flow_a_whole_answer_is_read_then_released() -> None:
    commands = drive(chat(False), [Head(200, JSON), b"{}"])
    assert kinds(commands) == ["Send", "ReadBody", "Release", "Deliver"]
    answer = commands[-1]
    assert isinstance(answer, Deliver) and answer.body == b"{}" and answer.status == 200


def test_flow_an_event_stream_is_delivered_unread() -> None:
    commands = drive(chat(True), [Head(200, SSE)])
    assert kinds(commands) == ["Send", "Deliver"]
    assert commands[-1].body is None  # type: ignore[attr-defined]


def test_flow_a_json_answer_to_a_stream_request_is_read_whole() -> None:
    assert kinds(drive(chat(True), [Head(200, JSON), b"{}"]))[-3:] == [
        "ReadBody",
        "Release",
        "Deliver",
    ]


def test_flow_a_connection_failure_is_retried_after_a_sleep() -> None:
    commands = drive(chat(False), [APIConnectionError("reset"), Head(200, JSON), b"{}"])
    assert kinds(commands) == ["Send", "Sleep", "Send", "ReadBody", "Release", "Deliver"]
    sleep = commands[1]
    assert isinstance(sleep, Sleep) and 0 < sleep.seconds <= INITIAL_DELAY


def test_flow_a_body_cut_mid_read_is_retried_like_a_connection_failure() -> None:
    commands = drive(
        chat(False), [Head(200, JSON), APIConnectionError("cut"), Head(200, JSON), b"{}"]
    )
    assert kinds(commands) == [
        "Send",
        "ReadBody",
        "Sleep",
        "Send",
        "ReadBody",
        "Release",
        "Deliver",
    ]


def test_flow_raises_the_last_connection_error_when_retries_run_out() -> None:
    error = APIConnectionError("refused")
    with pytest.raises(APIConnectionError) as info:
        drive(chat(False, retries=0), [error])
    assert info.value is error


def test_flow_a_4xx_reads_its_body_and_raises_the_mapped_error() -> None:
    body = json.dumps({"error": {"message": "no such model"}}).encode()
    with pytest.raises(NotFoundError, match="no such model"):
        drive(chat(False), [Head(404, JSON), body])


def test_flow_an_unreadable_error_body_still_gives_the_status_error() -> None:
    with pytest.raises(APIStatusError) as info:
        drive(chat(False, retries=0), [Head(500, JSON), APIConnectionError("cut")])
    assert info.value.status_code == 500


def test_flow_a_redirect_sends_again_to_the_new_place_uncounted() -> None:
    moved = Head(307, {"location": "/elsewhere"})
    commands = drive(chat(False, retries=0), [moved, Head(200, JSON), b"{}"])
    assert kinds(commands) == ["Send", "Release", "Send", "ReadBody", "Release", "Deliver"]
    second = commands[2]
    assert isinstance(second, Send) and second.request.url == "https://gw.test/elsewhere"


def test_flow_a_503_then_success() -> None:
    commands = drive(chat(False), [Head(503, {}), b"busy", Head(200, JSON), b"{}"])
    assert kinds(commands) == [
        "Send",
        "ReadBody",
        "Release",
        "Sleep",
        "Send",
        "ReadBody",
        "Release",
        "Deliver",
    ]
