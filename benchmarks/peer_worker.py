"""One peer SDK reading the benchmark server's streams, run inside that peer's venv.

``python peer_worker.py <peer> <base_url>`` (``_peers.py`` starts it with the
peer's own interpreter, so nothing of this checkout's ``edgee`` is importable)
reads commands from standard input, one JSON object a line, and answers each
with one JSON line:

* ``{"chunks": n, "framing": f}`` -> ``{"cpu": s, "chunks": c, "chars": k}``:
  read one stream as the peer's README shows, counting chunks and text
  characters; ``cpu`` is this process's CPU time while it did (all threads).

Peers: ``openai-sync`` (``OpenAI``), ``openai-async`` (``AsyncOpenAI``, one
event loop for the worker's life), ``edgee-1.1.0`` (the official ``edgee``,
``Edgee(...).stream``). Standard library and the peer only.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import sys
import time
from collections.abc import Callable
from typing import Any

API_KEY = "bench-key"
MESSAGES = [{"role": "user", "content": "hi"}]


def model(chunks: int, framing: str) -> str:
    return f"bench/{chunks}/{framing}"


def openai_sync(base_url: str) -> Callable[[int, str], tuple[int, int]]:
    from openai import OpenAI

    client = OpenAI(api_key=API_KEY, base_url=base_url + "/v1", max_retries=0)

    def stream(chunks: int, framing: str) -> tuple[int, int]:
        count = chars = 0
        for chunk in client.chat.completions.create(
            model=model(chunks, framing), messages=MESSAGES, stream=True
        ):
            count += 1
            if chunk.choices:
                text = chunk.choices[0].delta.content
                if text:
                    chars += len(text)
        return count, chars

    return stream


def openai_async(base_url: str) -> Callable[[int, str], tuple[int, int]]:
    from openai import AsyncOpenAI

    loop = asyncio.new_event_loop()

    async def make() -> Any:
        return AsyncOpenAI(api_key=API_KEY, base_url=base_url + "/v1", max_retries=0)

    client = loop.run_until_complete(make())

    async def read(chunks: int, framing: str) -> tuple[int, int]:
        count = chars = 0
        async for chunk in await client.chat.completions.create(
            model=model(chunks, framing), messages=MESSAGES, stream=True
        ):
            count += 1
            if chunk.choices:
                text = chunk.choices[0].delta.content
                if text:
                    chars += len(text)
        return count, chars

    def stream(chunks: int, framing: str) -> tuple[int, int]:
        return loop.run_until_complete(read(chunks, framing))

    # Closed when the worker's stdin ends, so the loop ends with nothing pending.
    atexit.register(lambda: (loop.run_until_complete(client.close()), loop.close()))
    return stream


def edgee_official(base_url: str) -> Callable[[int, str], tuple[int, int]]:
    from edgee import Edgee

    client = Edgee({"api_key": API_KEY, "base_url": base_url})

    def stream(chunks: int, framing: str) -> tuple[int, int]:
        count = chars = 0
        for chunk in client.stream(model(chunks, framing), "hi"):
            count += 1
            text = chunk.text
            if text:
                chars += len(text)
        return count, chars

    return stream


PEERS: dict[str, Callable[[str], Callable[[int, str], tuple[int, int]]]] = {
    "openai-sync": openai_sync,
    "openai-async": openai_async,
    "edgee-1.1.0": edgee_official,
}


def main() -> None:
    peer, base_url = sys.argv[1], sys.argv[2]
    stream = PEERS[peer](base_url)
    print("READY", flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        c0 = time.process_time()
        count, chars = stream(command["chunks"], command["framing"])
        cpu = time.process_time() - c0
        print(json.dumps({"cpu": cpu, "chunks": count, "chars": chars}), flush=True)


if __name__ == "__main__":
    main()
