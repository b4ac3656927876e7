"""Fixtures of the hardening suite: both clients over the loopback gateway, and gauges.

``make_client`` follows ``tests/clients/conftest.py``: each test runs against
``Edgee`` and, through a thin adapter that turns ``await x`` into
``loop.run_until_complete(x)``, against ``AsyncEdgee``, so a fault is checked
once for both clients. The gauges (open file descriptors, threads, resident
memory) are read from ``/proc`` for the leak and soak tests.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edgee import AsyncEdgee, Edgee
from edgee.testing import FakeGateway

# The fuzz harness (fuzz/stream_harness.py) is shared by atheris and these tests.
FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"
if str(FUZZ_DIR) not in sys.path:
    sys.path.insert(0, str(FUZZ_DIR))


def open_fds() -> int:
    """File descriptors open in this process (sockets included)."""
    return len(os.listdir("/proc/self/fd"))


def open_sockets() -> int:
    """Sockets open in this process."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:  # closed between listdir and readlink
            pass
    return count


def rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def thread_count() -> int:
    return threading.active_count()


class AdaptedStream:
    """An ``AsyncStream`` seen through the sync ``Stream`` API."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: Any) -> None:
        self._loop = loop
        self._stream = stream

    def __iter__(self) -> AdaptedStream:
        return self

    def __next__(self) -> Any:
        try:
            return self._loop.run_until_complete(self._stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def final_response(self) -> Any:
        return self._loop.run_until_complete(self._stream.final_response())

    @property
    def text_stream(self) -> Iterator[str]:
        agen = self._stream.text_stream
        while True:
            try:
                yield self._loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                return

    def close(self) -> None:
        self._loop.run_until_complete(self._stream.aclose())

    def __enter__(self) -> AdaptedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class AdaptedClient:
    """An ``AsyncEdgee`` seen through the sync ``Edgee`` API."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: AsyncEdgee) -> None:
        self._loop = loop
        self._client = client

    def send(self, *args: Any, **kwargs: Any) -> Any:
        result = self._loop.run_until_complete(self._client.send(*args, **kwargs))
        return AdaptedStream(self._loop, result) if kwargs.get("stream") else result

    def stream(self, *args: Any, **kwargs: Any) -> AdaptedStream:
        opener = self._client.stream(*args, **kwargs)
        return AdaptedStream(self._loop, self._loop.run_until_complete(_await(opener)))

    def with_options(self, **kwargs: Any) -> AdaptedClient:
        return AdaptedClient(self._loop, self._client.with_options(**kwargs))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.close())

    def __enter__(self) -> AdaptedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._client)

    def __str__(self) -> str:
        return str(self._client)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


async def _await(awaitable: Any) -> Any:
    return await awaitable


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway() as gw:
        yield gw


MakeClient = Callable[..., Any]


@pytest.fixture
def make_client(
    kind: str, loop: asyncio.AbstractEventLoop, gateway: FakeGateway
) -> Iterator[MakeClient]:
    """Build a client of the parametrized kind; by default pointed at the loopback gateway."""
    made: list[Any] = []

    def factory(*args: Any, **kwargs: Any) -> Any:
        if not args:
            kwargs.setdefault("api_key", gateway.api_key)
            kwargs.setdefault("base_url", gateway.url)
        kwargs.setdefault("max_retries", 0)
        if kind == "sync":
            client: Any = Edgee(*args, **kwargs)
        else:
            client = AdaptedClient(loop, AsyncEdgee(*args, **kwargs))
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> Any:
    return make_client()
