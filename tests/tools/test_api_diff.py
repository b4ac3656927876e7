"""tools/api_diff.py: OpenAPI documents written here, compared with schema/edgee.schema.json.

The matching documents are built FROM the project's schema (its $defs translated into
OpenAPI 3.0 and 3.1 spellings), so they stay true when the schema changes; every change
test then edits one such document and checks the line the tool prints and its exit status.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schema" / "edgee.schema.json"
TOOL = ROOT / "tools" / "api_diff.py"

_spec = importlib.util.spec_from_file_location("api_diff", TOOL)
assert _spec is not None and _spec.loader is not None
api_diff = importlib.util.module_from_spec(_spec)
sys.modules["api_diff"] = api_diff  # dataclasses look their module up by name
_spec.loader.exec_module(api_diff)

SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
DEFS: dict[str, Any] = SCHEMA["$defs"]
VERSIONS = ["3.0.3", "3.1.0"]


# -- translating the project's $defs into OpenAPI -------------------------------------------


def _ref(ref: str, rename: dict[str, str]) -> str:
    name = ref.removeprefix("#/$defs/")
    return "#/components/schemas/" + rename.get(name, name)


def to_30(s: Any, rename: dict[str, str]) -> Any:
    """OpenAPI 3.0 spelling: nullable, allOf around a nullable $ref, enum for const."""
    if not isinstance(s, dict):
        return s
    out = {k: v for k, v in s.items() if k not in ("type", "anyOf", "const", "$ref")}
    for key in ("items", "additionalProperties"):
        if isinstance(s.get(key), dict):
            out[key] = to_30(s[key], rename)
    if "properties" in s:
        out["properties"] = {n: to_30(p, rename) for n, p in s["properties"].items()}
    if "const" in s:
        out["enum"] = [s["const"]]
    if "$ref" in s:
        out["$ref"] = _ref(s["$ref"], rename)
    types = s.get("type")
    if isinstance(types, list):
        rest = [t for t in types if t != "null"]
        if len(rest) < len(types):
            out["nullable"] = True
        if len(rest) == 1:
            out["type"] = rest[0]
        else:
            out["anyOf"] = [{"type": t} for t in rest]
    elif types is not None:
        out["type"] = types
    if "anyOf" in s:
        members = [m for m in s["anyOf"] if m != {"type": "null"}]
        if len(members) < len(s["anyOf"]):
            out["nullable"] = True
        members = [to_30(m, rename) for m in members]
        if len(members) == 1 and "$ref" in members[0]:
            out["allOf"] = members  # 3.0 ignores keywords next to a $ref
        elif len(members) == 1:
            out.update(members[0])
        else:
            out["anyOf"] = members
    return out


def to_31(s: Any, rename: dict[str, str]) -> Any:
    """OpenAPI 3.1 spelling: JSON Schema, refs into components, oneOf for anyOf."""
    if isinstance(s, list):
        return [to_31(x, rename) for x in s]
    if not isinstance(s, dict):
        return s
    out: dict[str, Any] = {}
    for key, value in s.items():
        if key == "$ref":
            out[key] = _ref(value, rename)
        elif key == "anyOf":
            out["oneOf"] = to_31(value, rename)
        elif key == "properties":
            out[key] = {n: to_31(p, rename) for n, p in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = to_31(value, rename)
        else:
            out[key] = copy.deepcopy(value)
    return out


def openapi(version: str, names: list[str] | None = None, rename: dict[str, str] | None = None):
    """An OpenAPI document holding the $defs ``names`` (all of them by default)."""
    rename = rename or {}
    translate = to_30 if version.startswith("3.0") else to_31
    schemas = {rename.get(n, n): translate(copy.deepcopy(DEFS[n]), rename) for n in names or DEFS}
    return {
        "openapi": version,
        "info": {"title": "Edgee", "version": "1.0.0"},
        "paths": {},
        "components": {"schemas": schemas},
    }


def run(doc: dict[str, Any], tmp_path: Path, names: dict[str, Any] | None = None):
    """The tool's exit status and stdout on ``doc`` (written into tmp_path)."""
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    table = tmp_path / "names.json"
    table.write_text(json.dumps({"names": names or {}}), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(path), "--names", str(table)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout + proc.stderr


def closure(*roots: str) -> list[str]:
    """``roots`` and every $def they reference, in $defs order."""
    seen: set[str] = set()

    def walk(s: Any) -> None:
        if isinstance(s, dict):
            ref = s.get("$ref")
            if isinstance(ref, str) and ref.removeprefix("#/$defs/") not in seen:
                seen.add(ref.removeprefix("#/$defs/"))
                walk(DEFS[ref.removeprefix("#/$defs/")])
            for v in s.values():
                walk(v)
        elif isinstance(s, list):
            for v in s:
                walk(v)

    for root in roots:
        seen.add(root)
        walk(DEFS[root])
    return [n for n in DEFS if n in seen]


# Picked from the schema rather than named, so the tests follow it when it changes.
def _object_with(predicate: Any) -> tuple[str, str]:
    for name, s in DEFS.items():
        for field, sub in s.get("properties", {}).items():
            if predicate(s, field, sub):
                return name, field
    raise AssertionError("the schema has no such field")


ENUM = next(n for n, s in DEFS.items() if "enum" in s)
INTEGER = _object_with(lambda s, f, sub: sub.get("type") == ["integer", "null"])
REQUIRED = _object_with(lambda s, f, sub: f in s.get("required", []))
STRING_REQUIRED = _object_with(
    lambda s, f, sub: f in s.get("required", []) and sub == {**sub, "type": "string"}
)
OPTIONAL = _object_with(lambda s, f, sub: f not in s.get("required", []))
ENUM_FIELD = _object_with(
    lambda s, f, sub: {"$ref": f"#/$defs/{ENUM}"} in [sub, *sub.get("anyOf", [])]
)


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]
    return result


