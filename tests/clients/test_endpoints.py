"""The gateway's other endpoints and response metadata, on both clients, over loopback HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from edgee import (
    AuthenticationError,
    CompressResponse,
    CountTokensResponse,
    Message,
    ModelList,
    RateLimitError,
)
from edgee.testing import FakeGateway


def test_models_lists_the_catalogue(client: Any, gateway: FakeGateway) -> None:
    models = client.models()
    assert isinstance(models, ModelList)
    ids = [m.id for m in models.data]
    assert ids[0] == "openai/gpt-4o"
    assert len(ids) == len(set(ids)) > 1
    req = gateway.requests[-1]
    assert (req.method, req.path) == ("GET", "/v1/models")
    assert req.headers["accept"] == "application/json"
    assert "content-type" not in req.headers


def test_models_provider_is_sent_but_the_gateway_does_not_filter(
    client: Any, gateway: FakeGateway
) -> None:
    # GATEWAY.md: the provider filter is documented as not implemented (full list back).
    models = client.models(provider="anthropic")
    assert len({m.owned_by for m in models.data}) > 1
    assert gateway.requests[-1].path == "/v1/models?provider=anthropic"


def test_count_tokens(client: Any, gateway: FakeGateway) -> None:
    result = client.count_tokens(
        "gpt-4o", [Message.system("be brief"), Message.user("three little words")]
    )
    assert isinstance(result, CountTokensResponse)
    assert result.input_tokens == 5
    req = gateway.requests[-1]
    assert (req.method, req.path) == ("POST", "/v1/count_tokens")
    assert req.json == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "three little words"},
        ],
    }


def test_compress(client: Any, gateway: FakeGateway) -> None:
    result = client.compress(
        "gpt-4o", {"messages": [{"role": "user", "content": "please just say the answer"}]}
    )
    assert isinstance(result, CompressResponse)
    assert result.messages[0].content == "say answer"
    report = result.compression
    assert report is not None
    assert report.technique == "auto"
    assert report.applied_strategies == ["filler_word_removal"]
    assert report.compression_rate == 0.6
    assert (report.uncompressed_input_tokens, report.compressed_input_tokens) == (5, 2)
    assert gateway.requests[-1].path == "/v1/compress"


def test_endpoints_map_errors_and_validate_input(
    make_client: Any, client: Any, gateway: FakeGateway
) -> None:
    gateway.reply_error(429, "slow down", code="rate_limited")
    with pytest.raises(RateLimitError, match="slow down"):
        client.count_tokens("gpt-4o", "x")
    with pytest.raises(AuthenticationError):
        make_client(api_key="nope").models()
    with pytest.raises(TypeError, match="unknown option"):
        client.compress("gpt-4o", "x", temperature=1)
    with pytest.raises(ValueError, match="provider"):
        client.models(provider="")


def test_response_metadata_from_headers(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text(
        "hi", headers={"X-Edgee-Provider": "anthropic", "X-Edgee-Fallback-Used": "true"}
    )
    r = client.send("gpt-4o", "x")
    assert r.provider == "anthropic"
    assert r.fallback_used is True
    assert r.request_id is not None and r.request_id.startswith("req_")
    assert "x-edgee-provider" not in r.to_dict()
    r2 = client.send("gpt-4o", "y")
    assert r2.fallback_used is False and r2.request_id != r.request_id


def test_stream_metadata_from_headers(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text("hi", headers={"X-Edgee-Fallback-Used": "false"})
    stream = client.stream("anthropic/claude-3-5-sonnet", "x")
    assert stream.provider == "anthropic"
    assert stream.request_id.startswith("req_")
    final = stream.final_response()
    assert final.fallback_used is False
    assert final.request_id == stream.request_id
