"""From server-sent events to chunks, and from chunks to one response.

Sans-IO, shared by both transports:

* :class:`ChunkParser` is the per-stream pull parser. Bytes go in
  (through :class:`~edgee.sse.SSEDecoder`); :class:`StreamChunk` objects,
  :data:`NEED_DATA` or :data:`DONE` come out; an error event, a payload that is
  not a chunk, or an end of input that comes too early raise the matching
  :class:`StreamError`.
* :class:`StreamAccumulator` folds chunks into the :class:`SendResponse` that
  ``final_response()`` returns.

This is the per-chunk hot path: one JSON parse and one structure call per
event, nothing else that allocates.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from edgee._content_coding import Decoder, decoder_for
from edgee._convert import converter
from edgee._error_mapping import stream_error_from_payload
from edgee._framing import total_timeout
from edgee._observe import AsyncObservedChunks, CallObserver, ObservedChunks
from edgee._response import attach_headers, chunk_from_completion, stream_fallback
from edgee.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ChunkDecodeError,
    ClientStateError,
    IncompleteStreamError,
    StreamAPIError,
    StreamError,
)
from edgee.models import (
    Choice,
    FunctionCall,
    ResponseMessage,
    Role,
    SendResponse,
    StreamChunk,
    ToolCall,
)
from edgee.sse import ServerSentEvent, SSEDecoder

if TYPE_CHECKING:  # _events and _structured import this module: only names for the checker
    from edgee._attempts import Deliver
    from edgee._events import EventBuilder, StreamEvent
    from edgee._structured import CallPlan, StructuredFormat

__all__ = [
    "DONE",
    "DRAIN_LIMIT",
    "NEED_DATA",
    "READ_SIZE",
    "ChunkParser",
    "StreamAccumulator",
    "StreamState",
    "StreamView",
    "tool_call_key",
]

# Bytes a transport asks of the body per read (both return as soon as any arrive).
# 16 KiB (about 65 chunks) keeps the chunks parsed per read, and so the objects
# alive at once, few: larger reads cost more CPU per chunk (benchmarks/).
READ_SIZE = 16 * 1024
# The drain policy: after [DONE], read at most this much to reach the end of the
# body so the connection can go back to the pool; a longer tail means close it.
DRAIN_LIMIT = 64 * 1024

_DONE_DATA = "[DONE]"

_structure_chunk = converter.get_structure_hook(StreamChunk)
_loads = json.loads
# The C scanner behind json.loads, called directly: json.loads adds two regex
# matches and two Python frames, about 40% of its time on a chunk-sized text.
# Whatever the scanner does not parse whole (leading or trailing whitespace,
# garbage) goes through json.loads, which gives the same value or error.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


class _Marker:
    """A named singleton handed out by :meth:`ChunkParser.next_event`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: :meth:`ChunkParser.next_event`: give :meth:`ChunkParser.receive_data` more bytes.
NEED_DATA = _Marker("NEED_DATA")
#: :meth:`ChunkParser.next_event`: the stream is complete; the rest of the body is not needed.
DONE = _Marker("DONE")


class _State:
    """What a :class:`ChunkParser` knows; its event generator holds this, not the parser.

    So the parser and its generator form no reference cycle: a stream dropped
    after ``break`` frees its buffers at once, by reference counting.
    """

    __slots__ = (
        "accumulator",
        "chunks_received",
        "decoder",
        "done",
        "ended",
        "error",
        "events",
        "lost",
        "request_id",
    )

    def __init__(
        self, decoder: SSEDecoder, request_id: str | None, accumulator: StreamAccumulator
    ) -> None:
        self.decoder = decoder
        self.accumulator = accumulator
        self.request_id = request_id
        self.events: Sequence[ServerSentEvent | str] = ()  # decoded, not yet interpreted
        self.ended = False  # end of input, or connection lost
        self.lost: BaseException | None = None  # why the connection was lost
        self.error: StreamError | None = None  # to raise once the events before it are out
        self.done = False
        self.chunks_received = 0


