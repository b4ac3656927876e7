"""The per-chunk fast paths agree with the slow, obviously correct ones.

* ``_convert``'s generated structure functions against the reference (cattrs'
  generated function plus the unknown-key wrapper): same models, same
  ``_extra``, same errors, for well-formed and malformed JSON alike;
* the parser's inline JSON step against ``json.loads``;
* ``SSEDecoder.feed_messages`` against ``feed``;
* the accumulator's compact text (pieces joined into UTF-8 blocks) against a
  plain join, across block boundaries, with non-ASCII text and lone
  surrogates.

No timings here: speed is measured by ``make bench``.
"""

from __future__ import annotations

import enum
import itertools
import json
import typing
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamhelp import feed

from edgee import _convert
from edgee._convert import DictModel, _make_slow_structure, converter
from edgee._streaming import _BLOCK, ChunkParser, StreamAccumulator
from edgee._streaming import DONE as DONE_EVENT
from edgee.errors import ChunkDecodeError, EventTooLargeError, StreamError
from edgee.models import (
    ChatRequest,
    CompressResponse,
    CountTokensRequest,
    ErrorResponse,
    InputObject,
    SendResponse,
    StreamChunk,
)
from edgee.sse import ServerSentEvent, SSEDecoder

# The attrs models (the ones with compiled structure functions); the dict models inside
# them (messages, tool calls) are built by one hook that both paths call.
MODELS = [
    StreamChunk,
    SendResponse,
    InputObject,
    ErrorResponse,
    ChatRequest,
    CountTokensRequest,
    CompressResponse,
]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=6),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _field_values(cls: type[Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts shaped like ``cls`` (its wire keys, mostly), with plausible and implausible values."""
    entries: dict[str, st.SearchStrategy[Any]] = {}
    if issubclass(cls, DictModel):
        hints = typing.get_type_hints(cls)
        for key in cls._keys_:
            entries[key.wire] = _value_for(hints[key.name], depth)
    else:
        attrs.resolve_types(cls)  # field types are strings until resolved (PEP 563)
        for a in attrs.fields(cls):
            if a.name != "_extra":
                entries[a.metadata.get("wire", a.name)] = _value_for(a.type, depth)
    return st.fixed_dictionaries(
        {},
        optional={
            **entries,
            "system_fingerprint": _json,
            "logprobs": st.none(),
            "x-new": _json,
        },
    )


def _is_model(tp: Any) -> bool:
    return attrs.has(tp) or (isinstance(tp, type) and issubclass(tp, DictModel))


def _value_for(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    options: list[st.SearchStrategy[Any]] = [_scalars]
    for arg in args or [tp]:
        if _is_model(arg) and depth > 0:
            options.append(_field_values(arg, depth - 1))
        elif isinstance(arg, type) and issubclass(arg, enum.Enum):
            options.append(st.sampled_from([m.value for m in arg] + ["new-value"]))
        elif typing.get_origin(arg) is list:
            (element,) = typing.get_args(arg) or (Any,)
            if _is_model(element) and depth > 0:
                options.append(st.lists(_field_values(element, depth - 1), max_size=2))
            else:
                options.append(st.lists(_json, max_size=2))
        elif arg in (str, int, float, bool):
            options.append(st.from_type(arg))
    return st.one_of(options)


_PAYLOADS = {cls: st.one_of(_field_values(cls, 2), _json) for cls in MODELS}


def _outcome(fn: Any, data: Any, cls: type[Any]) -> tuple[str, Any]:
    try:
        obj = fn(data, cls)
    except Exception as exc:  # the comparison is the test
        return ("error", (type(exc), str(exc)))
    return ("ok", (obj, obj._extra, repr(obj)))


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_structure_agrees_with_the_reference(cls: type[Any], data: st.DataObject) -> None:
    payload = data.draw(_PAYLOADS[cls])
    fast = converter.get_structure_hook(cls)
    slow = _make_slow_structure(cls)
    assert _outcome(fast, payload, cls) == _outcome(slow, payload, cls)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_shape_specialised_structure_agrees_with_the_reference(
    cls: type[Any], data: st.DataObject
) -> None:
    """Learning a shape, the function compiled for it, and the cache in front of it."""
    payload = data.draw(_PAYLOADS[cls])
    fast = converter.get_structure_hook(cls)
    expected = _outcome(_make_slow_structure(cls), payload, cls)
    warmup = _convert._SHAPE_WARMUP
    _convert._SHAPE_WARMUP = 1
    try:
        for shapes in _convert._SHAPES.values():
            shapes.forget()
        # Compiled on the first call, the cache's hit on the second, then a copy.
        for attempt in (payload, payload, _copy_json(payload)):
            assert _outcome(fast, attempt, cls) == expected
    finally:
        _convert._SHAPE_WARMUP = warmup
        for shapes in _convert._SHAPES.values():
            shapes.forget()


def _copy_json(value: Any) -> Any:
    return json.loads(json.dumps(value)) if not isinstance(value, float) else value


def test_shapes_are_learned_after_the_warmup_and_bounded() -> None:
    fast = converter.get_structure_hook(StreamChunk)
    shapes = _convert._SHAPES[StreamChunk]
    shapes.forget()
    payload = {"id": "c", "choices": [], "a": 1, "b": 2}
    for _ in range(_convert._SHAPE_WARMUP - 1):
        fast(payload, StreamChunk)
    assert not shapes.functions  # still warming up: the general function answered
    chunk = fast(payload, StreamChunk)
    assert list(shapes.functions) == [frozenset(payload)]
    assert chunk.extra == {"a": 1, "b": 2}
    # The same keys in another order: each dict's own order of its unknown keys.
    assert list(fast({"b": 2, "choices": [], "a": 1, "id": "c"}, StreamChunk).extra) == ["b", "a"]
    # A value of another type in a learned shape: cattrs' result, as on the general path.
    assert fast({**payload, "id": 5}, StreamChunk).id == "5"
    with pytest.raises(Exception) as caught:
        fast({**payload, "choices": 5}, StreamChunk)
    with pytest.raises(type(caught.value)):
        _make_slow_structure(StreamChunk)({**payload, "choices": 5}, StreamChunk)
    # At most _SHAPE_LIMIT shapes; past that the general function still answers right.
    for n in range(_convert._SHAPE_LIMIT + 4):
        other = {"id": "c", f"k{n}": n}
        for _ in range(_convert._SHAPE_WARMUP):
            assert fast(other, StreamChunk).extra == {f"k{n}": n}
    assert len(shapes.functions) == _convert._SHAPE_LIMIT
    shapes.forget()


def test_a_learned_shape_builds_nested_models_whatever_their_keys() -> None:
    """A shaped chunk function writes its choice's and delta's lines in line, for the
    keys they had when it was compiled; other keys there take the nested functions."""
    fast = converter.get_structure_hook(StreamChunk)
    slow = _make_slow_structure(StreamChunk)
    for shapes in _convert._SHAPES.values():
        shapes.forget()

    def chunk(choice: dict[str, Any]) -> dict[str, Any]:
        return {"id": "c", "object": "chat.completion.chunk", "choices": [choice], "fp": 1}

    usual = chunk({"index": 0, "delta": {"content": "hi"}, "logprobs": None})
    for _ in range(_convert._SHAPE_WARMUP):
        assert fast(usual, StreamChunk) == slow(usual, StreamChunk)
    shaped = _convert._SHAPES[StreamChunk].functions[frozenset(usual)]
    # The usual chunk is built by the shaped function alone, never by starting over.
    reference = shaped.__globals__["_slow"]

    def refuse(data: Any, cls: Any) -> Any:
        raise AssertionError(f"the shaped function started over for {data!r}")

    shaped.__globals__["_slow"] = refuse
    try:
        assert fast(usual, StreamChunk) == slow(usual, StreamChunk)
        again = json.loads(json.dumps(usual))
        assert fast(again, StreamChunk).choices[0].delta.content == "hi"
    finally:
        shaped.__globals__["_slow"] = reference
    others = [
        chunk({"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None}),
        chunk({"index": 1, "delta": {"content": "x", "new": [1]}, "logprobs": {"a": 1}}),
        chunk({"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}),
        chunk({"index": 0, "delta": {"content": 5}, "logprobs": None}),  # coerced, as cattrs does
        chunk({"index": "x", "delta": {"content": "hi"}, "logprobs": None}),  # an error
        chunk({"index": 0, "delta": "not an object", "logprobs": None}),
        {**chunk({"index": 0, "delta": {"content": "a"}, "logprobs": None}), "choices": []},
        usual,
    ]
    for payload in others:
        assert _outcome(fast, payload, StreamChunk) == _outcome(slow, payload, StreamChunk)
    got = fast(others[1], StreamChunk)
    assert got.choices[0].extra == {"logprobs": {"a": 1}}
    assert got.choices[0].delta.extra == {"new": [1]}
    for shapes in _convert._SHAPES.values():
        shapes.forget()


def test_fast_structure_of_a_realistic_chunk() -> None:
    payload = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "system_fingerprint": "fp",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "hi", "new": 1},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }
    chunk = converter.get_structure_hook(StreamChunk)(payload, StreamChunk)
    assert chunk == _make_slow_structure(StreamChunk)(payload, StreamChunk)
    assert chunk.extra == {"system_fingerprint": "fp"}
    assert chunk.choices[0].extra == {"logprobs": None}
    assert chunk.choices[0].delta is not None
    assert chunk.choices[0].delta.extra == {"new": 1}
    assert chunk.to_dict()["system_fingerprint"] == "fp"
    # A dict subclass and a value of another type take the reference path, same result.
    from collections import OrderedDict

    assert converter.get_structure_hook(StreamChunk)(OrderedDict(payload), StreamChunk) == chunk
    coerced = converter.get_structure_hook(StreamChunk)({**payload, "created": "7"}, StreamChunk)
    assert coerced.created == 7


_PAYLOAD_TEXT = st.one_of(
    st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40),
    _json.map(json.dumps),
    st.tuples(
        st.sampled_from(["", " ", "\t", "\ufeff"]), _json, st.sampled_from(["", " ", "x"])
    ).map(lambda t: t[0] + json.dumps(t[1]) + t[2]),
)


@given(_PAYLOAD_TEXT)
@settings(max_examples=500, deadline=None)
def test_the_parser_reads_json_as_json_loads_does(text: str) -> None:
    """The parser's inline JSON step (the C scanner) accepts exactly what json.loads does."""
    if text == "[DONE]":
        return
    try:
        json.loads(text)
        valid = True
    except (ValueError, RecursionError):
        valid = False
    parser = ChunkParser()
    try:
        feed(parser, f"data: {text}\n\n".encode())
        feed(parser, b"")
        rejected = False
    except ChunkDecodeError as exc:
        rejected = "not valid JSON" in str(exc)
    except StreamError:
        rejected = False  # valid JSON, but an error event or not a chunk
    assert rejected is not valid


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('{"choices": []}', True),
        (' {"choices": []}', True),  # "data:  {...}": the value keeps one space
        ('{"choices": []}\t ', True),
        ('{"choices": []} x', False),
        ('\ufeff{"choices": []}', False),
        ("[" * 100_000, False),
        ("", False),
    ],
)
def test_json_edge_cases(text: str, ok: bool) -> None:
    parser = ChunkParser()
    if ok:
        assert len(feed(parser, f"data: {text}\n\n".encode())) == 1
    else:
        with pytest.raises(ChunkDecodeError, match="not valid JSON"):
            feed(parser, f"data: {text}\n\n".encode())
            feed(parser, b"")


