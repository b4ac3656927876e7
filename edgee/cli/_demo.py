"""``edgee demo``: the whole SDK working in a few seconds, offline and without a key.

An embedded :class:`edgee.testing.FakeGateway` listens on 127.0.0.1 and the
real clients talk HTTP to it, exactly as they would to https://edgee.io. Its
answers are scripted here (it is not a model), which the output says.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from edgee.cli._chat import format_usage
from edgee.cli._errors import EXIT_OK, UsageError
from edgee.models import FunctionDefinition, InputObject, Message, Tool

if TYPE_CHECKING:
    from edgee._sync import Edgee
    from edgee.testing import FakeGateway

__all__ = ["run_demo"]

# Pause between streamed chunks: long enough to see words arrive, short enough
# that the whole demo takes about two seconds.
_CHUNK_DELAY = 0.03
_STEPS = 5

_SYNC_PROMPT = "Why stream an answer?"
_SYNC_ANSWER = "The first words show up at once, so people read while the model writes."
_ASYNC_PROMPT = "And why an async client?"
_ASYNC_ANSWER = "One event loop keeps many requests in flight, without a thread for each."
_TOOL_PROMPT = "What's the weather in Paris?"
_SEND_PROMPT = "Summarise Edgee in one line."
_SEND_ANSWER = "Edgee: one OpenAI-compatible API for many providers, with token compression."

_WEATHER_TOOL = Tool(
    type="function",
    function=FunctionDefinition(
        name="get_weather",
        description="Current weather for a city",
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    ),
)


def get_weather(city: str) -> dict[str, Any]:
    """The demo's local tool: a stand-in for a real weather lookup."""
    return {"city": city, "temperature_c": 18, "conditions": "sunny"}