class ChunkParser:
    """The pull parser of one chat-completions stream (sans-IO, like h11's connection).

    Bytes go in, events come out:

    * :meth:`receive_data` takes the next piece of the body; ``b""`` means the
      body ended. :meth:`connection_lost` says the connection failed instead.
    * :meth:`next_event` returns the next :class:`StreamChunk`, or
      :data:`NEED_DATA` (feed more bytes), or :data:`DONE` (``[DONE]`` arrived,
      or the body ended with every choice finished), or raises the
      :class:`StreamError` the stream met: an error event, a payload that is
      not a chunk, an event over the size limit, an end before ``[DONE]``.

    Errors met by :meth:`receive_data` are held back until the chunks decoded
    before them have been taken, so no chunk is lost and every split of the
    bytes gives the same chunks, then the same error. An error is sticky:
    every later :meth:`next_event` raises it again. A transport's read loop
    is only "next_event; on NEED_DATA read and receive" (see ``_sync.py``).

    Every chunk handed out is folded into :attr:`accumulator` (the
    :class:`StreamAccumulator` given, or one of its own) before it comes out:
    that is also how the parser knows whether every choice has finished. The
    per-chunk work (one JSON scan, one structure call, one fold) runs inside
    :meth:`next_event`, which is a generator's ``__next__``: one resume per
    chunk, nothing else.
    """

    __slots__ = ("__weakref__", "_state", "next_event")

    def __init__(
        self,
        *,
        request_id: str | None = None,
        max_event_bytes: int | None = None,
        accumulator: StreamAccumulator | None = None,
    ) -> None:
        decoder = (
            SSEDecoder() if max_event_bytes is None else SSEDecoder(max_event_bytes=max_event_bytes)
        )
        if accumulator is None:
            accumulator = StreamAccumulator()
        self._state = state = _State(decoder, request_id, accumulator)
        self.next_event: Callable[[], StreamChunk | _Marker] = _events(
            state, weakref.ref(self)
        ).__next__

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` every error of this stream carries."""
        return self._state.request_id

    @property
    def accumulator(self) -> StreamAccumulator:
        """Every chunk handed out so far, folded (see :class:`StreamAccumulator`)."""
        return self._state.accumulator

    @property
    def decoder(self) -> SSEDecoder:
        """The stream's SSE decoder, for inspection (its buffers, ``last_event_id``)."""
        return self._state.decoder

    @property
    def done(self) -> bool:
        """``[DONE]`` arrived: later input is ignored."""
        return self._state.done

    @property
    def chunks_received(self) -> int:
        """Chunks handed out so far."""
        return self._state.chunks_received

    def receive_data(self, data: bytes) -> None:
        """The next piece of the body; ``b""`` when the body ended.

        Decodes the bytes into events at once (the JSON waits for
        :meth:`next_event`). Ignored after the stream is over.
        """
        state = self._state
        if state.ended or state.done or state.error is not None:
            return
        try:
            if data:
                events = state.decoder.feed_messages(data)
                if events:
                    state.events = [*state.events, *events] if state.events else events
            else:
                state.ended = True
                state.decoder.close()
        except StreamError as exc:
            state.error = _tagged(exc, state.request_id)

    def connection_lost(self, error: BaseException) -> None:
        """The connection failed before the body ended.

        A timeout (:class:`~edgee.errors.APITimeoutError`) is raised as it is.
        Any other loss ends the input: when every choice had finished the
        stream is complete anyway, else :meth:`next_event` raises
        :class:`IncompleteStreamError` naming the cause (the low-level
        exception an :class:`~edgee.errors.APIConnectionError` wraps).
        """
        state = self._state
        if state.ended or state.done or state.error is not None:
            return
        if isinstance(error, APITimeoutError):
            if error.request_id is None:
                error.request_id = state.request_id
            state.error = error  # type: ignore[assignment]  # raised as it is, not a StreamError
            return
        state.ended = True
        cause = error.__cause__ if isinstance(error, APIConnectionError) else None
        state.lost = cause if cause is not None else error

    def _raise_error(self) -> StreamChunk | _Marker:
        """:meth:`next_event` once the stream failed: the same error, again."""
        error = self._state.error
        assert error is not None
        raise error


class _CheckedParser(ChunkParser):
    """A :class:`ChunkParser` whose input is content-coded, or bounded by a deadline.

    Only such streams pay for it: a plain stream gets a plain :class:`ChunkParser`,
    whose :meth:`receive_data` is untouched (the identity fast path). The bytes
    a transport hands in are transfer-decoded but still content-coded; they are
    decoded here, incrementally (an event comes out as soon as its compressed
    bytes are in), before the SSE decoder sees them. Past ``deadline`` (the
    request's ``Timeout.total``) the stream fails with
    :class:`~edgee.errors.APITimeoutError`.
    """

    __slots__ = ("_deadline", "_decoder")

    def __init__(
        self,
        decoder: Decoder,
        deadline: float | None,
        *,
        request_id: str | None = None,
        accumulator: StreamAccumulator | None = None,
    ) -> None:
        super().__init__(request_id=request_id, accumulator=accumulator)
        self._decoder = decoder
        self._deadline = deadline

    def receive_data(self, data: bytes) -> None:
        state = self._state
        if state.ended or state.done or state.error is not None:
            return
        try:
            if self._deadline is not None and time.monotonic() >= self._deadline:
                raise total_timeout()
            decoder = self._decoder
            if decoder.identity:
                super().receive_data(data)
            elif data:
                for piece in decoder.feed(data):
                    super().receive_data(piece)
            else:
                for piece in decoder.finish():
                    super().receive_data(piece)
                super().receive_data(b"")
        except APIError as exc:  # ContentDecodingError, the total timeout
            exc.request_id = state.request_id
            state.error = exc  # type: ignore[assignment]  # raised as it is, not a StreamError


def _tagged(exc: StreamError, request_id: str | None) -> StreamError:
    exc.request_id = request_id
    return exc


def _end(state: _State) -> None:
    """At the end of input: raise if the stream is incomplete, else mark it done."""
    choices = state.accumulator.choice_parts
    if choices and all(parts.finish_reason is not None for parts in choices.values()):
        return  # every choice finished: complete without [DONE]
    message = f"stream ended before [DONE] after {state.chunks_received} chunks"
    lost = state.lost
    if lost is not None:
        message = f"{message} (connection lost: {lost})"
    error = IncompleteStreamError(
        message, chunks_received=state.chunks_received, request_id=state.request_id
    )
    if lost is not None:
        error.__cause__ = lost
    raise error


def _events(
    state: _State, owner: weakref.ref[ChunkParser]
) -> Generator[StreamChunk | _Marker, None, None]:
    """The body of :meth:`ChunkParser.next_event`: the per-chunk loop, names in locals."""
    scan = _scan_once
    structure = _structure_chunk
    add = state.accumulator.add
    decoder = state.decoder
    request_id = state.request_id
    try:
        while not state.done:
            events = state.events
            if not events:
                if state.error is not None:
                    raise state.error
                if decoder.failed:
                    decoder.feed_messages(b"")  # a failed decoder raises its error again
                if state.ended:
                    _end(state)  # raises unless every choice finished
                    break
                yield NEED_DATA
                continue
            state.events = ()
            for event in events:
                if type(event) is str:  # a message event's data (SSEDecoder.feed_messages)
                    data = event
                else:
                    event = cast(ServerSentEvent, event)
                    data = event.data
                    if event.event != "message":
                        if event.event == "error":
                            raise _stream_error(data, request_id)
                        continue  # other named events (pings, metadata) are not chunks
                if data == _DONE_DATA:
                    state.done = True
                    break
                try:
                    payload, end = scan(data, 0)
                    if end != len(data):
                        payload = _loads(data)  # trailing whitespace, or garbage: json decides
                except StopIteration:  # no JSON value at 0 (leading whitespace?): json decides
                    payload = _parse_slowly(data, request_id)
                except (ValueError, RecursionError):  # RecursionError: absurdly nested garbage
                    raise ChunkDecodeError(
                        "stream payload is not valid JSON", raw=data, request_id=request_id
                    ) from None
                # A chunk has a list of choices (checked first: the common case pays one
                # lookup); an error payload has none.
                if type(payload) is dict and type(payload.get("choices")) is not list:
                    if "error" in payload and "choices" not in payload:
                        raise _stream_error(data, request_id, payload)
                    # cattrs would read a string or an object as an (empty) list of choices.
                    if payload.get("choices") is not None:
                        raise ChunkDecodeError(
                            "stream payload is not a chat completion chunk: choices is not a list",
                            raw=data,
                            request_id=request_id,
                        )
                try:
                    chunk: StreamChunk = structure(payload, StreamChunk)
                except Exception as exc:  # cattrs raises many types; all mean "not a chunk"
                    raise ChunkDecodeError(
                        f"stream payload is not a chat completion chunk: {exc}",
                        raw=data,
                        request_id=request_id,
                    ) from exc
                add(chunk)
                state.chunks_received += 1
                yield chunk
    except APIError as exc:  # StreamError, a timeout, ContentDecodingError
        if isinstance(exc, StreamError) and exc.request_id is None:
            exc.request_id = request_id
        state.error = exc  # type: ignore[assignment]
        parser = owner()
        if parser is not None:
            parser.next_event = parser._raise_error  # sticky, now that this generator ends
        raise
    state.events = ()
    # A stream's end (done, failed, or closed by the caller, which never reaches this
    # parser) is reported by StreamState.observed's wrapper, on both clients.
    while True:
        yield DONE


def _parse_slowly(data: str, request_id: str | None) -> Any:
    try:
        return _loads(data)
    except (ValueError, RecursionError):
        raise ChunkDecodeError(
            "stream payload is not valid JSON", raw=data, request_id=request_id
        ) from None


def _stream_error(data: str, request_id: str | None, payload: Any = None) -> StreamAPIError:
    if payload is None:
        try:
            payload = _loads(data)
        except (ValueError, RecursionError):
            payload = None
    err = stream_error_from_payload(data, payload)
    err.request_id = request_id
    return err


#: Text pieces are joined, and kept as UTF-8, every this many pieces.
_BLOCK = 256


class _Text:
    """Text arriving in many small pieces, kept compact.

    A stream's text comes a word at a time; kept as separate ``str`` objects
    it would take about 60 bytes of memory per piece whatever its length.
    Every :data:`_BLOCK` pieces are joined and stored as UTF-8, so the memory
    held grows with the text itself, not with the number of chunks.
    """

    __slots__ = ("blocks", "pieces")

    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.pieces: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.pieces or self.blocks)

    def add(self, piece: str) -> None:
        pieces = self.pieces
        pieces.append(piece)
        if len(pieces) >= _BLOCK:
            self.compact()

    def compact(self) -> None:
        # surrogatepass: JSON may carry a lone surrogate ("\\ud800"); keep it as is.
        self.blocks.append("".join(self.pieces).encode("utf-8", "surrogatepass"))
        self.pieces = []

    def text(self) -> str:
        tail = "".join(self.pieces)
        if not self.blocks:
            return tail
        return b"".join(self.blocks).decode("utf-8", "surrogatepass") + tail


class _ToolCallParts:
    __slots__ = ("arguments", "id", "name", "type")

    def __init__(self) -> None:
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments = _Text()


class _ChoiceParts:
    __slots__ = ("content", "finish_reason", "latest", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role: Role | str | None = None
        self.content = _Text()
        self.refusal = _Text()
        self.finish_reason: str | None = None
        # Keyed by the fragment's index (or a synthetic key), in order of first appearance.
        self.tool_calls: dict[object, _ToolCallParts] = {}
        # Wire index -> key of the call most recently opened at that index.
        self.latest: dict[int, object] = {}


def tool_call_key(calls: dict[object, Any], latest: dict[int, object], fragment: Any) -> object:
    """Which call of a choice a tool-call fragment belongs to: the one rule, shared.

    ``calls`` maps keys to calls (anything with an ``id``) in order of first
    appearance; ``latest`` maps a wire index to the key of the call most
    recently opened there (updated here). Missing indexes continue the last
    call (or open one when the fragment has a new id); a fragment without an
    id continues the latest call at its index; a repeated index with another
    id opens that id's own call, as some providers number every call 0.
    :class:`StreamAccumulator` and the event builder both call this, so they
    cannot disagree about which call a piece of arguments extends.
    """
    index = fragment.index
    if index is None:
        last = next(reversed(calls), None) if calls else None
        if last is None or (fragment.id and calls[last].id and fragment.id != calls[last].id):
            return ("fragment", len(calls))
        return last
    key = latest.get(index, index)
    current = calls.get(key)
    if current is not None and fragment.id and current.id and fragment.id != current.id:
        # Same index, another id: that id's own call (new unless seen before).
        key = index if calls[index].id == fragment.id else (index, fragment.id)
        latest[index] = key
    return key


class StreamAccumulator:
    """Folds stream chunks into the :class:`SendResponse` a non-streaming call would return.

    Text is collected per choice and joined once; tool-call fragments are
    merged by ``index`` (id, type and name from the fragment that carries
    them, ``arguments`` concatenated). Missing indexes continue the last call
    (or start one when the fragment has a new id); a repeated index with a
    different id starts a new call, as some providers number every call 0.
    ``usage`` and ``compression`` come from whichever chunk carries them.

    The memory it holds grows with the text received, not with the number of
    chunks (see :class:`_Text`). ``add`` runs once per chunk: it is written
    out attribute by attribute, without loops over field names.
    """

    __slots__ = ("_choices", "_head_missing", "_top")

    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceParts] = {}
        self._top: dict[str, Any] = {}
        # id, created and model are taken from the first chunk that has each.
        self._head_missing = True

    @property
    def choice_parts(self) -> Mapping[int, _ChoiceParts]:
        """What was gathered per choice index so far (each has its ``finish_reason``)."""
        return self._choices

    def _take_head(self, chunk: StreamChunk) -> None:
        top = self._top
        for key in ("id", "created", "model"):
            if key not in top and getattr(chunk, key) is not None:
                top[key] = getattr(chunk, key)
        self._head_missing = len(top.keys() & {"id", "created", "model"}) < 3

    def add(self, chunk: StreamChunk) -> None:
        """Fold one chunk in."""
        if self._head_missing:
            self._take_head(chunk)
        if chunk.usage is not None:
            self._top["usage"] = chunk.usage
        if chunk.compression is not None:
            self._top["compression"] = chunk.compression
        if chunk.edgee_pending_id is not None:
            self._top["edgee_pending_id"] = chunk.edgee_pending_id
        if chunk.edgee_tools_executed is not None:
            self._top["edgee_tools_executed"] = chunk.edgee_tools_executed
        choices = self._choices
        for choice in chunk.choices:
            index = choice.index
            parts = choices.get(index)
            if parts is None:
                parts = choices[index] = _ChoiceParts()
            if choice.finish_reason is not None:
                parts.finish_reason = choice.finish_reason
            delta = choice.delta
            if delta is None:
                continue
            if delta.role is not None and parts.role is None:
                parts.role = delta.role
            content = delta.content
            if content:
                text = parts.content
                pieces = text.pieces
                pieces.append(content)
                if len(pieces) >= _BLOCK:
                    text.compact()
            if delta.refusal:
                parts.refusal.add(delta.refusal)
            if delta.tool_calls:
                for fragment in delta.tool_calls:
                    self._add_tool_fragment(parts, fragment)

    @staticmethod
    def _add_tool_fragment(parts: _ChoiceParts, fragment: Any) -> None:
        calls = parts.tool_calls
        key = tool_call_key(calls, parts.latest, fragment)
        call = calls.get(key)
        if call is None:
            call = calls[key] = _ToolCallParts()
        if fragment.id and call.id is None:
            call.id = fragment.id
        if fragment.type and call.type is None:
            call.type = fragment.type
        fn = fragment.function
        if fn is not None:
            if fn.name and call.name is None:
                call.name = fn.name
            if fn.arguments:
                call.arguments.add(fn.arguments)

    def response(self) -> SendResponse:
        """The accumulated response; can be called at any point of the stream."""
        choices = []
        for index in sorted(self._choices):
            parts = self._choices[index]
            tool_calls = [
                ToolCall(
                    id=c.id or "",
                    type=c.type or "function",
                    function=FunctionCall(name=c.name or "", arguments=c.arguments.text()),
                )
                for c in parts.tool_calls.values()
            ]
            message = ResponseMessage(
                role=parts.role or Role.assistant,
                content=parts.content.text() if parts.content or not tool_calls else None,
                tool_calls=tool_calls or None,
                refusal=parts.refusal.text() if parts.refusal else None,
            )
            choices.append(Choice(index=index, message=message, finish_reason=parts.finish_reason))
        top = self._top
        return SendResponse(
            id=top.get("id"),
            object="chat.completion",
            created=top.get("created"),
            model=top.get("model"),
            choices=choices,
            usage=top.get("usage"),
            compression=top.get("compression"),
            edgee_pending_id=top.get("edgee_pending_id"),
            edgee_tools_executed=top.get("edgee_tools_executed"),
        )


class StreamState:
    """Everything one stream knows, whatever the transport (openai's stream-state shape).

    ``headers`` (lower-case names), the provider and request id they name, the
    :class:`ChunkParser` the body goes through, the :class:`StreamAccumulator`
    every chunk is folded into, and ``whole``: the complete answer when the
    gateway sent one instead of an event stream. ``Stream`` / ``AsyncStream``
    wrap one and add only iteration and closing.

    Structured outputs live here too, once for both clients: ``format`` (the
    compiled ``response_format=T``) and ``tools`` (the ``@tool`` functions whose
    calls get their arguments read) make :meth:`final_response` a
    :class:`~edgee._structured.ParsedResponse`; :meth:`start_events` and
    :meth:`closing_events` hold the :class:`~edgee._events.EventBuilder` of
    ``stream.events()``. A stream whose events nobody asks for never makes one:
    the per-chunk path is the accumulator's ``add`` alone.
    """

    __slots__ = (
        "_builder",
        "_final",
        "accumulator",
        "deadline",
        "format",
        "headers",
        "observer",
        "parser",
        "tools",
        "whole",
        "whole_taken",
    )

    def __init__(
        self,
        headers: dict[str, str],
        whole: SendResponse | None = None,
        observer: CallObserver | None = None,
        *,
        deadline: float | None = None,
        format: StructuredFormat[Any] | None = None,
        tools: Sequence[Any] = (),
    ) -> None:
        self.headers = headers
        self.whole = whole
        self.accumulator = accumulator = StreamAccumulator()
        request_id = headers.get("x-request-id")
        #: ``time.monotonic()`` instant the stream must end by (``Timeout.total``), or None.
        self.deadline = deadline
        coding = headers.get("content-encoding")
        # The content coding was checked by the attempt flow; identity needs no decoder.
        decoder = decoder_for(coding) if coding else None
        if (decoder is None or decoder.identity) and self.deadline is None:
            self.parser = ChunkParser(request_id=request_id, accumulator=accumulator)
        else:
            self.parser = _CheckedParser(
                decoder or decoder_for(None),
                self.deadline,
                request_id=request_id,
                accumulator=accumulator,
            )
        self.observer = observer  # the call's (_observe), None when nothing observes it
        self.format = format
        self.tools = tuple(tools)
        self.whole_taken = False  # the whole answer's one chunk was handed out
        self._builder: EventBuilder | None = None
        self._final: SendResponse | None = None

    @classmethod
    def of_answer(cls, answer: Deliver, plan: CallPlan) -> StreamState:
        """The state of the stream the attempt flow's final ``answer`` opens.

        A body read whole (JSON or HTML instead of an event stream) becomes the
        whole answer, or raises the error it carries.
        """
        whole = None
        if answer.body is not None:
            whole = stream_fallback(answer.status, answer.headers, answer.body)
        return cls(
            answer.headers,
            whole,
            answer.observer,
            deadline=answer.deadline,
            format=plan.format,
            tools=plan.tools,
        )

    def remaining(self) -> float | None:
        """Seconds left before ``deadline`` (never negative), or None without one.

        For a read loop to bound its wait for the next bytes by.
        """
        if self.deadline is None:
            return None
        return max(self.deadline - time.monotonic(), 0.0)

    def observed(self, chunks: Iterator[StreamChunk]) -> Iterator[StreamChunk]:
        """``chunks`` as the observer sees them (first chunk, end), or as they are."""
        if self.observer is None:
            return chunks
        return ObservedChunks(chunks, self.observer, self.response)

    def observed_async(
        self, chunks: AsyncGenerator[StreamChunk, None]
    ) -> AsyncGenerator[StreamChunk, None]:
        """:meth:`observed` for an async stream."""
        if self.observer is None:
            return chunks
        return AsyncObservedChunks(chunks, self.observer, self.response)

    def whole_chunks(self) -> Iterator[StreamChunk]:
        """The one chunk that says what ``whole`` says (nothing to read from the body).

        Folded into the accumulator as it is handed out, like a streamed chunk,
        so the snapshot and the events see the whole answer too.
        """
        assert self.whole is not None
        chunk = chunk_from_completion(self.whole)
        self.whole_taken = True
        self.accumulator.add(chunk)
        yield chunk

    @property
    def chunks_taken(self) -> int:
        """Chunks handed out so far (read from the body, or the whole answer's one)."""
        if self.whole is not None:
            return 1 if self.whole_taken else 0
        return self.parser.chunks_received

    def snapshot(self) -> SendResponse:
        """The response so far: every chunk handed out, folded (headers attached)."""
        return attach_headers(self.accumulator.response(), self.headers)

    def response(self) -> SendResponse:
        """The stream as one plain response, with its headers (once the chunks are read)."""
        if self.whole is not None:
            return self.whole
        return attach_headers(self.accumulator.response(), self.headers)

    def final_response(self) -> SendResponse:
        """:meth:`response`, read as a :class:`ParsedResponse` when there is a format or tools.

        A structured answer that was cut, filtered or does not fit ``T`` raises
        the :class:`~edgee.errors.StructuredOutputError` ``parse()`` raises.
        """
        if self._final is not None:
            return self._final
        response = self.response()
        if self.format is None and not self.tools:
            return response
        from edgee._structured import parse_response

        self._final = parse_response(response, self.format, tools=self.tools)
        return self._final

    def start_events(self) -> Callable[[StreamChunk], list[StreamEvent]]:
        """Make the stream's event builder; returns its ``feed`` (once per stream).

        Events are computed from the chunks as they are handed out, so they
        must be asked for before the first one: a second call, or a call after
        chunks were taken, raises :class:`~edgee.errors.ClientStateError`
        (``final_response()`` and ``snapshot`` are complete either way).
        """
        if self._builder is not None:
            raise ClientStateError("events() was already called on this stream")
        taken = self.chunks_taken
        if taken:
            raise ClientStateError(
                f"events() must be called before reading the stream ({taken} chunks were "
                "already taken; their events cannot be replayed)"
            )
        from edgee._events import EventBuilder

        self._builder = EventBuilder(self.accumulator, format=self.format, tools=self.tools)
        return self._builder.feed

    def closing_events(self) -> Iterator[StreamEvent]:
        """The events after the last chunk: done events, then :class:`~edgee._events.Done`.

        Raises the structured-output error (after the done events) as
        :meth:`final_response` does.
        """
        from edgee._events import Done

        assert self._builder is not None
        for event in self._builder.finish(self.response()):
            if type(event) is Done and (self.format is not None or self.tools):
                self._final = event.response
            yield event


class StreamView:
    """What ``Stream`` and ``AsyncStream`` show of their :class:`StreamState`."""

    __slots__ = ()

    _state: StreamState

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers, with lower-case names."""
        return self._state.headers

    @property
    def provider(self) -> str | None:
        """The provider that answered, from ``X-Edgee-Provider``."""
        return self._state.headers.get("x-edgee-provider")

    @property
    def request_id(self) -> str | None:
        """The gateway's ``x-request-id`` for this stream."""
        return self._state.headers.get("x-request-id")

    @property
    def snapshot(self) -> SendResponse:
        """The response so far: every chunk the stream has handed out, folded into one.

        Read it at any moment (inside a loop over the chunks or the events);
        before the first chunk it has no choices, at the end it is the final
        response (unparsed). Each read builds a fresh :class:`SendResponse`.
        """
        return self._state.snapshot()
