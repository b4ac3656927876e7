"""Smoke test of the installed wheel's pytest plugin: `make dist` runs this file by name.

Its name does not match ``test_*.py``, so the normal suite never collects it. It has no
conftest and imports no fixture: ``edgee_gateway`` must come from the wheel's ``pytest11``
entry point alone, as in a user's project.
"""

from __future__ import annotations

import asyncio

import edgee
from edgee import AsyncEdgee, Edgee
from edgee.testing import FakeGateway


def test_edgee_comes_from_an_installed_wheel() -> None:
    assert "site-packages" in edgee.__file__, edgee.__file__


def test_edgee_gateway_fixture_serves_the_sync_client(edgee_gateway: FakeGateway) -> None:
    edgee_gateway.reply_text("Paris.")
    with Edgee(api_key=edgee_gateway.api_key, base_url=edgee_gateway.url) as client:
        assert client.send("gpt-4o", "Capital of France?").text == "Paris."
        streamed = "".join(chunk.text or "" for chunk in client.stream("gpt-4o", "one two"))
    assert streamed == "one two"
    assert edgee_gateway.requests[0].json["model"] == "gpt-4o"


def test_edgee_gateway_fixture_serves_the_async_client(edgee_gateway: FakeGateway) -> None:
    async def ask() -> str:
        async with AsyncEdgee(api_key=edgee_gateway.api_key, base_url=edgee_gateway.url) as c:
            return "".join([chunk.text or "" async for chunk in await c.stream("gpt-4o", "a b")])

    assert asyncio.run(ask()) == "a b"
