"""Typed stream events, computed from chunks by a sans-IO builder.

``stream.events()`` on both clients yields these small attrs objects as the
chunks arrive; :class:`EventBuilder` turns each :class:`StreamChunk` into them,
once for both clients. It builds on the stream's :class:`StreamAccumulator`:
the accumulator folds every chunk (the clients do that whether or not events
are asked for) and gives the live snapshot, the response so far; the builder
only looks at what each chunk adds. Nothing here runs unless ``events()`` is
used, so plain iteration pays nothing for it.

The events, per choice (``choice`` is its index):

* :class:`TextDelta` for each piece of text, with the text so far
  (``snapshot``) and, when the stream has a ``response_format``, ``partial``:
  the best-effort value of the JSON so far (``T`` once it fits, else a dict;
  see :mod:`edgee._partial_json` for how cut values read);
* :class:`RefusalDelta` likewise for a refusal;
* :class:`ToolCallArgumentsDelta` for each piece of a tool call's arguments,
  with the call's ``index``, ``name``, and the ``arguments`` so far;
* when the choice finishes (its ``finish_reason`` arrives, or the stream ends):
  :class:`TextDone`, :class:`RefusalDone`, and one :class:`ToolCallDone` per
  call, in order, with the whole call and its arguments read (by the
  ``@tool`` signature when the call names one of the stream's tools). Calls
  are done only then, because parallel calls may interleave their pieces;
* :class:`UsageEvent` when a chunk carries usage;
* :class:`Done` last, with the whole response (a :class:`ParsedResponse`
  with ``parsed`` when there is a ``response_format``).

Events are slotted attrs classes (mutable ones: a frozen class costs three
times as much to make, once per chunk); the builder never changes an event
after returning it. Incomplete JSON never raises mid-stream. At the end, a structured answer that
was cut by the token limit or does not fit ``T`` raises as ``parse()`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import attrs

from edgee._partial_json import PartialJSON, parse_partial_json
from edgee._streaming import StreamAccumulator, tool_call_key
from edgee._structured import ParsedResponse, StructuredFormat, parse_response, parse_tool_call
from edgee.models import FunctionCall, SendResponse, StreamChunk, ToolCall, Usage

__all__ = [
    "Done",
    "EventBuilder",
    "RefusalDelta",
    "RefusalDone",
    "StreamEvent",
    "TextDelta",
    "TextDone",
    "ToolCallArgumentsDelta",
    "ToolCallDone",
    "UsageEvent",
]


class _LiveText:
    """Text of one stream part; cheap to extend, read back at any earlier length.

    Events hold it with the length at their moment, so the text so far is only
    joined when someone reads it.
    """

    __slots__ = ("_joined", "_pending", "length")

    def __init__(self) -> None:
        self._joined = ""
        self._pending: list[str] = []
        self.length = 0

    def add(self, piece: str) -> None:
        pending = self._pending
        pending.append(piece)
        self.length += len(piece)
        if len(pending) >= 256:  # a str per piece costs ~60 bytes; keep memory with the text
            self._joined += "".join(pending)
            self._pending = []

    def upto(self, length: int) -> str:
        if len(self._joined) < length:
            self._joined += "".join(self._pending)
            self._pending = []
        joined = self._joined
        return joined if len(joined) == length else joined[:length]


def _so_far(source: _LiveText, length: int) -> str:
    return source.upto(length)


class _LiveJSON:
    """The best-effort JSON value of a :class:`_LiveText`, worked out only when asked.

    Asked at the newest length (an event read as it arrives), the incremental
    parser catches up on the new text only; asked for an older length, the
    text up to there is parsed afresh. Nothing is scanned unless asked.
    """

    __slots__ = ("format", "parser", "source")

    def __init__(self, source: _LiveText, format: StructuredFormat[Any] | None) -> None:
        self.source = source
        self.format = format
        self.parser = PartialJSON()

    def at(self, length: int) -> Any:
        parser = self.parser
        if parser.length <= length:
            if parser.length < length:
                parser.feed(self.source.upto(length)[parser.length :])
            value = parser.value()
        else:
            value = parse_partial_json(self.source.upto(length))
        return value if self.format is None else self.format.partial(value)


_UNSET: Any = object()


@attrs.define
class TextDelta:
    """A piece of a choice's text; ``snapshot`` is the text so far (this piece included).

    ``partial`` (with a ``response_format`` only, else ``None``) is the
    best-effort value of the JSON so far: ``T`` once it fits, else a dict,
    ``None`` before any value (see :mod:`edgee._partial_json`). It is worked
    out when first read, so a stream whose partials nobody reads pays nothing.
    """

    type: ClassVar[str] = "text.delta"
    delta: str
    choice: int = 0
    _source: _LiveText = attrs.field(factory=_LiveText, repr=False, eq=False, alias="source")
    _length: int = attrs.field(default=0, repr=False, eq=False, alias="length")
    _json: _LiveJSON | None = attrs.field(default=None, repr=False, eq=False, alias="json")
    _partial: Any = attrs.field(default=_UNSET, init=False, repr=False, eq=False)

    @property
    def snapshot(self) -> str:
        """The choice's text up to and including this piece."""
        return _so_far(self._source, self._length)

    @property
    def partial(self) -> Any:
        """The best-effort value of :attr:`snapshot` as ``T`` or a dict (never raises)."""
        if self._json is None:
            return None
        if self._partial is _UNSET:
            self._partial = self._json.at(self._length)
        return self._partial


