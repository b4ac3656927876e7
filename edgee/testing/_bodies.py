"""JSON bodies the gateway answers with, other than chat completions and compression
(`_compress`): error envelopes, the model list, token counts.

Every function returns plain dicts (the gateway never imports the rest of ``edgee``);
`dumps` encodes them the way real providers do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from edgee.testing._text import prompt_words, provider_of

__all__ = [
    "DONE_EVENT",
    "count_tokens_answer",
    "data_event",
    "default_error_type",
    "dumps",
    "error_body",
    "models_body",
]

DONE_EVENT = b"data: [DONE]\n\n"
_MODEL_CATALOGUE = (
    "anthropic/claude-3-5-sonnet",
    "mistral/mistral-large-latest",
    "google/gemini-1.5-pro",
)


def dumps(obj: Any) -> bytes:
    """Compact JSON in raw UTF-8, like real providers: clients must cope with multi-byte
    characters split across reads."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def data_event(obj: Any) -> bytes:
    """`obj` as one SSE ``data:`` event."""
    return b"data: " + dumps(obj) + b"\n\n"


def error_body(message: str, type_: str | None, code: str | None, param: str | None) -> Any:
    """The gateway's error envelope."""
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


def default_error_type(status: int) -> str:
    """The documented error ``type`` for `status` (GATEWAY.md lists exactly seven)."""
    known = {
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        # A bad gateway means the upstream provider failed.
        502: "provider_error",
    }
    return known.get(status, "server_error" if status >= 500 else "invalid_request_error")


def models_body(default_model: str) -> Any:
    """``GET /v1/models``: the gateway's default model first, then a small catalogue.

    Always the whole list: the ``provider`` query is documented as not implemented yet.
    """
    default = default_model if "/" in default_model else f"openai/{default_model}"
    names = [default, *(name for name in _MODEL_CATALOGUE if name != default)]
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": 1700000000, "owned_by": provider_of(name)}
            for name in names
        ],
    }


def count_tokens_answer(body: Mapping[str, Any]) -> Any:
    """``POST /v1/count_tokens``: ``{input_tokens}``, the words of `messages` and `system`."""
    return {"input_tokens": prompt_words(body)}
