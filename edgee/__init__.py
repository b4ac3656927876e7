"""edgee: the Python SDK of the Edgee AI Gateway.

``Edgee`` (sync, on ``requests``) and ``AsyncEdgee`` (on ``aiohttp``) send
chat completions and stream them; both share one sans-IO core, so they behave
the same. The heavy transport modules are imported on first use: ``import
edgee`` loads neither ``requests`` nor ``aiohttp``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edgee._config import DEFAULT_BASE_URL, EdgeeConfig, Timeout
from edgee._observe import (
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    StreamEndEvent,
    instrument,
    uninstrument,
)
from edgee._request import API_ENDPOINT, COMPRESSION_HEADERS
from edgee._version import __version__
from edgee.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChunkDecodeError,
    ClientStateError,
    ConfigurationError,
    ConflictError,
    ContentFilterFinishReasonError,
    EdgeeError,
    EdgeeWarning,
    EventTooLargeError,
    IncompleteStreamError,
    InternalServerError,
    LengthFinishReasonError,
    NotFoundError,
    OutputValidationError,
    PermissionDeniedError,
    RateLimitError,
    StreamAPIError,
    StreamError,
    StructuredOutputError,
    UnprocessableEntityError,
)
from edgee.models import (
    Choice,
    Compression,
    CompressResponse,
    ContentPart,
    CountTokensResponse,
    FunctionCall,
    FunctionCallDelta,
    FunctionDefinition,
    ImageUrl,
    InputObject,
    InputTokensDetails,
    Message,
    Model,
    ModelList,
    OutputTokensDetails,
    ResponseMessage,
    Role,
    SendResponse,
    StreamChoice,
    StreamChunk,
    StreamDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    Usage,
)

if TYPE_CHECKING:
    from edgee._async import AsyncEdgee, AsyncStream
    from edgee._events import (
        Done,
        RefusalDelta,
        RefusalDone,
        StreamEvent,
        TextDelta,
        TextDone,
        ToolCallArgumentsDelta,
        ToolCallDone,
        UsageEvent,
    )
    from edgee._structured import ParsedResponse, ParsedToolCall
    from edgee._sync import Edgee, Stream

__all__ = [
    "API_ENDPOINT",
    "COMPRESSION_HEADERS",
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncEdgee",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "Choice",
    "ChunkDecodeError",
    "ClientStateError",
    "CompressResponse",
    "Compression",
    "ConfigurationError",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "ContentPart",
    "CountTokensResponse",
    "Done",
    "Edgee",
    "EdgeeConfig",
    "EdgeeError",
    "EdgeeWarning",
    "EventTooLargeError",
    "FunctionCall",
    "FunctionCallDelta",
    "FunctionDefinition",
    "ImageUrl",
    "IncompleteStreamError",
    "InputObject",
    "InputTokensDetails",
    "InternalServerError",
    "LengthFinishReasonError",
    "Message",
    "Model",
    "ModelList",
    "NotFoundError",
    "OutputTokensDetails",
    "OutputValidationError",
    "ParsedResponse",
    "ParsedToolCall",
    "PermissionDeniedError",
    "RateLimitError",
    "RefusalDelta",
    "RefusalDone",
    "RequestEvent",
    "ResponseEvent",
    "ResponseMessage",
    "RetryEvent",
    "Role",
    "SendResponse",
    "Stream",
    "StreamAPIError",
    "StreamChoice",
    "StreamChunk",
    "StreamDelta",
    "StreamEndEvent",
    "StreamError",
    "StreamEvent",
    "StructuredOutputError",
    "TextDelta",
    "TextDone",
    "Timeout",
    "Tool",
    "ToolCall",
    "ToolCallArgumentsDelta",
    "ToolCallDelta",
    "ToolCallDone",
    "UnprocessableEntityError",
    "Usage",
    "UsageEvent",
    "__version__",
    "instrument",
    "uninstrument",
]

# Transport classes load their HTTP library on first access (PEP 562).
_LAZY = {
    "Edgee": "edgee._sync",
    "Stream": "edgee._sync",
    "AsyncEdgee": "edgee._async",
    "AsyncStream": "edgee._async",
    # Structured outputs and stream events: cattrs and the schema builder load when used.
    "ParsedResponse": "edgee._structured",
    "ParsedToolCall": "edgee._structured",
    "Done": "edgee._events",
    "RefusalDelta": "edgee._events",
    "RefusalDone": "edgee._events",
    "StreamEvent": "edgee._events",
    "TextDelta": "edgee._events",
    "TextDone": "edgee._events",
    "ToolCallArgumentsDelta": "edgee._events",
    "ToolCallDone": "edgee._events",
    "UsageEvent": "edgee._events",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'edgee' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
