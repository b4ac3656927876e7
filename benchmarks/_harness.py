"""The pieces every section shares: settings, the server process, the runner.

The :class:`Runner` holds one reader of every in-process kind (``_clients.py``)
for the whole run, so pooled connections stay warm; async readers live in one
event loop.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _clients import ASYNC_READERS, SYNC_READERS
from _wire import text_length

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    quick: bool
    rounds: int  # rounds of the stream CPU, send and concurrency figures
    stream_chunks: int = 20_000  # event, packed and length framings
    paced_chunks: int = 3_000  # events PACE_S apart: about 3 s a stream
    ttfc_samples: int = 30
    ttfc_chunks: int = 20
    sends: int = 200
    concurrent_streams: int = 200
    concurrent_chunks: int = 200
    import_runs: int = 11
    rss_chunks: int = 200_000
    connection_calls: int = 20
    peers: bool = True  # openai and the official edgee, venvs made on demand

    @classmethod
    def make(cls, quick: bool) -> Settings:
        if quick:
            return cls(
                quick=True,
                rounds=2,
                stream_chunks=5_000,
                paced_chunks=300,
                ttfc_samples=15,
                sends=100,
                import_runs=5,
                connection_calls=10,
                concurrent_chunks=100,
                rss_chunks=50_000,
                peers=False,
            )
        return cls(quick=False, rounds=5)


class Server:
    """``server.py`` in a subprocess; it exits when our end of its stdin closes."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.base_url = f"http://127.0.0.1:{int(line.split()[1])}"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + "/stats") as response:
            stats: dict[str, Any] = json.loads(response.read())
            return stats

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def check_stream(result: tuple[int, int], chunks: int, who: str) -> None:
    expected = (chunks, text_length(chunks))
    if tuple(result) != expected:
        raise AssertionError(f"{who}: got (chunks, characters) {result}, expected {expected}")


class Runner:
    """Both kinds of reader in one process; async ones live in one event loop."""

    def __init__(self, server: Server, settings: Settings) -> None:
        self.server = server
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.sync = {k: make(server.base_url) for k, make in SYNC_READERS.items()}
        self.asyncs = {
            k: self.run(self._make_async(make, server.base_url))
            for k, make in ASYNC_READERS.items()
        }

    @staticmethod
    async def _make_async(make: Callable[..., Any], base_url: str, limit: int = 100) -> Any:
        return make(base_url, limit)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def readers(
        self, kinds: tuple[str, ...] = ("floor", "edgee")
    ) -> list[tuple[str, str, Any, bool]]:
        """(label, kind, reader, is_async) of the given kinds, sync first, floors first."""
        return [
            *(("sync", kind, self.sync[kind], False) for kind in kinds),
            *(("async", kind, self.asyncs[kind], True) for kind in kinds),
        ]

    def close(self) -> None:
        for reader in self.sync.values():
            reader.close()
        for reader in self.asyncs.values():
            self.run(reader.close())
        self.loop.close()
