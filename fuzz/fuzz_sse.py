"""Coverage-guided fuzzing of the SSE decoder (``edgee.sse``) with atheris.

Run through ``make fuzz``, or by hand::

    python fuzz/fuzz_sse.py -runs=100000 -dict=fuzz/sse.dict fuzz/corpus/sse

The first bytes of each input choose the size limit and where the stream is cut
into feeds; the rest is the stream. ``stream_harness.check_sse_decoder`` asserts the
properties (documented errors only, same events for any split, equal to the
reference reading of the spec, bounded memory).
"""

from __future__ import annotations

import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

with atheris.instrument_imports(include=["edgee"]):
    from stream_harness import check_sse_decoder

    import edgee.sse  # noqa: F401  (every edgee module imported here is instrumented)

LIMITS = (1, 7, 64, 4096, 16 * 1024 * 1024)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    limit = LIMITS[fdp.ConsumeIntInRange(0, len(LIMITS) - 1)]
    cuts = [fdp.ConsumeIntInRange(0, 4096) for _ in range(fdp.ConsumeIntInRange(0, 12))]
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    check_sse_decoder(stream, [c % (len(stream) + 1) for c in cuts], limit)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
