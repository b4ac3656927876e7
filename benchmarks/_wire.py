"""The bytes the benchmark server sends, shared by the server and the checks of the clients.

Standard library only: the server process must not import ``edgee``.

A stream of ``n`` chunk events has the shape of ``bench_streaming.py``'s: an
OpenAI-shaped role chunk (with ``system_fingerprint`` and ``logprobs``, keys
the SDK keeps as unknown fields), ``n - 3`` one-word content deltas with some
non-ASCII text, a finish chunk, a usage/compression chunk with empty
``choices``, then ``[DONE]``.
"""

from __future__ import annotations

import json
from functools import cache

TEXT = (
    "The quick brown fox jumps over the lazy dog while streaming tokens arrive one by one "
    "from the gateway, café naïve façade déjà vu, 東京 の 天気 は 晴れ, 🙂 done."
)
WORDS = TEXT.split()

HEAD = (
    '{"id":"chatcmpl-AbC123xyz","object":"chat.completion.chunk","created":1731000000,'
    '"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_a7d06e42a7","choices":'
)

#: The body of every non-streaming answer.
COMPLETION = json.dumps(
    {
        "id": "chatcmpl-AbC123xyz",
        "object": "chat.completion",
        "created": 1731000000,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_a7d06e42a7",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": TEXT, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 40,
            "total_tokens": 52,
            "input_tokens_details": {"cached_tokens": 0},
        },
    },
    ensure_ascii=False,
    separators=(",", ":"),
).encode()


def word(i: int) -> str:
    """The content of the ``i``-th content delta."""
    w = WORDS[i % len(WORDS)]
    return w if i == 0 else " " + w


@cache
def _events(n: int) -> tuple[bytes, ...]:
    if n < 3:
        raise ValueError("a stream has at least 3 chunks")
    parts = [
        HEAD + '[{"index":0,"delta":{"role":"assistant","content":""},'
        '"logprobs":null,"finish_reason":null}]}'
    ]
    for i in range(n - 3):
        content = json.dumps(word(i), ensure_ascii=False)
        parts.append(
            HEAD + f'[{{"index":0,"delta":{{"content":{content}}},'
            '"logprobs":null,"finish_reason":null}]}'
        )
    parts.append(HEAD + '[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}')
    parts.append(
        HEAD + '[],"usage":{"prompt_tokens":812,"completion_tokens":19997,"total_tokens":20809,'
        '"input_tokens_details":{"cached_tokens":512}},'
        '"compression":{"saved_tokens":1234,"cost_savings":5600,"reduction":31.5,"time_ms":4}}'
    )
    events = [f"data: {p}\n\n".encode() for p in parts]
    events.append(b"data: [DONE]\n\n")
    return tuple(events)


def stream_text(n: int) -> str:
    """The text that the content deltas of an ``n``-chunk stream add up to."""
    return "".join(word(i) for i in range(n - 3))


def text_length(n: int, upto: int | None = None) -> int:
    """Characters of text in the first ``upto`` chunks (all by default) of an ``n``-chunk stream."""
    upto = n if upto is None else upto
    # Chunk 0 is the role chunk; chunk k (1 <= k <= n - 3) carries word(k - 1).
    return sum(len(word(i)) for i in range(min(upto - 1, n - 3)))


#: How a stream is put on the wire (``model`` names carry one of these):
#: ``event``: one HTTP chunk per event, all written at once (what a gateway that
#: flushes every event writes, when the events are ready faster than they can be read);
#: ``paced``: one HTTP chunk per event, ``PACE_S`` apart (a model emitting tokens);
#: ``packed``: the event stream cut into 16 KiB HTTP chunks regardless of event
#: boundaries (what a buffering proxy forwards);
#: ``length``: the whole event stream as one ``Content-Length`` body.
FRAMINGS = ("event", "paced", "packed", "length")
PACE_S = 0.001


def stream_pieces(n: int, framing: str) -> list[bytes]:
    """The HTTP body of an ``n``-chunk stream, in the pieces the server writes one by one.

    One piece (the whole body) except for ``paced``, where each piece is one
    HTTP chunk (the last also carries the terminating zero-size chunk).
    """
    events = _events(n)
    if framing == "length":
        return [b"".join(events)]
    if framing in ("event", "paced"):
        pieces: list[bytes] = list(events)
    elif framing == "packed":
        raw = b"".join(events)
        pieces = [raw[i : i + 16384] for i in range(0, len(raw), 16384)]
    else:
        raise ValueError(f"unknown framing {framing!r}")
    out = [b"%x\r\n%b\r\n" % (len(piece), piece) for piece in pieces]
    out[-1] += b"0\r\n\r\n"
    return out if framing == "paced" else [b"".join(out)]


def stream_bytes(n: int) -> int:
    """Size of the event stream itself (without HTTP framing)."""
    return sum(len(e) for e in _events(n))
