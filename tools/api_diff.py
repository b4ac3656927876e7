"""What differs between the gateway's OpenAPI document and schema/edgee.schema.json.

    python tools/api_diff.py OPENAPI [--schema schema/edgee.schema.json]
                             [--names tools/api_diff_names.json]
    make api-diff OPENAPI=path/to/openapi.json

Reads OpenAPI 3.0 and 3.1 ``components.schemas`` (JSON, or YAML when PyYAML is there) and
the project's JSON Schema ``$defs``, normalises both to one type notation and prints, per
model, what the OpenAPI document has that schema/ lacks (``+``), what schema/ has that the
document lacks (``-``) and what changed (``~ schema/ -> OpenAPI``): fields, their types,
``required``, ``additionalProperties`` and enum values.

Spellings that mean the same compare equal: 3.0 ``nullable: true``, 3.1 ``type: [x, "null"]``,
``anyOf``/``oneOf`` with ``{"type": "null"}``, ``const: v`` and ``enum: [v]``, an enum
written inline and the same enum behind a ``$ref``, ``allOf`` of one schema. ``integer`` and
``number`` are different types. A field the document does not require may be null in
schema/ (its convention for optional fields) without that being reported. Ignored:
descriptions, examples, ``format``, ``default``, ``title``, ``discriminator``,
``readOnly``/``writeOnly``, ``deprecated`` and ``x-*``.

OpenAPI names map to ``$defs`` names through tools/api_diff_names.json (a name not listed
maps to the same name; ``null`` ignores a schema the SDK does not model). An OpenAPI schema
that maps to nothing is reported as "not mapped" and counts as a difference (new API
surface needs a decision: model it, or ignore it in the table). ``$defs`` that no OpenAPI
schema maps to are listed as "SDK-only", for information: they do not fail the run.

Exit status: 0 when nothing differs, 1 when something does, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = ROOT / "schema" / "edgee.schema.json"
DEFAULT_NAMES = ROOT / "tools" / "api_diff_names.json"

OPENAPI_REF = "#/components/schemas/"
DEFS_REF = "#/$defs/"
NULL = "null"
ANY = "any"

Schema = dict[str, Any]
# A type is a frozenset of alternatives, each a canonical string ("string", "array<Tool>",
# 'string{"a","b"}', "Role"): unions are order-free, and "x | null" is just one more member.
Type = frozenset[str]


class InputError(Exception):
    """A file that cannot be read as what it should be (exit status 2)."""


# -- normalising one schema -----------------------------------------------------------------


def _literal(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _base_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def render(t: Type) -> str:
    """``t`` as text: members sorted, ``null`` last."""
    if not t:
        return "never"
    return " | ".join(sorted(t, key=lambda m: (m == NULL, m)))


@dataclass
class Normaliser:
    """Turns the schemas of one document into :data:`Type` values.

    ``ref_name`` names the target of a ``$ref`` in the common notation (the $defs name for
    schema/, the mapped name for OpenAPI).
    """

    ref_name: Callable[[str], str]

    def type_of(self, s: Any) -> Type:
        if s is True or s == {}:
            return frozenset({ANY})
        if s is False:
            return frozenset()
        if not isinstance(s, dict):
            raise InputError(f"a schema must be an object, not {s!r}")
        nullable = s.get("nullable") is True
        if "$ref" in s:
            t: Type = frozenset({self.ref_name(s["$ref"])})
        elif "allOf" in s:
            t = self._all_of(s)
        elif "enum" in s or "const" in s:
            t = self._enum(s)
        elif "anyOf" in s or "oneOf" in s:
            t = frozenset()
            for member in [*s.get("anyOf", []), *s.get("oneOf", [])]:
                t |= self.type_of(member)
        else:
            t = self._typed(s)
        return t | {NULL} if nullable else t

    def _all_of(self, s: Schema) -> Type:
        members = s["allOf"]
        if len(members) == 1:
            return self.type_of(members[0])
        parts = sorted(render(self.type_of(m)) for m in members)
        return frozenset({"allOf(" + " & ".join(parts) + ")"})

    def _enum(self, s: Schema) -> Type:
        values = list(s["enum"]) if "enum" in s else [s["const"]]
        t: set[str] = set()
        if None in values:
            t.add(NULL)
            values = [v for v in values if v is not None]
        declared = [x for x in _types(s) if x != NULL]
        if NULL in _types(s):
            t.add(NULL)
        groups: dict[str, list[Any]] = {}
        for v in values:
            base = declared[0] if len(declared) == 1 else _base_of(v)
            groups.setdefault(base, []).append(v)
        for base, vs in groups.items():
            t.add(base + "{" + ",".join(sorted(_literal(v) for v in vs)) + "}")
        return frozenset(t)

    def _typed(self, s: Schema) -> Type:
        types = _types(s)
        if not types:
            types = ["object"] if "properties" in s or "additionalProperties" in s else [ANY]
        t = set()
        for name in types:
            if name == "array":
                t.add("array" if "items" not in s else f"array<{render(self.type_of(s['items']))}>")
            elif name == "object":
                t.add(self._object(s))
            else:
                t.add(name)
        return frozenset(t)

    def _object(self, s: Schema) -> str:
        extra = s.get("additionalProperties", True)
        props = s.get("properties") or {}
        if not props:
            if extra is True or extra == {}:
                return "object"
            return "object{}" if extra is False else f"map<{render(self.type_of(extra))}>"
        required = set(s.get("required", []))
        fields = ", ".join(
            f"{name}{'' if name in required else '?'}: {render(self.type_of(sub))}"
            for name, sub in sorted(props.items())
        )
        return "object{" + fields + "}"


def _types(s: Schema) -> list[str]:
    declared = s.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


# -- one model, as both sides see it --------------------------------------------------------


@dataclass
class Model:
    """A top-level schema: an object (fields), an enum (values) or anything else (alias)."""

    kind: str  # "object" | "enum" | "alias"
    fields: dict[str, Type] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    extra: Type | None = None  # additionalProperties of an object; None: not said
    nullable: bool = False
    base: str = ""  # an enum's type
    values: list[Any] = field(default_factory=list)
    alias: Type = frozenset()


def model_of(s: Schema, norm: Normaliser, resolve: Callable[[str], Schema | None]) -> Model:
    """``s`` as a :class:`Model`; ``resolve`` finds what an ``allOf`` member's $ref names."""
    nullable = s.get("nullable") is True or NULL in _types(s)
    if "enum" in s or "const" in s:
        values = list(s["enum"]) if "enum" in s else [s["const"]]
        nullable = nullable or None in values
        values = [v for v in values if v is not None]
        declared = [x for x in _types(s) if x != NULL]
        base = declared[0] if declared else (_base_of(values[0]) if values else ANY)
        return Model("enum", nullable=nullable, base=base, values=values)
    parts = _object_parts(s, resolve)
    if parts is None:
        return Model("alias", alias=norm.type_of(s))
    model = Model("object", nullable=nullable)
    for part in parts:
        for name, sub in (part.get("properties") or {}).items():
            model.fields[name] = norm.type_of(sub)
        model.required |= set(part.get("required", []))
        if "additionalProperties" in part:
            model.extra = norm.type_of(part["additionalProperties"])
    return model


