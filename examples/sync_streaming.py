"""Stream a chat completion and print the answer as it arrives.

Run it:

    export EDGEE_API_KEY=...          # and EDGEE_BASE_URL to use another gateway
    python examples/sync_streaming.py "Write a haiku about the sea"
"""

from __future__ import annotations

import os
import sys

from edgee import Edgee

MODEL = os.environ.get("EDGEE_MODEL", "openai/gpt-4o")


def main() -> None:
    prompt = " ".join(sys.argv[1:]) or "Write a haiku about the sea."
    # Edgee() reads EDGEE_API_KEY and EDGEE_BASE_URL from the environment.
    # Both `with` blocks release the connection, even if the loop stops early.
    with Edgee() as client, client.stream(MODEL, prompt, include_usage=True) as stream:
        for text in stream.text_stream:
            print(text, end="", flush=True)
        print()
        # Everything that was streamed, as one response (text, usage, compression).
        response = stream.final_response()

    usage = response.usage
    if usage is not None:
        print(f"[{usage.total_tokens} tokens, answered by {response.provider or 'unknown'}]")


if __name__ == "__main__":
    main()
