"""The official ``edgee`` SDK's README examples run unchanged against this SDK.

The snippets below are the official README's, verbatim (imports added once at
the top). Only the environment differs: ``EDGEE_API_KEY`` and
``EDGEE_BASE_URL`` point at the loopback gateway.
"""

from __future__ import annotations

import contextlib
import io

import pytest

from edgee.testing import FakeGateway

OFFICIAL_README = """
import os
from edgee import Edgee

edgee = Edgee(os.environ.get("EDGEE_API_KEY"))

response = edgee.send(
    model="gpt-4o",
    input="What is the capital of France?",
)

print(response.text)

response = edgee.send(
    model="gpt-4o",
    input={
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"},
        ],
    },
)

response = edgee.send(
    model="gpt-4o",
    input={
        "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get weather for a location",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "location": {"type": "string"},
                        },
                    },
                },
            },
        ],
        "tool_choice": "auto",
    },
)

if response.tool_calls:
    print(response.tool_calls)

for chunk in edgee.stream(model="gpt-4o", input="Tell me a story"):
    if chunk.text:
        print(chunk.text, end="", flush=True)

for chunk in edgee.send(model="gpt-4o", input="Tell me a story", stream=True):
    if chunk.text:
        print(chunk.text, end="", flush=True)

for chunk in edgee.stream(model="gpt-4o", input="Hello"):
    if chunk.role:
        print(f"Role: {chunk.role}")
    if chunk.text:
        print(chunk.text, end="", flush=True)
    if chunk.finish_reason:
        print(f"\\nFinish: {chunk.finish_reason}")
"""


def test_official_readme_runs_unchanged(
    edgee_gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEE_API_KEY", edgee_gateway.api_key)
    monkeypatch.setenv("EDGEE_BASE_URL", edgee_gateway.url)
    edgee_gateway.reply_text("Paris.")
    edgee_gateway.reply_text("Hi!")
    edgee_gateway.reply_tool_calls([{"name": "get_weather", "arguments": '{"location": "Paris"}'}])
    edgee_gateway.reply_text("Once upon a time")
    edgee_gateway.reply_text("The end")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(OFFICIAL_README, "official_readme", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "Paris."
    assert "get_weather" in lines[1] and "Paris" in lines[1]
    assert lines[2] == "Once upon a timeThe endRole: assistant"
    assert lines[3] == "Hello"
    assert lines[4] == "Finish: stop"
    assert len(edgee_gateway.requests) == 6
    assert edgee_gateway.requests[2].json["tool_choice"] == "auto"


def test_official_error_handling_still_catches_runtime_error(
    edgee_gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgee import Edgee

    monkeypatch.setenv("EDGEE_BASE_URL", edgee_gateway.url)
    client = Edgee("wrong-key")
    with pytest.raises(RuntimeError, match="API error 401"):
        client.send(model="gpt-4o", input="x")
    with pytest.raises(ValueError, match="EDGEE_API_KEY is not set"):
        monkeypatch.delenv("EDGEE_API_KEY", raising=False)
        Edgee()
