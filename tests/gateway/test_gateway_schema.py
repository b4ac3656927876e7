"""Every JSON body and stream chunk FakeGateway produces must match schema/edgee.schema.json.

The gateway is checked with plain `requests`; the schema's ``$defs`` are wrapped into small
schemas that reference one definition each (``{"$ref": "#/$defs/StreamChunk"}``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from gateway_helpers import AUTH, chat_body, sse_events
from jsonschema import Draft202012Validator
from schemahelp import definition_validator

from edgee.testing import FakeGateway

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema" / "edgee.schema.json"
CHAT = "/v1/chat/completions"


def _closed(node: Any) -> Any:
    """`node` with ``additionalProperties: false`` on every object that lists properties:
    a body with a field the schema does not declare then fails validation."""
    if isinstance(node, dict):
        out = {key: _closed(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node


def validator(definition: str, *, closed: bool = True) -> Draft202012Validator:
    """A validator for one ``$defs`` entry; `closed`: undeclared fields are errors too."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    if closed:
        # Free-form objects the gateway documents as such stay open.
        schema = _closed(schema)
        schema["$defs"]["CompressionReport"]["properties"]["tool_stats"].pop(
            "additionalProperties", None
        )
    return definition_validator(schema["$defs"], definition)


CHUNK = validator("StreamChunk")
RESPONSE = validator("SendResponse")
ERROR = validator("ErrorResponse")
MODELS = validator("ModelList")
COUNT = validator("CountTokensResponse")
COMPRESS = validator("CompressResponse")


def check(v: Draft202012Validator, instance: Any) -> None:
    errors = sorted(v.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def stream_payloads(gw: FakeGateway, body: dict[str, Any]) -> list[Any]:
    """The JSON payloads of a stream ([DONE] and `event:` lines checked and dropped)."""
    response = requests.post(gw.url + CHAT, json=body, headers=AUTH, timeout=5)
    assert response.status_code == 200
    payloads = []
    for event in sse_events(response.content):
        data = event.split(b"data: ", 1)[1]
        if data != b"[DONE]":
            payloads.append(json.loads(data))
    return payloads


def whole(gw: FakeGateway, body: Any, *, headers: dict[str, str] = AUTH) -> tuple[int, Any]:
    response = requests.post(gw.url + CHAT, json=body, headers=headers, timeout=5)
    return response.status_code, response.json()


def test_validators_reject_wrong_shapes() -> None:
    # Proves the wrappers really reference the definitions.
    assert not CHUNK.is_valid({"choices": "not a list"})
    assert not RESPONSE.is_valid({"choices": [{"index": 0}]})  # message is required
    assert not ERROR.is_valid({"error": {"type": "x"}})  # message is required
    assert not ERROR.is_valid({"error": {"message": "m", "type": "api_error"}})  # not documented
    assert not COUNT.is_valid({"input_tokens": 1, "model": "m"})  # closed: undeclared field
    assert not COMPRESS.is_valid({"compression": {"saved_tokens": 1}})  # the chat shape


STREAM_SCRIPTS: dict[str, Callable[[FakeGateway], None]] = {
    "echo": lambda gw: None,
    "text": lambda gw: gw.reply_text(
        chunks=["a", " b"],
        finish_reason="length",
        usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        compression={"saved_tokens": 4, "cost_savings": 5, "reduction": 6.5, "time_ms": 7},
    ),
    "tools": lambda gw: gw.reply_tool_calls(
        [{"name": "f", "arguments": '{"x": 1}'}, {"name": "g", "arguments": "{}", "id": "c"}],
        text="calling",
    ),
    "structured": lambda gw: gw.reply_structured({"city": "Paris", "days": [1, 2]}),
    "refusal": lambda gw: gw.reply_refusal("I can't do that"),
}


@pytest.mark.parametrize("include_usage", [False, True])
@pytest.mark.parametrize("script", sorted(STREAM_SCRIPTS))
def test_stream_chunks_match_schema(
    edgee_gateway: FakeGateway, script: str, include_usage: bool
) -> None:
    STREAM_SCRIPTS[script](edgee_gateway)
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}
    payloads = stream_payloads(edgee_gateway, chat_body("some words here", stream=True, **extra))
    assert len(payloads) >= 3
    for payload in payloads:
        check(CHUNK, payload)
    if include_usage:
        assert payloads[-1]["choices"] == [] and "usage" in payloads[-1]


@pytest.mark.parametrize("script", sorted(STREAM_SCRIPTS))
def test_whole_responses_match_schema(edgee_gateway: FakeGateway, script: str) -> None:
    STREAM_SCRIPTS[script](edgee_gateway)
    status, data = whole(edgee_gateway, chat_body("some words"))
    assert status == 200
    check(RESPONSE, data)


def test_error_bodies_match_schema(edgee_gateway: FakeGateway) -> None:
    bodies = []
    bodies.append(whole(edgee_gateway, chat_body(), headers={}))  # 401
    edgee_gateway.reply_error(429, "slow", code="rate_limited", headers={"Retry-After": "1"})
    bodies.append(whole(edgee_gateway, chat_body()))
    edgee_gateway.reply_error(500)
    bodies.append(whole(edgee_gateway, chat_body(stream=True)))
    edgee_gateway.reply_stream_error()
    bodies.append(whole(edgee_gateway, chat_body()))  # 502 for a non-stream request
    response = requests.post(edgee_gateway.url + CHAT, data=b"{", headers=AUTH, timeout=5)
    bodies.append((response.status_code, response.json()))  # 400
    response = requests.get(edgee_gateway.url + "/elsewhere", headers=AUTH, timeout=5)
    bodies.append((response.status_code, response.json()))  # 404
    for status in (403, 503):
        edgee_gateway.reply_error(status)
        bodies.append(whole(edgee_gateway, chat_body()))
    edgee_gateway.reply_structured({}, require_schema=True)
    bodies.append(whole(edgee_gateway, chat_body()))  # 400: no json_schema
    count = requests.post(edgee_gateway.url + "/v1/count_tokens", json={}, headers=AUTH)
    bodies.append((count.status_code, count.json()))  # 400
    assert [status for status, _ in bodies] == [401, 429, 500, 502, 400, 404, 403, 503, 400, 400]
    for _, body in bodies:
        check(ERROR, body)


@pytest.mark.parametrize("as_event", [False, True])
def test_in_stream_error_matches_schema(edgee_gateway: FakeGateway, as_event: bool) -> None:
    edgee_gateway.reply_stream_error(after=1, code="provider_down", as_event=as_event)
    payloads = stream_payloads(edgee_gateway, chat_body(stream=True))
    for chunk in payloads[:-1]:
        check(CHUNK, chunk)
    check(ERROR, payloads[-1])


def test_endpoint_bodies_match_schema(edgee_gateway: FakeGateway) -> None:
    models = requests.get(edgee_gateway.url + "/v1/models?provider=x", headers=AUTH, timeout=5)
    check(MODELS, models.json())
    count = requests.post(
        edgee_gateway.url + "/v1/count_tokens",
        json={"model": "m", "messages": [{"role": "user", "content": "a b"}], "system": "s"},
        headers=AUTH,
        timeout=5,
    )
    check(COUNT, count.json())
    payload = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "please just answer"},
            {"role": "tool", "tool_call_id": "c", "content": "the result"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "description": "the tool"}}],
    }
    compress = requests.post(
        edgee_gateway.url + "/v1/compress", json=payload, headers=AUTH, timeout=5
    )
    data = compress.json()
    assert data["compression"]["tool_stats"]
    check(COMPRESS, data)
