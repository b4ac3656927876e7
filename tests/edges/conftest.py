"""The edge suite's fixtures: both clients against a scripted raw-socket server.

``make_client``/``kind``/``loop`` come from ``tests/conftest.py`` (the two-client
adapter). Here ``gateway`` is overridden by a stand-in pointing at the test's
:class:`RawServer`, so ``make_client()`` builds a client of that server without
starting a ``FakeGateway``; edge clients get short timeouts so a client that
today hangs on a fault fails in seconds instead.

``todo(kinds, reason)`` marks the running test ``xfail(strict=True)`` for the
given client kinds: the to-do list of issue 16, each entry turning into an
error once the behaviour is fixed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rawserver import API_KEY, EDGE_TIMEOUT, RawServer


@pytest.fixture
def raw() -> Iterator[RawServer]:
    with RawServer() as server:
        yield server


@pytest.fixture
def gateway(raw: RawServer) -> SimpleNamespace:
    return SimpleNamespace(api_key=API_KEY, url=raw.url)


@pytest.fixture
def edge_client(make_client: Callable[..., Any]) -> Callable[..., Any]:
    """``make_client`` with the edge suite's short timeouts."""

    def factory(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", EDGE_TIMEOUT)
        return make_client(*args, **kwargs)

    return factory


@pytest.fixture
def todo(request: pytest.FixtureRequest, kind: str) -> Callable[[str, str], None]:
    """``todo("sync", "issue 16 item 2: ...")``: strict xfail on those kinds ("both" for both)."""

    def mark(kinds: str, reason: str) -> None:
        if kinds == "both" or kind in kinds.split(","):
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))

    return mark
