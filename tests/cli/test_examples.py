"""Every script in ``examples/`` runs, as a user would run it, against the loopback gateway.

The scripts are found with a glob, so a new example is covered without touching this
file: by default it must exit 0 and print something, with ``EDGEE_API_KEY`` and
``EDGEE_BASE_URL`` pointing at an echoing FakeGateway. ``SETUP`` scripts the gateway
for examples that need a particular answer; ``EXPECTED`` lists text their output
must contain.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import REPO, clean_env

from edgee.testing import FakeGateway

EXAMPLES = sorted((REPO / "examples").glob("*.py"))


def _tool_calls(gw: FakeGateway) -> None:
    gw.reply_tool_calls(
        [
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_weather", "arguments": {"city": "Tokyo", "unit": "fahrenheit"}},
        ]
    )
    gw.reply_text("Sunny in both cities.")


def _errors(gw: FakeGateway) -> None:
    # 1. the normal request; the wrong key is refused without using a reply and the
    # unreachable gateway never gets here; 4. the stream breaks after two chunks.
    gw.reply_text("Bonjour !")
    gw.reply_stream_error(after=2, message="provider failed")


SETUP: dict[str, Callable[[FakeGateway], None]] = {
    "tool_calling.py": _tool_calls,
    "error_handling.py": _errors,
}

EXPECTED: dict[str, list[str]] = {
    "sync_streaming.py": ["Write a haiku about the sea.", "tokens, answered by openai"],
    "async_concurrent.py": ["A: What is the capital of France?", "4 answers in"],
    "tool_calling.py": [
        '[tool] get_weather({"city": "Paris"})',
        '"temperature": 75, "unit": "fahrenheit"',
        "Sunny in both cities.",
    ],
    "error_handling.py": [
        "Bonjour !",
        "bad API key: Invalid API key",
        "cannot reach the gateway",
        "stream interrupted (StreamAPIError): provider failed",
    ],
}


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path: Path) -> None:
    with FakeGateway() as gw:
        setup = SETUP.get(path.name)
        if setup is not None:
            setup(gw)
        result = subprocess.run(
            [sys.executable, str(path)],
            env=clean_env(EDGEE_API_KEY=gw.api_key, EDGEE_BASE_URL=gw.url),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=30,
            cwd=REPO,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout.strip(), "the example printed nothing"
        for text in EXPECTED.get(path.name, []):
            assert text in result.stdout, result.stdout
        assert gw.requests, "the example never reached the gateway"
        assert gw.pending_replies == 0, "the example made fewer requests than scripted"
