"""Coverage-guided fuzzing of the stream interpreter (``edgee._streaming``) with atheris.

Run through ``make fuzz``, or by hand::

    python fuzz/fuzz_chunks.py -runs=100000 -dict=fuzz/sse.dict fuzz/corpus/chunks

The first bytes choose the size limit, where the body is cut into network
pieces, and whether the rest is used raw or first shaped into a well-framed
event stream of JSON chunks (so the fuzzer reaches the chunk logic, not only
the JSON parser's error path). ``stream_harness.check_chunk_parser`` asserts the
properties: only EventTooLargeError / StreamAPIError / ChunkDecodeError /
IncompleteStreamError escape, the same chunks and error for any split, a
response can always be folded from what arrived, bounded memory.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

with atheris.instrument_imports(include=["edgee"]):
    from stream_harness import check_chunk_parser

    import edgee._convert
    import edgee._streaming
    import edgee.models  # noqa: F401

LIMITS = (16, 512, 65536, 16 * 1024 * 1024)
FINISH = (None, "stop", "length", "tool_calls", "weird")


def _chunk(fdp: atheris.FuzzedDataProvider) -> Any:
    choices = []
    for _ in range(fdp.ConsumeIntInRange(0, 2)):
        delta: dict[str, Any] = {}
        if fdp.ConsumeBool():
            delta["content"] = fdp.ConsumeUnicodeNoSurrogates(8)
        if fdp.ConsumeBool():
            delta["role"] = fdp.PickValueInList(["assistant", "tool", "x"])
        if fdp.ConsumeBool():
            delta["tool_calls"] = [
                {
                    "index": fdp.ConsumeIntInRange(-1, 3),
                    "id": fdp.PickValueInList([None, "a", "b"]),
                    "function": {"arguments": fdp.ConsumeUnicodeNoSurrogates(4)},
                }
            ]
        choice: dict[str, Any] = {"index": fdp.ConsumeIntInRange(0, 2), "delta": delta}
        finish = fdp.PickValueInList(list(FINISH))
        if finish is not None:
            choice["finish_reason"] = finish
        choices.append(choice)
    chunk: dict[str, Any] = {"id": "c", "choices": choices}
    if fdp.ConsumeBool():
        chunk["usage"] = {"prompt_tokens": fdp.ConsumeIntInRange(0, 9)}
    return chunk


def _structured(fdp: atheris.FuzzedDataProvider) -> bytes:
    out = bytearray()
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        kind = fdp.ConsumeIntInRange(0, 9)
        if kind <= 4:
            text = json.dumps(_chunk(fdp), ensure_ascii=fdp.ConsumeBool())
            out += b"data: " + text.encode("utf-8", "surrogatepass") + b"\n\n"
        elif kind == 5:
            out += b"data: [DONE]\n\n"
        elif kind == 6:
            out += b'event: error\ndata: {"error": {"message": "m", "code": 5}}\n\n'
        elif kind == 7:
            out += b": keep-alive\r\n\r\nevent: ping\ndata: {}\n\n"
        else:
            out += fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 32))
    return bytes(out)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    limit = LIMITS[fdp.ConsumeIntInRange(0, len(LIMITS) - 1)]
    cuts = [fdp.ConsumeIntInRange(0, 4096) for _ in range(fdp.ConsumeIntInRange(0, 12))]
    stream = _structured(fdp) if fdp.ConsumeBool() else fdp.ConsumeBytes(fdp.remaining_bytes())
    check_chunk_parser(stream, [c % (len(stream) + 1) for c in cuts], limit)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
