"""``edgee chat --json-schema FILE``, run as a subprocess against a loopback FakeGateway."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import RunCli

from edgee.testing import FakeGateway

MODEL = "openai/gpt-4o"
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
    "additionalProperties": False,
}


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "trip.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    return path


def test_json_schema_streams_and_prints_the_parsed_json(
    cli: RunCli, gateway: FakeGateway, schema_file: Path
) -> None:
    gateway.reply_structured({"city": "Tours", "days": 3}, fragments=4, require_schema=True)
    result = cli("chat", "plan a trip", "-m", MODEL, "--json-schema", str(schema_file))
    assert result.returncode == 0, result.stderr
    # stdout holds only the parsed value: a pipe gets valid JSON.
    assert json.loads(result.stdout) == {"city": "Tours", "days": 3}
    assert result.stdout.endswith("}\n")
    # The answer streamed to stderr as it came.
    assert result.stderr == '{"city":"Tours","days":3}\n'
    sent = gateway.last_request
    assert sent.json["stream"] is True
    assert sent.json_schema == {"name": "response", "schema": SCHEMA, "strict": True}


def test_json_schema_accepts_a_whole_response_format(
    cli: RunCli, gateway: FakeGateway, tmp_path: Path
) -> None:
    path = tmp_path / "format.json"
    wire = {"type": "json_schema", "json_schema": {"name": "trip", "schema": SCHEMA}}
    path.write_text(json.dumps(wire), encoding="utf-8")
    gateway.reply_structured({"city": "Blois", "days": 1})
    result = cli("chat", "x", "-m", MODEL, "--json-schema", str(path), "--no-stream")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"city": "Blois", "days": 1}
    assert gateway.last_request.stream is False  # parse(), not a stream
    assert gateway.last_request.response_format == wire


def test_json_schema_answer_that_does_not_fit_exits_1(
    cli: RunCli, gateway: FakeGateway, schema_file: Path
) -> None:
    gateway.reply_structured('{"city": "Tours", "days": "three"}')
    result = cli("chat", "x", "-m", MODEL, "--json-schema", str(schema_file))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "edgee: error:" in result.stderr
    assert "days" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_schema_refusal_exits_1(cli: RunCli, gateway: FakeGateway, schema_file: Path) -> None:
    gateway.reply_refusal("I can't plan trips.")
    result = cli("chat", "x", "-m", MODEL, "--json-schema", str(schema_file))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "the model refused: I can't plan trips." in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("{not json", "is not JSON"), ("[1]", "must hold a JSON object")],
)
def test_json_schema_file_problems_are_usage_errors(
    cli: RunCli, gateway: FakeGateway, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "schema.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = cli("chat", "x", "-m", MODEL, "--json-schema", str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert gateway.requests == []


def test_json_schema_with_json_is_a_usage_error(cli: RunCli, schema_file: Path) -> None:
    result = cli("chat", "x", "-m", MODEL, "--json-schema", str(schema_file), "--json")
    assert result.returncode == 2
    assert "leave out --json" in result.stderr


def test_json_schema_with_include_usage(
    cli: RunCli, gateway: FakeGateway, schema_file: Path
) -> None:
    usage = {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}
    gateway.reply_structured({"city": "Tours", "days": 3}, usage=usage)
    result = cli("chat", "x", "-m", MODEL, "--json-schema", str(schema_file), "--include-usage")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"city": "Tours", "days": 3}
    assert "usage: 4 prompt + 6 completion = 10 tokens" in result.stderr