def _chunk(content: str | None = None, *, args: str | None = None, index: int = 0) -> StreamChunk:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if args is not None:
        delta["tool_calls"] = [{"index": 0, "id": "call_1", "function": {"arguments": args}}]
    return StreamChunk.from_dict({"id": "c", "choices": [{"index": index, "delta": delta}]})


@pytest.mark.parametrize("count", [0, 1, _BLOCK - 1, _BLOCK, _BLOCK + 1, 3 * _BLOCK + 7])
def test_accumulated_text_across_blocks(count: int) -> None:
    words = ["héllo", " wörld", " 東京", " 🙂", " \ud800", " plain", ""]
    pieces = [words[i % len(words)] for i in range(count)]
    acc = StreamAccumulator()
    for i, piece in enumerate(pieces):
        acc.add(_chunk(piece))
        if i in (_BLOCK - 1, _BLOCK, 2 * _BLOCK + 3):  # a partial response mid-stream
            assert acc.response().text == "".join(pieces[: i + 1])
    assert (acc.response().text or "") == "".join(pieces)


def test_accumulated_tool_arguments_across_blocks() -> None:
    parts = [f'{{"n": {i}, "s": "é"}}' if i % 2 else "," for i in range(2 * _BLOCK + 5)]
    acc = StreamAccumulator()
    for part in parts:
        acc.add(_chunk(args=part))
    calls = acc.response().tool_calls
    assert calls is not None
    assert calls[0].function.arguments == "".join(parts)
    assert calls[0].id == "call_1"


