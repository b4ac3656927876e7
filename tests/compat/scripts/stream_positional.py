"""send(model, input, True): the official signature's positional `stream`."""

from _steps import MODEL, drain

from edgee import Edgee

GATEWAY = [("reply_text", {"chunks": ["positional", " stream"], "finish_reason": "length"})]

client = Edgee()
drain(
    "send_positional",
    lambda: client.send(MODEL, "positional stream", True),
    lambda chunk: (chunk.text, chunk.finish_reason),
)
