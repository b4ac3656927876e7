"""Fixtures of the command-line tests: the CLI runs as a real subprocess.

``cli(...)`` runs ``python -m edgee ...`` to completion against the test's
``FakeGateway`` (``EDGEE_API_KEY`` and ``EDGEE_BASE_URL`` point at it);
``cli_env`` is that environment, for tests that start the process themselves.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping

import pytest
from cli_helpers import EDGEE, REPO, RunCli, clean_env

from edgee.testing import FakeGateway


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway() as gw:
        yield gw


@pytest.fixture
def cli_env(gateway: FakeGateway) -> dict[str, str]:
    return clean_env(EDGEE_API_KEY=gateway.api_key, EDGEE_BASE_URL=gateway.url)


@pytest.fixture
def cli(cli_env: dict[str, str]) -> RunCli:
    """Run ``python -m edgee *args``; `env` entries override (None unsets) the gateway env."""

    def run(
        *args: str, input: str = "", env: Mapping[str, str | None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(cli_env)
        for name, value in (env or {}).items():
            if value is None:
                full_env.pop(name, None)
            else:
                full_env[name] = value
        return subprocess.run(
            [*EDGEE, *args],
            input=input,
            env=full_env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=30,
            cwd=REPO,
        )

    return run
