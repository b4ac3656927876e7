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
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseMessage",
    "Role",
    "SendResponse",
    "Stream",
    "StreamAPIError",
    "StreamChoice",
    "StreamChunk",
    "StreamDelta",
    "StreamError",
    "StructuredOutputError",
    "Timeout",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "UnprocessableEntityError",
    "Usage",
    "__version__",
]

# Transport classes load their HTTP library on first access (PEP 562).
_LAZY = {
    "Edgee": "edgee._sync",
    "Stream": "edgee._sync",
    "AsyncEdgee": "edgee._async",
    "AsyncStream": "edgee._async",
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
