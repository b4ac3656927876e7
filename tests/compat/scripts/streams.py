"""Streams: stream() and send(stream=True); chunk.text, the delta, role and finish_reason;
tool-call deltas; collecting the text."""

from _steps import MODEL, drain, out, step

from edgee import Edgee, InputObject

GATEWAY = [
    ("reply_text", {"chunks": ["Hello", " big", " world"]}),
    ("reply_text", {"chunks": ["keyword", " args"]}),
    ("reply_text", {"chunks": ["kw", " stream"]}),
    (
        "reply_tool_calls",
        {"calls": [{"id": "call_s", "name": "lookup", "arguments": {"q": "x"}}], "fragments": 2},
    ),
    ("reply_text", {"chunks": ["in", " object"]}),
]

client = Edgee()


def chunk_view(chunk):
    choice = chunk.choices[0] if chunk.choices else None
    return (
        chunk.text,
        chunk.role,
        chunk.finish_reason,
        choice.delta.content if choice else "no choice",
        choice.index if choice else None,
    )


drain("stream", lambda: client.stream(MODEL, "Hello big world"), chunk_view)
drain("stream_kw", lambda: client.stream(model=MODEL, input="keyword args"), chunk_view)
drain("send_kw", lambda: client.send(MODEL, "kw stream", stream=True), chunk_view)


def tool_view(chunk):
    choice = chunk.choices[0]
    return (choice.delta.tool_calls, choice.finish_reason)


drain(
    "tools",
    lambda: client.stream(
        MODEL,
        {
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "lookup"}}],
        },
    ),
    tool_view,
)


def collect():
    text = ""
    for chunk in client.stream(
        MODEL, InputObject(messages=[{"role": "user", "content": "in object"}], tags=["s"])
    ):
        if chunk.text:
            text += chunk.text
        if chunk.finish_reason:
            out("collect.finish", chunk.finish_reason)
    return text


step("collect", collect)
