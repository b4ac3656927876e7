"""Wire payloads that several test files start from, and a strategy of JSON values.

Importable as ``wire_samples`` because pytest puts ``tests/`` (the home of the root
``conftest.py``) on ``sys.path``. Each call returns fresh dicts, so a test may change
its copy.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


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


# Small JSON values (scalars, lists, objects), for fields whose value is free-form.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
