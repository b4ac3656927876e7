"""`make codegen` drives the models from the schema, and `make check-codegen` guards them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
GENERATED = ROOT / "edgee" / "models" / "_generated.py"
BIN = str(Path(sys.executable).parent)


def make(target: str, **variables: str) -> subprocess.CompletedProcess[str]:
    # -o: never (re)install from inside the test run; BIN: this interpreter's tools.
    args = ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", f"BIN={BIN}", target]
    args += [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_committed_models_match_the_schema() -> None:
    result = make("check-codegen")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_schema_change_changes_the_model(tmp_path: Path) -> None:
    schema = json.loads((ROOT / "schema" / "edgee.schema.json").read_text())
    schema["$defs"]["Usage"]["properties"]["cache_write_tokens"] = {
        "type": ["integer", "null"],
        "description": "Tokens written to the provider's cache.",
    }
    edited = tmp_path / "schema.json"
    edited.write_text(json.dumps(schema))
    out = tmp_path / "_generated.py"
    result = make("codegen", SCHEMA=str(edited), GENERATED=str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    usage = text[text.index("class Usage(") :]
    usage = usage[: usage.index("\nclass ")]
    assert "cache_write_tokens: int | None = None" in usage
    assert "cache_write_tokens" not in GENERATED.read_text()
    # The only difference from the committed module is that field and its docstring.
    added = set(text.splitlines()) - set(GENERATED.read_text().splitlines())
    assert added == {
        "    cache_write_tokens: int | None = None",
        '    """Tokens written to the provider\'s cache."""',
    }


def test_check_codegen_catches_a_hand_edit(tmp_path: Path) -> None:
    edited = tmp_path / "_generated.py"
    edited.write_text(GENERATED.read_text().replace("    refusal: str | None = None\n", "", 1))
    result = make("check-codegen", GENERATED=str(edited))
    assert result.returncode != 0
    assert "stale or was edited by hand" in result.stderr
    assert "refusal" in result.stdout  # the diff names the edited line
