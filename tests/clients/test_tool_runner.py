"""run_tools() and run_tools_stream() on both clients, against a scripted model, over loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from edgee import AsyncEdgee, Message, StreamChunk
from edgee.testing import FakeGateway
from edgee.tools import MaxIterationsError, ToolCallResult, tool

CALLS: list[str] = []


@tool
def get_weather(city: str) -> dict:  # type: ignore[type-arg]
    """Current weather of a city.

    Args:
        city: The city.
    """
    CALLS.append(f"weather:{city}")
    return {"city": city, "temp_c": 21}


@tool
async def get_time(tz: str) -> str:
    """Current time in a time zone."""
    CALLS.append(f"time:{tz}")
    await asyncio.sleep(0)
    return "12:00"


@tool
def explode() -> str:
    """Always fails."""
    raise RuntimeError("boom")


def usage(total: int) -> dict[str, int]:
    return {"prompt_tokens": total - 1, "completion_tokens": 1, "total_tokens": total}


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def test_multi_step_run_with_parallel_calls(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_tool_calls(
        [
            {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "c1"},
            {"name": "get_time", "arguments": {"tz": "Europe/Paris"}, "id": "c2"},
        ],
        usage=usage(10),
    )
    gateway.reply_tool_calls(
        [{"name": "get_weather", "arguments": {"city": "Lyon"}, "id": "c3"}], usage=usage(20)
    )
    gateway.reply_text("Sunny in both, 12:00.", usage=usage(30))
    result = client.run_tools("gpt-4o", "Weather and time?", tools=[get_weather, get_time, explode])
    assert result.text == "Sunny in both, 12:00."
    assert result.iterations == 3
    assert result.usage.total_tokens == 60 and result.usage.completion_tokens == 3
    assert sorted(CALLS[:2]) == ["time:Europe/Paris", "weather:Paris"]
    assert CALLS[2] == "weather:Lyon"
    assert [r.name for r in result.tool_results] == ["get_weather", "get_time", "get_weather"]
    assert result.tool_results[0].output == '{"city": "Paris", "temp_c": 21}'
    assert [m.role for m in result.messages] == [
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert result.messages[-1].content == "Sunny in both, 12:00."
    # What the gateway saw: the tools each time, and the results sent back in order.
    assert len(gateway.requests) == 3
    for req in gateway.requests:
        assert [t["function"]["name"] for t in req.json["tools"]] == [
            "get_weather",
            "get_time",
            "explode",
        ]
    second = gateway.requests[1].json["messages"]
    assert second[1]["role"] == "assistant"
    assert [c["id"] for c in second[1]["tool_calls"]] == ["c1", "c2"]
    assert second[2] == {
        "role": "tool",
        "content": '{"city": "Paris", "temp_c": 21}',
        "tool_call_id": "c1",
    }
    assert second[3] == {"role": "tool", "content": "12:00", "tool_call_id": "c2"}


def test_failing_tool_bad_arguments_and_unknown_tool_are_reported_to_the_model(
    client: Any, gateway: FakeGateway
) -> None:
    gateway.reply_tool_calls(
        [
            {"name": "explode", "arguments": "{}", "id": "e1"},
            {"name": "get_weather", "arguments": {"town": "Nice"}, "id": "e2"},
            {"name": "get_weather", "arguments": "{not json", "id": "e3"},
            {"name": "teleport", "arguments": "{}", "id": "e4"},
        ]
    )
    gateway.reply_text("I could not do it.")
    result = client.run_tools("gpt-4o", [Message.user("try")], tools=[get_weather, explode])
    assert result.text == "I could not do it."
    errors = [r.error for r in result.tool_results]
    assert errors[0] == "Error: RuntimeError: boom"
    assert errors[1] is not None and "unexpected argument(s): town" in errors[1]
    assert errors[2] is not None and "not valid JSON" in errors[2]
    assert errors[3] == "Error: no tool named 'teleport'"
    assert CALLS == []
    sent = [m for m in gateway.requests[1].json["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in sent] == errors


def test_iteration_limit(client: Any, gateway: FakeGateway) -> None:
    for i in range(3):
        gateway.reply_tool_calls([{"name": "get_weather", "arguments": {"city": f"C{i}"}}])
    with pytest.raises(MaxIterationsError) as info:
        client.run_tools("gpt-4o", "loop forever", tools=[get_weather], max_iterations=2)
    assert isinstance(info.value, RuntimeError)
    assert info.value.result.iterations == 2
    assert len(gateway.requests) == 2
    assert CALLS == ["weather:C0"]  # the second turn's calls are not run past the limit


def test_run_input_forms_and_validation(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_text("ok")
    result = client.run_tools(
        "gpt-4o",
        {"messages": [{"role": "user", "content": "hi"}], "tool_choice": "required", "tags": ["t"]},
        tools=[get_weather],
    )
    assert result.text == "ok"
    body = gateway.requests[-1].json
    assert body["tool_choice"] == "required" and body["tags"] == ["t"]
    with pytest.raises(TypeError, match=r"@edgee\.tools\.tool"):
        client.run_tools("gpt-4o", "x", tools=[{"type": "function"}])
    with pytest.raises(ValueError, match="max_iterations"):
        client.run_tools("gpt-4o", "x", tools=[get_weather], max_iterations=0)


def test_streaming_run_yields_chunks_and_tool_results(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}, "id": "s1"}])
    gateway.reply_text(chunks=["Cold", " in", " Oslo"])
    run = client.run_tools_stream("gpt-4o", "Weather in Oslo?", tools=[get_weather])
    events = list(run)
    results = [e for e in events if isinstance(e, ToolCallResult)]
    chunks = [e for e in events if isinstance(e, StreamChunk)]
    assert [r.output for r in results] == ['{"city": "Oslo", "temp_c": 21}']
    assert "".join(c.text or "" for c in chunks) == "Cold in Oslo"
    # The tool result comes after the first turn's chunks and before the second's.
    position = events.index(results[0])
    assert any(isinstance(e, StreamChunk) and e.tool_calls for e in events[:position])
    assert run.result is not None and run.result.text == "Cold in Oslo"
    assert run.result.iterations == 2
    assert all(r.json["stream"] is True for r in gateway.requests)
    assert json.loads(gateway.requests[1].json["messages"][-1]["content"])["city"] == "Oslo"


def test_async_runs_parallel_calls_concurrently(gateway: FakeGateway) -> None:
    """Two calls that can only finish together: a sequential runner would time out."""
    started: dict[str, asyncio.Event] = {}

    @tool
    async def wait_for_partner(me: str, partner: str) -> str:
        """Finishes only once its partner has started."""
        started.setdefault(me, asyncio.Event()).set()
        partner_event = started.setdefault(partner, asyncio.Event())
        await asyncio.wait_for(partner_event.wait(), timeout=2.0)
        return f"{me} met {partner}"

    gateway.reply_tool_calls(
        [
            {"name": "wait_for_partner", "arguments": {"me": "a", "partner": "b"}},
            {"name": "wait_for_partner", "arguments": {"me": "b", "partner": "a"}},
        ]
    )
    gateway.reply_text("both met")

    async def main() -> Any:
        async with AsyncEdgee(api_key=gateway.api_key, base_url=gateway.url) as client:
            return await client.run_tools("gpt-4o", "meet", tools=[wait_for_partner])

    result = asyncio.run(main())
    assert [r.output for r in result.tool_results] == ["a met b", "b met a"]
    assert all(r.error is None for r in result.tool_results)
