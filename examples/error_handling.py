"""Catching the SDK's errors: what each one means and what to do about it.

Every error is an ``edgee.EdgeeError``; HTTP errors are also ``RuntimeError``s, as in
the official SDK. Retries (connection errors, 408, 409, 429, 5xx) have already
happened by the time an exception reaches you: ``max_retries`` controls them.

    export EDGEE_API_KEY=...
    python examples/error_handling.py
"""

from __future__ import annotations

import os
import sys

import edgee
from edgee import Edgee

MODEL = os.environ.get("EDGEE_MODEL", "openai/gpt-4o")


def ask(client: Edgee, prompt: str) -> str | None:
    """Send `prompt`; on failure, say what happened and return None."""
    try:
        return client.send(MODEL, prompt).text
    except edgee.AuthenticationError as exc:  # 401
        print(f"  bad API key: {exc.message}")
    except edgee.RateLimitError as exc:  # 429, after the retries
        print(f"  rate limited; the gateway asks to wait {exc.retry_after} s")
    except edgee.APIStatusError as exc:  # any other 4xx / 5xx
        print(f"  gateway error {exc.status_code}: {exc.message} (request {exc.request_id})")
    except edgee.APITimeoutError:  # before APIConnectionError: it is a subclass
        print("  the gateway did not answer in time")
    except edgee.APIConnectionError as exc:  # DNS failure, refused, reset
        print(f"  cannot reach the gateway: {type(exc).__name__}")
    return None


def stream(client: Edgee, prompt: str) -> None:
    """Stream `prompt`: errors before the first chunk raise from stream(), later ones mid-loop."""
    try:
        with client.stream(MODEL, prompt) as chunks:
            for text in chunks.text_stream:
                print(text, end="", flush=True)
            print()
    except edgee.StreamError as exc:  # the answer broke off: what was printed is partial
        print(f"\n  stream interrupted ({type(exc).__name__}): {exc.message}")
    except edgee.APIError as exc:  # the request itself failed, as with send()
        print(f"  request failed: {exc}")


def main() -> int:
    try:
        client = Edgee()  # EDGEE_API_KEY, EDGEE_BASE_URL
    except edgee.ConfigurationError as exc:
        print(f"{exc}: export EDGEE_API_KEY=... first")
        return 2

    with client:
        print("1. A normal request:")
        print(f"  {ask(client, 'Say hello in French.')}")

        print("2. A wrong API key:")
        with Edgee(api_key="sk-not-a-real-key", base_url=client.base_url) as wrong:
            ask(wrong, "Hello?")

        print("3. A gateway that is not there (no retries, short timeout):")
        with Edgee(base_url="http://127.0.0.1:9", max_retries=0, timeout=2) as nowhere:
            ask(nowhere, "Hello?")

        print("4. A streamed answer:")
        stream(client, "Count from one to five.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