_SSE_PIECES = st.lists(
    st.sampled_from(
        [
            b'data: {"k":"v\xc3\xa9"}\n\n',
            b"data: a\ndata: b\n\n",
            b": ping\n\n",
            b"event: error\ndata: {}\n\n",
            b"event: message\ndata: m\n\n",
            b"id: 5\ndata: x\n\n",
            b"retry: 7\n\n",
            b"data:x\r\n\r\n",
            b"data: [DONE]\n\n",
            b"\n",
            b"data: ",
            b"\xf0\x9f",
            b"\x99\x82",
        ]
    ),
    max_size=40,
)


@given(_SSE_PIECES, st.lists(st.integers(0, 2000), max_size=10), st.sampled_from([16, 64, 2**24]))
@settings(max_examples=400, deadline=None)
def test_feed_messages_is_feed_with_message_events_as_data(
    pieces: list[bytes], cuts: list[int], limit: int
) -> None:
    """Every split, every size limit: the same events, message events reduced to their data."""
    stream = b"".join(pieces)
    bounds = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    feeds = [stream[a:b] for a, b in itertools.pairwise(bounds)]

    def run(bare: bool) -> list[Any]:
        decoder = SSEDecoder(max_event_bytes=limit)
        out: list[Any] = []
        try:
            for feed in feeds:
                events = decoder.feed_messages(feed) if bare else decoder.feed(feed)
                for e in events:
                    if isinstance(e, ServerSentEvent) and e.event == "message":
                        e = e.data
                    out.append(e)
                out.append(("last", decoder.last_event_id, decoder.retry))
            out.extend(decoder.close())
        except EventTooLargeError:
            out.append("too large")
        return out

    assert run(bare=True) == run(bare=False)


