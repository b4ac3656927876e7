"""edgee: the Python SDK of the Edgee AI Gateway.

``Edgee`` (sync, on ``requests``) and ``AsyncEdgee`` (on ``aiohttp``) send
chat completions and stream them; both share one sans-IO core, so they behave
the same.

``import edgee`` loads only the exception classes (``edgee.errors``) and the
version: every other public name is imported on first access (PEP 562), so
neither ``requests``, ``aiohttp``, attrs, cattrs nor the wire models are loaded
until a name that needs them is used. ``from edgee import Edgee`` and
``edgee.Message`` work as plain imports would; type checkers see every name
through the ``TYPE_CHECKING`` imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edgee._version import __version__
from edgee.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CertificateVerifyError,
    ChunkDecodeError,
    ClientStateError,
    ConfigurationError,
    ConflictError,
    ContentDecodingError,
    ContentFilterFinishReasonError,
    EdgeeError,
    EdgeeWarning,
    EventTooLargeError,
    FramingError,
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

if TYPE_CHECKING:
    # What the lazy names below resolve to, for mypy and IDEs (never run).
    from edgee import models as models
    from edgee import sse as sse
    from edgee import tools as tools
    from edgee._async import AsyncEdgee, AsyncStream
    from edgee._config import DEFAULT_BASE_URL, EdgeeConfig, Timeout
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
    from edgee._observe import (
        RequestEvent,
        ResponseEvent,
        RetryEvent,
        StreamEndEvent,
        instrument,
        uninstrument,
    )
    from edgee._request import API_ENDPOINT, COMPRESSION_HEADERS
    from edgee._structured import ParsedResponse, ParsedToolCall
    from edgee._sync import Edgee, Stream
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
    "CertificateVerifyError",
    "Choice",
    "ChunkDecodeError",
    "ClientStateError",
    "CompressResponse",
    "Compression",
    "ConfigurationError",
    "ConflictError",
    "ContentDecodingError",
    "ContentFilterFinishReasonError",
    "ContentPart",
    "CountTokensResponse",
    "Done",
    "Edgee",
    "EdgeeConfig",
    "EdgeeError",
    "EdgeeWarning",
    "EventTooLargeError",
    "FramingError",
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

# The module each lazy public name comes from; must match the TYPE_CHECKING imports
# (tests/core/test_lazy_import.py checks both against __all__).
_LAZY_MODULES: dict[str, tuple[str, ...]] = {
    # Configuration and request constants (attrs; the models, through the request builder).
    "edgee._config": ("DEFAULT_BASE_URL", "EdgeeConfig", "Timeout"),
    "edgee._request": ("API_ENDPOINT", "COMPRESSION_HEADERS"),
    # Hook events and the global OpenTelemetry switch (attrs).
    "edgee._observe": (
        "RequestEvent",
        "ResponseEvent",
        "RetryEvent",
        "StreamEndEvent",
        "instrument",
        "uninstrument",
    ),
    # The wire models: attrs, cattrs and the generated classes.
    "edgee.models": (
        "Choice",
        "Compression",
        "CompressResponse",
        "ContentPart",
        "CountTokensResponse",
        "FunctionCall",
        "FunctionCallDelta",
        "FunctionDefinition",
        "ImageUrl",
        "InputObject",
        "InputTokensDetails",
        "Message",
        "Model",
        "ModelList",
        "OutputTokensDetails",
        "ResponseMessage",
        "Role",
        "SendResponse",
        "StreamChoice",
        "StreamChunk",
        "StreamDelta",
        "Tool",
        "ToolCall",
        "ToolCallDelta",
        "Usage",
    ),
    # The transports: requests, aiohttp.
    "edgee._sync": ("Edgee", "Stream"),
    "edgee._async": ("AsyncEdgee", "AsyncStream"),
    # Structured outputs and stream events: the schema builder.
    "edgee._structured": ("ParsedResponse", "ParsedToolCall"),
    "edgee._events": (
        "Done",
        "RefusalDelta",
        "RefusalDone",
        "StreamEvent",
        "TextDelta",
        "TextDone",
        "ToolCallArgumentsDelta",
        "ToolCallDone",
        "UsageEvent",
    ),
}
_LAZY = {name: module for module, names in _LAZY_MODULES.items() for name in names}

# Public submodules reachable as attributes after a bare ``import edgee`` (``edgee.models``
# was, when the package imported it eagerly).
_SUBMODULES = frozenset({"models", "sse", "tools"})


# Hidden from type checkers: they see every name through the imports above, so a typo
# (``edgee.Edgeee``) is an error for them rather than ``Any``.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """A lazy public name: import its module, cache the value in this module, return it."""
        module = _LAZY.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        elif name in _SUBMODULES:
            value = importlib.import_module(f"edgee.{name}")
        else:
            raise AttributeError(f"module 'edgee' has no attribute {name!r}")
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(__all__)
