"""JSON bodies the gateway answers with, other than chat completions: error envelopes,
the model list, token counts and compression.

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
    "compress_answer",
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
# Words the echo compressor drops: a stand-in for the gateway's real compression.
_FILLER_WORDS = frozenset(
    {"a", "an", "the", "very", "really", "just", "please", "basically", "actually", "quite"}
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
    known = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        405: "invalid_request_error",
        409: "conflict_error",
        413: "invalid_request_error",
        422: "invalid_request_error",
        429: "rate_limit_error",
    }
    return known.get(status, "api_error" if status >= 500 else "invalid_request_error")


def models_body(default_model: str, provider: str | None = None) -> Any:
    """``GET /v1/models``: the gateway's default model first, then a small catalogue."""
    default = default_model if "/" in default_model else f"openai/{default_model}"
    names = [default, *(name for name in _MODEL_CATALOGUE if name != default)]
    if provider is not None:
        names = [name for name in names if provider_of(name) == provider]
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": 1700000000, "owned_by": provider_of(name)}
            for name in names
        ],
    }


def count_tokens_answer(body: Mapping[str, Any]) -> Any:
    """``POST /v1/count_tokens``: the prompt's word count."""
    return {"input_tokens": prompt_words(body), "model": body.get("model")}


def compress_answer(body: Mapping[str, Any]) -> Any:
    """A deterministic /v1/compress answer: filler words removed from string contents."""
    messages = []
    before = after = 0
    for message in body["messages"]:
        compressed = dict(message) if isinstance(message, dict) else {"content": message}
        content = compressed.get("content")
        if isinstance(content, str):
            words = content.split()
            kept = [w for w in words if w.lower().strip(",.!?") not in _FILLER_WORDS]
            before += len(words)
            after += len(kept)
            compressed["content"] = " ".join(kept)
        messages.append(compressed)
    saved = before - after
    return {
        "model": body.get("model"),
        "messages": messages,
        "compression": {
            "saved_tokens": saved,
            "cost_savings": saved * 3,
            "reduction": round(100.0 * saved / before, 2) if before else 0.0,
            "time_ms": 1,
        },
        "original_tokens": before,
        "compressed_tokens": after,
    }
