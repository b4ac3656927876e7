"""Errors: HTTP errors caught as RuntimeError (send, and a stream's HTTP error), a refused
connection caught as OSError, a 2xx body that is not JSON caught as ValueError."""

import os

from _steps import MODEL, drain, step

from edgee import Edgee

GATEWAY = [
    ("reply_error", {"status": 401, "message": "Invalid API key", "code": "invalid_api_key"}),
    ("reply_error", {"status": 404, "message": "Unknown model"}),
    ("reply_error", {"status": 400, "message": "Bad stream request"}),
    ("reply_error", {"status": 403, "message": "Forbidden model"}),
    (
        "reply_raw",
        {
            "data": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\n\r\n"
            b"<html>oops</htm"
        },
    ),
    (
        "reply_raw",
        {
            "data": b"HTTP/1.1 422 Unprocessable Entity\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 9\r\n\r\nnot json!"
        },
    ),
]

client = Edgee()


def catch(fn):
    """Which of the official SDK's documented catches takes the error."""
    try:
        fn()
    except RuntimeError as exc:
        return ("RuntimeError", str(exc)[:13])
    except OSError:
        return "OSError"
    except ValueError:
        return "ValueError"
    return "no error"


caught = []


def send_401():
    try:
        client.send(MODEL, "hi")
    except RuntimeError as exc:
        caught.append(exc)
        return ("RuntimeError", str(exc).startswith("API error 401: "))
    return "no error"


step("send.401", send_401)
step("send.401.str", lambda: str(caught[0]))
step("send.401.names_message", lambda: "Invalid API key" in str(caught[0]))
step("send.404", lambda: catch(lambda: client.send(MODEL, "hi")))

# A stream's HTTP error: code that wraps both the call and the loop catches it either way.
holder = []
step("stream.400.create", lambda: holder.append(client.stream(MODEL, "hi")) or "created")
drain("stream.400.iterate", lambda: holder[0] if holder else [], lambda chunk: chunk.text)


def stream_400_whole():
    try:
        for _chunk in client.stream(MODEL, "hi again"):
            pass
    except RuntimeError as exc:
        return ("RuntimeError", str(exc).startswith("API error 4"))
    return "no error"


step("stream.4xx.whole", stream_400_whole)
step("send.html_2xx", lambda: catch(lambda: client.send(MODEL, "hi")))
step("send.422_text", lambda: catch(lambda: client.send(MODEL, "hi")))

refused = Edgee(
    {"api_key": os.environ["EDGEE_API_KEY"], "base_url": os.environ["COMPAT_REFUSED_URL"]}
)
step("send.refused", lambda: catch(lambda: refused.send(MODEL, "hi")))
holder2 = []
step("stream.refused.create", lambda: holder2.append(refused.stream(MODEL, "hi")) or "created")
drain("stream.refused.iterate", lambda: holder2[0] if holder2 else [], lambda chunk: chunk.text)
