"""Input normalization and request building, shared by both transports.

Everything a request needs is decided here, before any I/O: the input in any
of its accepted forms becomes the JSON body, the headers and the per-request
settings. Both clients call :func:`build_chat_request` and only move the
resulting bytes, so they cannot disagree about what is sent. Invalid input
raises ``TypeError``/``ValueError`` naming the offending field.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from edgee._config import ClientOptions, Timeout, check_headers, merge_headers
from edgee._version import __version__
from edgee.models import InputObject, Message, Tool

__all__ = [
    "CHAT_PATH",
    "COMPRESS_PATH",
    "COUNT_TOKENS_PATH",
    "MODELS_PATH",
    "OPTION_NAMES",
    "InputLike",
    "PreparedRequest",
    "build_chat_request",
    "build_input_request",
    "build_models_request",
    "build_request",
]

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
COUNT_TOKENS_PATH = "/v1/count_tokens"
COMPRESS_PATH = "/v1/compress"
USER_AGENT = f"edgee-python/{__version__}"

InputLike = str | Sequence[Message | Mapping[str, Any]] | InputObject | Mapping[str, Any]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_TOOL_CHOICES = frozenset({"auto", "none", "required"})
_INPUT_KEYS = frozenset(attrs.fields_dict(InputObject)) - {"_extra"}

# Body options in the order they are written after the input's own keys.
_BODY_OPTIONS = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "seed",
    "n",
    "response_format",
    "user",
    "metadata",
    "edgee_tool_ids",
    "edgee_pending_id",
    "enable_debug",
)
# Everything send()/stream() accept as keyword options.
OPTION_NAMES = frozenset(
    (
        *_BODY_OPTIONS,
        "tools",
        "tool_choice",
        "tags",
        "include_usage",
        "extra_body",
        "extra_headers",
        "timeout",
        "max_retries",
    )
)

_COMPRESSION_HEADERS = (
    ("tool_result_trimming", "X-Edgee-Compression-Tool-Result-Trimming"),
    ("tool_surface_reduction", "X-Edgee-Compression-Tool-Surface-Reduction"),
    ("output_brevity", "X-Edgee-Compression-Brevity"),
)


@attrs.frozen
class PreparedRequest:
    """One HTTP request, ready for a transport: bytes and settings, no I/O."""

    method: str
    url: str
    headers: dict[str, str] = attrs.field(repr=False)  # holds the API key
    body: bytes | None
    stream: bool
    timeout: Timeout
    max_retries: int


def _json_bytes(body: Mapping[str, Any]) -> bytes:
    try:
        text = _ENCODER.encode(body)
    except ValueError as exc:  # NaN/Infinity: not JSON
        raise ValueError(f"request body is not valid JSON: {exc}") from None
    except TypeError as exc:
        raise TypeError(f"request body is not JSON-serialisable: {exc}") from None
    return text.encode()


def build_request(
    options: ClientOptions,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    *,
    stream: bool = False,
    extra_headers: Mapping[str, str] | None = None,
    timeout: float | Timeout | None = None,
    max_retries: int | None = None,
) -> PreparedRequest:
    """Build any gateway request: URL, headers (auth, user agent, accept), JSON body."""
    headers = dict(_base_headers(options, stream, body is not None))
    if extra_headers:
        headers = merge_headers(headers, check_headers(extra_headers, "extra_headers"))
    if max_retries is not None and (
        not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0
    ):
        raise ValueError(f"max_retries must be a non-negative integer, not {max_retries!r}")
    return PreparedRequest(
        method=method,
        url=options.base_url + path,
        headers=headers,
        body=None if body is None else _json_bytes(body),
        stream=stream,
        timeout=options.timeout if timeout is None else Timeout.coerce(timeout),
        max_retries=options.max_retries if max_retries is None else max_retries,
    )


@functools.lru_cache(maxsize=64)
def _base_headers(
    options: ClientOptions, stream: bool, has_body: bool
) -> tuple[tuple[str, str], ...]:
    """The headers every request of these settings carries (built once, not per call)."""
    headers = {
        "Authorization": f"Bearer {options.api_key}",
        "User-Agent": USER_AGENT,
        "Accept": "text/event-stream" if stream else "application/json",
    }
    if has_body:
        headers["Content-Type"] = "application/json"
    # Header names are case-insensitive: "user-agent" replaces User-Agent rather
    # than adding a second header (aiohttp would send both).
    return tuple(merge_headers(headers, options.default_headers).items())


def build_chat_request(
    options: ClientOptions,
    model: str,
    input: InputLike,
    *,
    stream: bool,
    **kwargs: Any,
) -> PreparedRequest:
    """Turn ``send()``/``stream()`` arguments into the chat-completions request.

    Body keys are written in the order ``model, messages, stream, tools,
    tool_choice, tags, compression_model``, then the options; ``None`` options
    are not sent; ``extra_body`` is merged last.
    """
    normalized, body = _conversation(model, input, kwargs, OPTION_NAMES, stream=stream)
    tags = list(normalized["tags"] or ())
    if kwargs.get("tags") is not None:
        tags.extend(_check_tags(kwargs["tags"], "tags"))
    if tags:
        body["tags"] = tags
    if normalized["compression_model"] is not None:
        warnings.warn(
            "compression_model is deprecated; use tool_result_trimming instead",
            DeprecationWarning,
            stacklevel=3,
        )
        body["compression_model"] = normalized["compression_model"]
    for name in _BODY_OPTIONS:
        value = kwargs.get(name)
        if value is not None:
            body[name] = value
    if stream and kwargs.get("include_usage"):
        body["stream_options"] = {"include_usage": True}
    return _finish(options, CHAT_PATH, body, normalized, kwargs, stream=stream)


def _finish(
    options: ClientOptions,
    path: str,
    body: dict[str, Any],
    normalized: Mapping[str, Any],
    kwargs: Mapping[str, Any],
    *,
    stream: bool = False,
) -> PreparedRequest:
    """Merge ``extra_body``, add the compression headers, build the POST."""
    extra_body = kwargs.get("extra_body")
    if extra_body is not None:
        if not isinstance(extra_body, Mapping):
            raise TypeError("extra_body must be a mapping")
        body.update(extra_body)
    headers: dict[str, str] = {}
    for field, header in _COMPRESSION_HEADERS:
        value = normalized[field]
        # Only real booleans count, as in the official SDK: "yes" or 1 is ignored.
        if value is True or value is False:
            headers[header] = "true" if value else "false"
    if kwargs.get("extra_headers") is not None:
        headers = merge_headers(headers, check_headers(kwargs["extra_headers"], "extra_headers"))
    return build_request(
        options,
        "POST",
        path,
        body,
        stream=stream,
        extra_headers=headers,
        timeout=kwargs.get("timeout"),
        max_retries=kwargs.get("max_retries"),
    )


# Options of the endpoints that take a conversation but generate nothing.
_INPUT_OPTIONS = frozenset(
    {"tools", "tool_choice", "extra_body", "extra_headers", "timeout", "max_retries"}
)


def build_input_request(
    options: ClientOptions, path: str, model: str, input: InputLike, **kwargs: Any
) -> PreparedRequest:
    """``count_tokens()``/``compress()``: the conversation of a chat request, nothing more."""
    normalized, body = _conversation(model, input, kwargs, _INPUT_OPTIONS)
    return _finish(options, path, body, normalized, kwargs)


def _conversation(
    model: str,
    input: InputLike,
    kwargs: Mapping[str, Any],
    allowed: frozenset[str],
    *,
    stream: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check the options, normalize the input; start the body with model, messages, tools."""
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(f"unknown option: {', '.join(sorted(unknown))}")
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model must be a non-empty string")
    normalized = _normalize_input(input)
    # tools/tool_choice may also come as options (OpenAI style); they win over the input's.
    if kwargs.get("tools") is not None:
        normalized["tools"] = _normalize_tools(kwargs["tools"])
    if kwargs.get("tool_choice") is not None:
        normalized["tool_choice"] = _normalize_tool_choice(kwargs["tool_choice"])
    body: dict[str, Any] = {"model": model, "messages": normalized["messages"]}
    if stream:
        body["stream"] = True
    if normalized["tools"]:
        body["tools"] = normalized["tools"]
    if normalized["tool_choice"] is not None:
        body["tool_choice"] = normalized["tool_choice"]
    return normalized, body


