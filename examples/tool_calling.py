"""Tool calling: the model asks for a function, the script runs it and sends the result back.

Each turn is streamed (text is printed live) and ``final_response()`` hands back the
tool calls with their streamed argument fragments already merged.

    export EDGEE_API_KEY=...
    python examples/tool_calling.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from edgee import Edgee, InputObject, Message, Tool

MODEL = os.environ.get("EDGEE_MODEL", "openai/gpt-4o")
MAX_ROUNDS = 5  # never loop forever on a model that keeps calling tools


def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """A stand-in for a real weather API."""
    celsius = {"paris": 18, "tokyo": 24}.get(city.lower(), 20)
    temperature = celsius if unit == "celsius" else round(celsius * 9 / 5 + 32)
    return {"city": city, "temperature": temperature, "unit": unit, "conditions": "sunny"}


FUNCTIONS: dict[str, Callable[..., Any]] = {"get_weather": get_weather}
TOOLS = [
    Tool.function(
        "get_weather",
        "Current weather in a city",
        {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    )
]


def run_tool(name: str, arguments: dict[str, Any]) -> Any:
    function = FUNCTIONS.get(name)
    if function is None:
        return {"error": f"unknown tool {name!r}"}
    try:
        return function(**arguments)
    except Exception as exc:  # report it to the model rather than crash the conversation
        return {"error": str(exc)}


def main() -> None:
    messages = [Message.user("What's the weather like in Paris and in Tokyo?")]
    with Edgee() as client:
        for _ in range(MAX_ROUNDS):
            request = InputObject(messages=messages, tools=TOOLS)
            with client.stream(MODEL, request) as stream:
                for text in stream.text_stream:
                    print(text, end="", flush=True)
                response = stream.final_response()
            if not response.tool_calls:
                print()
                return
            # Keep the model's request in the history, then answer each call by id.
            messages.append(Message.assistant(response.text, tool_calls=response.tool_calls))
            for call in response.tool_calls:
                arguments = call.arguments_json()
                name = call.function.name
                result = run_tool(name, arguments)
                print(f"[tool] {name}({json.dumps(arguments)}) -> {json.dumps(result)}")
                messages.append(Message.tool(call.id, json.dumps(result)))
    print(f"[stopped after {MAX_ROUNDS} rounds of tool calls]")


if __name__ == "__main__":
    main()
