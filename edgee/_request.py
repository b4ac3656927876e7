"""Input normalization and request building, shared by both transports.

Everything a request needs is decided here, before any I/O: the input in any
of its accepted forms becomes the JSON body, the headers and the per-request
settings. Both clients call the builders below and only move the resulting
bytes, so they cannot disagree about what is sent. Invalid input raises
``TypeError``/``ValueError`` naming the offending field; an input dict key
that is neither an input field nor a known option is dropped with an
:class:`~edgee.errors.EdgeeWarning` naming it.

Debug rule: ``debug=`` is one option on every POST endpoint. It travels in the
body as ``enable_debug`` where the endpoint's body has that field (chat
completions) and as the ``X-Edgee-Debug`` header where it has not
(``compress``, ``count_tokens``).
"""

from __future__ import annotations

import json
import json.encoder
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from edgee._config import (
    ClientOptions,
    Timeout,
    check_header_value,
    check_headers,
    check_max_retries,
    merge_headers,
    warn_user,
)
from edgee._version import __version__
from edgee.models import Choice, InputObject, Message, ResponseMessage, Tool

__all__ = [
    "API_ENDPOINT",
    "CHAT_PATH",
    "COMPRESSION_HEADERS",
    "COMPRESSION_MODELS",
    "COMPRESS_PATH",
    "COUNT_TOKENS_PATH",
    "MODELS_PATH",
    "OPTION_NAMES",
    "TOKENIZERS",
    "InputLike",
    "PreparedRequest",
    "build_chat_request",
    "build_compress_request",
    "build_count_tokens_request",
    "build_input_request",
    "build_models_request",
    "build_request",
]

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
COUNT_TOKENS_PATH = "/v1/count_tokens"
COMPRESS_PATH = "/v1/compress"
USER_AGENT = f"edgee-python/{__version__}"
# The official SDK's module-level name for the chat path.
API_ENDPOINT = CHAT_PATH

InputLike = str | Sequence[Message | Mapping[str, Any]] | InputObject | Mapping[str, Any]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_TOOL_CHOICES = frozenset({"auto", "none", "required"})
# The typed mode object of the reference: {"type": "auto"} / {"type": "none"}.
_TOOL_CHOICE_MODES = frozenset({"auto", "none"})
COMPRESSION_MODELS = frozenset({"claude", "opencode", "codex", "cursor"})
TOKENIZERS = frozenset({"cl100k_base", "o200k_base"})

SESSION_HEADER = "x-edgee-session-id"
DEBUG_HEADER = "X-Edgee-Debug"

# Per-request compression toggles, keyed by their input field (the official
# SDK's table; edgee.COMPRESSION_HEADERS is a copy, so user changes to it
# cannot change what is sent).
_COMPRESSION_TOGGLES = (
    ("tool_result_trimming", "X-Edgee-Compression-Tool-Result-Trimming"),
    ("tool_surface_reduction", "X-Edgee-Compression-Tool-Surface-Reduction"),
    ("output_brevity", "X-Edgee-Compression-Brevity"),
)
COMPRESSION_HEADERS: dict[str, str] = dict(_COMPRESSION_TOGGLES)

# Body options in the order they are written after the input's own keys. They
# are also the generation options an input dict may carry.
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
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "parallel_tool_calls",
    "reasoning_effort",
    "edgee_tool_ids",
    "edgee_pending_id",
    "enable_debug",
)
_BODY_OPTION_SET = frozenset(_BODY_OPTIONS)
# The keys an input (InputObject or dict) holds besides generation options.
_INPUT_FIELDS = (
    "messages",
    "tools",
    "tool_choice",
    "tags",
    "compression_model",
    *(field for field, _ in _COMPRESSION_TOGGLES),
)
_INPUT_FIELD_SET = frozenset(_INPUT_FIELDS)