def build_models_request(
    options: ClientOptions,
    provider: str | None = None,
    *,
    extra_headers: Mapping[str, str] | None = None,
    timeout: float | Timeout | None = None,
    max_retries: int | None = None,
) -> PreparedRequest:
    """``models()``: ``GET /v1/models``, optionally filtered by provider."""
    path = MODELS_PATH
    if provider is not None:
        if not isinstance(provider, str) or not provider:
            raise ValueError("provider must be a non-empty string")
        path += "?" + urllib.parse.urlencode({"provider": provider})
    return build_request(
        options,
        "GET",
        path,
        extra_headers=extra_headers,
        timeout=timeout,
        max_retries=max_retries,
    )


def _normalize_input(input: Any) -> dict[str, Any]:
    """Every accepted input form -> one dict of wire values."""
    fields: dict[str, Any] = dict.fromkeys(_INPUT_KEYS)
    if isinstance(input, str):
        fields["messages"] = [{"role": "user", "content": input}]
        return fields
    if isinstance(input, InputObject):
        raw: Mapping[str, Any] = {k: getattr(input, k) for k in _INPUT_KEYS}
    elif isinstance(input, Mapping) and not isinstance(input, Message):  # a Message is a dict
        if "messages" not in input:
            raise ValueError("input dict must have a 'messages' key")
        unknown = set(input) - _INPUT_KEYS
        if unknown:
            raise ValueError(f"unknown input key: {', '.join(sorted(map(str, unknown)))}")
        raw = input
    elif isinstance(input, Sequence) and not isinstance(input, (bytes, bytearray)):
        raw = {"messages": input}
    else:
        raise TypeError(
            "input must be a str, a list of messages, an InputObject or a dict, "
            f"not {type(input).__name__}"
        )
    fields["messages"] = _normalize_messages(raw["messages"])
    fields["tools"] = _normalize_tools(raw.get("tools"))
    fields["tool_choice"] = _normalize_tool_choice(raw.get("tool_choice"))
    if raw.get("tags") is not None:
        fields["tags"] = _check_tags(raw["tags"], "input.tags")
    for key in ("tool_result_trimming", "tool_surface_reduction", "output_brevity"):
        fields[key] = raw.get(key)
    cm = raw.get("compression_model")
    if cm is not None and not isinstance(cm, str):
        raise TypeError("input.compression_model must be a string")
    fields["compression_model"] = cm
    return fields


