"""The models layer imports in one direction, and reads nobody's private names.

``_generated`` -> ``_base`` -> ``_convert``, ``_generated`` -> ``_convert``,
``models/__init__`` -> ``_generated``: the converter and the mixins know the
generated classes only through the classes they are given (as openai-python's
``_models.py`` imports nothing generated). Every import counts, also those
inside functions or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import edgee

# The package under test: the checkout, or the installed wheel (make dist runs the suite there).
PACKAGE = Path(edgee.__file__).resolve().parent

LAYER = {
    "edgee._convert": set(),
    "edgee.models._base": {"edgee._convert"},
    "edgee.models._generated": {"edgee._convert", "edgee.models._base"},
    "edgee.models": {"edgee.models._generated"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source(module: str) -> Path:
    path = PACKAGE.parent / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _imports(module: str) -> tuple[set[str], list[str]]:
    """The edgee modules ``module`` imports anywhere, and the private names it takes from them."""
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    found: set[str] = set()
    private: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("edgee"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("edgee"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if _source(target).exists():  # `from edgee.models import _generated`
                    found.add(target)
                else:
                    found.add(node.module)
                    if alias.name.startswith("_"):
                        private.append(f"{node.module}.{alias.name}")
    return found, private


@pytest.mark.parametrize("module", sorted(LAYER))
def test_models_layer_imports_point_one_way(module: str) -> None:
    found, private = _imports(module)
    assert found == LAYER[module]
    assert private == []


def test_no_import_cycle_through_the_models_layer() -> None:
    graph = {
        _module_name(p): _imports(_module_name(p))[0]
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    }

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        todo = list(graph.get(start, ()))
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return False

    assert [m for m in LAYER if reaches(m, m)] == []
