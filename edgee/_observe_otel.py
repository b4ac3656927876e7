"""OpenTelemetry spans and metrics of edgee calls (imported only when instrumentation is on).

Follows the OpenTelemetry GenAI semantic conventions (development status, the
names current in 2026: ``gen_ai.provider.name``, ``gen_ai.input.messages``...).
What is recorded, and the edgee-specific choices, are listed in README.md
("Observability"); in short:

* one CLIENT span per call, ``{gen_ai.operation.name} {gen_ai.request.model}``;
  ``chat`` for chat completions, and ``edgee.models``, ``edgee.count_tokens``,
  ``edgee.compress`` for the endpoints the conventions have no operation for;
* one ``edgee.attempt`` span event per attempt (status or ``error.type``, and
  the retry delay when it was retried);
* a stream's span ends with the stream, with ``edgee.time_to_first_chunk``;
* metrics ``gen_ai.client.operation.duration``, ``gen_ai.client.token.usage``
  and, for streams, ``gen_ai.client.operation.time_to_first_chunk``;
* message content only when ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``
  is ``true``; the API key and request headers never.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeGuard

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from edgee._observe import error_type
from edgee._request import PreparedRequest
from edgee._version import __version__

__all__ = ["CONTENT_ENV", "CallSpan", "RunSpan", "Telemetry"]

CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
_DEFAULT_PROVIDER = "edgee"

# The conventions' advised bucket boundaries.
_DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
_TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

# Endpoint path -> gen_ai.operation.name. Only chat completions is a GenAI
# operation the conventions name; the others get edgee.* names.
_OPERATIONS = (
    ("/v1/chat/completions", "chat"),
    ("/v1/models", "edgee.models"),
    ("/v1/count_tokens", "edgee.count_tokens"),
    ("/v1/compress", "edgee.compress"),
)

# Request body number options -> attribute (gen_ai.request.*).
_FLOAT_PARAMS = (
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
    ("frequency_penalty", "gen_ai.request.frequency_penalty"),
    ("presence_penalty", "gen_ai.request.presence_penalty"),
)
_INT_PARAMS = (
    ("max_tokens", "gen_ai.request.max_tokens"),
    ("max_completion_tokens", "gen_ai.request.max_tokens"),
    ("seed", "gen_ai.request.seed"),
)


def capture_content() -> bool:
    """Whether message content goes into spans (the conventions' opt-in variable)."""
    return os.environ.get(CONTENT_ENV, "").strip().lower() == "true"


class Telemetry:
    """A tracer and the three histograms, from the given providers (``None``: the global ones)."""

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        self.tracer = trace.get_tracer("edgee", __version__, tracer_provider, _SCHEMA_URL)
        meter = metrics.get_meter("edgee", __version__, meter_provider, _SCHEMA_URL)
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        self.first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time from the request to the first chunk of a stream.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )

    def start_call(self, request: PreparedRequest) -> CallSpan:
        """Start the span of one call of ``request``."""
        return CallSpan(self, request)

    def start_run(self, model: str) -> RunSpan:
        """Start the span of one tool run."""
        return RunSpan(self, model)


