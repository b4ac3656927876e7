"""Wire payloads that several test files start from.

Importable as ``wire_samples`` because pytest puts ``tests/`` (the home of the root
``conftest.py``) on ``sys.path``. Each call returns fresh dicts, so a test may change
its copy.
"""

from __future__ import annotations

from typing import Any


def tool_call_message(
    name: str = "get_weather", arguments: str = '{"city": "Paris"}', **extra: Any
) -> dict[str, Any]:
    """An assistant message, as the gateway sends it, that calls one tool (id ``call_1``);
    `extra` keys follow ``tool_calls`` in that order."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}
        ],
        **extra,
    }
