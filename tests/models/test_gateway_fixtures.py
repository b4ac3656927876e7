"""The schema against the gateway's published contract, one fixture file per endpoint.

The fixtures in ``fixtures/`` are written from ``GATEWAY.md``'s facts (not from
this SDK's reading): chat completions with tool calls, compression, server-side
tools and both families of usage details; stream chunks of every finish reason
and a usage-only chunk; the compress answer; token counts; the model list;
error bodies of every documented ``type``; and the request bodies the SDK sends.
Each body must validate against ``schema/edgee.schema.json`` and parse with no
documented field left in ``.extra`` (a field the model does not type), at any
depth.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from jsonschema import Draft202012Validator
from schemahelp import definition_validator

import edgee.models
from edgee._convert import DictModel, WireModel
from edgee.models import (
    CompressResponse,
    CountTokensRequest,
    ErrorResponse,
    ErrorType,
    FinishReason,
    ResponseMessage,
    SendResponse,
    StreamChunk,
    ToolChoice,
    ToolChoiceMode,
    ToolChoiceTyped,
    ToolExecution,
)

ROOT = Path(__file__).parents[2]
SCHEMA = json.loads((ROOT / "schema" / "edgee.schema.json").read_text(encoding="utf-8"))
FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _validator(definition: str) -> Draft202012Validator:
    return definition_validator(SCHEMA["$defs"], definition)


def _extras(obj: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    """Every (path, extra) pair with unknown keys, at any depth of a parsed model."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(obj, DictModel):
        if obj.extra:
            found.append((path, obj.extra))
        for key, value in obj.items():
            if key in obj._known_:
                found += _extras(value, f"{path}.{key}")
    elif isinstance(obj, WireModel):
        if obj.extra:
            found.append((path, obj.extra))
        for a in attrs.fields(type(obj)):
            if a.name != "_extra":
                found += _extras(getattr(obj, a.name), f"{path}.{a.name}")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            found += _extras(item, f"{path}[{i}]")
    return found


def test_there_is_a_fixture_for_every_endpoint() -> None:
    definitions = {_load(p)["definition"] for p in FIXTURES}
    assert definitions == {
        "SendResponse",
        "StreamChunk",
        "CompressResponse",
        "CountTokensResponse",
        "ModelList",
        "ErrorResponse",
        "ChatRequest",
        "CountTokensRequest",
    }


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixtures_validate_and_parse_with_nothing_documented_left_over(path: Path) -> None:
    fixture = _load(path)
    definition = fixture["definition"]
    validator = _validator(definition)
    cls = getattr(edgee.models, definition)
    passthrough = set(fixture.get("passthrough", ()))
    assert fixture["bodies"]
    for body in fixture["bodies"]:
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, errors
        parsed = cls.from_dict(json.loads(json.dumps(body)))
        leftovers = _extras(parsed)
        if passthrough:  # the compress answer keeps the request's other fields, untyped
            top = [extra for where, extra in leftovers if where == "$"]
            assert not top or set(top[0]) <= passthrough
            assert all(parsed.extra[k] == body[k] for k in parsed.extra)
            leftovers = [(where, extra) for where, extra in leftovers if where != "$"]
        assert leftovers == []
        # What the SDK writes back is the body minus its nulls, and still valid.
        out = parsed.to_dict()
        assert not list(validator.iter_errors(out))
        assert cls.from_dict(out).to_dict() == out


