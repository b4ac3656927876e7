"""``edgee demo --trace``: the spans of a run, printed by the SDK's console exporter.

Needs ``opentelemetry-sdk`` (the ``otel`` extra brings only the API); without
it :func:`console_tracing` raises ``ImportError`` with what to install.
"""

from __future__ import annotations

import io
from typing import Any, TextIO

from edgee._observe import instrument, uninstrument

__all__ = ["ConsoleTracing", "console_tracing"]

# Attributes shown per span, in this order (the rest are in the exporter's JSON).
_SHOWN = (
    "gen_ai.provider.name",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.response.finish_reasons",
    "edgee.time_to_first_chunk",
    "edgee.stream.outcome",
    "edgee.compression.saved_tokens",
    "gen_ai.tool.name",
    "error.type",
)


def _line(span: Any) -> str:
    """One span as one line: name, duration, the attributes worth a glance."""
    attributes = dict(span.attributes or {})
    duration = (span.end_time - span.start_time) / 1e6 if span.end_time else 0.0
    shown = []
    for key in _SHOWN:
        if key in attributes:
            value = attributes[key]
            if isinstance(value, float):
                value = f"{value:.3f}"
            elif isinstance(value, tuple):
                value = ",".join(map(str, value))
            shown.append(f"{key}={value}")
    parent = "  " if span.parent is not None else ""
    return f"  {parent}{span.name}  {duration:.1f} ms  {' '.join(shown)}\n"


class ConsoleTracing:
    """Global instrumentation into a console exporter whose output is kept until :meth:`print`."""

    def __init__(self) -> None:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        self._buffer = io.StringIO()
        self._provider = TracerProvider()
        exporter = ConsoleSpanExporter(out=self._buffer, formatter=_line)
        self._provider.add_span_processor(SimpleSpanProcessor(exporter))
        instrument(tracer_provider=self._provider)

    def print(self, out: TextIO) -> None:
        """Stop tracing and write the spans, one line each, in the order they ended."""
        uninstrument()
        self._provider.shutdown()
        out.write("Spans (OpenTelemetry console exporter, in the order they ended):\n")
        out.write(self._buffer.getvalue())


def console_tracing() -> ConsoleTracing:
    """Start tracing every call into the console exporter; ``ImportError`` without the SDK."""
    try:
        return ConsoleTracing()
    except ImportError as exc:
        raise ImportError(
            "--trace needs the OpenTelemetry SDK: pip install 'edgee[otel]' opentelemetry-sdk"
        ) from exc
