"""The official SDK's agent loop over loopback HTTP, on both clients.

Keep the history, append ``response.message``, answer its tool calls, send the
history back: the message and its tool calls are dicts, so the history is plain
JSON at every step (``json.dumps`` included) and goes back as it came.
"""

from __future__ import annotations

import json
from typing import Any

from edgee.models import Message, ResponseMessage, Tool, ToolCall
from edgee.testing import FakeGateway


def test_append_the_answer_and_send_the_history_back(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Paris"}}])
    gateway.reply_text("It is 22C in Paris.")
    history: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    tools = [Tool.function("get_weather", "Weather of a city", {"type": "object"})]
    first = client.send("gpt-4o", {"messages": history, "tools": tools})
    assert isinstance(first.message, dict) and isinstance(first.message, ResponseMessage)
    history.append(first.message)
    for call in first.tool_calls:
        assert isinstance(call, dict) and isinstance(call, ToolCall)
        assert call["function"]["name"] == call.function.name == "get_weather"
        history.append(
            {"role": "tool", "tool_call_id": call["id"], "content": json.dumps({"temp": 22})}
        )
    history.append(Message.user("Thanks. In Celsius?"))
    wire = json.loads(json.dumps(history))  # the whole history is plain JSON
    second = client.send("gpt-4o", {"messages": history, "tools": tools})
    assert second.text == "It is 22C in Paris."
    sent = gateway.requests[-1].json["messages"]
    assert sent == wire
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'


def test_a_streamed_answer_joins_the_history_too(client: Any, gateway: FakeGateway) -> None:
    gateway.reply_tool_calls([{"name": "lookup", "arguments": {"q": "edgee"}}])
    gateway.reply_text("done")
    history: list[Any] = [Message.user("look it up")]
    with client.stream("gpt-4o", history) as stream:
        final = stream.final_response()
    assert isinstance(final.message, dict) and final.tool_calls is not None
    history.append(final.message)
    history.append(Message.tool(final.tool_calls[0].id, "found"))
    assert client.send("gpt-4o", history).text == "done"
    sent = gateway.requests[-1].json["messages"]
    assert sent[1]["role"] == "assistant"
    assert sent[1]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"q": "edgee"}'}
    assert sent[2] == {"role": "tool", "content": "found", "tool_call_id": final.tool_calls[0].id}
