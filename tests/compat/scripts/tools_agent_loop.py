"""The agent loop: tools, a tool call, the assistant message appended to the history, the
tool result sent back, and the whole history JSON-encoded."""

import json

from _steps import MODEL, out, step

from edgee import Edgee, InputObject

GATEWAY = [
    (
        "reply_tool_calls",
        {"calls": [{"id": "call_w1", "name": "get_weather", "arguments": {"city": "Paris"}}]},
    ),
    ("reply_text", {"text": "It is sunny in Paris."}),
    (
        "reply_tool_calls",
        {
            "calls": [
                {"id": "call_a", "name": "get_weather", "arguments": {"city": "Oslo"}},
                {"id": "call_b", "name": "get_time", "arguments": '{"tz": "CET"}'},
            ]
        },
    ),
    ("reply_text", {"text": "Done."}),
]

client = Edgee()
tools = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    },
]
messages = [{"role": "user", "content": "Weather in Paris?"}]

r = step(
    "turn1",
    lambda: client.send(MODEL, InputObject(messages=messages, tools=tools, tool_choice="auto")),
)
step("turn1.finish_reason", lambda: r.finish_reason)
step("turn1.text", lambda: r.text)
step("turn1.tool_calls.len", lambda: len(r.tool_calls))
call = r.tool_calls[0] if r is not None and r.tool_calls else None
step("turn1.call.id", lambda: call["id"])
step("turn1.call.type", lambda: call["type"])
step("turn1.call.name", lambda: call["function"]["name"])
step("turn1.call.arguments", lambda: json.loads(call["function"]["arguments"]))
step("turn1.message.role", lambda: r.message["role"])
step("turn1.message.content", lambda: r.message.get("content"))


def append_and_answer():
    messages.append(r.message)
    for tc in r.tool_calls:
        messages.append(
            {"role": "tool", "tool_call_id": tc["id"], "content": json.dumps({"sky": "sunny"})}
        )
    return len(messages)


step("turn2.history", append_and_answer)
r2 = step("turn2", lambda: client.send(MODEL, {"messages": messages, "tools": tools}))
step("turn2.text", lambda: r2.text)
step("turn2.finish_reason", lambda: r2.finish_reason)
step("history.json", lambda: json.dumps(messages))
step("history.roundtrip", lambda: json.loads(json.dumps(messages)) == messages)

# Parallel calls, dispatched by name, each answered.
messages2 = [{"role": "user", "content": "Weather in Oslo and the time?"}]
r3 = step(
    "parallel",
    lambda: client.send(
        MODEL,
        {
            "messages": messages2,
            "tools": tools,
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
    ),
)
step("parallel.names", lambda: [tc["function"]["name"] for tc in r3.tool_calls])
step("parallel.args", lambda: [json.loads(tc["function"]["arguments"]) for tc in r3.tool_calls])


def answer_all():
    messages2.append(r3.message)
    for tc in r3.tool_calls:
        messages2.append({"role": "tool", "tool_call_id": tc["id"], "content": "ok"})
    return [m["role"] for m in messages2]


step("parallel.history", answer_all)
step("parallel.answer", lambda: client.send(MODEL, InputObject(messages2, tools)).text)
out("done", True)