def _object_parts(
    s: Schema, resolve: Callable[[str], Schema | None], seen: frozenset[str] = frozenset()
) -> list[Schema] | None:
    """The schemas whose properties make up object ``s`` (itself and its allOf), or None."""
    if "$ref" in s:
        ref = s["$ref"]
        target = resolve(ref) if ref not in seen else None  # a cycle: not an object we know
        return None if target is None else _object_parts(target, resolve, seen | {ref})
    if "anyOf" in s or "oneOf" in s:
        return None
    parts: list[Schema] = []
    for member in s.get("allOf", []):
        sub = _object_parts(member, resolve, seen) if isinstance(member, dict) else None
        if sub is None:
            return None
        parts.extend(sub)
    types = [x for x in _types(s) if x != NULL]
    if types not in ([], ["object"]):
        return None
    if not types and not parts and "properties" not in s:
        return None
    return [s, *parts]


# -- the two documents ----------------------------------------------------------------------


@dataclass
class Side:
    """The models of one document in the common notation, and how to expand a reference."""

    models: dict[str, Model]
    # name -> the inline type of a non-object model (enums, aliases), for one-sided refs
    inline: dict[str, Type]


def _inline_of(model: Model) -> Type | None:
    if model.kind == "enum":
        members = {model.base + "{" + ",".join(sorted(_literal(v) for v in model.values)) + "}"}
        return frozenset(members | ({NULL} if model.nullable else set()))
    if model.kind == "alias":
        return model.alias
    return None


def _side(models: dict[str, Model]) -> Side:
    inline = {n: t for n, m in models.items() if (t := _inline_of(m)) is not None}
    return Side(models, inline)