class _Printer:
    """The demo's output: labelled steps, live answers, bold/dim only on a terminal."""

    def __init__(self, stream: TextIO, model: str) -> None:
        self.stream = stream
        self.model = model
        self.color = (
            stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        )

    def _style(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def bold(self, text: str) -> str:
        """`text` in bold on a terminal."""
        return self._style("1", text)

    def write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()  # answers are shown as they stream in

    def line(self, text: str = "") -> None:
        self.write(f"{text}\n")

    def step(self, number: int, title: str, code: str) -> None:
        self.line()
        self.line(self.bold(f"[{number}/{_STEPS}] {title}"))
        self.line(self._style("2", f"      {code}"))

    def you(self, prompt: str) -> None:
        self.line(f"  you   > {prompt}")

    def answer_start(self) -> None:
        self.write("  model > ")

    def note(self, text: str) -> None:
        self.line(self._style("2", f"  info  > {text}"))


def _timing(chunks: int, first: float | None, total: float, provider: str | None) -> str:
    first_text = f"first words after {first:.2f} s, " if first is not None else ""
    return f"{chunks} chunks; {first_text}complete after {total:.2f} s; provider: {provider}"


def _sync_stream(out: _Printer, gw: FakeGateway, client: Edgee) -> None:
    out.step(
        1,
        "Streaming with Edgee (sync)",
        "with client.stream(model, prompt) as stream: for chunk in stream: ...",
    )
    gw.reply_text(_SYNC_ANSWER, delay=_CHUNK_DELAY)
    out.you(_SYNC_PROMPT)
    out.answer_start()
    started = time.perf_counter()
    first: float | None = None
    chunks = 0
    with client.stream(out.model, _SYNC_PROMPT) as stream:
        for chunk in stream:
            chunks += 1
            if chunk.text:
                first = first if first is not None else time.perf_counter() - started
                out.write(chunk.text)
    out.line()
    out.note(_timing(chunks, first, time.perf_counter() - started, stream.provider))


async def _async_stream(out: _Printer, gw: FakeGateway) -> None:
    from edgee._async import AsyncEdgee

    out.step(
        2,
        "Streaming with AsyncEdgee (asyncio)",
        "stream = await client.stream(model, prompt); async for chunk in stream: ...",
    )
    gw.reply_text(_ASYNC_ANSWER, delay=_CHUNK_DELAY)
    out.you(_ASYNC_PROMPT)
    out.answer_start()
    async with AsyncEdgee(api_key=gw.api_key, base_url=gw.url) as client:
        started = time.perf_counter()
        first: float | None = None
        chunks = 0
        stream = await client.stream(out.model, _ASYNC_PROMPT)
        try:
            async for chunk in stream:
                chunks += 1
                if chunk.text:
                    first = first if first is not None else time.perf_counter() - started
                    out.write(chunk.text)
        finally:
            await stream.aclose()
    out.line()
    out.note(_timing(chunks, first, time.perf_counter() - started, stream.provider))


def _tool_round_trip(out: _Printer, gw: FakeGateway, client: Edgee) -> None:
    out.step(
        3,
        "Tool calling round trip",
        "stream(...).final_response().tool_calls -> run the tool -> send the result back",
    )
    # The fake model asks for the tool; its arguments arrive in three fragments
    # that final_response() merges back into one call.
    gw.reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Paris"}}], fragments=3)
    messages = [Message.user(_TOOL_PROMPT)]
    request = InputObject(messages=messages, tools=[_WEATHER_TOOL])
    out.you(_TOOL_PROMPT)
    with client.stream(out.model, request) as stream:
        first = stream.final_response()
    calls = first.tool_calls or []
    messages.append(Message.assistant(tool_calls=calls))
    result: dict[str, Any] = {}
    for call in calls:
        arguments = call.arguments_json()
        out.line(f"  model > calls {call.function.name}({json.dumps(arguments)})  [id {call.id}]")
        result = get_weather(**arguments)
        out.line(f"  tool  > ran locally: {json.dumps(result)}")
        messages.append(Message.tool(call.id, json.dumps(result)))
    # A scripted gateway cannot read; answer with what the tool returned, as a model would.
    gw.reply_text(
        f"It is {result.get('conditions', 'unknown')} and {result.get('temperature_c', '?')} "
        f"degrees Celsius in {result.get('city', 'that city')}."
    )
    final = client.send(out.model, InputObject(messages=messages, tools=[_WEATHER_TOOL]))
    sent = gw.last_request.json["messages"]
    roles = " -> ".join(message["role"] for message in sent)
    out.line(f"  sent  > {roles}  (the tool result went back with the history)")
    out.line(f"  model > {final.text}")


def _tool_runner(out: _Printer, gw: FakeGateway, client: Edgee) -> None:
    from edgee.tools import tool

    @tool
    def convert(amount: float, currency: str) -> dict[str, Any]:
        """Convert euros to another currency.

        Args:
            amount: Amount in euros.
            currency: ISO code of the target currency.
        """
        rates = {"USD": 1.08, "JPY": 162.0}
        return {"amount": round(amount * rates.get(currency, 1.0), 2), "currency": currency}

    out.step(
        5,
        "The tool runner: @tool + run_tools()",
        "client.run_tools(model, prompt, tools=[convert])  # send, run calls, send back, repeat",
    )
    # Two parallel calls in the first turn, then the final answer.
    gw.reply_tool_calls(
        [
            {"name": "convert", "arguments": {"amount": 100, "currency": "USD"}},
            {"name": "convert", "arguments": {"amount": 100, "currency": "JPY"}},
        ]
    )
    gw.reply_text("100 EUR is 108.0 USD or 16200.0 JPY.")
    prompt = "How much is 100 EUR in dollars and in yen?"
    out.you(prompt)
    result = client.run_tools(out.model, prompt, tools=[convert])
    schema = json.dumps(convert.parameters["properties"])
    out.line(f"  tool  > schema from the signature: {schema}")
    for call in result.tool_results:
        out.line(f"  tool  > {call.name}({call.call.function.arguments}) -> {call.output}")
    out.line(f"  model > {result.text}")
    out.note(f"{result.iterations} requests; transcript: {len(result.messages)} messages")


def _send(out: _Printer, gw: FakeGateway, client: Edgee) -> None:
    out.step(4, "One request, one response", "response = client.send(model, prompt)")
    gw.reply_text(
        _SEND_ANSWER,
        usage={"prompt_tokens": 1250, "completion_tokens": 17, "total_tokens": 1267},
        compression={"saved_tokens": 830, "cost_savings": 2075, "reduction": 39.9, "time_ms": 12},
    )
    out.you(_SEND_PROMPT)
    response = client.send(out.model, _SEND_PROMPT)
    out.line(f"  model > {response.text}")
    out.note(f"finish_reason: {response.finish_reason}")
    for line in format_usage(response):
        out.note(f"{line} (scripted figures)" if line.startswith("compression") else line)


def run_demo(args: argparse.Namespace) -> int:
    """``edgee demo``: start the local gateway and run the steps against it."""
    from edgee._sync import Edgee
    from edgee.testing import FakeGateway

    out = _Printer(sys.stdout, args.model)
    tracing = None
    if getattr(args, "trace", False):  # --trace: every call's span, printed at the end
        from edgee._observe_console import console_tracing

        try:
            tracing = console_tracing()
        except ImportError as exc:  # no opentelemetry-sdk
            raise UsageError(str(exc)) from None
    started = time.perf_counter()
    with FakeGateway(model=args.model) as gw:
        args.resolved_base_url = gw.url
        out.line(out.bold("Edgee demo"))
        out.line(f"A local gateway is listening on {gw.url} (edgee.testing.FakeGateway).")
        out.line("The real clients talk HTTP to it: no network, no API key; its answers")
        out.line("are scripted, not generated.")
        # Explicit key and URL: the user's EDGEE_* variables must not redirect the demo.
        with Edgee(api_key=gw.api_key, base_url=gw.url) as client:
            _sync_stream(out, gw, client)
            asyncio.run(_async_stream(out, gw))
            _tool_round_trip(out, gw, client)
            _send(out, gw, client)
            _tool_runner(out, gw, client)
        requests_made = len(gw.requests)
    elapsed = time.perf_counter() - started
    if tracing is not None:
        out.line()
        tracing.print(out.stream)
    out.line()
    out.line(
        out.bold(f"All {_STEPS} steps worked")
        + f" ({requests_made} HTTP requests in {elapsed:.1f} s)."
    )
    out.line("Now with a real key (the same calls go to https://edgee.io):")
    out.line("  export EDGEE_API_KEY=...")
    out.line('  edgee chat "Hello!" -m openai/gpt-4o')
    out.line("  edgee models")
    return EXIT_OK
