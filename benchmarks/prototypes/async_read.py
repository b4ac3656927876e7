"""Prototype: the cheapest way to read a chunked stream with aiohttp, per event.

Reads the benchmark server's streams through each candidate read path, with
the raw floor's split + ``json.loads`` or with no parser (bytes only), and
prints CPU microseconds per chunk, medians of interleaved rounds. Every path
runs with ``sock_read`` off and on (the SDK's idle read timeout, which aiohttp
implements by cancelling and re-arming a loop timer on every socket read):

* ``read(16384)``: what the SDK does today;
* ``readany()``: the raw floor;
* ``iter_any()``: ``async for data in content.iter_any()``;
* ``buffer drain``: await the reader's own wake-up (``_wait``), then take
  everything buffered in one ``b"".join(_buffer)`` (private: ``_buffer``,
  ``_size``, ``_cursor``, ``_http_chunk_splits``, ``_protocol``);
* ``watchdog``: ``readany()`` with ``sock_read`` off and the idle timeout kept
  by one loop timer per stream that looks at ``content.total_bytes`` every
  timeout/4 (no per-read timer work; an idle stream is detected within
  1.0-1.25 times the timeout).

``python benchmarks/prototypes/async_read.py [--chunks N] [--rounds R] [--framing F]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import aiohttp  # noqa: E402
from _clients import _body, _headers, _SplitReader, model  # noqa: E402
from _harness import Server  # noqa: E402

from edgee._streaming import DONE, NEED_DATA, ChunkParser  # noqa: E402

READ_TIMEOUT = 300.0


async def _read(content: Any) -> AsyncIterator[bytes]:
    read = content.read
    while data := await read(16384):
        yield data


async def _readany(content: Any) -> AsyncIterator[bytes]:
    readany = content.readany
    while data := await readany():
        yield data


async def _iter_any(content: Any) -> AsyncIterator[bytes]:
    async for data in content.iter_any():
        yield data


async def _drain(content: Any) -> AsyncIterator[bytes]:
    buffer = content._buffer
    protocol = content._protocol
    while True:
        if not buffer:
            if content._eof:
                return
            await content._wait("drain")
            continue
        if content._buffer_offset:
            return  # someone read part of a chunk: not handled by the prototype
        data = buffer[0] if len(buffer) == 1 else b"".join(buffer)
        buffer.clear()
        content._size = 0
        content._cursor += len(data)
        splits = content._http_chunk_splits
        if splits:
            splits.clear()
        protocol.resume_reading()
        yield data


class Watchdog:
    """The idle (read) timeout without per-read work: one timer, re-armed every timeout/4."""

    __slots__ = ("content", "handle", "last", "loop", "response", "seen", "step", "timeout")

    def __init__(self, response: Any, timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.response = response
        self.content = response.content
        self.timeout = timeout
        self.step = timeout / 4
        self.seen = self.content.total_bytes
        self.last = self.loop.time()
        self.handle = self.loop.call_later(self.step, self.check)

    def check(self) -> None:
        now = self.loop.time()
        total = self.content.total_bytes
        if total != self.seen:
            self.seen, self.last = total, now
        elif now - self.last >= self.timeout:
            self.content.set_exception(TimeoutError("read timeout"))
            return
        self.handle = self.loop.call_later(self.step, self.check)

    def cancel(self) -> None:
        self.handle.cancel()


MODES = ("none", "split", "sdk")

PATHS: dict[str, Callable[[Any], AsyncIterator[bytes]]] = {
    "read(16384)": _read,
    "readany()": _readany,
    "iter_any()": _iter_any,
    "buffer drain": _drain,
    "watchdog + readany()": _readany,
}


async def read_stream(
    sessions: dict[bool, aiohttp.ClientSession],
    url: str,
    path: str,
    timed: bool,
    n: int,
    framing: str,
    parse: str,
) -> tuple[int, int]:
    session = sessions[timed and path != "watchdog + readany()"]
    async with session.post(
        url, data=_body(model(n, framing), True), headers=_headers(True)
    ) as response:
        watchdog = Watchdog(response, READ_TIMEOUT) if path.startswith("watchdog") else None
        try:
            pieces = PATHS[path](response.content)
            if parse == "split":
                reader = _SplitReader()
                feed = reader.feed
                async for data in pieces:
                    feed(data)
                return reader.chunks, reader.chars
            if parse == "sdk":
                parser = ChunkParser()  # it folds every chunk into its own accumulator
                next_event, receive = parser.next_event, parser.receive_data
                count = 0
                async for data in pieces:
                    receive(data)
                    while (event := next_event()) is not NEED_DATA and event is not DONE:
                        count += 1
                return count, 0
            total = 0
            async for data in pieces:
                total += len(data)
            return n, total
        finally:
            if watchdog is not None:
                watchdog.cancel()


async def main_async(args: argparse.Namespace, base_url: str) -> None:
    url = base_url + "/v1/chat/completions"
    sessions = {
        False: aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)),
        True: aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_read=READ_TIMEOUT)
        ),
    }
    variants = [(path, timed) for path in PATHS for timed in (False, True)]
    variants = [(p, t) for p, t in variants if not (p.startswith("watchdog") and not t)]
    cpu: dict[tuple[str, bool, str], list[float]] = {}
    for round_ in range(args.rounds + 1):
        for parse in MODES:
            for path, timed in variants:
                gc.collect()
                c0 = time.process_time()
                chunks, _ = await read_stream(
                    sessions, url, path, timed, args.chunks, args.framing, parse
                )
                c1 = time.process_time()
                assert chunks == args.chunks, (path, chunks)
                if round_:
                    cpu.setdefault((path, timed, parse), []).append((c1 - c0) / args.chunks * 1e6)
    for session in sessions.values():
        await session.close()
    print(f"{args.chunks:,} chunks, {args.framing} framing, {args.rounds} rounds")
    print(
        f"  {'read path':22} {'idle timeout':>12} {'bytes only':>10} {'+ split/json':>13} "
        f"{'+ SDK parser':>13}   (range of + split/json)"
    )
    for path, timed in variants:
        cells = [statistics.median(cpu[(path, timed, mode)]) for mode in MODES]
        parsed = cpu[(path, timed, "split")]
        print(
            f"  {path:22} {'on' if timed else 'off':>12} {cells[0]:10.2f} {cells[1]:13.2f} "
            f"{cells[2]:13.2f}   ({min(parsed):.2f}-{max(parsed):.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--framing", default="event")
    args = parser.parse_args()
    server = Server()
    try:
        asyncio.run(main_async(args, server.base_url))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