# -- matching documents ---------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_the_whole_schema_translated_matches(version: str, tmp_path: Path) -> None:
    status, out = run(openapi(version), tmp_path)
    assert status == 0, out
    assert "api-diff: the mapped models match" in out
    assert "SDK-only" not in out


@pytest.mark.parametrize("version", VERSIONS)
def test_a_part_matches_and_the_rest_is_sdk_only(version: str, tmp_path: Path) -> None:
    part = closure(INTEGER[0], ENUM_FIELD[0])
    assert len(part) < len(DEFS)
    status, out = run(openapi(version, part), tmp_path)
    assert status == 0, out
    listed = out.split("SDK-only (no OpenAPI counterpart; informational):\n", 1)[1]
    listed = listed.split("\n\n", 1)[0]
    assert set(listed.replace("\n", " ").replace(",", " ").split()) == set(DEFS) - set(part)


@pytest.mark.parametrize("version", VERSIONS)
def test_other_openapi_names_map_through_the_table(version: str, tmp_path: Path) -> None:
    model = INTEGER[0]
    doc = openapi(version, closure(model), rename={model: "Api" + model})
    status, out = run(doc, tmp_path, names={"Api" + model: model})
    assert status == 0, out
    # Without the table the renamed schema maps to nothing, and the refs to it differ.
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"not mapped: + type Api{model} (object" in out


def test_an_inline_enum_equals_the_same_enum_behind_a_ref(tmp_path: Path) -> None:
    model, field = ENUM_FIELD
    doc = openapi("3.1.0", closure(model))
    values = DEFS[ENUM]["enum"]
    nullable = {"type": "null"} in DEFS[model]["properties"][field].get("anyOf", [])
    inline = {"type": ["string", "null"] if nullable else "string", "enum": values}
    schemas(doc)[model]["properties"][field] = inline
    status, out = run(doc, tmp_path)
    assert status == 0, out
    schemas(doc)[model]["properties"][field]["enum"] = [*values, "brand_new"]
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f'~ field {field}: enum + "brand_new"' in out


def test_yaml_documents_are_read(tmp_path: Path) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(openapi("3.0.3")), encoding="utf-8")
    assert api_diff.main([str(path)]) == 0