def _check_tags(tags: Any, field: str) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise TypeError(f"{field} must be a list of strings")
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise TypeError(f"{field}[{i}] must be a string, not {type(tag).__name__}")
    return list(tags)


def _normalize_messages(messages: Any) -> list[dict[str, Any]]:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of Message objects or dicts")
    if not messages:
        raise ValueError("messages must not be empty")
    out = []
    for i, m in enumerate(messages):
        if isinstance(m, Message):
            d = m.to_dict()
        elif isinstance(m, Mapping):
            d = dict(m)  # shallow: nested models are encoded by _json_bytes
        else:
            raise TypeError(f"messages[{i}] must be a Message or a dict, not {type(m).__name__}")
        role = d.get("role")
        if role not in _ROLES:
            raise ValueError(
                f"messages[{i}].role must be one of {', '.join(sorted(_ROLES))}, not {role!r}"
            )
        content = d.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise TypeError(f"messages[{i}].content must be a string or a list of content parts")
        if role == "tool" and not d.get("tool_call_id"):
            raise ValueError(f"messages[{i}].tool_call_id is required for a tool message")
        out.append(d)
    return out


def _normalize_tools(tools: Any) -> list[dict[str, Any]] | None:
    if tools is None:
        return None
    if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Sequence):
        raise TypeError("tools must be a list of Tool objects or dicts")
    out = []
    for i, t in enumerate(tools):
        if isinstance(t, Tool):
            d = t.to_dict()
        elif isinstance(t, Mapping):
            d = dict(t)
        else:
            raise TypeError(f"tools[{i}] must be a Tool or a dict, not {type(t).__name__}")
        fn = d.get("function")
        if not isinstance(fn, Mapping):
            raise ValueError(f"tools[{i}].function is required")
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"tools[{i}].function.name is required")
        params = fn.get("parameters")
        if params is not None:
            try:
                json.dumps(params, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"tools[{i}].function.parameters is not JSON-serialisable: {exc}"
                ) from None
        d.setdefault("type", "function")
        out.append(d)
    return out


def _normalize_tool_choice(choice: Any) -> Any:
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICES:
            raise ValueError(
                "tool_choice must be 'auto', 'none', 'required' or a function choice, "
                f"not {choice!r}"
            )
        return choice
    if hasattr(choice, "to_dict"):
        choice = choice.to_dict()
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str) and fn["name"]:
            return {"type": choice.get("type", "function"), "function": dict(fn)}
        raise ValueError("tool_choice.function.name is required")
    raise TypeError(f"tool_choice must be a string or a dict, not {type(choice).__name__}")


def _model_to_json(obj: Any) -> Any:
    # Lets users nest models in dicts: {"role": "assistant", "tool_calls": [ToolCall(...)]}.
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


# One encoder for every body: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_model_to_json
)