def load_document(path: Path) -> Any:
    """JSON, or YAML for .yaml/.yml when PyYAML is installed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError as exc:
            raise InputError(f"{path}: reading YAML needs PyYAML; or give the JSON") from exc
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"{path} is not YAML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not JSON: {exc}") from exc


def load_names(path: Path) -> dict[str, str | None]:
    doc = load_document(path)
    names = doc.get("names") if isinstance(doc, dict) else None
    if not isinstance(names, dict) or not all(
        isinstance(v, str) or v is None for v in names.values()
    ):
        raise InputError(f'{path}: expected {{"names": {{"OpenAPIName": "DefsName" or null}}}}')
    return names


@dataclass
class Report:
    """Everything the comparison found, and its text."""

    version: str
    lines: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)  # models with differences
    not_mapped: list[str] = field(default_factory=list)
    sdk_only: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.differing or self.not_mapped)


def compare(openapi: Any, schema: Any, names: dict[str, str | None]) -> Report:
    """The differences between an OpenAPI document and the project's JSON Schema."""
    if not isinstance(openapi, dict) or not str(openapi.get("openapi", "")).startswith("3."):
        raise InputError('not an OpenAPI 3.x document (its "openapi" field must be 3.0 or 3.1)')
    components = (openapi.get("components") or {}).get("schemas")
    if not isinstance(components, dict):
        raise InputError("the OpenAPI document has no components.schemas")
    if not isinstance(schema, dict) or not isinstance(schema.get("$defs"), dict):
        raise InputError("the project's schema has no $defs")
    defs: dict[str, Schema] = schema["$defs"]

    def mapped(name: str) -> str | None:
        if name in names:
            return names[name]
        return name if name in defs else None

    def openapi_ref(ref: str) -> str:
        if ref.startswith(OPENAPI_REF):
            name = ref[len(OPENAPI_REF) :]
            target = mapped(name)
            return target if target is not None else f"openapi:{name}"
        return ref

    def defs_ref(ref: str) -> str:
        return ref[len(DEFS_REF) :] if ref.startswith(DEFS_REF) else ref

    def resolve_openapi(ref: str) -> Schema | None:
        if not ref.startswith(OPENAPI_REF):
            return None
        target = components.get(ref[len(OPENAPI_REF) :])
        return target if isinstance(target, dict) else None

    def resolve_defs(ref: str) -> Schema | None:
        return defs.get(defs_ref(ref)) if ref.startswith(DEFS_REF) else None

    api_norm, sdk_norm = Normaliser(openapi_ref), Normaliser(defs_ref)
    report = Report(str(openapi["openapi"]))
    pairs: list[tuple[str, str]] = []  # (OpenAPI name, $defs name)
    for name in components:
        target = mapped(name)
        if name in names and target is None:
            report.ignored.append(name)
        elif target is None or target not in defs:
            report.not_mapped.append(name)
        else:
            pairs.append((name, target))
    by_api_name = {n: model_of(components[n], api_norm, resolve_openapi) for n, _ in pairs}
    sdk_models = {n: model_of(s, sdk_norm, resolve_defs) for n, s in defs.items()}
    # refs on the OpenAPI side read as the mapped name, so expand them by that name
    api, sdk = _side({t: by_api_name[n] for n, t in pairs}), _side(sdk_models)
    for name in [*report.not_mapped, *report.ignored]:  # their refs read "openapi:Name"
        inline = _inline_of(model_of(components[name], api_norm, resolve_openapi))
        if inline is not None:
            api.inline[f"openapi:{name}"] = inline

    for api_name, target in pairs:
        changes = _model_changes(target, sdk_models[target], by_api_name[api_name], sdk, api)
        if changes:
            title = target if api_name == target else f"{target} (OpenAPI: {api_name})"
            report.differing.append(target)
            report.lines += [title, *("  " + c for c in changes)]
    counterparts = {t for _, t in pairs}
    report.sdk_only = [n for n in defs if n not in counterparts]
    for name in report.not_mapped:
        kind = _kind_text(model_of(components[name], api_norm, resolve_openapi))
        target = names.get(name)
        why = f"; the table maps it to {target}, which schema/ lacks" if target else ""
        report.lines.append(f"not mapped: + type {name} ({kind}{why})")
    return report


def _kind_text(model: Model) -> str:
    if model.kind == "object":
        return f"object, {len(model.fields)} fields"
    if model.kind == "enum":
        return "enum " + ", ".join(_literal(v) for v in model.values)
    return render(model.alias)


def _field_text(t: Type, required: bool) -> str:
    return render(t) + (", required" if required else "")