# -- each kind of change, in both versions --------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_a_field_added_is_reported(version: str, tmp_path: Path) -> None:
    model = REQUIRED[0]
    doc = openapi(version)
    schemas(doc)[model]["properties"]["brand_new"] = {"type": "string"}
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"{model}\n  + field brand_new (string)\n" in out
    assert "1 model(s) differ, 0 OpenAPI schema(s) not mapped" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_a_required_field_added_says_so(version: str, tmp_path: Path) -> None:
    model = REQUIRED[0]
    doc = openapi(version)
    schemas(doc)[model]["properties"]["brand_new"] = {"type": "integer"}
    schemas(doc)[model]["required"].append("brand_new")
    status, out = run(doc, tmp_path)
    assert status == 1
    assert "  + field brand_new (integer, required)\n" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_a_field_removed_is_reported(version: str, tmp_path: Path) -> None:
    model, field = OPTIONAL
    doc = openapi(version)
    del schemas(doc)[model]["properties"][field]
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"{model}\n  - field {field}\n" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_integer_to_number_is_a_type_change(version: str, tmp_path: Path) -> None:
    model, field = INTEGER
    doc = openapi(version)
    prop = schemas(doc)[model]["properties"][field]
    if version.startswith("3.0"):
        assert prop == {**prop, "type": "integer", "nullable": True}
        prop["type"] = "number"
    else:
        prop["type"] = ["number", "null"]
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"{model}\n  ~ field {field}: integer | null -> number | null\n" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_nullability_is_compared(version: str, tmp_path: Path) -> None:
    model, field = INTEGER
    doc = openapi(version)
    # Optional and not nullable in the document: schema/ making it nullable is its convention.
    schemas(doc)[model]["properties"][field] = {"type": "integer"}
    status, out = run(doc, tmp_path)
    assert status == 0, out
    # Required and not nullable: the difference counts.
    schemas(doc)[model].setdefault("required", []).append(field)
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"  ~ field {field}: integer | null -> integer\n" in out
    assert f"  + required {field}\n" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_a_field_made_nullable_is_a_type_change(version: str, tmp_path: Path) -> None:
    model, field = STRING_REQUIRED
    doc = openapi(version)
    nullable = {"type": ["string", "null"]}
    if version.startswith("3.0"):
        nullable = {"type": "string", "nullable": True}
    schemas(doc)[model]["properties"][field] = nullable
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"{model}\n  ~ field {field}: string -> string | null\n" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_enum_values_added_and_removed_are_reported(version: str, tmp_path: Path) -> None:
    doc = openapi(version)
    first, *rest = DEFS[ENUM]["enum"]
    schemas(doc)[ENUM]["enum"] = [*rest, "brand_new"]
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f'{ENUM}\n  ~ enum {ENUM}: + "brand_new"\n  ~ enum {ENUM}: - "{first}"\n' in out


@pytest.mark.parametrize("version", VERSIONS)
def test_required_changes_are_reported(version: str, tmp_path: Path) -> None:
    doc = openapi(version)
    (was_required_in, was_required), (optional_in, optional) = REQUIRED, OPTIONAL
    schemas(doc)[was_required_in]["required"].remove(was_required)
    schemas(doc)[optional_in].setdefault("required", []).append(optional)
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"  - required {was_required}\n" in out
    assert f"  + required {optional}\n" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_additional_properties_changes_are_reported(version: str, tmp_path: Path) -> None:
    model = REQUIRED[0]
    doc = openapi(version)
    schemas(doc)[model]["additionalProperties"] = False
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"{model}\n  ~ additionalProperties: true -> false\n" in out


def test_a_ref_retargeted_is_a_type_change(tmp_path: Path) -> None:
    model, field = ENUM_FIELD
    other = next(n for n in DEFS if "enum" in DEFS[n] and n != ENUM)
    doc = openapi("3.1.0")
    prop = schemas(doc)[model]["properties"][field]
    text = json.dumps(prop).replace(f"schemas/{ENUM}", f"schemas/{other}")
    schemas(doc)[model]["properties"][field] = json.loads(text)
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"  ~ field {field}: {ENUM}" in out
    assert f"-> {other}" in out


# -- schemas the SDK does not have ----------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_an_unmapped_schema_fails_until_the_table_ignores_it(version: str, tmp_path: Path) -> None:
    doc = openapi(version)
    schemas(doc)["ResponsesRequest"] = {"type": "object", "properties": {"input": {}}}
    status, out = run(doc, tmp_path)
    assert status == 1
    assert "not mapped: + type ResponsesRequest (object, 1 fields)" in out
    assert "0 model(s) differ, 1 OpenAPI schema(s) not mapped" in out
    status, out = run(doc, tmp_path, names={"ResponsesRequest": None})
    assert status == 0, out
    assert "ignored (null in the names table): ResponsesRequest" in out


