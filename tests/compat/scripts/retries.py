"""A 503 and a 429, each followed by a good answer: the official SDK raises at once."""

from _steps import MODEL, step

from edgee import Edgee

GATEWAY = [
    ("reply_error", {"status": 503, "message": "overloaded", "headers": {"Retry-After": "0"}}),
    ("reply_text", {"text": "retried fine"}),
    ("reply_error", {"status": 429, "message": "slow down", "headers": {"Retry-After": "0"}}),
    ("reply_text", {"text": "retried fine"}),
]

client = Edgee()


def send(text):
    try:
        return client.send(MODEL, text).text
    except RuntimeError as exc:
        return ("RuntimeError", str(exc)[:13])


step("send.503", lambda: send("first"))
step("send.429", lambda: send("second"))
