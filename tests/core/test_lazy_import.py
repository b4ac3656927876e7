"""``import edgee`` is light: public names resolve on first access (PEP 562).

Each check that depends on what a fresh interpreter has imported runs in its
own subprocess: in this process other tests have long since loaded everything.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import edgee

INIT = Path(edgee.__file__)

# What a bare `import edgee` may load of the SDK: the exception classes and the version.
EAGER_EDGEE_MODULES = {"edgee", "edgee._version", "edgee.errors", "edgee._headers"}
# Libraries (and SDK modules) that only the names needing them may load.
HEAVY = [
    "attr",
    "attrs",
    "cattrs",
    "typing_extensions",
    "requests",
    "urllib3",
    "aiohttp",
    "edgee.models",
    "edgee.models._generated",
    "edgee._config",
    "edgee._request",
    "edgee._observe",
    "edgee._sync",
    "edgee._async",
    "logging",
    "inspect",
]


def run(code: str, *args: str) -> Any:
    """Run ``code`` in a fresh interpreter; it prints one JSON value, returned here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGEE_", "PYTHONWARN"))}
    result = subprocess.run(
        [sys.executable, *args, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def new_modules(statement: str) -> list[str]:
    """The modules ``statement`` imports in a fresh interpreter (beyond its start-up)."""
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        f"{statement}\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    loaded: list[str] = run(code)
    return loaded


def test_import_edgee_loads_no_library_and_no_model() -> None:
    loaded = new_modules("import edgee")
    assert [m for m in HEAVY if m in loaded] == []
    assert {m for m in loaded if m.split(".")[0] == "edgee"} == EAGER_EDGEE_MODULES


def test_dir_and_version_load_nothing_more() -> None:
    loaded = new_modules("import edgee\ndir(edgee)\nedgee.__version__\nedgee.EdgeeError")
    assert {m for m in loaded if m.split(".")[0] == "edgee"} == EAGER_EDGEE_MODULES


@pytest.mark.parametrize(
    ("name", "loads", "not_loaded"),
    [
        ("Message", ["attrs", "cattrs", "edgee.models._generated"], ["requests", "aiohttp"]),
        ("EdgeeConfig", ["edgee._config"], ["requests", "aiohttp"]),
        ("RequestEvent", ["attrs", "edgee._observe"], ["cattrs", "requests", "aiohttp"]),
        ("Edgee", ["requests", "edgee._sync"], ["aiohttp"]),
        ("AsyncEdgee", ["aiohttp", "edgee._async"], ["requests", "edgee._sync"]),
    ],
)
def test_a_name_loads_what_it_needs_only(
    name: str, loads: list[str], not_loaded: list[str]
) -> None:
    loaded = new_modules(f"import edgee\nedgee.{name}")
    assert [m for m in loads if m not in loaded] == []
    assert [m for m in not_loaded if m in loaded] == []


def test_every_public_name_resolves_in_a_fresh_interpreter() -> None:
    code = (
        "import json, edgee\n"
        "out = {}\n"
        "for name in edgee.__all__:\n"
        "    value = getattr(edgee, name)\n"
        "    out[name] = getattr(value, '__module__', None) or type(value).__name__\n"
        "print(json.dumps(out))\n"
    )
    resolved: dict[str, str] = run(code)
    assert set(resolved) == set(edgee.__all__)
    for name, origin in resolved.items():
        value = getattr(edgee, name)
        assert origin == (getattr(value, "__module__", None) or type(value).__name__), name


def test_star_import_binds_every_public_name() -> None:
    code = (
        "import json\n"
        "from edgee import *\n"
        "import edgee\n"
        "print(json.dumps(sorted(n for n in edgee.__all__"
        " if globals().get(n, None) is not getattr(edgee, n))))\n"
    )
    assert run(code) == []


def test_from_import_of_each_name_gives_the_defining_modules_object() -> None:
    for module, names in edgee._LAZY_MODULES.items():
        source = importlib.import_module(module)
        for name in names:
            namespace: dict[str, Any] = {}
            exec(f"from edgee import {name}", namespace)
            assert namespace[name] is getattr(source, name), name
            assert getattr(edgee, name) is getattr(source, name), name


def test_lazy_and_eager_names_are_exactly_all() -> None:
    code = (
        "import json, edgee\n"
        "print(json.dumps(sorted(n for n in edgee.__all__ if n in vars(edgee))))\n"
    )
    eager = set(run(code))
    lazy = set(edgee._LAZY)
    assert eager.isdisjoint(lazy)
    assert eager | lazy == set(edgee.__all__)
    # The eager names are the version and edgee.errors' classes, nothing heavier.
    from edgee import errors

    assert eager == {"__version__"} | (set(errors.__all__) & set(edgee.__all__))


def type_checking_imports() -> dict[str, str]:
    """name -> module of the ``from M import name`` lines under ``if TYPE_CHECKING:``."""
    found: dict[str, str] = {}
    for node in ast.parse(INIT.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module, ast.unparse(stmt)
                for alias in stmt.names:
                    found[alias.asname or alias.name] = stmt.module
    return found


def test_type_checkers_see_each_lazy_name_from_its_module() -> None:
    # mypy and IDEs read the TYPE_CHECKING imports; the runtime reads _LAZY_MODULES.
    found = type_checking_imports()
    submodules = {name: found.pop(name) for name in edgee._SUBMODULES}
    assert submodules == dict.fromkeys(edgee._SUBMODULES, "edgee")
    assert found == edgee._LAZY


def test_dir_lists_the_public_names_before_any_access() -> None:
    code = "import json, edgee\nprint(json.dumps(dir(edgee)))\n"
    assert run(code) == sorted(edgee.__all__)
    assert dir(edgee) == sorted(edgee.__all__)


def test_public_submodules_are_attributes_after_a_bare_import() -> None:
    code = (
        "import json, edgee\n"
        "print(json.dumps([edgee.models.__name__, edgee.tools.__name__, edgee.sse.__name__,"
        " edgee.errors.__name__, edgee.models.Message is edgee.Message]))\n"
    )
    assert run(code) == ["edgee.models", "edgee.tools", "edgee.sse", "edgee.errors", True]
    assert isinstance(edgee.models, types.ModuleType)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'edgee' has no attribute 'Edgeee'"):
        edgee.Edgeee  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(edgee, "_sync_typo")
    with pytest.raises(ImportError, match="cannot import name 'Nope' from 'edgee'"):
        exec("from edgee import Nope", {})


def test_first_access_from_many_threads_gives_one_object() -> None:
    code = (
        "import json, threading, edgee\n"
        "barrier = threading.Barrier(8)\n"
        "seen = []\n"
        "def read():\n"
        "    barrier.wait()\n"
        "    seen.append((edgee.Edgee, edgee.Message, edgee.AsyncEdgee))\n"
        "threads = [threading.Thread(target=read) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(json.dumps([len(seen), len(set(seen))]))\n"
    )
    assert run(code) == [8, 1]


def test_resolving_every_name_warns_nothing() -> None:
    code = "import json\nfrom edgee import *\nprint(json.dumps('ok'))\n"
    assert run(code, "-W", "error") == "ok"