@attrs.define
class TextDone:
    """A choice's text is complete."""

    type: ClassVar[str] = "text.done"
    text: str
    choice: int = 0


@attrs.define
class RefusalDelta:
    """A piece of a choice's refusal; ``snapshot`` is the refusal so far."""

    type: ClassVar[str] = "refusal.delta"
    delta: str
    choice: int = 0
    _source: _LiveText = attrs.field(factory=_LiveText, repr=False, eq=False, alias="source")
    _length: int = attrs.field(default=0, repr=False, eq=False, alias="length")

    @property
    def snapshot(self) -> str:
        """The refusal up to and including this piece."""
        return _so_far(self._source, self._length)


@attrs.define
class RefusalDone:
    """A choice's refusal is complete."""

    type: ClassVar[str] = "refusal.done"
    refusal: str
    choice: int = 0


@attrs.define
class ToolCallArgumentsDelta:
    """A piece of a tool call's JSON arguments.

    ``index`` is the call's position in the choice's ``tool_calls`` (the wire
    index when the provider numbers calls 0, 1, ...), ``id`` and ``name`` are
    the call's (``None`` until a fragment carried them), ``arguments`` is the
    text so far and ``partial_arguments`` its best-effort value (a dict).
    """

    type: ClassVar[str] = "tool_call.arguments.delta"
    index: int
    name: str | None
    delta: str
    id: str | None = None
    choice: int = 0
    _source: _LiveText = attrs.field(factory=_LiveText, repr=False, eq=False, alias="source")
    _length: int = attrs.field(default=0, repr=False, eq=False, alias="length")
    _json: _LiveJSON | None = attrs.field(default=None, repr=False, eq=False, alias="json")

    @property
    def arguments(self) -> str:
        """The call's arguments text up to and including this piece."""
        return _so_far(self._source, self._length)

    @property
    def partial_arguments(self) -> Any:
        """The best-effort value of :attr:`arguments` (worked out when read; never raises)."""
        if self._json is None:
            return parse_partial_json(self.arguments)
        return self._json.at(self._length)


@attrs.define
class ToolCallDone:
    """A tool call is complete: the whole ``call``, and its arguments read.

    ``parsed_arguments`` is :meth:`FunctionTool.bind`'s result when the call
    names one of the stream's ``@tool`` functions, else the decoded JSON
    object; ``None`` when they do not fit, and ``arguments_error`` says why.
    """

    type: ClassVar[str] = "tool_call.done"
    index: int
    call: ToolCall
    parsed_arguments: dict[str, Any] | None = None
    arguments_error: str | None = None
    choice: int = 0


@attrs.define
class UsageEvent:
    """Token usage, from the chunk that carried it (usually the last)."""

    type: ClassVar[str] = "usage"
    usage: Usage


@attrs.define
class Done:
    """The stream is complete: the whole ``response``, and ``parsed`` with a ``response_format``.

    ``response`` is a :class:`ParsedResponse` when the stream had a
    ``response_format`` or tools, else the plain :class:`SendResponse`.
    """

    type: ClassVar[str] = "done"
    response: SendResponse
    parsed: Any = None


StreamEvent = (
    TextDelta
    | TextDone
    | RefusalDelta
    | RefusalDone
    | ToolCallArgumentsDelta
    | ToolCallDone
    | UsageEvent
    | Done
)


class _Call:
    __slots__ = ("arguments", "id", "json", "name", "position", "type")

    def __init__(self, position: int) -> None:
        self.position = position
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments = _LiveText()
        self.json = _LiveJSON(self.arguments, None)


class _Choice:
    __slots__ = ("calls", "done", "json", "latest", "refusal", "text")

    def __init__(self, format: StructuredFormat[Any] | None) -> None:
        self.text = _LiveText()
        self.refusal = _LiveText()
        self.json = _LiveJSON(self.text, format) if format is not None else None
        self.calls: dict[object, Any] = {}
        self.latest: dict[int, object] = {}
        self.done = False