def test_a_table_entry_naming_no_def_is_not_mapped(tmp_path: Path) -> None:
    doc = openapi("3.1.0", closure(ENUM))
    status, out = run(doc, tmp_path, names={ENUM: "NoSuchDef"})
    assert status == 1
    assert f"not mapped: + type {ENUM} (enum " in out
    assert "the table maps it to NoSuchDef, which schema/ lacks)" in out


def test_an_all_of_cycle_does_not_hang(tmp_path: Path) -> None:
    doc = openapi("3.0.3", [ENUM])
    schemas(doc)["Loop"] = {"allOf": [{"$ref": "#/components/schemas/Loop"}]}
    status, out = run(doc, tmp_path)
    assert status == 1
    assert "not mapped: + type Loop (openapi:Loop)" in out


def test_a_kind_change_is_reported(tmp_path: Path) -> None:
    doc = openapi("3.1.0")
    schemas(doc)[ENUM] = {"type": "object", "properties": {}}
    status, out = run(doc, tmp_path)
    assert status == 1
    assert f"{ENUM}\n  ~ type: enum (string) -> object\n" in out


# -- the normaliser on spellings ------------------------------------------------------------


def _type(s: Any) -> str:
    norm = api_diff.Normaliser(lambda ref: ref.rsplit("/", 1)[-1])
    rendered: str = api_diff.render(norm.type_of(s))
    return rendered


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ({"type": "string", "nullable": True}, "string | null"),
        ({"type": ["null", "string"]}, "string | null"),
        ({"oneOf": [{"type": "null"}, {"type": "string"}]}, "string | null"),
        ({"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": True}, "X | null"),
        ({"const": "function"}, 'string{"function"}'),
        ({"type": "string", "enum": ["b", "a", None]}, 'string{"a","b"} | null'),
        ({"type": "array", "items": {"type": "integer"}}, "array<integer>"),
        ({"type": "object", "additionalProperties": {"type": "number"}}, "map<number>"),
        ({"type": "object", "additionalProperties": True}, "object"),
        ({}, "any"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            "object{a: string}",
        ),
        (
            {"allOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]},
            "allOf(A & B)",
        ),
    ],
)
def test_spellings_normalise(spelling: Any, expected: str) -> None:
    assert _type(spelling) == expected


def test_all_of_members_make_up_one_model(tmp_path: Path) -> None:
    model = REQUIRED[0]
    doc = openapi("3.0.3")
    whole = schemas(doc)[model]
    schemas(doc)["Base"] = {"type": "object", "properties": whole.pop("properties")}
    whole["allOf"] = [{"$ref": "#/components/schemas/Base"}]
    status, out = run(doc, tmp_path, names={"Base": None})
    assert status == 0, out


# -- bad input, the shipped table and the Makefile ------------------------------------------


def test_bad_input_exits_2(tmp_path: Path) -> None:
    status, out = run({"swagger": "2.0"}, tmp_path)
    assert (status, "not an OpenAPI 3.x document" in out) == (2, True)
    status, out = run({"openapi": "3.1.0"}, tmp_path)
    assert (status, "no components.schemas" in out) == (2, True)
    assert api_diff.main([str(tmp_path / "missing.json")]) == 2


def test_the_shipped_names_table_points_at_real_defs() -> None:
    names = api_diff.load_names(api_diff.DEFAULT_NAMES)
    assert names
    assert [n for n, target in names.items() if target is not None and target not in DEFS] == []


def _make(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    stamp = tmp_path / "stamp"  # newer than pyproject.toml: make installs nothing
    stamp.touch()
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "api-diff", f"STAMP={stamp}",
         f"PYTHON={sys.executable}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_make_api_diff_without_openapi_prints_usage(tmp_path: Path) -> None:
    proc = _make(tmp_path)
    assert proc.returncode != 0
    assert "usage: make api-diff OPENAPI=path/to/openapi.json" in proc.stderr


def test_make_api_diff_exit_status_follows_the_diff(tmp_path: Path) -> None:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(openapi("3.1.0")), encoding="utf-8")
    proc = _make(tmp_path, f"OPENAPI={path}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the mapped models match" in proc.stdout
    doc = openapi("3.1.0")
    schemas(doc)[ENUM]["enum"].append("brand_new")
    path.write_text(json.dumps(doc), encoding="utf-8")
    proc = _make(tmp_path, f"OPENAPI={path}")
    assert proc.returncode != 0
    assert f'~ enum {ENUM}: + "brand_new"' in proc.stdout
