"""The ``edgee`` logger, and ``EDGEE_LOG`` for users who want logs without code.

Log lines carry method, URL, status, attempt and timing; request headers are
never logged, so neither is the API key.
"""

from __future__ import annotations

import logging
import os

__all__ = ["logger", "setup_from_env"]

logger = logging.getLogger("edgee")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_configured = False


def setup_from_env() -> None:
    """Attach a stderr handler once when ``EDGEE_LOG`` is ``debug`` or ``info``."""
    global _configured
    if _configured:
        return
    _configured = True
    level = _LEVELS.get(os.environ.get("EDGEE_LOG", "").strip().lower())
    if level is None:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