def test_next_event_parses_each_chunk_only_when_it_is_taken() -> None:
    """Receiving decodes events; each chunk's JSON waits for next_event()."""
    events = b"".join(
        b'data: {"choices":[{"index":0,"delta":{"content":"%d"}}]}\n\n' % i for i in range(5)
    )
    eager = feed(ChunkParser(), events + b"data: [DONE]\n\n")
    parser = ChunkParser()
    parser.receive_data(events + b"data: [DONE]\n\n")
    assert parser.chunks_received == 0  # nothing parsed before it is asked for
    first = parser.next_event()
    assert parser.chunks_received == 1 and not parser.done
    assert [first, *(parser.next_event() for _ in range(4))] == eager
    assert parser.next_event() is DONE_EVENT
    assert parser.done and parser.chunks_received == 5


def test_an_error_comes_after_the_chunks_before_it_are_taken() -> None:
    good = b'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
    parser = ChunkParser()
    parser.receive_data(good + b"data: {not json}\n\n")
    assert isinstance(parser.next_event(), StreamChunk)
    with pytest.raises(ChunkDecodeError):
        parser.next_event()
    # No chunk before it: the error comes at once.
    with pytest.raises(ChunkDecodeError):
        feed(ChunkParser(), b"data: {not json}\n\n")
