"""One chat-completions request being answered, and the chunk objects built from it.

An `Exchange` is made by the chat route once the request is accepted; replies read the
request from it and build ``chat.completion.chunk`` objects with its id, model and time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgee.testing._bodies import data_event
from edgee.testing._headers import HeaderList, Headers
from edgee.testing._text import echo_text, split_words

__all__ = ["Exchange", "RecordedRequest", "json_schema_of"]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the gateway received it.

    `path` includes the query string; `headers` is case-insensitive; `json` is the parsed
    body, or ``None`` when the body is empty or not valid JSON.
    """

    method: str
    path: str
    headers: Headers
    body: bytes
    json: Any = None
    http_version: str = "HTTP/1.1"

    @property
    def stream(self) -> bool:
        """True when the JSON body asked for a streamed answer (``"stream": true``)."""
        return isinstance(self.json, dict) and self.json.get("stream") is True

    @property
    def response_format(self) -> Any:
        """The body's ``response_format``, or ``None``."""
        return self.json.get("response_format") if isinstance(self.json, dict) else None

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The ``json_schema`` object of a ``{"type": "json_schema", ...}`` response format
        (with its ``name``, ``schema`` and ``strict``), or ``None`` when the request did not
        ask for a structured answer (or asked malformedly: no ``name`` or ``schema``)."""
        return json_schema_of(self.json)


def json_schema_of(body: Any) -> dict[str, Any] | None:
    """The well-formed ``response_format.json_schema`` object of a chat body, or ``None``."""
    fmt = body.get("response_format") if isinstance(body, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        return None
    return spec if isinstance(spec.get("schema"), dict) else None


@dataclass(frozen=True)
class Exchange:
    """A chat request the gateway accepted, with the identifiers its answer carries."""

    request: RecordedRequest
    body: dict[str, Any]
    request_id: str
    completion_id: str
    created: int
    model: str
    provider: str
    stream: bool
    include_usage: bool
    default_coding: str | None = None  # the gateway's content coding, if any

    def coding(self, own: str | None) -> str | None:
        """A reply's own content coding, else the gateway's default."""
        return own if own is not None else self.default_coding

    def base_headers(self) -> HeaderList:
        return [("x-request-id", self.request_id), ("X-Edgee-Provider", self.provider)]

    def chunk(self, choices: list[Any], **extra: Any) -> dict[str, Any]:
        """A ``chat.completion.chunk`` object with `choices` and any `extra` fields."""
        obj: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        obj.update(extra)
        return obj

    def delta_chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return data_event(self.chunk([choice]))

    def role_chunk(self) -> bytes:
        return self.delta_chunk({"role": "assistant", "content": ""})

    def prefix_pieces(self, count: int) -> list[str]:
        """`count` content pieces for a scripted failure: the echo text, padded if short."""
        pieces = split_words(echo_text(self.body))[:count]
        pieces.extend(f" chunk{i}" for i in range(len(pieces) + 1, count + 1))
        return pieces