class EventBuilder:
    """Turns a stream's chunks into :data:`StreamEvent` objects; sans-IO.

    ``accumulator`` is the stream's :class:`StreamAccumulator`, which the
    caller keeps feeding (``accumulator.add(chunk)`` before ``feed(chunk)``);
    without one the builder makes its own and adds each chunk itself.
    ``format`` (a :class:`StructuredFormat`) turns on partial values and the
    final parse; ``tools`` are the ``@tool`` functions whose calls get their
    arguments bound.

    ``feed(chunk)`` returns the chunk's events; ``finish()`` the closing ones
    (done events of unfinished choices, then :class:`Done`). ``snapshot`` is
    the response so far.
    """

    __slots__ = ("_accumulator", "_adds", "_choices", "_finished", "_format", "_tools")

    def __init__(
        self,
        accumulator: StreamAccumulator | None = None,
        *,
        format: StructuredFormat[Any] | None = None,
        tools: Iterable[Any] = (),
    ) -> None:
        self._adds = accumulator is None
        self._accumulator = accumulator if accumulator is not None else StreamAccumulator()
        self._format = format
        self._tools = list(tools)
        self._choices: dict[int, _Choice] = {}
        self._finished = False

    @property
    def snapshot(self) -> SendResponse:
        """The response so far (the accumulator's), at any point of the stream."""
        return self._accumulator.response()

    def feed(self, chunk: StreamChunk) -> list[StreamEvent]:
        """The events one chunk makes."""
        if self._adds:
            self._accumulator.add(chunk)
        events: list[StreamEvent] = []
        for choice in chunk.choices:
            number = choice.index
            state = self._choices.get(number)
            if state is None:
                state = self._choices[number] = _Choice(self._format)
            delta = choice.delta
            if delta is not None:
                content = delta.content
                if content:
                    text = state.text
                    text.add(content)
                    events.append(TextDelta(content, number, text, text.length, state.json))
                if delta.refusal:
                    refusal = state.refusal
                    refusal.add(delta.refusal)
                    events.append(RefusalDelta(delta.refusal, number, refusal, refusal.length))
                if delta.tool_calls:
                    for fragment in delta.tool_calls:
                        event = self._fragment(state, number, fragment)
                        if event is not None:
                            events.append(event)
            if choice.finish_reason is not None and not state.done:
                self._choice_done(number, state, events)
        if chunk.usage is not None:
            events.append(UsageEvent(chunk.usage))
        return events

    def _fragment(self, state: _Choice, number: int, fragment: Any) -> StreamEvent | None:
        key = tool_call_key(state.calls, state.latest, fragment)  # the accumulator's rule
        call = state.calls.get(key)
        if call is None:
            call = state.calls[key] = _Call(len(state.calls))
        if fragment.id and call.id is None:
            call.id = fragment.id
        if fragment.type and call.type is None:
            call.type = fragment.type
        fn = fragment.function
        if fn is None:
            return None
        if fn.name and call.name is None:
            call.name = fn.name
        if not fn.arguments:
            return None
        arguments = call.arguments
        arguments.add(fn.arguments)
        return ToolCallArgumentsDelta(
            call.position,
            call.name,
            fn.arguments,
            call.id,
            number,
            arguments,
            arguments.length,
            call.json,
        )

    def _choice_done(self, number: int, state: _Choice, events: list[StreamEvent]) -> None:
        state.done = True
        if state.text.length:
            events.append(TextDone(state.text.upto(state.text.length), number))
        if state.refusal.length:
            events.append(RefusalDone(state.refusal.upto(state.refusal.length), number))
        for call in state.calls.values():
            whole = ToolCall(
                id=call.id or "",
                type=call.type or "function",
                function=FunctionCall(
                    name=call.name or "", arguments=call.arguments.upto(call.arguments.length)
                ),
            )
            parsed, error = parse_tool_call(whole, self._tools)
            events.append(ToolCallDone(call.position, whole, parsed, error, number))

    def finish(self, response: SendResponse | None = None) -> Iterator[StreamEvent]:
        """The closing events, once the stream has ended (a second call yields none).

        ``response`` is the whole response as the client returns it (with its
        headers); by default the accumulator's. With a ``response_format`` it is
        parsed as ``parse()`` does: the done events of the choices come first,
        then the error, if any, is raised instead of :class:`Done`.
        """
        if self._finished:
            return
        self._finished = True
        events: list[StreamEvent] = []
        for number in sorted(self._choices):
            state = self._choices[number]
            if not state.done:
                self._choice_done(number, state, events)
        yield from events
        whole = response if response is not None else self._accumulator.response()
        if self._format is not None or self._tools:
            parsed: ParsedResponse[Any] = parse_response(whole, self._format, tools=self._tools)
            yield Done(parsed, parsed.parsed)
        else:
            yield Done(whole)
