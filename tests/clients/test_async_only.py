"""What only the asyncio client has: concurrency, cancellation, event loops, closing under load."""

from __future__ import annotations

import asyncio
import gc
import os
import time
import warnings

import pytest

from edgee import AsyncEdgee, ClientStateError, StreamError
from edgee.testing import FakeGateway


def client_sockets() -> int:
    """Sockets open in this process (the gateway's own are in the same process: count both)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


def test_a_thousand_concurrent_streams_keep_their_own_text(gateway: FakeGateway) -> None:
    prompts = [" ".join(f"s{i}w{j}" for j in range(50)) for i in range(1000)]

    async def one(client: AsyncEdgee, prompt: str) -> tuple[str, int]:
        stream = await client.stream("gpt-4o", prompt)
        chunks = [chunk async for chunk in stream]
        return "".join(c.text or "" for c in chunks), len(chunks)

    async def main() -> list[tuple[str, int]]:
        async with AsyncEdgee(api_key=gateway.api_key, base_url=gateway.url) as client:
            return await asyncio.gather(*(one(client, p) for p in prompts))

    results = asyncio.run(main())
    for prompt, (text, chunks) in zip(prompts, results, strict=True):
        assert text == prompt
        assert chunks == 52  # role chunk + 50 words + finish chunk
    assert len(gateway.requests) == 1000
    assert gateway.connections_opened <= 100  # the default connection limit is respected


def test_cancelled_streams_leave_no_open_sockets(gateway: FakeGateway) -> None:
    gateway.set_default_delay(0.05)
    long_prompt = " ".join(f"w{i}" for i in range(400))
    before = client_sockets()

    async def main() -> None:
        async with AsyncEdgee(api_key=gateway.api_key, base_url=gateway.url) as client:
            first_chunk = asyncio.Event()
            arrived = 0

            async def read() -> None:
                nonlocal arrived
                async for _ in await client.stream("gpt-4o", long_prompt):
                    arrived += 1
                    if arrived >= 20:
                        first_chunk.set()

            tasks = [asyncio.create_task(read()) for _ in range(20)]
            await asyncio.wait_for(first_chunk.wait(), timeout=10)
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results)

    asyncio.run(main())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (gateway.open_connections or client_sockets() > before):
        gc.collect()
        time.sleep(0.05)
    assert gateway.open_connections == 0
    assert client_sockets() <= before


def test_closing_the_client_ends_open_streams_with_a_clear_error(gateway: FakeGateway) -> None:
    gateway.set_default_delay(0.05)
    long_prompt = " ".join(f"w{i}" for i in range(200))

    async def main() -> None:
        client = AsyncEdgee(api_key=gateway.api_key, base_url=gateway.url)
        streams = [await client.stream("gpt-4o", long_prompt) for _ in range(3)]
        for stream in streams:
            await stream.__anext__()
        await client.close()
        for stream in streams:
            with pytest.raises(StreamError, match="client was closed"):
                async for _ in stream:
                    pass
        with pytest.raises(ClientStateError, match="closed"):
            await client.send("gpt-4o", "x")

    asyncio.run(main())


def test_a_client_refuses_a_second_event_loop(gateway: FakeGateway) -> None:
    client = AsyncEdgee(api_key=gateway.api_key, base_url=gateway.url)

    async def send() -> str | None:
        return (await client.send("gpt-4o", "first loop")).text

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(send()) == "first loop"
        with pytest.raises(ClientStateError, match="another event loop"):
            asyncio.run(send())
    finally:
        loop.run_until_complete(client.close())
        loop.close()


def test_normal_use_leaves_no_unclosed_session_warnings(gateway: FakeGateway) -> None:
    async def main() -> None:
        async with AsyncEdgee(api_key=gateway.api_key, base_url=gateway.url) as client:
            await client.send("gpt-4o", "hi")
            async with client.stream("gpt-4o", "hi there") as stream:
                assert (await stream.final_response()).text == "hi there"
            async for _ in await client.stream("gpt-4o", "break early please"):
                break

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(main())
        gc.collect()
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "Unclosed" in m or "unclosed" in m], messages
