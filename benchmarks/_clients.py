"""The in-process readers the benchmark compares, each behind the same small interface.

* ``FloorSync``: raw ``requests`` (one ``Session``): ``resp.raw.read1()``, split
  on blank lines, ``json.loads`` each payload. The least code that reads the
  stream correctly enough to count chunks and characters (the raw floor).
* ``FloorAsync``: raw ``aiohttp`` (one ``ClientSession``): ``content.readany()``,
  the same split and ``json.loads``.
* ``UserSync`` / ``UserAsync``: the loop a user writes by hand (the user-loop
  floor): ``requests`` + ``iter_lines()`` or ``aiohttp`` + ``async for line in
  resp.content``, a ``data: `` prefix check and ``json.loads``, stopping at
  ``[DONE]``.
* ``EdgeeSync`` / ``EdgeeAsync``: the SDK, used as its README shows.

Every reader returns ``(chunks, characters)`` for a stream so that the
runner can assert them; the floors count characters from the dicts
(``choices[0].delta.content``), the SDK readers from ``chunk.text`` and again
from ``final_response()``.

The peers (``openai``, the official ``edgee`` 1.1.0) live in their own
virtual environments: see ``_peers.py`` and ``peer_worker.py``.

Heavy imports happen inside the classes so that the runner can measure
import time and memory of one reader without loading the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

API_KEY = "bench-key"
_MESSAGES = [{"role": "user", "content": "hi"}]


def model(chunks: int, framing: str = "packed") -> str:
    """The model name that asks the benchmark server for a given stream."""
    return f"bench/{chunks}/{framing}"


def _headers(stream: bool) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {API_KEY}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
    }


def _body(model_name: str, stream: bool) -> bytes:
    body: dict[str, Any] = {"model": model_name, "messages": _MESSAGES}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


class _SplitReader:
    """The floors' stream parser: bytes buffer split on blank lines, ``json.loads``."""

    __slots__ = ("buffer", "chars", "chunks", "done")

    def __init__(self) -> None:
        self.buffer = b""
        self.chunks = 0
        self.chars = 0
        self.done = False

    def feed(self, data: bytes, loads: Callable[[bytes], Any] = json.loads) -> int:
        """Consume bytes; return how many chunks they completed."""
        *blocks, self.buffer = (self.buffer + data).split(b"\n\n")
        count = 0
        chars = 0
        for block in blocks:
            if block.startswith(b"data: "):
                payload = block[6:]
                if payload == b"[DONE]":
                    self.done = True
                    continue
                obj = loads(payload)
                count += 1
                choices = obj["choices"]
                if choices:
                    text = choices[0]["delta"].get("content")
                    if text:
                        chars += len(text)
        self.chunks += count
        self.chars += chars
        return count


