"""Fixtures shared by the suites: both clients over the loopback gateway.

``tests/clients/`` is one client test suite for both clients, and
``tests/hardening/`` checks every fault once for both. Every test receives
``make_client``, which builds an ``Edgee`` or, through a thin adapter, an
``AsyncEdgee`` driven by an event loop owned by the test.
The adapter only turns ``await x`` into ``loop.run_until_complete(x)``: the
tests are written once against the sync API and run unchanged on both.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edgee import AsyncEdgee, AsyncStream, Edgee
from edgee.testing import FakeGateway


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

    def events(self) -> Iterator[Any]:
        return self._iterate(self._stream.events())  # a refusal raises here, as in sync

    def _iterate(self, agen: Any) -> Iterator[Any]:
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


class AdaptedToolRun:
    """An ``AsyncToolRunStream`` seen through the sync ``ToolRunStream`` API."""

    def __init__(self, loop: asyncio.AbstractEventLoop, run: Any) -> None:
        self._loop = loop
        self._run = run

    def __iter__(self) -> Iterator[Any]:
        events = self._run.__aiter__()
        while True:
            try:
                yield self._loop.run_until_complete(events.__anext__())
            except StopAsyncIteration:
                return

    @property
    def result(self) -> Any:
        return self._run.result


class AdaptedClient:
    """An ``AsyncEdgee`` seen through the sync ``Edgee`` API."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: AsyncEdgee) -> None:
        self._loop = loop
        self._client = client

    def send(self, *args: Any, **kwargs: Any) -> Any:
        result = self._loop.run_until_complete(self._client.send(*args, **kwargs))
        return AdaptedStream(self._loop, result) if isinstance(result, AsyncStream) else result

    def stream(self, *args: Any, **kwargs: Any) -> AdaptedStream:
        opener = self._client.stream(*args, **kwargs)
        return AdaptedStream(self._loop, self._loop.run_until_complete(_await(opener)))

    def run_tools_stream(self, *args: Any, **kwargs: Any) -> AdaptedToolRun:
        return AdaptedToolRun(self._loop, self._client.run_tools_stream(*args, **kwargs))

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
        value = getattr(self._client, name)
        if inspect.iscoroutinefunction(value):
            # models(), count_tokens(), compress(), run_tools(): run them on the test's loop.
            def call(*args: Any, **kwargs: Any) -> Any:
                return self._loop.run_until_complete(value(*args, **kwargs))

            return call
        return value


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
