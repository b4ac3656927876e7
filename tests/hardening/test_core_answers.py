"""The shared-core decisions behind the fault matrix, without a network.

Redirects (:func:`edgee._response.follow_redirect`), answers to a stream
request that are not an event stream (``reads_whole_body``,
``stream_fallback``, ``chunk_from_completion``), 2xx bodies that carry an
error object, and readable summaries of HTML error pages.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from edgee import (
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    InternalServerError,
    RateLimitError,
    SendResponse,
)
from edgee._config import resolve_options
from edgee._error_mapping import error_from_response, html_summary
from edgee._request import PreparedRequest, build_chat_request
from edgee._response import (
    MAX_REDIRECTS,
    chunk_from_completion,
    follow_redirect,
    parse_completion,
    reads_whole_body,
    stream_fallback,
)
from edgee._streaming import StreamAccumulator

KEY = "sk-edgee-core-SECRET"


def request(base_url: str = "https://api.edgee.ai") -> PreparedRequest:
    options = resolve_options(None, api_key=KEY, base_url=base_url)
    return build_chat_request(options, "gpt-4o", "hi", stream=True, extra_headers={"X-T": "1"})


# --- redirects --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "keeps_key"),
    [
        ("/v2/chat/completions", True),
        ("https://api.edgee.ai/v2", True),
        ("https://API.EDGEE.AI:443/v2", True),  # same origin, spelled differently
        ("//api.edgee.ai/v2", True),
        ("https://api.edgee.ai:8443/v2", False),  # another port
        ("http://api.edgee.ai/v2", False),  # a downgrade is another origin
        ("https://evil.example/v1/chat/completions", False),
        ("https://api.edgee.ai.evil.example/", False),
        ("https://user:pw@evil.example/", False),
        ("https://[::1]:8080/x", False),
    ],
)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_keep_the_request_and_the_key_only_for_the_same_origin(
    location: str, keeps_key: bool, status: int
) -> None:
    original = request()
    followed = follow_redirect(original, status, {"location": location}, hops=0)
    assert (followed.method, followed.body, followed.stream) == ("POST", original.body, True)
    assert followed.headers["X-T"] == "1"
    assert ("Authorization" in followed.headers) is keeps_key
    if not keeps_key:
        assert all(KEY not in value for value in followed.headers.values())
        # Once dropped, the key never comes back, even on a redirect home.
        home = follow_redirect(followed, 307, {"location": "https://api.edgee.ai/x"}, hops=1)
        assert "Authorization" not in home.headers


def test_an_http_base_url_redirected_to_https_drops_the_key() -> None:
    followed = follow_redirect(
        request("http://gw.internal"), 301, {"location": "https://gw.internal/"}, 0
    )
    assert "Authorization" not in followed.headers


@pytest.mark.parametrize(
    ("status", "headers", "hops", "match"),
    [
        (303, {"location": "/x"}, 0, r"^API error 303: redirect not followed: HTTP 303"),
        (300, {"location": "/x"}, 0, "only 301, 302, 307 and 308"),
        (304, {}, 0, "HTTP 304"),
        (307, {}, 0, "without a Location"),
        (307, {"location": "/x"}, MAX_REDIRECTS, "more than 10 redirects"),
        (307, {"location": "ftp://x/y"}, 0, "not an http"),
        (307, {"location": "javascript:alert(1)"}, 0, "not an http"),
        (307, {"location": "https://h:99999/"}, 0, "not an http"),
    ],
)
def test_redirects_not_followed(status: int, headers: Any, hops: int, match: str) -> None:
    with pytest.raises(APIStatusError, match=match) as info:
        follow_redirect(request(), status, headers, hops)
    assert type(info.value) is APIStatusError and info.value.status_code == status
    assert KEY not in str(info.value) + repr(info.value)


# --- a stream request answered with JSON or HTML ------------------------------------------

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 7,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "[]"}},
                ],
            },
            "finish_reason": "tool_calls",
        },
        {"index": 1, "message": {"role": "assistant", "content": "two"}, "finish_reason": "stop"},
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    "compression": {"saved_tokens": 4, "reduction": 10.5},
}


@pytest.mark.parametrize(
    ("content_type", "whole"),
    [
        ("text/event-stream", False),
        ("text/event-stream; charset=utf-8", False),
        ("", False),  # no type: read it as a stream
        ("text/plain", False),
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/problem+json", True),
        ("text/html; charset=utf-8", True),
    ],
)
def test_which_stream_answers_are_read_whole(content_type: str, whole: bool) -> None:
    assert reads_whole_body(True, {"content-type": content_type}) is whole
    assert reads_whole_body(False, {"content-type": content_type}) is True


def test_a_whole_completion_becomes_one_equivalent_chunk() -> None:
    body = json.dumps(COMPLETION).encode()
    whole = stream_fallback(200, {"content-type": "application/json", "x-request-id": "r"}, body)
    assert isinstance(whole, SendResponse) and whole.headers["x-request-id"] == "r"
    chunk = chunk_from_completion(whole)
    assert chunk.object == "chat.completion.chunk"
    assert chunk.tool_calls is not None and [c.index for c in chunk.tool_calls] == [0, 1]
    folded = StreamAccumulator()
    folded.add(chunk)
    again = folded.response().to_dict()
    expected = dict(COMPLETION)
    expected["choices"] = [
        {**c, "message": {k: v for k, v in c["message"].items() if v is not None}}
        for c in COMPLETION["choices"]
    ]
    assert again == expected


def test_error_objects_in_a_2xx_body_raise_the_status_they_name() -> None:
    def error(payload: Any, status: int = 200) -> APIStatusError:
        with pytest.raises(APIStatusError) as info:
            stream_fallback(
                status, {"content-type": "application/json"}, json.dumps(payload).encode()
            )
        return info.value

    assert type(error({"error": {"message": "m", "type": "rate_limit_error"}})) is RateLimitError
    named = error({"error": {"message": "m", "code": 401}})
    assert type(named) is AuthenticationError and named.status_code == 401
    assert type(error({"error": {"message": "m", "status": "503"}})) is InternalServerError
    unknown = error({"error": "no detail"})
    assert type(unknown) is APIStatusError and unknown.status_code == 200
    assert str(unknown) == "API error 200: no detail (an error object sent with HTTP 200)"
    # A completion that happens to carry an "error" field is still a completion.
    fine = parse_completion(200, {}, json.dumps({**COMPLETION, "error": {"message": "x"}}).encode())
    assert fine.choices[1].message.content == "two"


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe{", b"", b"null", b"<html></html>"],
    ids=["deeply nested", "binary", "empty", "null", "html"],
)
def test_bodies_that_are_not_completions(body: bytes) -> None:
    with pytest.raises(APIResponseValidationError) as info:
        parse_completion(200, {}, body)
    assert info.value.status_code == 200


def test_an_html_page_answering_a_stream_is_a_validation_error() -> None:
    page = b"<!DOCTYPE html><html><head><title>Sign in &amp; go</title></head><body>x</body>"
    with pytest.raises(APIResponseValidationError, match=r"HTML page.*Sign in & go: x$"):
        stream_fallback(200, {"content-type": "text/html"}, page)


# --- readable HTML error pages ----------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "summary"),
    [
        (
            "<html><head><title>502 Bad Gateway</title></head><body><center>"
            "<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            "502 Bad Gateway: nginx",
        ),
        (
            "<!DOCTYPE html><html><head><style>p{}</style><script>var k='x'</script>"
            "<title>Oops</title></head><body><!-- hidden --><p>Try &lt;later&gt;</p></body>",
            "Oops: Try <later>",
        ),
        ("<h1>503 Service Unavailable</h1>", "503 Service Unavailable"),
        ("<html></html>", "empty HTML page"),
        ("<HTML><BODY>" + "word " * 200 + "</BODY></HTML>", ("word " * 40)[:199].rstrip() + "…"),
        ("plain text <b>not html</b>", None),
        ('{"error": "json"}', None),
    ],
)
def test_html_summary(page: str, summary: str | None) -> None:
    assert html_summary(page) == summary


def test_a_huge_html_page_is_summarised_quickly() -> None:
    page = "<html><head><title>Down</title></head><body>" + "<div>x</div>" * 500_000
    err = error_from_response(503, {"content-type": "text/html"}, page.encode())
    assert err.message.startswith("Down: x x x") and len(err.message) <= 200
