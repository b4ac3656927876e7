"""Errors in the middle of a stream, caught (or not) by `except RuntimeError`."""

from _steps import MODEL, drain, step

from edgee import Edgee

GATEWAY = [
    ("reply_stream_error", {"after": 2, "message": "provider failed"}),
    ("reply_malformed", {"after": 1}),
    ("reply_reset", {"after": 1}),
    (
        "reply_raw",
        {
            "data": (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                b'data: {"choices":[{"index":0,"delta":{"content":"cut"}}]}\n\n'
            )
        },
    ),
    ("reply_text", {"chunks": ["after", " errors"]}),
]

client = Edgee()


def guarded(name, text):
    try:
        drain(name, lambda: client.stream(MODEL, text), lambda chunk: chunk.text)
    except RuntimeError:
        step(name + ".outer", lambda: "RuntimeError")


guarded("error_event", "Hello there friend")
guarded("malformed", "Hello there friend")
guarded("reset", "Hello there friend")
guarded("truncated", "x")
step("afterwards", lambda: "".join(c.text or "" for c in client.stream(MODEL, "after errors")))