def _bodies(name: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = _load(Path(__file__).parent / "fixtures" / name)["bodies"]
    return bodies


def test_chat_completion_reads_as_documented() -> None:
    full = SendResponse.from_dict(_bodies("chat_completion.json")[1])
    assert full.finish_reason is FinishReason.tool_calls
    assert full.tool_calls is not None and [c.function.name for c in full.tool_calls] == [
        "get_weather",
        "get_time",
    ]
    assert isinstance(full.message, ResponseMessage) and isinstance(full.message, dict)
    usage = full.usage
    assert usage is not None and usage.input_tokens_details is not None
    assert usage.input_tokens_details.cache_creation_tokens == 180
    assert usage.output_tokens_details is not None
    assert usage.output_tokens_details.reasoning_tokens == 12
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1024
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.rejected_prediction_tokens == 0
    compression = full.compression
    assert compression is not None
    assert isinstance(compression.reduction, float) and compression.reduction > 48.9
    assert compression.cost_savings == 27000 and isinstance(compression.cost_savings, int)
    assert full.edgee_pending_id == "pending_7f3a"
    assert full.edgee_tools_executed == [
        ToolExecution(name="web_search", success=True),
        ToolExecution(name="fetch_url", success=False),
    ]
    assert full.edgee_tools_executed[1].success is False
    two = SendResponse.from_dict(_bodies("chat_completion.json")[2])
    assert [c.finish_reason for c in two.choices] == ["length", "content_filter"]
    assert two.choices[1].message.refusal == "I can't help with that."


def test_stream_chunks_read_as_documented() -> None:
    chunks = [StreamChunk.from_dict(b) for b in _bodies("stream_chunks.json")]
    assert [c.text for c in chunks[:4]] == [None, "Hello", ", world", None]
    assert chunks[0].role == "assistant"
    usage_only = chunks[4]
    assert usage_only.choices == [] and usage_only.text is None
    assert usage_only.usage is not None and usage_only.usage.total_tokens == 14
    assert usage_only.compression is not None and usage_only.compression.reduction == 31.25
    reasons = {c.finish_reason for c in chunks if c.finish_reason}
    assert reasons == {"stop", "length", "content_filter", "tool_calls"}
    assert all(isinstance(r, FinishReason) for r in reasons)
    fragments = [c.tool_calls for c in chunks[5:8]]
    assert fragments[0] is not None and fragments[0][0].function is not None
    assert fragments[0][0].function.name == "get_weather"
    assert chunks[7].edgee_tools_executed == [{"name": "web_search", "success": True}]


def test_compress_answer_keeps_the_payload_and_types_the_report() -> None:
    body = _bodies("compress.json")[0]
    answer = CompressResponse.from_dict(body)
    assert answer.messages is not None and answer.messages[3].content.startswith("[trimmed")
    assert answer.messages[2].tool_calls is not None
    assert answer.messages[2].tool_calls[0].function.name == "read_file"
    assert answer.tools is not None and answer.tools[0].function.name == "read_file"
    report = answer.compression
    assert report is not None
    assert report.technique == "tool" and report.applied_strategies == ["tool_result_trimming"]
    assert report.compression_rate == 0.19
    assert (report.uncompressed_input_tokens, report.compressed_input_tokens) == (5210, 4220)
    assert report.compression_time_ms == 7 and report.error is None
    assert report.tool_stats == {"read_file": {"calls": 1, "tokens_removed": 990}}
    assert answer.extra == {
        "tool_choice": "auto",
        "max_tokens": 1024,
        "stream": False,
        "tags": ["agent", "ci"],
        "temperature": 0.2,
    }
    # Everything comes back out (but the assistant's null content): ready to send on.
    expected = json.loads(json.dumps(body))
    del expected["messages"][2]["content"]
    assert answer.to_dict() == expected
    partial = CompressResponse.from_dict(_bodies("compress.json")[1])
    assert partial.compression is not None and partial.compression.error is not None
    assert partial.tools is None


def test_every_documented_error_type_is_an_error_type_member() -> None:
    types = [ErrorResponse.from_dict(b).error.type for b in _bodies("errors.json")]
    assert set(types) == {m.value for m in ErrorType}
    assert all(t in ErrorType.__members__.values() for t in types)
    provider = ErrorResponse.from_dict(_bodies("errors.json")[-1])
    assert provider.error.code == 503
    odd = ErrorResponse.from_dict({"error": {"message": "x", "type": "brand_new_error"}})
    assert odd.error.type == "brand_new_error" and isinstance(odd.error.type, ErrorType)


def test_tool_choice_in_each_of_its_forms() -> None:
    from edgee.models import ChatRequest

    parsed = [ChatRequest.from_dict(b).tool_choice for b in _bodies("chat_request.json")]
    forced, none, auto, required, typed_auto, typed_none = parsed[1:7]
    assert isinstance(forced, ToolChoice) and forced.function.name == "get_weather"
    assert [none, auto, required] == ["none", "auto", "required"]
    assert all(isinstance(c, ToolChoiceMode) for c in (none, auto, required))
    assert isinstance(typed_auto, ToolChoiceTyped) and typed_auto.type == "auto"
    assert isinstance(typed_none, ToolChoiceTyped) and typed_none.type == "none"
    assert typed_auto.to_dict() == {"type": "auto"}
    assert forced.to_dict() == {"type": "function", "function": {"name": "get_weather"}}


def test_count_tokens_request_takes_system_as_text_or_parts() -> None:
    bodies = _bodies("count_tokens_request.json")
    text = CountTokensRequest.from_dict(bodies[1])
    parts = CountTokensRequest.from_dict(bodies[2])
    assert text.system == "Be brief." and text.tokenizer == "cl100k_base"
    assert isinstance(parts.system, list) and parts.system[0].text == "Be brief."
    assert parts.tokenizer == "o200k_base"
    assert text.messages[0].content[0].text == "hello"  # type: ignore[union-attr]
