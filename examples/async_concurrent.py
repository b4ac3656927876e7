"""Ask several questions at once with AsyncEdgee and asyncio.gather.

Run it:

    export EDGEE_API_KEY=...
    python examples/async_concurrent.py
"""

from __future__ import annotations

import asyncio
import os
import time

from edgee import AsyncEdgee

MODEL = os.environ.get("EDGEE_MODEL", "openai/gpt-4o")
QUESTIONS = [
    "What is the capital of France?",
    "Name a prime number greater than 100.",
    "Translate 'good morning' into Spanish.",
    "What colour is a clear daytime sky?",
]
# At most this many requests in flight: be kind to rate limits when the list is long.
MAX_CONCURRENCY = 3


async def ask(client: AsyncEdgee, limit: asyncio.Semaphore, question: str) -> str:
    async with limit:
        response = await client.send(MODEL, question, max_tokens=100)
    return response.text or ""


async def main() -> None:
    limit = asyncio.Semaphore(MAX_CONCURRENCY)
    # One client, one connection pool, shared by every concurrent request.
    async with AsyncEdgee() as client:
        started = time.perf_counter()
        answers = await asyncio.gather(*(ask(client, limit, q) for q in QUESTIONS))
        elapsed = time.perf_counter() - started

    for question, answer in zip(QUESTIONS, answers, strict=True):
        print(f"Q: {question}\nA: {answer}\n")
    print(f"{len(QUESTIONS)} answers in {elapsed:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
