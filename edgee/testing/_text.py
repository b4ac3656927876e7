"""The echo model's text handling: word pieces, message text and word counts.

The fake counts "tokens" as whitespace-separated words: deterministic and easy to predict
in a test (``"three little words"`` is 3 tokens).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "content_text",
    "count_words",
    "echo_text",
    "fragment",
    "prompt_words",
    "provider_of",
    "split_words",
]

_WORD_PIECES = re.compile(r"\s*\S+")


def split_words(text: str) -> list[str]:
    """Split `text` into word pieces that keep their leading whitespace.

    ``"hello world"`` -> ``["hello", " world"]``; joining the pieces gives back `text`
    exactly (trailing whitespace rides on the last piece). An empty text has no pieces.
    """
    pieces = _WORD_PIECES.findall(text)
    rest = text[sum(len(piece) for piece in pieces) :]
    if rest:
        if pieces:
            pieces[-1] += rest
        else:
            pieces = [rest]
    return pieces


def content_text(content: Any) -> str:
    """The text of a message content: a string, or the text parts of a list joined by spaces."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        return " ".join(texts)
    return ""


def count_words(text: str) -> int:
    return len(text.split())


def echo_text(body: Mapping[str, Any]) -> str:
    """The text of the last user message: what the echo model answers."""
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return content_text(message.get("content"))
    return ""


def prompt_words(body: Mapping[str, Any]) -> int:
    """Word count of every message content (and of a top-level ``system``, if any)."""
    total = count_words(content_text(body.get("system")))
    messages = body.get("messages")
    if isinstance(messages, list):
        total += sum(
            count_words(content_text(message.get("content")))
            for message in messages
            if isinstance(message, dict)
        )
    return total


def provider_of(model: str) -> str:
    """Edgee model names are ``<provider>/<model>``; bare OpenAI names go to openai."""
    return model.split("/", 1)[0] if "/" in model else "openai"


def fragment(text: str, count: int) -> list[str]:
    """`text` cut into at most `count` consecutive pieces of about equal length."""
    if not text:
        return []
    size = max(1, math.ceil(len(text) / count))
    return [text[i : i + size] for i in range(0, len(text), size)]
