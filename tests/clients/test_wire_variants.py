"""The client suite's wire-level tests again, compressed and over TLS, on both clients.

The gateway here compresses every answer (``gzip``, ``deflate``: each event
compressed and flushed on its own) or serves HTTPS with a throwaway CA, which
the clients trust through ``verify=gw.ca_path`` (or an ``ssl.SSLContext``).
The tests are ``test_client``'s own, collected here once more with these
fixtures, so a behaviour that holds in plain HTTP must hold in each variant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_client import (  # noqa: F401  (collected again, with this module's fixtures)
    test_a_close_delimited_stream_arrives_event_by_event,
    test_abandoned_streams_release_their_connections,
    test_error_event_inside_the_stream,
    test_error_object_inside_the_stream,
    test_final_response_after_partial_iteration,
    test_malformed_chunk_raises_with_the_raw_payload,
    test_rate_limit_error_carries_retry_after,
    test_reset_mid_stream_is_an_incomplete_stream,
    test_send_returns_a_typed_response_with_headers,
    test_send_stream_true_returns_a_stream,
    test_sequential_calls_reuse_one_connection,
    test_status_errors_raise_before_any_chunk,
    test_text_stream_yields_chunks_in_order,
    test_tool_call_stream_merges_fragments,
    test_usage_and_compression_arrive_on_an_empty_choices_chunk,
)

from edgee.testing import FakeGateway

VARIANTS = {
    "gzip": {"content_encoding": "gzip"},
    "deflate": {"content_encoding": "deflate"},
    "tls": {"tls": True},
    "tls-gzip": {"tls": True, "content_encoding": "gzip"},
}


@pytest.fixture(params=list(VARIANTS))
def gateway(request: pytest.FixtureRequest) -> Iterator[FakeGateway]:
    with FakeGateway(**VARIANTS[request.param]) as gw:
        yield gw


@pytest.fixture
def make_client(make_client: Callable[..., Any], gateway: FakeGateway) -> Callable[..., Any]:
    """``conftest.make_client`` (built on this module's gateway), trusting its CA over HTTPS."""

    def factory(*args: Any, **kwargs: Any) -> Any:
        if gateway.url.startswith("https://"):
            kwargs.setdefault("verify", gateway.ca_path)
        return make_client(*args, **kwargs)

    return factory


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


def test_the_variant_is_on_the_wire(client: Any, gateway: FakeGateway) -> None:
    """The gateway really compressed (or encrypted) what the client decoded."""
    with client.stream("gpt-4o", "one two") as stream:
        text = "".join(c.text or "" for c in stream)
        encoding = stream.headers.get("content-encoding")
    assert text == "one two"
    assert gateway.requests[-1].headers["accept-encoding"] == "gzip, deflate"
    assert encoding == gateway.content_encoding
    assert client.base_url == gateway.url
