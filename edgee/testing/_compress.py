"""The fake's ``POST /v1/compress``: the request payload back, compressed, plus a report.

The real gateway takes any of its three request formats (chat completions, Anthropic
messages, Responses), detected from the body, and answers **the same payload** with its
conversation (``messages``, ``input``, ``system``) and ``tools`` replaced by compressed
versions, every other field passed through, plus a ``compression`` report. The fake
compresses deterministically by dropping filler words (``please``, ``just``, ``the``...)
from the texts it finds, so a test can predict the result exactly:

- message texts: strings, and ``text`` / ``content`` / ``output`` strings inside content
  parts, Anthropic blocks and Responses items;
- tool results (chat ``role: tool`` messages, Anthropic ``tool_result`` blocks, Responses
  ``function_call_output`` items): the strategy ``tool_result_trimming``, with `tool_stats`;
- tool definitions: their ``description`` strings (``tool_surface_reduction``).

Other texts count as ``filler_word_removal``. Token counts are word counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["compress_payload", "compressible"]

_FILLER_WORDS = frozenset(
    {"a", "an", "the", "very", "really", "just", "please", "basically", "actually", "quite"}
)
_TEXT_KEYS = ("content", "text", "output")
_TOOL_RESULT_TYPES = frozenset({"tool_result", "function_call_output"})


def compressible(body: Any) -> bool:
    """Whether `body` is a payload of one of the three formats (it has a conversation)."""
    return isinstance(body, dict) and (
        isinstance(body.get("messages"), list) or isinstance(body.get("input"), (str, list))
    )


class _Tally:
    def __init__(self) -> None:
        self.before = 0
        self.after = 0
        self.strategies: list[str] = []
        self.results_trimmed = 0

    def text(self, text: str, strategy: str) -> str:
        words = text.split()
        kept = [w for w in words if w.lower().strip(",.!?;:") not in _FILLER_WORDS]
        self.before += len(words)
        self.after += len(kept)
        if len(kept) == len(words):
            return text
        if strategy not in self.strategies:
            self.strategies.append(strategy)
        if strategy == "tool_result_trimming":
            self.results_trimmed += 1
        return " ".join(kept)

    def value(self, value: Any, strategy: str) -> Any:
        """`value` with its texts compressed: a string, a list of parts, or one part."""
        if isinstance(value, str):
            return self.text(value, strategy)
        if isinstance(value, list):
            return [self.value(item, strategy) for item in value]
        if isinstance(value, dict):
            if value.get("type") in _TOOL_RESULT_TYPES or value.get("role") == "tool":
                strategy = "tool_result_trimming"
            return {
                key: self.value(item, strategy) if key in _TEXT_KEYS else item
                for key, item in value.items()
            }
        return value

    def tool(self, tool: Any) -> Any:
        if not isinstance(tool, dict):
            return tool
        out = dict(tool)
        if isinstance(out.get("description"), str):
            out["description"] = self.text(out["description"], "tool_surface_reduction")
        if isinstance(out.get("function"), dict):
            out["function"] = self.tool(out["function"])
        return out


def compress_payload(
    body: Mapping[str, Any], *, compression_model: str | None = None
) -> dict[str, Any]:
    """The /v1/compress answer for `body` (a payload `compressible` accepts)."""
    tally = _Tally()
    answer = dict(body)
    for key in ("system", "messages", "input"):
        if key in answer:
            answer[key] = tally.value(answer[key], "filler_word_removal")
    if isinstance(answer.get("tools"), list):
        answer["tools"] = [tally.tool(tool) for tool in answer["tools"]]
    saved = tally.before - tally.after
    report: dict[str, Any] = {
        "technique": "tool" if compression_model else "auto",
        "applied_strategies": tally.strategies,
        "compression_rate": round(saved / tally.before, 4) if tally.before else 0.0,
        "uncompressed_input_tokens": tally.before,
        "compressed_input_tokens": tally.after,
        "compression_time_ms": 1,
    }
    if tally.results_trimmed:
        report["tool_stats"] = {"results_trimmed": tally.results_trimmed}
    answer["compression"] = report
    return answer
