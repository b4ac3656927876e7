"""The hardening suite's setup.

The client fixtures (``make_client``, ``client``, ``gateway``: both clients over the
loopback gateway) come from ``tests/conftest.py``; this file only makes the fuzz
harness (``fuzz/stream_harness.py``), shared by atheris and these tests, importable.
"""

from __future__ import annotations

import sys
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"
if str(FUZZ_DIR) not in sys.path:
    sys.path.insert(0, str(FUZZ_DIR))
