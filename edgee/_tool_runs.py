"""The streaming tool runs of both clients: ``run_tools_stream()``'s iterators.

Transport-free: each is given ``open_stream(input)`` (the client's
``stream(model, input, **options)``) and drives a :class:`~edgee._tool_loop.ToolLoop`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any

from edgee._tool_loop import Invocation, ToolLoop, ainvoke, invoke
from edgee.models import StreamChunk
from edgee.tools import ToolCallResult, ToolRunResult

__all__ = ["AsyncToolRunStream", "ToolRunStream", "run_steps", "run_steps_async"]


def run_steps(loop: ToolLoop, steps: list[Invocation]) -> list[ToolCallResult]:
    """Run one turn's calls one after the other; record their results."""
    results = []
    for step in steps:
        span = loop.tool_started(step)
        value, error = invoke(step)
        loop.tool_finished(span, value, error)
        results.append(loop.complete(step.call, output=value, error=error))
    return results


async def run_steps_async(loop: ToolLoop, steps: list[Invocation]) -> list[ToolCallResult]:
    """Run one turn's calls concurrently; record their results in the model's order."""
    outcomes = await asyncio.gather(*(_ainvoke(loop, step) for step in steps))
    return [
        loop.complete(step.call, output=value, error=error)
        for step, (value, error) in zip(steps, outcomes, strict=True)
    ]


async def _ainvoke(loop: ToolLoop, step: Invocation) -> tuple[Any, str | None]:
    span = loop.tool_started(step)
    value, error = await ainvoke(step)
    loop.tool_finished(span, value, error)
    return value, error


class ToolRunStream:
    """The events of a streaming tool run; iterate it, then read :attr:`result`."""

    def __init__(self, open_stream: Callable[[Any], Any], loop: ToolLoop) -> None:
        self.result: ToolRunResult | None = None
        self._events = self._run(open_stream, loop)
        if loop.observer is not None:
            self._events = loop.observer.events(self._events)

    def __iter__(self) -> Iterator[StreamChunk | ToolCallResult]:
        return self._events

    def _run(
        self, open_stream: Callable[[Any], Any], loop: ToolLoop
    ) -> Generator[StreamChunk | ToolCallResult, None, None]:
        while True:
            with loop.current():  # the run's span is the parent of the call's
                opened = open_stream(loop.next_input())
            with opened as stream:
                yield from stream
                response = stream.final_response()
            steps = loop.record(response)
            if not steps:
                self.result = loop.result(response)
                return
            yield from run_steps(loop, steps)


class AsyncToolRunStream:
    """The events of a streaming tool run; ``async for`` it, then read :attr:`result`."""

    def __init__(self, open_stream: Callable[[Any], Any], loop: ToolLoop) -> None:
        self.result: ToolRunResult | None = None
        self._events = self._run(open_stream, loop)
        if loop.observer is not None:
            self._events = loop.observer.events_async(self._events)

    def __aiter__(self) -> AsyncIterator[StreamChunk | ToolCallResult]:
        return self._events

    async def _run(
        self, open_stream: Callable[[Any], Any], loop: ToolLoop
    ) -> AsyncGenerator[StreamChunk | ToolCallResult, None]:
        while True:
            with loop.current():  # the run's span is the parent of the call's
                opened = await open_stream(loop.next_input())
            async with opened as stream:
                async for chunk in stream:
                    yield chunk
                response = await stream.final_response()
            steps = loop.record(response)
            if not steps:
                self.result = loop.result(response)
                return
            for result in await run_steps_async(loop, steps):
                yield result
