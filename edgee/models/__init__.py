"""The wire models of the Edgee API.

The classes are generated from ``schema/edgee.schema.json`` into
``_generated.py`` by ``make codegen``; their behaviour (``to_dict()``,
``Message.user()``, ``StreamChunk.text`` ...) is hand-written in ``_base.py``
and ``edgee/_convert.py``.

Messages, tool calls, tools and their parts are ``dict`` subclasses holding
their wire JSON (as the official SDK's plain dicts were), with typed
attributes; responses, chunks, usage and errors are mutable attrs classes.
"""

from __future__ import annotations

from typing import Any

from edgee.models._generated import (
    CacheControl,
    ChatRequest,
    Choice,
    CompletionTokensDetails,
    Compression,
    CompressionModel,
    CompressionReport,
    CompressionTechnique,
    CompressResponse,
    ContentPart,
    CountTokensMessage,
    CountTokensRequest,
    CountTokensResponse,
    ErrorDetail,
    ErrorResponse,
    ErrorType,
    FinishReason,
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
    PromptTokensDetails,
    ResponseMessage,
    Role,
    SendResponse,
    StreamChoice,
    StreamChunk,
    StreamDelta,
    StreamOptions,
    Tokenizer,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    ToolChoiceFunction,
    ToolChoiceMode,
    ToolChoiceTyped,
    ToolChoiceTypedMode,
    ToolExecution,
    Usage,
)

__all__ = [
    "CacheControl",
    "ChatRequest",
    "Choice",
    "CompletionTokensDetails",
    "CompressResponse",
    "Compression",
    "CompressionModel",
    "CompressionReport",
    "CompressionTechnique",
    "ContentPart",
    "CountTokensMessage",
    "CountTokensRequest",
    "CountTokensResponse",
    "ErrorDetail",
    "ErrorResponse",
    "ErrorType",
    "FinishReason",
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
    "PromptTokensDetails",
    "ResponseMessage",
    "Role",
    "SendResponse",
    "StreamChoice",
    "StreamChunk",
    "StreamDelta",
    "StreamOptions",
    "Tokenizer",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceMode",
    "ToolChoiceTyped",
    "ToolChoiceTypedMode",
    "ToolExecution",
    "Usage",
]


class _FunctionSlot:
    """``Tool.function``: the constructor on the class, the field on an instance.

    The contract asks for ``Tool.function(name, ...)`` while ``tool.function``
    is the tool's ``FunctionDefinition`` field. The field is a descriptor on
    the class; this data descriptor wraps it, so instances read and write the
    field as before and only class-level access returns the constructor.
    """

    def __init__(self, field: Any) -> None:
        self._field = field

    def __set_name__(self, owner: type, name: str) -> None:
        pass

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return Tool.function_tool
        return self._field.__get__(obj, owner)

    def __set__(self, obj: object, value: Any) -> None:
        self._field.__set__(obj, value)

    def __delete__(self, obj: object) -> None:
        self._field.__delete__(obj)


type.__setattr__(Tool, "function", _FunctionSlot(Tool.__dict__["function"]))
