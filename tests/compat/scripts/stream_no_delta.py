"""A chunk whose choice carries no delta, and a chunk with no choices."""

from _steps import MODEL, drain

from edgee import Edgee

GATEWAY = [
    (
        "reply_raw",
        {
            "data": (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"no"}}]}\n\n'
                b'data: {"choices":[{"index":0,"finish_reason":"stop"}]}\n\n'
                b'data: {"choices":[]}\n\n'
                b"data: [DONE]\n\n"
            )
        },
    ),
]

client = Edgee()


def view(chunk):
    choice = chunk.choices[0] if chunk.choices else None
    return (
        chunk.text,
        chunk.finish_reason,
        choice.delta.content if choice else "no choice",
        choice.delta.role if choice else "no choice",
    )


drain("no_delta", lambda: client.stream(MODEL, "no delta"), view)
