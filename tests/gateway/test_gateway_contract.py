"""FakeGateway speaks the gateway's published contract (GATEWAY.md), checked with plain
`requests`: fallback header, compress and count-tokens shapes, the unfiltered model list,
documented error types, and the chat answer's documented fields."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from gateway_helpers import AUTH, chat_body, sse_data

from edgee.testing import FakeGateway

CHAT = "/v1/chat/completions"


def post(gw: FakeGateway, path: str, body: Any, **headers: str) -> requests.Response:
    return requests.post(gw.url + path, json=body, headers={**AUTH, **headers}, timeout=5)


def test_fallback_header_is_1_when_scripted_and_absent_otherwise(
    edgee_gateway: FakeGateway,
) -> None:
    edgee_gateway.reply_text("hi", fallback="anthropic")
    edgee_gateway.reply_tool_calls([{"name": "f"}], fallback="mistral")
    first = post(edgee_gateway, CHAT, chat_body())
    assert first.headers["X-Edgee-Fallback-Used"] == "1"
    assert first.headers["X-Edgee-Provider"] == "anthropic"
    second = post(edgee_gateway, CHAT, chat_body(stream=True))
    assert second.headers["X-Edgee-Fallback-Used"] == "1"
    assert second.headers["X-Edgee-Provider"] == "mistral"
    plain = post(edgee_gateway, CHAT, chat_body())
    assert "X-Edgee-Fallback-Used" not in plain.headers
    assert plain.headers["X-Edgee-Provider"] == "openai"
    with pytest.raises(ValueError, match="fallback"):
        edgee_gateway.reply_text("x", fallback="")


def test_explicit_headers_win_over_fallback(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text("hi", fallback="anthropic", headers={"x-edgee-provider": "google"})
    response = post(edgee_gateway, CHAT, chat_body())
    assert response.headers["X-Edgee-Provider"] == "google"
    assert response.headers["X-Edgee-Fallback-Used"] == "1"


def test_compress_returns_the_same_payload_compressed_with_a_report(
    edgee_gateway: FakeGateway,
) -> None:
    body = {
        "model": "gpt-4o",
        "temperature": 0.2,
        "stream": False,
        "tags": ["a"],
        "messages": [
            {"role": "system", "content": "Answer very briefly"},
            {"role": "user", "content": [{"type": "text", "text": "please just say the answer"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "the result is really big"},
        ],
        "tools": [
            {"type": "function", "function": {"name": "f", "description": "Get the weather"}}
        ],
    }
    data = post(edgee_gateway, "/v1/compress", body).json()
    report = data.pop("compression")
    assert data == {
        **body,
        "messages": [
            {"role": "system", "content": "Answer briefly"},
            {"role": "user", "content": [{"type": "text", "text": "say answer"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "result is big"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "description": "Get weather"}}],
    }
    # 3 + 5 + 5 words of messages and 3 of tools before; 2 + 2 + 3 and 2 after
    assert report == {
        "technique": "auto",
        "applied_strategies": [
            "filler_word_removal",
            "tool_result_trimming",
            "tool_surface_reduction",
        ],
        "compression_rate": 0.4375,
        "uncompressed_input_tokens": 16,
        "compressed_input_tokens": 9,
        "compression_time_ms": 1,
        "tool_stats": {"results_trimmed": 1},
    }
    assert 0 <= report["compression_rate"] <= 1


def test_compress_other_formats_and_technique(edgee_gateway: FakeGateway) -> None:
    anthropic = {
        "model": "anthropic/claude",
        "max_tokens": 10,
        "system": "be very brief",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": "just ok"}],
            }
        ],
    }
    data = post(edgee_gateway, "/v1/compress", anthropic).json()
    assert data["system"] == "be brief" and data["max_tokens"] == 10
    assert data["messages"][0]["content"][0]["content"] == "ok"
    assert data["compression"]["applied_strategies"] == [
        "filler_word_removal",
        "tool_result_trimming",
    ]
    responses = {"model": "gpt-4o", "input": "please answer", "instructions": "kept as is"}
    data = post(
        edgee_gateway, "/v1/compress", responses, **{"X-Edgee-Compression-Model": "codex"}
    ).json()
    assert data["input"] == "answer" and data["instructions"] == "kept as is"
    assert data["compression"]["technique"] == "tool"
    nothing = post(edgee_gateway, "/v1/compress", {"model": "m", "messages": []}).json()
    assert nothing["compression"]["compression_rate"] == 0.0
    assert nothing["compression"]["applied_strategies"] == []
    assert "tool_stats" not in nothing["compression"]
    bad = post(edgee_gateway, "/v1/compress", {"model": "m"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "messages"


def test_count_tokens_takes_system_and_tokenizer(edgee_gateway: FakeGateway) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "three little words"}],
        "system": [{"type": "text", "text": "be brief"}],
        "tokenizer": "o200k_base",
    }
    response = post(edgee_gateway, "/v1/count_tokens", body)
    assert response.status_code == 200
    assert response.json() == {"input_tokens": 5}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": [], "system": 3}, "system"),
        ({"model": "m", "messages": [], "tokenizer": "gpt2"}, "tokenizer"),
    ],
)
def test_count_tokens_refuses_bad_bodies(
    edgee_gateway: FakeGateway, body: dict[str, Any], param: str
) -> None:
    response = post(edgee_gateway, "/v1/count_tokens", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param


def test_models_ignore_the_provider_filter(edgee_gateway: FakeGateway) -> None:
    everything = requests.get(edgee_gateway.url + "/v1/models", headers=AUTH, timeout=5).json()
    filtered = requests.get(
        edgee_gateway.url + "/v1/models?provider=anthropic", headers=AUTH, timeout=5
    ).json()
    assert filtered == everything
    assert {m["owned_by"] for m in everything["data"]} > {"anthropic"}
    for model in everything["data"]:
        assert set(model) == {"id", "object", "created", "owned_by"}
        assert model["object"] == "model" and isinstance(model["created"], int)


@pytest.mark.parametrize(
    ("status", "type_"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "server_error"),
        (502, "provider_error"),
        (503, "server_error"),
    ],
)
def test_error_types_are_the_documented_ones(
    edgee_gateway: FakeGateway, status: int, type_: str
) -> None:
    edgee_gateway.reply_error(status)
    response = post(edgee_gateway, CHAT, chat_body())
    assert response.status_code == status
    assert response.json()["error"]["type"] == type_


def test_scripted_errors_apply_to_count_tokens_and_compress(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_error(429, "slow")
    edgee_gateway.reply_json({"input_tokens": 42})
    body = {"model": "m", "messages": []}
    assert post(edgee_gateway, "/v1/count_tokens", body).status_code == 429
    assert post(edgee_gateway, "/v1/count_tokens", body).json() == {"input_tokens": 42}


def test_chat_compression_has_the_documented_types(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text(
        "hi", compression={"saved_tokens": 5, "cost_savings": 27000, "reduction": 49, "time_ms": 3}
    )
    data = post(edgee_gateway, CHAT, chat_body()).json()
    assert data["compression"] == {
        "saved_tokens": 5,
        "cost_savings": 27000,
        "reduction": 49.0,
        "time_ms": 3,
    }
    assert isinstance(data["compression"]["reduction"], float)
    for wrong in ({"cost_savings": 0.027}, {"reduction": "49%"}, {"saved_tokens": True}):
        with pytest.raises(ValueError, match="compression"):
            edgee_gateway.reply_text("x", compression=wrong)


@pytest.mark.parametrize(
    "script",
    [
        lambda gw: None,
        lambda gw: gw.reply_text("a b"),
        lambda gw: gw.reply_tool_calls([{"name": "f"}]),
        lambda gw: gw.reply_structured({"a": 1}),
        lambda gw: gw.reply_refusal(),
    ],
)
def test_usage_is_always_on_a_whole_answer(edgee_gateway: FakeGateway, script: Any) -> None:
    script(edgee_gateway)
    usage = post(edgee_gateway, CHAT, chat_body("x y z")).json()["usage"]
    assert usage["prompt_tokens"] == 3
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_stream_chunks_carry_only_documented_fields(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_tool_calls([{"name": "f", "arguments": {"x": 1}}], text="go")
    response = post(
        edgee_gateway, CHAT, chat_body(stream=True, stream_options={"include_usage": True})
    )
    events = sse_data(response.content)
    assert events[-1] == "[DONE]"
    for chunk in events[:-1]:
        assert set(chunk) <= {"id", "object", "created", "model", "choices", "usage"}
        assert chunk["object"] == "chat.completion.chunk"
        for choice in chunk["choices"]:
            assert set(choice) == {"index", "delta", "finish_reason"}
            assert set(choice["delta"]) <= {"role", "content", "tool_calls", "refusal"}
            assert choice["finish_reason"] in (
                None,
                "stop",
                "length",
                "content_filter",
                "tool_calls",
            )
    assert "usage" in events[-2] and events[-2]["choices"] == []
