"""Profile the SDK's per-read path on one-HTTP-chunk-per-event streams (cProfile).

``python benchmarks/prototypes/profile_read.py [sync|async] [--chunks N] [--framing F]``
reads one warm-up stream, then one stream under cProfile, and prints the
functions that cost most (own time), with calls per chunk and microseconds per
chunk. cProfile adds its own cost to every Python call (about 0.1-0.3 us), so
the absolute figures are inflated; use them to see which layers run per read
and how often, and the differential timings of ``sync_read.py`` /
``async_read.py`` for the budget itself.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _clients import EdgeeAsync, EdgeeSync  # noqa: E402
from _harness import Server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("side", choices=("sync", "async"))
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--framing", default="event")
    parser.add_argument("--top", type=int, default=28)
    args = parser.parse_args()
    server = Server()
    # CPU time, not wall: waiting for the server is not a cost of the client.
    profile = cProfile.Profile(time.process_time)
    try:
        if args.side == "sync":
            reader = EdgeeSync(server.base_url)
            reader.stream(500, args.framing)
            profile.enable()
            reader.stream(args.chunks, args.framing)
            profile.disable()
            reader.close()
        else:

            async def go() -> None:
                reader = EdgeeAsync(server.base_url)
                await reader.stream(500, args.framing)
                profile.enable()
                await reader.stream(args.chunks, args.framing)
                profile.disable()
                await reader.close()

            asyncio.run(go())
    finally:
        server.stop()
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    n = args.chunks
    print(
        f"{args.side}, {n:,} chunks, {args.framing} framing: {total / n * 1e6:.2f} us/chunk "
        "under cProfile"
    )
    print(f"  {'own us/chunk':>12} {'calls/chunk':>11}  function")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    for (file, line, name), (_cc, calls, tt, _ct, _callers) in rows[: args.top]:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        print(f"  {tt / n * 1e6:12.3f} {calls / n:11.2f}  {name}  ({where})")


if __name__ == "__main__":
    main()
