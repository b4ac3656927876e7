"""The tool runner's bookkeeping, shared by both clients.

The loop itself is three lines in each transport (send, execute, repeat);
everything else — the transcript, which calls to run with which arguments,
what text goes back to the model, summed usage, the iteration limit — is
decided here, without I/O, so the sync and async runners cannot disagree.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import attrs

from edgee._observe import RunObserver
from edgee.models import InputObject, Message, SendResponse, Tool, ToolCall, Usage
from edgee.tools import (
    FunctionTool,
    MaxIterationsError,
    ToolArgumentsError,
    ToolCallResult,
    ToolRunResult,
)

__all__ = ["Invocation", "ToolLoop", "ainvoke", "invoke"]

# Keys of an input dict/InputObject carried into every request of the run.
_CARRIED = ("tags", "tool_result_trimming", "tool_surface_reduction", "output_brevity")


@attrs.frozen
class Invocation:
    """A call to run: the tool and its checked keyword arguments, or why it cannot run."""

    call: ToolCall
    tool: FunctionTool | None
    kwargs: dict[str, Any]
    error: str | None = None


def output_text(value: Any) -> str:
    """What a tool returned, as the text the model reads."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=_jsonable, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if attrs.has(type(value)):
        return attrs.asdict(value)
    return str(value)


def error_text(exc: BaseException) -> str:
    """The text sent back to the model when a tool fails."""
    return f"Error: {type(exc).__name__}: {exc}"


class ToolLoop:
    """State of one ``run_tools()`` run."""

    def __init__(
        self,
        input: Any,
        tools: Sequence[FunctionTool],
        max_iterations: int,
        observer: RunObserver | None = None,
    ) -> None:
        if not isinstance(max_iterations, int) or max_iterations < 1:
            raise ValueError("max_iterations must be a positive integer")
        if not tools:
            raise ValueError("tools must name at least one @tool function")
        self.tools: dict[str, FunctionTool] = {}
        for i, t in enumerate(tools):
            if not isinstance(t, FunctionTool):
                raise TypeError(f"tools[{i}] must be a function decorated with @edgee.tools.tool")
            if t.name in self.tools:
                raise ValueError(f"two tools are named {t.name!r}")
            self.tools[t.name] = t
        self.max_iterations = max_iterations
        self.iterations = 0
        self.messages, self._carried, self._tool_choice = _split_input(input)
        self.results: list[ToolCallResult] = []
        self._usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        self._wire_tools: list[Tool] = [t.tool for t in self.tools.values()]
        # The run's spans (_observe.start_run), None when nothing observes it.
        self.observer = observer

    def observing(self) -> AbstractContextManager[None]:
        """Around a whole ``run_tools()``: its span current, ended by an escaping error."""
        return nullcontext() if self.observer is None else self.observer.observing()

    def current(self) -> AbstractContextManager[None]:
        """Around opening one stream of a streaming run: the run's span current."""
        return nullcontext() if self.observer is None else self.observer.current()

    def tool_started(self, step: Invocation) -> Any:
        """A call is about to run: its span (``None`` when not observed)."""
        return None if self.observer is None else self.observer.tool_started(step.call)

    def tool_finished(self, span: Any, output: Any, error: str | None) -> None:
        """The call of :meth:`tool_started` returned ``output`` or failed with ``error``."""
        if self.observer is not None:
            text = output_text(output) if error is None else None
            self.observer.tool_finished(span, text, error)

    def next_input(self) -> dict[str, Any]:
        """The input of the next request: the transcript so far and the tools."""
        data: dict[str, Any] = {"messages": list(self.messages), "tools": self._wire_tools}
        if self._tool_choice is not None and self.iterations == 0:
            data["tool_choice"] = self._tool_choice  # a forced choice applies to the first turn
        data.update(self._carried)
        return data

    def record(self, response: SendResponse) -> list[Invocation]:
        """Take one response; return the calls to run, in the model's order.

        An empty list means the run is over. Raises :class:`MaxIterationsError`
        when the model asks for more tools after the last allowed request.
        """
        self.iterations += 1
        usage = response.usage
        if usage is not None:
            for key in self._usage:
                self._usage[key] += getattr(usage, key) or 0
        calls = response.tool_calls or []
        message = response.message
        self.messages.append(
            Message.assistant(
                content=message.content if message is not None else None,
                tool_calls=list(calls) or None,
            )
        )
        if not calls:
            return []
        if self.iterations >= self.max_iterations:
            raise MaxIterationsError(self.max_iterations, self._result(response))
        return [self._prepare(call) for call in calls]

    def _prepare(self, call: ToolCall) -> Invocation:
        tool = self.tools.get(call.function.name)
        if tool is None:
            return Invocation(call, None, {}, f"Error: no tool named {call.function.name!r}")
        try:
            kwargs = tool.bind(call.function.arguments)
        except ToolArgumentsError as exc:
            return Invocation(call, tool, {}, f"Error: invalid arguments: {exc}")
        return Invocation(call, tool, kwargs)

    def complete(
        self, call: ToolCall, *, output: Any = None, error: str | None = None
    ) -> ToolCallResult:
        """Record what a call produced and add the tool message to the transcript."""
        text = error if error is not None else output_text(output)
        result = ToolCallResult(call=call, output=text, error=error)
        self.results.append(result)
        self.messages.append(Message.tool(call.id, text))
        return result

    def result(self, response: SendResponse) -> ToolRunResult:
        """The run's result, ending with ``response`` (the end of the run)."""
        result = self._result(response)
        if self.observer is not None:
            self.observer.finished(result)
        return result

    def _result(self, response: SendResponse) -> ToolRunResult:
        return ToolRunResult(
            response=response,
            messages=list(self.messages),
            usage=Usage(
                prompt_tokens=self._usage["prompt_tokens"],
                completion_tokens=self._usage["completion_tokens"],
                total_tokens=self._usage["total_tokens"],
            ),
            iterations=self.iterations,
            tool_results=list(self.results),
        )


