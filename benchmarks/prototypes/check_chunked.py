"""Self-check of ``chunked.ChunkedDecoder``: random bodies, chunkings and cuts; bad framings.

``python benchmarks/prototypes/check_chunked.py`` (prints ``ok``). Phase 2 turns this into
hypothesis tests next to the decoder's real home.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from edgee._chunked import ChunkedDecoder, ChunkedError


def main() -> None:
    rng = random.Random(1)
    for trial in range(5000):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        pieces, i = [], 0
        while i < len(body):
            k = rng.randrange(1, 50)
            pieces.append(body[i : i + k])
            i += k
        wire = b"".join(
            b"%x%s\r\n%s\r\n" % (len(p), rng.choice([b"", b";ext=1", b" ; a=b"]), p) for p in pieces
        )
        wire += b"0\r\n" + rng.choice([b"", b"X-Trailer: 1\r\n"]) + b"\r\n"
        decoder, out, j = ChunkedDecoder(), [], 0
        while j < len(wire):
            k = rng.randrange(1, 40)
            out.append(decoder.feed(wire[j : j + k]))
            j += k
        assert b"".join(out) == body, trial
        assert decoder.done and decoder.extra == b"", trial
    for bad in (
        b"0x5\r\nhello\r\n",
        b"+5\r\nhello\r\n",
        b" 5\r\nhello\r\n",
        b"1_0\r\n",
        b"5\r\nhelloXX",
        b"g\r\n",
        b"-1\r\nx\r\n",
        b"f" * 5000,
    ):
        try:
            ChunkedDecoder().feed(bad)
        except ChunkedError:
            continue
        raise AssertionError(f"accepted {bad[:20]!r}")
    print("ok")


if __name__ == "__main__":
    main()
