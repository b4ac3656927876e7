"""The shape the README's Architecture section promises, checked on the source.

The transports drive the core and decide nothing: no status-code comparison,
no JSON or SSE handling, no retry or redirect policy in them; the core never
imports an HTTP library; every non-public library part is used in one module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import edgee

PACKAGE = Path(edgee.__file__).parent
TRANSPORTS = ["_sync.py", "_async.py", "_sync_stream.py", "_async_stream.py"]
HTTP_LIBRARIES = {"requests", "urllib3", "aiohttp", "yarl", "multidict"}
# Modules allowed to import an HTTP library: the transports and their helpers.
LIBRARY_SIDE = {
    *TRANSPORTS,
    "_aiohttp_pool.py",
    "_requests_pool.py",
    "_requests_send.py",
    "_aiohttp_send.py",
    "_urllib3_internals.py",
    "_aiohttp_internals.py",
}


def tree(name: str) -> ast.Module:
    return ast.parse((PACKAGE / name).read_text(encoding="utf-8"))


def imported(module: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("name", TRANSPORTS)
def test_transports_compare_no_status_code(name: str) -> None:
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                is_status = isinstance(operand, ast.Constant) and type(operand.value) is int
                assert not (is_status and 100 <= operand.value <= 599), (
                    f"{name}:{node.lineno} compares with {operand.value}: decide it in the core"
                )


@pytest.mark.parametrize("name", TRANSPORTS)
def test_transports_handle_no_json_sse_retry_or_redirect(name: str) -> None:
    names = imported(tree(name))
    for forbidden in ("json", "edgee.sse", "edgee._retry", "edgee._error_mapping"):
        assert forbidden not in names, f"{name} imports {forbidden}"
    text = (PACKAGE / name).read_text(encoding="utf-8")
    for word in ("follow_redirect", "retry_delay", "json.loads", "SSEDecoder"):
        assert word not in text, f"{name} uses {word}"


@pytest.mark.parametrize("name", ["_sync.py", "_async.py"])
def test_client_modules_stay_small(name: str) -> None:
    lines = len((PACKAGE / name).read_text(encoding="utf-8").splitlines())
    assert lines <= 320, f"{name} has {lines} lines; the README promises about 300"


def test_the_core_imports_no_http_library() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name in LIBRARY_SIDE:
            continue
        roots = {name.split(".")[0] for name in imported(tree(path.name))}
        assert not roots & HTTP_LIBRARIES, f"{path.name} imports {roots & HTTP_LIBRARIES}"


def test_private_library_parts_are_used_in_their_one_module() -> None:
    helpers = ["_aiohttp_pool.py", "_requests_pool.py", "_requests_send.py", "_aiohttp_send.py"]
    for name in [*TRANSPORTS, *helpers]:
        text = (PACKAGE / name).read_text(encoding="utf-8")
        for private in ("_read_nowait", ".poolmanager", "proxy_manager", "get_env_proxy_for_url"):
            assert private not in text, f"{name} uses {private}: keep it in *_internals.py"