def _split_input(input: Any) -> tuple[list[Message], dict[str, Any], Any]:
    """(transcript messages, keys carried into every request, tool_choice)."""
    if isinstance(input, str):
        return [Message.user(input)], {}, None
    if isinstance(input, InputObject):
        fields: Mapping[str, Any] = {
            k: getattr(input, k) for k in ("messages", "tool_choice", *_CARRIED)
        }
    elif isinstance(input, Mapping):
        if "messages" not in input:
            raise ValueError("input dict must have a 'messages' key")
        if input.get("tools"):
            raise ValueError("pass tools to run_tools(tools=...), not inside the input")
        fields = input
    elif isinstance(input, Sequence):
        fields = {"messages": input}
    else:
        raise TypeError("input must be a str, a list of messages, an InputObject or a dict")
    messages = [m if isinstance(m, Message) else Message.from_dict(m) for m in fields["messages"]]
    carried = {k: fields[k] for k in _CARRIED if fields.get(k) is not None}
    return messages, carried, fields.get("tool_choice")


Outcome = tuple[Any, "str | None"]


def invoke(invocation: Invocation) -> Outcome:
    """Run one call in the sync client: (value, None), or (None, error text) if it raised.

    An async tool is run to completion with ``asyncio.run``.
    """
    if invocation.tool is None or invocation.error is not None:
        return None, invocation.error
    try:
        value = invocation.tool.func(**invocation.kwargs)
        if inspect.isawaitable(value):
            value = asyncio.run(_awaited(value))
        return value, None
    except Exception as exc:  # a failing tool is reported to the model, not raised
        return None, error_text(exc)


async def ainvoke(invocation: Invocation) -> Outcome:
    """Run one call in the async client; a sync tool runs in a worker thread."""
    if invocation.tool is None or invocation.error is not None:
        return None, invocation.error
    try:
        if invocation.tool.is_async:
            value = await invocation.tool.func(**invocation.kwargs)
        else:
            value = await asyncio.to_thread(invocation.tool.func, **invocation.kwargs)
            if inspect.isawaitable(value):
                value = await value
        return value, None
    except Exception as exc:  # a failing tool is reported to the model, not raised
        return None, error_text(exc)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