# Options every POST builder takes.
_CALL_OPTIONS = frozenset(
    {"session_id", "debug", "extra_body", "extra_headers", "timeout", "max_retries"}
)
# Everything send()/stream() accept as keyword options.
OPTION_NAMES = frozenset(
    (*_BODY_OPTIONS, *_CALL_OPTIONS, "tools", "tool_choice", "tags", "include_usage")
)
# compress(): a chat payload minus the generation options (those may still
# come inside an input dict, and the gateway passes them through).
_COMPRESS_OPTIONS = frozenset({*_CALL_OPTIONS, "tools", "tool_choice", "tags"})
_COUNT_TOKENS_OPTIONS = frozenset({*_CALL_OPTIONS, "system", "tokenizer"})


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
        if _ITERENCODE is None:  # no C accelerator (PyPy)
            return _ENCODER.encode(body).encode()
        return "".join(_ITERENCODE(body, 0)).encode()
    except ValueError as exc:  # NaN/Infinity: not JSON
        raise ValueError(f"request body is not valid JSON: {exc}") from None
    except TypeError as exc:
        raise TypeError(f"request body is not JSON-serialisable: {exc}") from None
    except RecursionError:
        # Without circular-reference markers (see _ITERENCODE) a cycle recurses until here.
        raise ValueError(
            "request body is not valid JSON: it refers to itself, or is nested too deeply"
        ) from None


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
    """Build any gateway request: URL, headers (auth, user agent, accept), JSON body.

    ``extra_headers`` are checked like ``default_headers`` (``ValueError`` for
    a name that is not a token, a framing header, a value outside visible
    ASCII/space/tab) and win over every other header.
    """
    has_body = body is not None
    base = options.derived.get((stream, has_body))
    if base is None:
        base = options.derived[(stream, has_body)] = _base_headers(options, stream, has_body)
    headers = dict(base)  # each request its own dict: a caller may change it
    if extra_headers:
        headers = merge_headers(headers, check_headers(extra_headers, "extra_headers"))
    return PreparedRequest(
        method,
        options.base_url + path,
        headers,
        None if body is None else _json_bytes(body),
        stream,
        options.timeout if timeout is None else Timeout.coerce(timeout),
        options.max_retries if max_retries is None else check_max_retries(max_retries),
    )


def _base_headers(options: ClientOptions, stream: bool, has_body: bool) -> dict[str, str]:
    """The headers every request of these settings carries (built once per options object)."""
    headers = {
        "Authorization": f"Bearer {options.api_key}",
        "User-Agent": USER_AGENT,
        "Accept": "text/event-stream" if stream else "application/json",
    }
    if has_body:
        headers["Content-Type"] = "application/json"
    # Header names are case-insensitive: "user-agent" replaces User-Agent rather
    # than adding a second header (aiohttp would send both).
    return merge_headers(headers, options.default_headers)


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
    tool_choice, tags, compression_model``, then the options (those of an
    input dict first merged under the keyword ones); ``None`` options are not
    sent; ``extra_body`` is merged last.
    """
    if not kwargs and type(input) is str:
        # The commonest call, send(model, "text"), built directly: what the steps below
        # build for it (tests/core/test_request.py compares the two).
        body: dict[str, Any] = {
            "model": _check_model(model),
            "messages": [{"role": "user", "content": input}],
        }
        if stream:
            body["stream"] = True
        return build_request(options, "POST", CHAT_PATH, body, stream=stream)
    _check_options(kwargs, OPTION_NAMES)
    debug = _check_debug(kwargs.get("debug"))
    if debug is not None:
        enable_debug = kwargs.get("enable_debug")
        if enable_debug is not None and enable_debug != debug:
            raise ValueError("debug and enable_debug disagree; give one of them")
        kwargs = {**kwargs, "enable_debug": debug}
    normalized, body = _chat_body(model, input, kwargs, stream=stream)
    if stream and kwargs.get("include_usage"):
        body["stream_options"] = {"include_usage": True}
    return _finish(options, CHAT_PATH, body, normalized, kwargs, stream=stream)


def build_compress_request(
    options: ClientOptions, model: str, input: InputLike, **kwargs: Any
) -> PreparedRequest:
    """``compress()``: ``POST /v1/compress`` with a chat-completions payload.

    The body is the one ``send()`` would send, without ``stream``: ``model,
    messages, tools, tool_choice, tags, compression_model`` and the
    generation options found in an input dict. (The gateway also takes the
    Anthropic Messages and OpenAI Responses formats, detected from the body;
    send those with ``extra_body``.) ``debug=`` is the ``X-Edgee-Debug``
    header here.
    """
    _check_options(kwargs, _COMPRESS_OPTIONS)
    normalized, body = _chat_body(model, input, kwargs, stream=False)
    return _finish(options, COMPRESS_PATH, body, normalized, kwargs, debug_header=True)


def build_count_tokens_request(
    options: ClientOptions, model: str, input: InputLike, **kwargs: Any
) -> PreparedRequest:
    """``count_tokens()``: ``POST /v1/count_tokens`` with ``model, messages, system, tokenizer``.

    ``system`` is a string or a list of content parts; ``tokenizer`` is
    ``"cl100k_base"`` or ``"o200k_base"``. The endpoint takes nothing else:
    tools, tags and generation options of the input are not sent.
    """
    _check_options(kwargs, _COUNT_TOKENS_OPTIONS)
    model = _check_model(model)
    normalized = _normalize_input(input)
    body: dict[str, Any] = {"model": model, "messages": normalized["messages"]}
    system = _check_system(kwargs.get("system"))
    if system is not None:
        body["system"] = system
    tokenizer = kwargs.get("tokenizer")
    if tokenizer is not None:
        if not isinstance(tokenizer, str) or tokenizer not in TOKENIZERS:
            raise ValueError(
                f"tokenizer must be one of {', '.join(sorted(TOKENIZERS))}, not {tokenizer!r}"
            )
        body["tokenizer"] = tokenizer
    # The compression toggles are chat settings, not part of a token count.
    return _finish(options, COUNT_TOKENS_PATH, body, None, kwargs, debug_header=True)


def build_input_request(
    options: ClientOptions, path: str, model: str, input: InputLike, **kwargs: Any
) -> PreparedRequest:
    """The transports' entry point for ``count_tokens()`` and ``compress()``, by path."""
    if path == COUNT_TOKENS_PATH:
        return build_count_tokens_request(options, model, input, **kwargs)
    if path == COMPRESS_PATH:
        return build_compress_request(options, model, input, **kwargs)
    raise ValueError(f"no input request is defined for {path!r}")


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