class FloorSync:
    """Raw ``requests`` + ``json.loads``."""

    name = "requests + json.loads"

    def __init__(self, base_url: str) -> None:
        import requests

        self.url = base_url + "/v1/chat/completions"
        self.session = requests.Session()

    def _post(self, model_name: str, stream: bool) -> Any:
        return self.session.post(
            self.url, data=_body(model_name, stream), headers=_headers(stream), stream=stream
        )

    def stream(
        self, chunks: int, framing: str = "packed", on_chunk: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        response = self._post(model(chunks, framing), True)
        response.raise_for_status()
        reader = _SplitReader()
        read1 = response.raw.read1
        if on_chunk is None:
            while data := read1(65536):
                reader.feed(data)
        else:
            while data := read1(65536):
                if reader.feed(data):
                    on_chunk(reader.chunks)
        # Read to the end of the body: urllib3 gives the connection back to the pool.
        response.raw.release_conn()
        assert reader.done
        return reader.chunks, reader.chars

    def first_chunk(self, chunks: int) -> Callable[[], tuple[int, int]]:
        """Start a stream and return at its first chunk; the result reads the rest."""
        response = self._post(model(chunks), True)
        response.raise_for_status()
        reader = _SplitReader()
        read1 = response.raw.read1
        while not reader.feed(read1(65536)):
            pass

        def rest() -> tuple[int, int]:
            while data := read1(65536):
                reader.feed(data)
            response.raw.release_conn()
            return reader.chunks, reader.chars

        return rest

    def send(self) -> int:
        response = self._post(model(3), False)
        response.raise_for_status()
        obj = json.loads(response.content)
        return len(obj["choices"][0]["message"]["content"])

    def close(self) -> None:
        self.session.close()


class EdgeeSync:
    """``edgee.Edgee``."""

    name = "edgee.Edgee"

    def __init__(self, base_url: str) -> None:
        from edgee import Edgee

        self.client = Edgee(api_key=API_KEY, base_url=base_url)

    def stream(
        self, chunks: int, framing: str = "packed", on_chunk: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        count = chars = 0
        with self.client.stream(model(chunks, framing), "hi") as stream:
            if on_chunk is None:
                for chunk in stream:
                    count += 1
                    text = chunk.text
                    if text:
                        chars += len(text)
            else:
                for _chunk in stream:
                    count += 1
                    on_chunk(count)
            response = stream.final_response()
        text = response.text or ""
        assert on_chunk is not None or len(text) == chars, (len(text), chars)
        return count, len(text)

    def first_chunk(self, chunks: int) -> Callable[[], tuple[int, int]]:
        stream = self.client.stream(model(chunks), "hi")
        iterator = iter(stream)
        next(iterator)

        def rest() -> tuple[int, int]:
            count = 1 + sum(1 for _ in iterator)
            text = stream.final_response().text or ""
            stream.close()
            return count, len(text)

        return rest

    def send(self) -> int:
        return len(self.client.send(model(3), "hi").text or "")

    def close(self) -> None:
        self.client.close()


class FloorAsync:
    """Raw ``aiohttp`` + ``json.loads``; make it inside the running loop."""

    name = "aiohttp + json.loads"

    def __init__(self, base_url: str, limit: int = 100) -> None:
        import aiohttp

        self.url = base_url + "/v1/chat/completions"
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))

    async def stream(
        self, chunks: int, framing: str = "packed", on_chunk: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        async with self.session.post(
            self.url, data=_body(model(chunks, framing), True), headers=_headers(True)
        ) as response:
            response.raise_for_status()
            reader = _SplitReader()
            readany = response.content.readany
            while data := await readany():
                if reader.feed(data) and on_chunk is not None:
                    on_chunk(reader.chunks)
        assert reader.done
        return reader.chunks, reader.chars

    async def first_chunk(self, chunks: int) -> Callable[[], Any]:
        response = await self.session.post(
            self.url, data=_body(model(chunks), True), headers=_headers(True)
        )
        response.raise_for_status()
        reader = _SplitReader()
        readany = response.content.readany
        while not reader.feed(await readany()):
            pass

        async def rest() -> tuple[int, int]:
            while data := await readany():
                reader.feed(data)
            response.release()
            return reader.chunks, reader.chars

        return rest

    async def send(self) -> int:
        async with self.session.post(
            self.url, data=_body(model(3), False), headers=_headers(False)
        ) as response:
            response.raise_for_status()
            obj = json.loads(await response.read())
        return len(obj["choices"][0]["message"]["content"])

    async def close(self) -> None:
        await self.session.close()


class EdgeeAsync:
    """``edgee.AsyncEdgee``; make it inside the running loop."""

    name = "edgee.AsyncEdgee"

    def __init__(self, base_url: str, limit: int = 100) -> None:
        from edgee import AsyncEdgee

        self.client = AsyncEdgee(api_key=API_KEY, base_url=base_url, connection_limit=limit)

    async def stream(
        self, chunks: int, framing: str = "packed", on_chunk: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        count = chars = 0
        async with self.client.stream(model(chunks, framing), "hi") as stream:
            if on_chunk is None:
                async for chunk in stream:
                    count += 1
                    text = chunk.text
                    if text:
                        chars += len(text)
            else:
                async for _chunk in stream:
                    count += 1
                    on_chunk(count)
            response = await stream.final_response()
        text = response.text or ""
        assert on_chunk is not None or len(text) == chars, (len(text), chars)
        return count, len(text)

    async def first_chunk(self, chunks: int) -> Callable[[], Any]:
        stream = await self.client.stream(model(chunks), "hi")
        await stream.__anext__()

        async def rest() -> tuple[int, int]:
            count = 1
            async for _ in stream:
                count += 1
            text = (await stream.final_response()).text or ""
            await stream.aclose()
            return count, len(text)

        return rest

    async def send(self) -> int:
        return len((await self.client.send(model(3), "hi")).text or "")

    async def close(self) -> None:
        await self.client.close()


def _count(obj: Any) -> int:
    """Characters of text in one chunk dict (``choices[0].delta.content``)."""
    choices = obj["choices"]
    if choices:
        text = choices[0]["delta"].get("content")
        if text:
            return len(text)
    return 0


class UserSync:
    """``requests`` + ``iter_lines()`` + ``json.loads``: the loop a user writes."""

    name = "requests + iter_lines + json.loads"

    def __init__(self, base_url: str) -> None:
        import requests

        self.url = base_url + "/v1/chat/completions"
        self.session = requests.Session()

    def stream(
        self, chunks: int, framing: str = "packed", on_chunk: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        count = chars = 0
        with self.session.post(
            self.url,
            data=_body(model(chunks, framing), True),
            headers=_headers(True),
            stream=True,
        ) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith(b"data: "):
                    continue
                payload = line[6:]
                if payload == b"[DONE]":
                    break
                chars += _count(json.loads(payload))
                count += 1
        return count, chars

    def close(self) -> None:
        self.session.close()


class UserAsync:
    """``aiohttp`` + ``async for line in resp.content`` + ``json.loads``."""

    name = "aiohttp + async for line + json.loads"

    def __init__(self, base_url: str, limit: int = 100) -> None:
        import aiohttp

        self.url = base_url + "/v1/chat/completions"
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))

    async def stream(
        self, chunks: int, framing: str = "packed", on_chunk: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        count = chars = 0
        async with self.session.post(
            self.url, data=_body(model(chunks, framing), True), headers=_headers(True)
        ) as response:
            response.raise_for_status()
            async for line in response.content:
                if not line.startswith(b"data: "):
                    continue
                payload = line[6:].rstrip()
                if payload == b"[DONE]":
                    break
                chars += _count(json.loads(payload))
                count += 1
        return count, chars

    async def close(self) -> None:
        await self.session.close()


#: Readers by kind: "floor" (raw), "user" (the hand-written loop), "edgee" (the SDK).
SYNC_READERS: dict[str, Callable[[str], Any]] = {
    "floor": FloorSync,
    "user": UserSync,
    "edgee": EdgeeSync,
}
ASYNC_READERS: dict[str, Callable[..., Any]] = {
    "floor": FloorAsync,
    "user": UserAsync,
    "edgee": EdgeeAsync,
}
