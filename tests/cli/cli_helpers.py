"""Helpers of the command-line tests (imported by conftest and the test modules)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EDGEE = [sys.executable, "-m", "edgee"]

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def clean_env(**overrides: str | None) -> dict[str, str]:
    """The current environment without any EDGEE_* variable, plus `overrides` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEE_")}
    env["PYTHONIOENCODING"] = "utf-8"
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