# --- the pieces ---------------------------------------------------------------------


def _check_options(kwargs: Mapping[str, Any], allowed: frozenset[str]) -> None:
    if kwargs and not allowed.issuperset(kwargs):
        unknown = set(kwargs) - allowed
        raise TypeError(f"unknown option: {', '.join(sorted(unknown))}")


def _check_model(model: Any) -> str:
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model must be a non-empty string")
    return model


def _check_debug(value: Any) -> bool | None:
    if value is None or value is True or value is False:
        return value
    raise TypeError(f"debug must be a bool, not {type(value).__name__}")


def _chat_body(
    model: str, input: InputLike, kwargs: Mapping[str, Any], *, stream: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chat payload: input fields, tags, compression_model, then the body options."""
    model = _check_model(model)
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
    tags = list(normalized["tags"] or ())
    if kwargs.get("tags") is not None:
        tags.extend(_check_tags(kwargs["tags"], "tags"))
    if tags:
        body["tags"] = tags
    if normalized["compression_model"] is not None:
        warn_user(
            "compression_model is deprecated; use tool_result_trimming=True instead",
            DeprecationWarning,
        )
        body["compression_model"] = normalized["compression_model"]
    found = normalized["options"]
    if kwargs or found:
        for name in _BODY_OPTIONS:
            value = kwargs.get(name)
            if value is None and found:
                value = found.get(name)
            if value is not None:
                body[name] = value
    return normalized, body


def _finish(
    options: ClientOptions,
    path: str,
    body: dict[str, Any],
    normalized: Mapping[str, Any] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool = False,
    debug_header: bool = False,
) -> PreparedRequest:
    """Merge ``extra_body``, add the optional headers, build the POST."""
    extra_body = kwargs.get("extra_body")
    if extra_body is not None:
        if not isinstance(extra_body, Mapping):
            raise TypeError("extra_body must be a mapping")
        body.update(extra_body)
    headers: dict[str, str] = {}
    if normalized is not None:
        for field, header in _COMPRESSION_TOGGLES:
            value = normalized[field]
            # Only real booleans count, as in the official SDK: "yes" or 1 is ignored.
            if value is True or value is False:
                headers[header] = "true" if value else "false"
    session_id = kwargs.get("session_id")
    if session_id is not None:
        if not isinstance(session_id, str):
            raise TypeError(f"session_id must be a str, not {type(session_id).__name__}")
        if not session_id.strip():
            raise ValueError("session_id must not be empty")
        check_header_value(session_id, "session_id")
        headers[SESSION_HEADER] = session_id
    if debug_header:
        debug = _check_debug(kwargs.get("debug"))
        if debug is not None:
            headers[DEBUG_HEADER] = "true" if debug else "false"
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


def _input_fields(input: Any) -> Mapping[str, Any]:
    """The raw key/value pairs of a structured input (an InputObject or a mapping)."""
    if isinstance(input, InputObject):
        # Read by name, not by the class's field list: the fields the request uses
        # and the options, plus the unknown keys an InputObject.from_dict() kept,
        # which count as a dict's keys would.
        raw: dict[str, Any] = {name: getattr(input, name, None) for name in _INPUT_FIELDS}
        for name in _BODY_OPTIONS:
            value = getattr(input, name, None)
            if value is not None:
                raw[name] = value
        extra = getattr(input, "extra", None)
        if isinstance(extra, Mapping):
            for key, value in extra.items():
                raw.setdefault(key, value)
        return raw
    if "messages" not in input:
        raise ValueError("input dict must have a 'messages' key")
    mapping: Mapping[str, Any] = input
    return mapping


def _normalize_input(input: Any) -> dict[str, Any]:
    """Every accepted input form -> one dict of wire values, plus the options it carries."""
    fields: dict[str, Any] = dict.fromkeys(_INPUT_FIELDS)
    fields["options"] = {}
    if isinstance(input, str):
        fields["messages"] = [{"role": "user", "content": input}]
        return fields
    if type(input) is list:
        # The history form: what {"messages": input} gives below, without the lookups.
        fields["messages"] = _normalize_messages(input)
        return fields
    if isinstance(input, (Message, ResponseMessage)):
        raise TypeError(
            f"input must be a str, a list of messages, an InputObject or a dict, "
            f"not one {type(input).__name__}: pass a list, [message]"
        )
    if isinstance(input, (InputObject, Mapping)):
        raw = _input_fields(input)
    elif isinstance(input, Sequence) and not isinstance(input, (bytes, bytearray)):
        raw = {"messages": input}
    else:
        raise TypeError(
            "input must be a str, a list of messages, an InputObject or a dict, "
            f"not {type(input).__name__}"
        )
    options = fields["options"]
    for key, value in raw.items():
        if key in _INPUT_FIELD_SET:
            continue
        if key in _BODY_OPTION_SET:
            if value is not None:
                options[key] = value
        else:
            warn_user(
                f"input key {key!a} is neither an input field nor a known option and is not "
                "sent; pass it in extra_body to send it as is"
            )
    fields["messages"] = _normalize_messages(raw["messages"])
    fields["tools"] = _normalize_tools(raw.get("tools"))
    fields["tool_choice"] = _normalize_tool_choice(raw.get("tool_choice"))
    if raw.get("tags") is not None:
        fields["tags"] = _check_tags(raw["tags"], "input.tags")
    for field, _ in _COMPRESSION_TOGGLES:
        fields[field] = raw.get(field)
    fields["compression_model"] = _check_compression_model(raw.get("compression_model"))
    return fields


def _check_compression_model(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in COMPRESSION_MODELS:
        raise ValueError(
            "input.compression_model must be one of "
            f"{', '.join(sorted(COMPRESSION_MODELS))}, not {value!r} "
            "(it is deprecated: use tool_result_trimming=True)"
        )
    return str(value)


def _check_tags(tags: Any, field: str) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise TypeError(f"{field} must be a list of strings")
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise TypeError(f"{field}[{i}] must be a string, not {type(tag).__name__}")
    return list(tags)


def _check_system(system: Any) -> Any:
    """``count_tokens(system=...)``: a string or a list of content parts."""
    if system is None or isinstance(system, str):
        return system
    if isinstance(system, (bytes, Mapping)) or not isinstance(system, Sequence):
        raise TypeError("system must be a string or a list of content parts")
    if not system:
        raise ValueError("system must not be an empty list")
    parts = []
    for i, part in enumerate(system):
        d = _plain(part)
        if not isinstance(d, dict) or not isinstance(d.get("type"), str):
            raise TypeError(f"system[{i}] must be a content part with a 'type'")
        parts.append(d)
    return parts


def _plain(value: Any) -> Any:
    """Wire JSON of a value that may hold SDK models at any depth (their ``to_dict()``).

    Lets users mix what the SDK returned into what they send: a
    ``ResponseMessage`` in a history, a ``ToolCall`` inside a dict message.
    """
    if value is None or isinstance(value, (str, int, float)):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()  # a model's wire JSON is plain already
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value  # left to the encoder: a clear error if it is not JSON


def _message_dict(m: Any, i: int) -> dict[str, Any]:
    """One history entry as a fresh wire dict (the caller's objects are never changed)."""
    if type(m) is dict:
        for value in m.values():
            if value is not None and type(value) is not str:
                return _plain(m)  # type: ignore[no-any-return]  # nested parts or models
        return dict(m)  # the common case, a text message: nothing nested to convert
    if isinstance(m, Message):
        return m.to_dict()
    if isinstance(m, Choice):
        m = m.message  # a Choice stands for the message it carries
    if isinstance(m, ResponseMessage):
        # Sent back as received, nulls included (`"content": null` beside tool calls),
        # as the official SDK sends the dict it handed out.
        d = {k: _plain(v) for k, v in m.items()}
        if d.get("role") is None:
            d["role"] = "assistant"  # the gateway's answer; a stream's may carry no role
        return d
    if isinstance(m, (str, bytes)) or not (
        isinstance(m, Mapping) or callable(getattr(m, "to_dict", None))
    ):
        raise TypeError(
            f"messages[{i}] must be a Message, a ResponseMessage or a dict, not {type(m).__name__}"
        )
    d = _plain(m)
    if not isinstance(d, dict):
        raise TypeError(f"messages[{i}] must be a message, not {type(m).__name__}")
    return d


def _normalize_messages(messages: Any) -> list[dict[str, Any]]:
    if type(messages) is not list and (
        isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence)
    ):
        raise TypeError("messages must be a list of Message objects or dicts")
    if not messages:
        raise ValueError("messages must not be empty")
    out = []
    for i, m in enumerate(messages):
        d = _message_dict(m, i)
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
    """The three forms: ``"auto"|"none"|"required"``, ``{"type": "auto"|"none"}``, a function."""
    # An empty one is "not given", as in the official SDK (which tested truthiness).
    if choice is None or choice == "" or (isinstance(choice, Mapping) and not choice):
        return None
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICES:
            raise ValueError(
                "tool_choice must be 'auto', 'none', 'required', {'type': 'auto'|'none'} "
                f"or a function choice, not {choice!r}"
            )
        return choice
    choice = _plain(choice)
    if not isinstance(choice, Mapping):
        raise TypeError(f"tool_choice must be a string or a dict, not {type(choice).__name__}")
    kind = choice.get("type", "function")
    if kind in _TOOL_CHOICE_MODES and "function" not in choice:
        return dict(choice)
    if kind != "function":
        raise ValueError(f"tool_choice.type must be 'auto', 'none' or 'function', not {kind!r}")
    fn = choice.get("function")
    if isinstance(fn, Mapping) and isinstance(fn.get("name"), str) and fn["name"]:
        return {"type": "function", "function": dict(fn)}
    raise ValueError("tool_choice.function.name is required")


def _model_to_json(obj: Any) -> Any:
    # Lets users nest models anywhere in extra_body or an option's value.
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


# One encoder for every body: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_model_to_json
)
# Its C function, made once (JSONEncoder.encode makes one per call). Without the
# circular-reference markers, which one shared function cannot keep: encodings run at
# once in several threads would see each other's objects as cycles.
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ITERENCODE: Any = (
    None
    if _MAKE_ENCODER is None
    else _MAKE_ENCODER(
        None, _model_to_json, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
)
