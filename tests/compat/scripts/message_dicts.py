"""Response messages and tool calls are dicts in the official SDK: the mapping protocol,
equality, json.dumps, and writing into them."""

import json

from _steps import MODEL, step

from edgee import Edgee

GATEWAY = [
    ("reply_text", {"text": "Paris is the capital."}),
    (
        "reply_tool_calls",
        {"calls": [{"id": "call_d", "name": "lookup", "arguments": {"q": "dict"}}]},
    ),
]

client = Edgee()
r = client.send(MODEL, "capital?")
m = r.message
step("message.isinstance_dict", lambda: isinstance(m, dict))
step("message.getitem", lambda: m["content"])
step("message.get", lambda: (m.get("content"), m.get("missing"), m.get("missing", "default")))
step("message.in", lambda: ("content" in m, "tool_calls" in m, "role" in m))
step("message.keys", lambda: list(m.keys()))
step("message.items", lambda: list(m.items()))
step("message.len", lambda: len(m))
step("message.dict", lambda: dict(m))
step("message.eq", lambda: m == {"role": "assistant", "content": "Paris is the capital."})
step("message.json", lambda: json.dumps(m))
step("message.json_history", lambda: json.dumps([{"role": "user", "content": "capital?"}, m]))
step(
    "choice.message.is_message",
    lambda: r.choices[0].message is r.message or r.choices[0].message == r.message,
)
step("text_equals_content", lambda: r.text == m["content"])


def write():
    m["content"] = "edited"
    return (m["content"], r.text)


step("message.setitem", write)

t = client.send(MODEL, "tool?")
tm = t.message
tc = t.tool_calls[0] if t.tool_calls else None
step(
    "tool_message.content_in", lambda: ("content" in tm, tm["content"], tm.get("content", "absent"))
)
step("tool_message.keys", lambda: list(tm.keys()))
step("tool_call.isinstance_dict", lambda: isinstance(tc, dict))
step("tool_call.keys", lambda: list(tc.keys()))
step("tool_call.function", lambda: (tc["function"]["name"], tc["function"]["arguments"]))
step("tool_call.function.isinstance_dict", lambda: isinstance(tc["function"], dict))
step("tool_call.get", lambda: tc.get("id"))
step("tool_call.len", lambda: len(tc))
step(
    "tool_call.eq",
    lambda: (
        tc
        == {
            "id": "call_d",
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"q": "dict"}'},
        }
    ),
)
step("tool_call.json", lambda: json.dumps(tc))
step("tool_calls.json", lambda: json.dumps(t.tool_calls))
step("tool_message.dict", lambda: dict(tm))
