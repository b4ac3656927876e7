"""pytest plugin providing the ``edgee_gateway`` fixture.

Registered through the ``pytest11`` entry point of the ``edgee`` distribution, so any
project that installs ``edgee`` can use the fixture without a conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edgee.testing._gateway import FakeGateway

__all__ = ["edgee_gateway"]


@pytest.fixture
def edgee_gateway() -> Iterator[FakeGateway]:
    """A started `FakeGateway` (key ``"test-key"``), stopped after the test."""
    with FakeGateway() as gateway:
        yield gateway
