"""SSE framing: CRLF line ends, comments, and a last event without its blank line."""

from _steps import MODEL, drain

from edgee import Edgee

GATEWAY = [
    (
        "reply_raw",
        {
            "data": (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                b": keep-alive comment\r\n\r\n"
                b'data: {"choices":[{"index":0,"delta":{"content":"crlf"}}]}\r\n\r\n'
                b'data: {"choices":[{"index":0,"delta":{"content":" ends"},'
                b'"finish_reason":"stop"}]}\r\n\r\n'
                b"data: [DONE]\r\n\r\n"
            )
        },
    ),
    (
        "reply_raw",
        {
            "data": (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                b'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
                b'data: {"choices":[{"index":0,"delta":{"content":"b"}}]}\n\n'
                b'data: {"choices":[{"index":0,"delta":{"content":"c"},"finish_reason":"stop"}]}\n'
            )
        },
    ),
]

client = Edgee()
drain("crlf", lambda: client.stream(MODEL, "x"), lambda chunk: (chunk.text, chunk.finish_reason))
drain("unterminated", lambda: client.stream(MODEL, "x"), lambda chunk: chunk.text)