def _operation(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    operation = "edgee.request"
    for path, name in _OPERATIONS:
        if parts.path.endswith(path):
            operation = name
            break
    port = parts.port
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return operation, parts.hostname or "", port


def _body(request: PreparedRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _request_attributes(body: Mapping[str, Any], attributes: dict[str, AttributeValue]) -> None:
    for key, name in _FLOAT_PARAMS:
        value = body.get(key)
        if _number(value):
            attributes[name] = float(value)
    for key, name in _INT_PARAMS:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            attributes[name] = value
    stop = body.get("stop")
    if isinstance(stop, str):
        attributes["gen_ai.request.stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop and all(isinstance(s, str) for s in stop):
        attributes["gen_ai.request.stop_sequences"] = stop
    n = body.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n != 1:
        attributes["gen_ai.request.choice.count"] = n
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind in ("json_object", "json_schema"):
            attributes["gen_ai.output.type"] = "json"
        elif kind == "text":
            attributes["gen_ai.output.type"] = "text"
    tags = body.get("tags")
    if isinstance(tags, list) and tags and all(isinstance(t, str) for t in tags):
        attributes["edgee.tags"] = tags


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _get(obj: Any, name: str) -> Any:
    """A field of a wire object, whether a decoded JSON dict or an attrs model."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


# --- message content (opt-in), in the conventions' "parts" shape -------------------------


def _text_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    parts: list[dict[str, Any]] = []
    if isinstance(content, list):
        for part in content:
            kind = _get(part, "type")
            if kind == "text":
                parts.append({"type": "text", "content": _get(part, "text")})
            elif kind == "image_url":
                image = _get(part, "image_url")
                parts.append({"type": "uri", "modality": "image", "uri": _get(image, "url")})
            else:
                parts.append({"type": str(kind)})
    return parts


def _tool_call_parts(tool_calls: Any) -> list[dict[str, Any]]:
    parts = []
    for call in tool_calls or ():
        function = _get(call, "function")
        arguments = _get(function, "arguments")
        with contextlib.suppress(ValueError):  # not JSON: the string as it came
            arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
        parts.append(
            {
                "type": "tool_call",
                "id": _get(call, "id"),
                "name": _get(function, "name"),
                "arguments": arguments,
            }
        )
    return parts


def _input_messages(messages: Any) -> str | None:
    if not isinstance(messages, list):
        return None
    out = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role == "tool":
            parts: list[dict[str, Any]] = [
                {
                    "type": "tool_call_response",
                    "id": message.get("tool_call_id"),
                    "result": message.get("content"),
                }
            ]
        else:
            parts = _text_parts(message.get("content"))
            parts += _tool_call_parts(message.get("tool_calls"))
        out.append({"role": role, "parts": parts})
    return json.dumps(out, ensure_ascii=False, default=str)


def _output_messages(choices: Any) -> str | None:
    if not isinstance(choices, list):
        return None
    out = []
    for choice in choices:
        message = _get(choice, "message")
        parts = _text_parts(_get(message, "content")) + _tool_call_parts(
            _get(message, "tool_calls")
        )
        role = _get(message, "role")
        out.append(
            {
                "role": str(role) if role is not None else "assistant",
                "parts": parts,
                "finish_reason": _finish_reason(_get(choice, "finish_reason")),
            }
        )
    return json.dumps(out, ensure_ascii=False, default=str)


def _finish_reason(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _finish_reasons(choices: Any) -> list[str] | None:
    """The finish reason of every choice; None when there are no choices."""
    if not isinstance(choices, list) or not choices:
        return None
    return [_finish_reason(_get(c, "finish_reason")) for c in choices]


def _token_counts(usage: Any) -> Iterator[tuple[str, int]]:
    """``("input", n)`` and ``("output", n)`` of a usage, for the counts that are integers."""
    for field, kind in (("prompt_tokens", "input"), ("completion_tokens", "output")):
        count = _get(usage, field)
        if isinstance(count, int) and not isinstance(count, bool):
            yield kind, count


# --- one call ----------------------------------------------------------------------------


class CallSpan:
    """The span of one call, and the metric attributes gathered on the way."""

    def __init__(self, telemetry: Telemetry, request: PreparedRequest) -> None:
        self._telemetry = telemetry
        self._content = capture_content()
        operation, host, port = _operation(request.url)
        body = _body(request)
        model = body.get("model")
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": _DEFAULT_PROVIDER,
            "server.address": host,
            "server.port": port,
        }
        if isinstance(model, str):
            attributes["gen_ai.request.model"] = model
        session = _header(request.headers, "x-edgee-session-id")
        if session:
            attributes["gen_ai.conversation.id"] = session
        _request_attributes(body, attributes)
        if self._content:
            messages = _input_messages(body.get("messages"))
            if messages is not None:
                attributes["gen_ai.input.messages"] = messages
        self._metric: dict[str, AttributeValue] = {
            key: attributes[key]
            for key in (
                "gen_ai.operation.name",
                "gen_ai.provider.name",
                "gen_ai.request.model",
                "server.address",
                "server.port",
            )
            if key in attributes
        }
        self._operation = operation
        name = f"{operation} {model}" if isinstance(model, str) else operation
        self.span = telemetry.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        self._attempt: dict[str, AttributeValue] | None = None

    # -- attempts: one span event each

    def _flush_attempt(self) -> None:
        if self._attempt is not None:
            self.span.add_event("edgee.attempt", self._attempt)
            self._attempt = None

    def request_sent(self, request: PreparedRequest, attempt: int) -> None:
        self._flush_attempt()
        self._attempt = {"edgee.attempt": attempt}

    def response_received(self, status: int, headers: Mapping[str, str]) -> None:
        if self._attempt is not None:
            self._attempt["http.response.status_code"] = status
        provider = headers.get("x-edgee-provider")
        self._set("gen_ai.provider.name", provider or _DEFAULT_PROVIDER)
        self.span.set_attribute("edgee.fallback_used", headers.get("x-edgee-fallback-used") == "1")
        request_id = headers.get("x-request-id")
        if request_id:
            self.span.set_attribute("edgee.request_id", request_id)

    def retry_scheduled(self, attempt: int, delay: float, reason: str) -> None:
        if self._attempt is None:
            self._attempt = {"edgee.attempt": attempt}
        self._attempt["error.type"] = reason
        self._attempt["edgee.retry.delay"] = delay
        self._flush_attempt()

    def _set(self, key: str, value: AttributeValue) -> None:
        self.span.set_attribute(key, value)
        self._metric[key] = value

    # -- the answer

    def _response(self, response: Any) -> None:
        """Attributes of a chat answer, a compression report or a token count."""
        span = self.span
        response_id = _get(response, "id")
        if isinstance(response_id, str):
            span.set_attribute("gen_ai.response.id", response_id)
        model = _get(response, "model")
        if isinstance(model, str):
            self._set("gen_ai.response.model", model)
        choices = _get(response, "choices")
        reasons = _finish_reasons(choices)
        if reasons is not None:
            span.set_attribute("gen_ai.response.finish_reasons", reasons)
            if self._content:
                output = _output_messages(choices)
                if output is not None:
                    span.set_attribute("gen_ai.output.messages", output)
        for kind, count in _token_counts(_get(response, "usage")):
            span.set_attribute(f"gen_ai.usage.{kind}_tokens", count)
            self._telemetry.tokens.record(count, {**self._metric, "gen_ai.token.type": kind})
        compression = _get(response, "compression")
        if compression is not None:
            self._compression(compression)
        input_tokens = _get(response, "input_tokens")  # count_tokens()
        if isinstance(input_tokens, int) and not isinstance(input_tokens, bool):
            span.set_attribute("edgee.count_tokens.input_tokens", input_tokens)

    def _compression(self, compression: Any) -> None:
        saved = _get(compression, "saved_tokens")
        reduction = _get(compression, "reduction")
        if saved is None:  # compress()'s report: token counts and a 0-1 rate
            before = _get(compression, "uncompressed_input_tokens")
            after = _get(compression, "compressed_input_tokens")
            if isinstance(before, int) and isinstance(after, int):
                saved = before - after
            rate = _get(compression, "compression_rate")
            if _number(rate):
                reduction = float(rate) * 100
        if isinstance(saved, int) and not isinstance(saved, bool):
            self.span.set_attribute("edgee.compression.saved_tokens", saved)
        if _number(reduction):
            self.span.set_attribute("edgee.compression.reduction", float(reduction))

    def _end(self, duration: float, error: BaseException | None) -> None:
        self._flush_attempt()
        if error is not None:
            kind = error_type(error)
            self._set("error.type", kind)
            self.span.set_status(Status(StatusCode.ERROR, f"{kind}: {error}"))
        self._telemetry.duration.record(duration, self._metric)
        self.span.end()

    def succeeded(self, body: bytes | None, duration: float) -> None:
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                self._response(data)
        self._end(duration, None)

    def failed(self, error: BaseException, duration: float) -> None:
        self._end(duration, error)

    def stream_started(self) -> None:
        self._flush_attempt()

    def first_chunk(self, seconds: float) -> None:
        self.span.set_attribute("edgee.time_to_first_chunk", seconds)
        self._telemetry.first_chunk.record(seconds, self._metric)

    def stream_finished(
        self,
        outcome: str,
        chunks: int,
        response: Any,
        error: BaseException | None,
        duration: float,
    ) -> None:
        self.span.set_attribute("edgee.stream.outcome", outcome)
        self.span.set_attribute("edgee.stream.chunks", chunks)
        if response is not None:
            self._response(response)
        self._end(duration, error if outcome == "error" else None)


# --- the tool runner ---------------------------------------------------------------------


def _tool_error_type(error: str) -> str:
    # The runner's error texts: "Error: invalid arguments: ...", "Error: no tool
    # named ...", "Error: ValueError: ..." (a tool that raised).
    text = error.removeprefix("Error: ")
    if text.startswith("invalid arguments"):
        return "invalid_arguments"
    if text.startswith("no tool named"):
        return "unknown_tool"
    head = text.split(":", 1)[0]
    return head if head.isidentifier() else "tool_error"


class RunSpan:
    """The ``invoke_agent`` span of one tool run and its ``execute_tool`` children."""

    def __init__(self, telemetry: Telemetry, model: str) -> None:
        self._telemetry = telemetry
        self._content = capture_content()
        self.span = telemetry.tracer.start_span(
            "invoke_agent",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.provider.name": _DEFAULT_PROVIDER,
                "gen_ai.request.model": model,
            },
        )
        self._context = trace.set_span_in_context(self.span)

    @contextmanager
    def current(self) -> Iterator[None]:
        with trace.use_span(
            self.span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            yield

    def tool_started(self, call: Any) -> trace.Span:
        function = _get(call, "function")
        name = str(_get(function, "name") or "")
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.type": "function",
        }
        call_id = _get(call, "id")
        if isinstance(call_id, str) and call_id:
            attributes["gen_ai.tool.call.id"] = call_id
        if self._content:
            arguments = _get(function, "arguments")
            if isinstance(arguments, str):
                attributes["gen_ai.tool.call.arguments"] = arguments
        return self._telemetry.tracer.start_span(
            f"execute_tool {name}",
            context=self._context,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )

    def tool_finished(self, span: trace.Span, output: str | None, error: str | None) -> None:
        if error is not None:
            kind = _tool_error_type(error)
            span.set_attribute("error.type", kind)
            span.set_status(Status(StatusCode.ERROR, kind))
        if self._content and output is not None:
            span.set_attribute("gen_ai.tool.call.result", output)
        span.end()

    def finished(self, result: Any, error: BaseException | None) -> None:
        span = self.span
        if result is not None:
            span.set_attribute("edgee.tool_run.iterations", int(_get(result, "iterations") or 0))
            for kind, count in _token_counts(_get(result, "usage")):
                span.set_attribute(f"gen_ai.usage.{kind}_tokens", count)
            response = _get(result, "response")
            model = _get(response, "model")
            if isinstance(model, str):
                span.set_attribute("gen_ai.response.model", model)
            reasons = _finish_reasons(_get(response, "choices"))
            if reasons is not None:
                span.set_attribute("gen_ai.response.finish_reasons", reasons)
        if error is not None:
            kind = error_type(error)
            span.set_attribute("error.type", kind)
            span.set_status(Status(StatusCode.ERROR, f"{kind}: {error}"))
        span.end()