def _model_changes(name: str, old: Model, new: Model, sdk: Side, api: Side) -> list[str]:
    """Lines for one model: ``old`` is schema/'s, ``new`` the OpenAPI document's."""
    if old.kind != new.kind:
        return [f"~ type: {_kind_line(old)} -> {_kind_line(new)}"]
    out: list[str] = []
    if old.nullable != new.nullable:
        out.append(f"~ nullable: {str(old.nullable).lower()} -> {str(new.nullable).lower()}")
    if old.kind == "enum":
        if old.base != new.base:
            out.append(f"~ enum {name} type: {old.base} -> {new.base}")
        out += [f"~ enum {name}: + {_literal(v)}" for v in new.values if v not in old.values]
        out += [f"~ enum {name}: - {_literal(v)}" for v in old.values if v not in new.values]
        return out
    if old.kind == "alias":
        change = _type_change(old.alias, new.alias, sdk, api)
        return out + ([f"~ type: {change}"] if change else [])
    for f, t in new.fields.items():
        if f not in old.fields:
            out.append(f"+ field {f} ({_field_text(t, f in new.required)})")
    for f in old.fields:
        if f not in new.fields:
            out.append(f"- field {f}")
    for f, t in old.fields.items():
        if f not in new.fields:
            continue
        api_type = new.fields[f]
        if f not in new.required and NULL in t:
            api_type |= {NULL}  # schema/'s convention: an optional field may be null
        if change := _type_change(t, api_type, sdk, api):
            out.append(f"~ field {f}: {change}")
    shared = old.fields.keys() & new.fields.keys()
    out += [f"+ required {f}" for f in sorted(new.required - old.required) if f in shared]
    out += [f"- required {f}" for f in sorted(old.required - new.required) if f in shared]
    old_extra = old.extra if old.extra is not None else frozenset({ANY})
    new_extra = new.extra if new.extra is not None else frozenset({ANY})
    if old_extra != new_extra:
        out.append(f"~ additionalProperties: {_extra(old_extra)} -> {_extra(new_extra)}")
    return out


def _extra(t: Type) -> str:
    return "true" if t == {ANY} else "false" if not t else render(t)


def _kind_line(model: Model) -> str:
    if model.kind == "alias":
        return render(model.alias)
    if model.kind == "enum":
        return f"enum ({model.base})"
    return "object"


def _expand(t: Type, side: Side) -> Type:
    """``t`` with references to enums and aliases replaced by what they stand for."""
    out: set[str] = set()
    for member in t:
        out |= side.inline.get(member, frozenset({member}))
    return frozenset(out)


def _type_change(old: Type, new: Type, sdk: Side, api: Side) -> str | None:
    """None when ``old`` and ``new`` mean the same; else the text of the change."""
    if old == new:
        return None
    old_x, new_x = _expand(old, sdk), _expand(new, api)
    if old_x == new_x:
        return None
    if _names_only(old - new) and _names_only(new - old):  # a reference retargeted
        return f"{render(old)} -> {render(new)}"
    gone, came = sorted(old_x - new_x), sorted(new_x - old_x)
    if len(gone) == len(came) == 1 and gone[0].endswith("}") and came[0].endswith("}"):
        was, now = _enum_values(gone[0]), _enum_values(came[0])
        if was is not None and now is not None and was[0] == now[0]:
            diff = [f"+ {v}" for v in now[1] if v not in was[1]]
            diff += [f"- {v}" for v in was[1] if v not in now[1]]
            return "enum " + ", ".join(diff)
    return f"{render(old)} -> {render(new)}"


PRIMITIVES = frozenset({"string", "integer", "number", "boolean", "object", "array", NULL, ANY})


def _names_only(members: Type) -> bool:
    """True when ``members`` (not empty) are all names of models."""
    return bool(members) and all(
        m not in PRIMITIVES and m.removeprefix("openapi:").isidentifier() for m in members
    )


def _enum_values(member: str) -> tuple[str, list[str]] | None:
    base, brace, rest = member.partition("{")
    if not brace or base not in ("string", "integer", "number", "boolean"):
        return None
    return base, [_literal(v) for v in json.loads("[" + rest[:-1] + "]")]


def format_report(report: Report, openapi_path: str, schema_path: str) -> str:
    head = f"api-diff: {openapi_path} (OpenAPI {report.version}) vs {schema_path}"
    lines = [head, ""]
    lines += report.lines or ["no differences in the mapped models"]
    if report.ignored:
        lines += ["", "ignored (null in the names table): " + ", ".join(report.ignored)]
    if report.sdk_only:
        lines += ["", "SDK-only (no OpenAPI counterpart; informational):"]
        lines += textwrap.wrap(
            ", ".join(report.sdk_only), 96, initial_indent="  ", subsequent_indent="  "
        )
    summary = (
        f"{len(report.differing)} model(s) differ, {len(report.not_mapped)} OpenAPI schema(s)"
        " not mapped"
    )
    lines += ["", summary if report.differs else "api-diff: the mapped models match"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="api_diff", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("openapi", type=Path, help="the gateway's OpenAPI document")
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--names", type=Path, default=DEFAULT_NAMES)
    args = parser.parse_args(argv)
    try:
        report = compare(
            load_document(args.openapi), load_document(args.schema), load_names(args.names)
        )
    except InputError as exc:
        print(f"api-diff: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(format_report(report, str(args.openapi), str(args.schema)))
    return 1 if report.differs else 0


if __name__ == "__main__":
    sys.exit(main())
