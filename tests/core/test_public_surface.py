"""The public names of ``edgee`` and ``edgee.errors``, pinned.

A name added or removed here is an API change: this test makes it a
deliberate one (update the lists, and the README / docs, in the same change).
"""

from __future__ import annotations

import inspect

import edgee
from edgee import errors

EDGEE = {
    "APIConnectionError", "APIError", "APIResponseValidationError", "APIStatusError",
    "APITimeoutError", "AsyncEdgee", "AsyncStream", "AuthenticationError", "BadRequestError",
    "Choice", "ChunkDecodeError", "ClientStateError", "CompressResponse", "Compression",
    "ConfigurationError", "ConflictError", "ContentPart", "CountTokensResponse", "Edgee",
    "API_ENDPOINT", "COMPRESSION_HEADERS", "DEFAULT_BASE_URL",
    "ContentFilterFinishReasonError", "LengthFinishReasonError", "OutputValidationError",
    "StructuredOutputError",
    "ParsedResponse", "ParsedToolCall", "StreamEvent", "TextDelta", "TextDone",
    "RefusalDelta", "RefusalDone", "ToolCallArgumentsDelta", "ToolCallDone", "UsageEvent",
    "Done",
    "EdgeeConfig", "EdgeeError", "EdgeeWarning", "EventTooLargeError", "FunctionCall",
    "FunctionCallDelta", "FunctionDefinition", "ImageUrl", "IncompleteStreamError",
    "InputObject", "InputTokensDetails", "InternalServerError", "Message", "Model",
    "ModelList", "NotFoundError", "OutputTokensDetails", "PermissionDeniedError",
    "RateLimitError", "ResponseMessage", "Role", "SendResponse", "Stream", "StreamAPIError",
    "StreamChoice", "StreamChunk", "StreamDelta", "StreamError", "Timeout", "Tool",
    "ToolCall", "ToolCallDelta", "UnprocessableEntityError", "Usage", "__version__",
    # Observability (README "Observability"): hook events, global OpenTelemetry switch.
    "RequestEvent", "ResponseEvent", "RetryEvent", "StreamEndEvent", "instrument",
    "uninstrument",
}  # fmt: skip

ERRORS = {
    "APIConnectionError", "APIError", "APIResponseValidationError", "APIStatusError",
    "APITimeoutError", "AuthenticationError", "BadRequestError", "ChunkDecodeError",
    "ClientStateError", "ConfigurationError", "ConflictError", "ContentFilterFinishReasonError",
    "LengthFinishReasonError", "OutputValidationError", "StructuredOutputError",
    "EdgeeError", "EdgeeWarning",
    "EventTooLargeError", "IncompleteStreamError", "InternalServerError", "NotFoundError",
    "PermissionDeniedError", "RateLimitError", "StreamAPIError", "StreamError",
    "ToolArgumentsError", "UnprocessableEntityError",
}  # fmt: skip


def test_edgee_exports_exactly_its_public_names() -> None:
    assert set(edgee.__all__) == EDGEE
    for name in EDGEE:
        assert getattr(edgee, name) is not None
    assert sorted(dir(edgee)) == sorted(EDGEE)


def test_errors_exports_exactly_its_exception_classes() -> None:
    assert set(errors.__all__) == ERRORS
    public = {
        name
        for name, value in vars(errors).items()
        if not name.startswith("_")
        and inspect.isclass(value)
        and value.__module__ == errors.__name__
    }
    assert public == ERRORS  # classes only: no helper is public, none is unexported


def test_every_exception_is_an_edgee_error_and_documented() -> None:
    for name in ERRORS:
        cls = getattr(errors, name)
        assert cls.__doc__, name
        if name != "EdgeeWarning":
            assert issubclass(cls, errors.EdgeeError), name
    assert issubclass(errors.EdgeeWarning, UserWarning)


def test_exported_members_name_their_public_module() -> None:
    # What edgee re-exports from errors is the same object, not a copy.
    for name in ERRORS - {"ToolArgumentsError"}:
        assert getattr(edgee, name) is getattr(errors, name)
