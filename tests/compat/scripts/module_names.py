"""Names the official package exports at module level."""

from _steps import step

import edgee

GATEWAY = []  # no request

step("DEFAULT_BASE_URL", lambda: edgee.DEFAULT_BASE_URL)
step("API_ENDPOINT", lambda: edgee.API_ENDPOINT)
step("COMPRESSION_HEADERS", lambda: dict(edgee.COMPRESSION_HEADERS))
names = [
    "Edgee",
    "EdgeeConfig",
    "InputObject",
    "Message",
    "Tool",
    "ToolCall",
    "FunctionDefinition",
    "Choice",
    "Usage",
    "Compression",
    "SendResponse",
    "StreamDelta",
    "StreamChoice",
    "StreamChunk",
]
step("classes", lambda: [n for n in names if not isinstance(getattr(edgee, n, None), type)])
