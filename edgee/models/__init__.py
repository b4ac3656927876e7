"""The wire models of the Edgee API.

The classes are generated from ``schema/edgee.schema.json`` into
``_generated.py`` by ``make codegen``; their behaviour (``to_dict()``,
``Message.user()``, ``StreamChunk.text`` ...) is hand-written in ``_base.py``.
"""

from __future__ import annotations

from typing import Any

from edgee.models._generated import (
    Choice,
    Compression,
    CompressResponse,
    ContentPart,
    CountTokensResponse,
    ErrorDetail,
    ErrorResponse,
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
    ToolChoice,
    ToolChoiceFunction,
    Usage,
)

__all__ = [
    "Choice",
    "CompressResponse",
    "Compression",
    "ContentPart",
    "CountTokensResponse",
    "ErrorDetail",
    "ErrorResponse",
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
    "ToolChoice",
    "ToolChoiceFunction",
    "Usage",
]


class _FunctionSlot:
    """``Tool.function``: the constructor on the class, the field on an instance.

    The contract asks for ``Tool.function(name, ...)`` while ``tool.function``
    is the tool's ``FunctionDefinition`` field. attrs gives the field a slot
    descriptor; this data descriptor wraps it, so instances read and write the
    slot as before and only class-level access returns the constructor.
    """

    def __init__(self, slot: Any) -> None:
        self._slot = slot

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return Tool.function_tool
        return self._slot.__get__(obj, owner)

    def __set__(self, obj: object, value: Any) -> None:
        self._slot.__set__(obj, value)


type.__setattr__(Tool, "function", _FunctionSlot(Tool.__dict__["function"]))
