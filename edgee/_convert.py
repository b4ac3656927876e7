"""The wire codec: the two bases every model is built on, and the one cattrs converter.

Two kinds of model, after what code written for the official SDK does with them:

* :class:`DictModel`: a real ``dict`` that holds its wire JSON, with typed
  attributes reading and writing its keys. Messages, tool calls, tools and
  their parts are these: the official SDK handed them out (and took them) as
  plain dicts, so ``isinstance(m, dict)``, ``json.dumps(history)``,
  ``m == {...}``, ``"content" in m`` and ``m.items()`` must keep working, and
  the answer's message goes back into the next request as it is.
* :class:`WireModel`: an attrs class (responses, chunks, usage, errors); the
  hot path of a stream structures these through compiled functions.

The converter follows three rules the stock one does not:

* Unknown keys are kept (a :class:`DictModel` keeps them as keys; an attrs
  model in ``_extra``) and written back by ``to_dict()``: the gateway adds
  fields faster than SDKs ship.
* ``to_dict()`` leaves out ``None`` fields the schema knows but keeps every
  other default (``index: 0``, ``type: "function"``).
* Unions are structured by shape (text or parts, an open enum or a string,
  the three forms of ``tool_choice``).

This module knows no generated class: it works on whatever class it is given
(the generated module imports it, never the reverse). Structure functions are
generated once per class: cattrs' own (``make_dict_structure_fn`` plus the
unknown-key wrapper) is the reference for every result and error, and a
specialised one compiled from source (``_make_fast_structure``) is the one the
converter calls. The fast one takes a value as it is only where cattrs would
return that very value, calls cattrs' hook for the field's type otherwise,
and on any error starts over with the reference, so the two agree by
construction (``tests/core/test_hot_path.py`` checks it).
"""

from __future__ import annotations

import enum
import inspect
import linecache
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

if TYPE_CHECKING:
    from typing_extensions import Self, dataclass_transform
elif sys.version_info >= (3, 11):
    from typing import Self, dataclass_transform
else:  # cattrs depends on typing_extensions, so it is always there
    from typing_extensions import Self, dataclass_transform

__all__ = [
    "DictModel",
    "OpenEnum",
    "WireModel",
    "coerce_dict_fields",
    "converter",
    "structure",
    "unstructure",
    "wire_field",
]

T = TypeVar("T")
_W = TypeVar("_W", bound="WireModel")

converter = cattrs.Converter()


class OpenEnum(str, enum.Enum):
    """A string enum that keeps values it does not know.

    The gateway may send a role or finish reason this SDK has never heard of;
    instead of failing, ``Role("moderator")`` returns a pseudo-member that
    compares equal to ``"moderator"`` and writes back as it came.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


# --------------------------------------------------------------------------------------
# attrs models


def _wire_name(a: attrs.Attribute[Any]) -> str:
    return str(a.metadata.get("wire", a.name))


_WIRE_NAMES: dict[type, dict[str, str]] = {}


def _wire_names(cls: type) -> dict[str, str]:
    """Map each wire (JSON) key of an attrs model to its attribute name."""
    names = _WIRE_NAMES.get(cls)
    if names is None:
        names = {_wire_name(a): a.name for a in attrs.fields(cls) if a.name != "_extra"}
        _WIRE_NAMES[cls] = names
    return names


class WireModel:
    """Base of the generated attrs models: conversion and read-only dict-style access.

    Dict-style reads (``chunk["choices"]``, ``usage.get("total_tokens")``)
    serve code written against plain JSON. A known key whose value is ``None``
    reads as ``None``; keys the schema does not know are served from
    :attr:`extra`.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        _extra: dict[str, Any] | None

    @classmethod
    def from_dict(cls: type[_W], data: Mapping[str, Any]) -> _W:
        """Build the model from wire JSON (a dict as ``json.loads`` returns it)."""
        try:
            return converter.structure(data, cls)
        except Exception as exc:  # cattrs raises several types, some grouping others
            raise ValueError(f"invalid {cls.__name__}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Return the wire JSON of the model; ``None`` fields are left out."""
        result: dict[str, Any] = converter.unstructure(self)
        return result

    @property
    def extra(self) -> dict[str, Any]:
        """JSON keys the schema does not know, as received (a copy)."""
        return dict(self._extra) if self._extra else {}

    def __getitem__(self, key: str) -> Any:
        name = _wire_names(type(self)).get(key)
        if name is not None:
            return getattr(self, name)
        if self._extra and key in self._extra:
            return self._extra[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Like ``dict.get``: the value of ``key``, or ``default`` when absent or ``None``."""
        try:
            value = self[key]
        except KeyError:
            return default
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def keys(self) -> list[str]:
        """The wire keys that have a value, as ``to_dict()`` would write them."""
        names = _wire_names(type(self))
        keys = [k for k, n in names.items() if getattr(self, n) is not None]
        if self._extra:
            keys.extend(k for k in self._extra if k not in names)
        return keys

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


# --------------------------------------------------------------------------------------
# dict models


class _Unset:
    """The default of a constructor argument that was not given (the key stays absent)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


class _FieldSpec:
    __slots__ = ("absent", "wire")

    def __init__(self, absent: Any, wire: str | None) -> None:
        self.absent = absent
        self.wire = wire


def wire_field(*, absent: Any = None, wire: str | None = None) -> Any:
    """A field the constructor requires that reads as ``absent`` when the JSON lacks it.

    ``Tool(type, function)`` takes both, as the official SDK's dataclass did,
    yet ``Tool(function=...)`` and a tool JSON without ``"type"`` still mean
    ``"function"``. ``wire`` names the JSON key when it is not the field's name.
    """
    return _FieldSpec(absent, wire)


# What a field holds, decided once per class from its resolved annotation.
_PLAIN, _ENUM, _MODEL, _MODELS, _TEXT_OR_MODELS = range(5)


class _Key:
    """A typed attribute of a :class:`DictModel`: reads and writes one key of the dict."""

    __slots__ = ("absent", "default", "elem", "kind", "name", "owner", "wire")

    def __init__(self, name: str, wire: str, default: Any, absent: Any) -> None:
        self.name = name
        self.wire = wire
        self.default = default  # the constructor's default, _UNSET when required
        self.absent = absent  # what a read of a missing key returns
        self.kind = -1  # resolved on first use: annotations are strings until then
        self.elem: Any = None
        self.owner: Any = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner = owner

    def _resolve(self) -> None:
        _resolve_keys(self.owner)

    @typing.overload
    def __get__(self, obj: None, owner: type | None = None) -> _Key: ...
    @typing.overload
    def __get__(self, obj: DictModel, owner: type | None = None) -> Any: ...
    def __get__(self, obj: DictModel | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = dict.get(obj, self.wire, _UNSET)
        if value is _UNSET:
            return self.absent
        kind = self.kind
        if kind < 0:
            self._resolve()
            kind = self.kind
        if kind == _PLAIN or value is None:
            return value
        elem = self.elem
        if kind == _MODEL and isinstance(value, elem):
            return value
        if kind == _MODELS and type(value) is list:
            for item in value:
                if not isinstance(item, elem):
                    break
            else:
                return value
        try:
            fixed = self._read(value, kind)
        except (TypeError, ValueError):
            return value  # not the declared shape: the raw JSON, never an error on read
        if fixed is not value and kind != _ENUM:
            dict.__setitem__(obj, self.wire, fixed)  # values written by item assignment
        return fixed

    def _read(self, value: Any, kind: int) -> Any:
        elem = self.elem
        if kind == _ENUM:
            return elem(value) if isinstance(value, str) else value
        if kind == _MODEL:
            return value if isinstance(value, elem) else elem._structure(value)
        if kind == _TEXT_OR_MODELS and isinstance(value, str):
            return value
        if type(value) is list:
            for i, item in enumerate(value):  # fixed in place: the list is the model's
                if not isinstance(item, elem):
                    value[i] = elem._structure(item)
        return value

    def __set__(self, obj: DictModel, value: Any) -> None:
        dict.__setitem__(obj, self.wire, self.incoming(value))

    def __delete__(self, obj: DictModel) -> None:
        dict.pop(obj, self.wire, None)

    def incoming(self, value: Any) -> Any:
        """A value given to the constructor or an attribute, as the dict stores it."""
        if self.kind < 0:
            self._resolve()
        kind = self.kind
        if kind == _PLAIN or value is None:
            return value
        elem = self.elem
        if kind == _ENUM:
            return value.value if isinstance(value, enum.Enum) else value
        if kind == _MODEL:
            return value if isinstance(value, elem) else elem._structure(value, self._where())
        if kind == _TEXT_OR_MODELS and isinstance(value, str):
            return value
        if isinstance(value, (list, tuple)):
            if type(value) is list and all(isinstance(x, elem) for x in value):
                return value  # kept as given, like a dataclass field
            where = self._where()
            return [x if isinstance(x, elem) else elem._structure(x, where) for x in value]
        want = "a string or a list" if kind == _TEXT_OR_MODELS else "a list"
        raise TypeError(f"{self._where()} must be {want}, not {type(value).__name__}")

    def from_wire(self, value: Any) -> Any:
        """A value of parsed JSON, with the models inside it built."""
        kind = self.kind
        elem = self.elem
        if kind == _ENUM:
            if not isinstance(value, str):
                raise TypeError(f"{self._where()} must be a string, not {type(value).__name__}")
            return value
        if kind == _MODEL:
            return elem._structure(value, self._where())
        if kind == _TEXT_OR_MODELS and isinstance(value, str):
            return value
        if type(value) is not list:
            want = "a string or a list" if kind == _TEXT_OR_MODELS else "a list"
            raise TypeError(f"{self._where()} must be {want}, not {type(value).__name__}")
        where = self._where()
        return [elem._structure(x, f"{where}[{i}]") for i, x in enumerate(value)]

    def _where(self) -> str:
        return f"{self.owner.__name__}.{self.name}"


def _none_stripped(tp: Any) -> list[Any]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _is_open_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, OpenEnum)


def _enum_of(args: list[Any]) -> Any:
    """``E`` for ``E`` or ``E | str`` (an open enum that also takes plain strings)."""
    enums = [a for a in args if _is_open_enum(a)]
    if len(enums) == 1 and all(a is str or a is enums[0] for a in args):
        return enums[0]
    return None


def _is_dict_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, DictModel)


def _list_of_dict_models(tp: Any) -> Any:
    if typing.get_origin(tp) is list:
        (elem,) = typing.get_args(tp) or (Any,)
        if _is_dict_model(elem):
            return elem
    return None


def _resolve_keys(cls: type[DictModel]) -> None:
    """Decide the kind of each key of ``cls`` from its annotations (once per class)."""
    hints = typing.get_type_hints(cls)
    nested = []
    for key in cls._keys_:
        args = _none_stripped(hints[key.name])
        enum_type = _enum_of(args)
        if enum_type is not None:
            key.kind, key.elem = _ENUM, enum_type
        elif len(args) == 1 and _is_dict_model(args[0]):
            key.kind, key.elem = _MODEL, args[0]
        elif len(args) == 1 and _list_of_dict_models(args[0]) is not None:
            key.kind, key.elem = _MODELS, _list_of_dict_models(args[0])
        elif len(args) == 2 and str in args:
            other = args[1] if args[0] is str else args[0]
            elem = _list_of_dict_models(other)
            if elem is not None:
                key.kind, key.elem = _TEXT_OR_MODELS, elem
            else:
                key.kind = _PLAIN
        else:
            key.kind = _PLAIN
        if key.kind != _PLAIN:
            nested.append(key)
    type.__setattr__(cls, "_nested_", tuple(nested))


@dataclass_transform(field_specifiers=(wire_field,))
class DictModel(dict[str, Any]):
    """Base of the generated dict models: a ``dict`` of wire JSON with typed attributes.

    ``message.content`` reads ``message["content"]`` (``None`` when absent),
    ``message.content = "x"`` writes it, nested objects are models too
    (``response.message.tool_calls[0].function.name``), and the dict itself is
    the wire JSON: ``json.dumps(message)`` needs no help, and keys the schema
    does not know stay where they came. The constructor takes the fields in
    declaration order and stores the ones it is given (``None`` included);
    leaving one out leaves the key out.
    """

    __slots__ = ()

    _keys_: ClassVar[tuple[_Key, ...]] = ()
    _nested_: ClassVar[tuple[_Key, ...]] = ()
    _known_: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = inspect.get_annotations(cls)  # this class's own, as strings (PEP 563)
        if not own:
            return  # a behaviour mixin: no fields of its own
        keys = list(cls._keys_)
        for name, hint in own.items():
            if isinstance(hint, str) and hint.startswith("ClassVar"):
                continue
            value = cls.__dict__.get(name, _UNSET)
            absent = None
            wire = name
            if isinstance(value, _FieldSpec):
                absent, wire = value.absent, value.wire or name
                default = _UNSET
            else:
                default = value
                absent = None if value is _UNSET else value
            key = _Key(name, wire, default, absent)
            type.__setattr__(cls, name, key)
            key.__set_name__(cls, name)
            keys.append(key)
        type.__setattr__(cls, "_keys_", tuple(keys))
        type.__setattr__(cls, "_known_", frozenset(k.wire for k in keys))
        type.__setattr__(cls, "__init__", _make_init(cls, keys))

    @classmethod
    def _structure(cls, data: Any, where: str | None = None) -> Self:
        """Build the model from parsed JSON (a copy of ``data``, nested models built)."""
        if not isinstance(data, Mapping):
            raise TypeError(
                f"{where or cls.__name__} must be a JSON object, not {type(data).__name__}"
            )
        nested = cls._nested_
        if cls._keys_ and nested == () and cls._keys_[0].kind < 0:
            _resolve_keys(cls)
            nested = cls._nested_
        obj = dict.__new__(cls)
        dict.update(obj, data)
        for key in nested:
            value = dict.get(obj, key.wire)
            if value is not None:
                dict.__setitem__(obj, key.wire, key.from_wire(value))
        return obj

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the model from wire JSON (a dict as ``json.loads`` returns it)."""
        try:
            return cls._structure(data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid {cls.__name__}: {exc}") from exc

    @classmethod
    def coerce(cls, value: Mapping[str, Any]) -> Self:
        """``value`` itself when it is already this model, else the model built from it."""
        return value if isinstance(value, cls) else cls._structure(value)

    def to_dict(self) -> dict[str, Any]:
        """The wire JSON as plain dicts; known fields that are ``None`` are left out."""
        known = self._known_
        return {k: _plain(v) for k, v in self.items() if v is not None or k not in known}

    @property
    def extra(self) -> dict[str, Any]:
        """The keys the schema does not know, as received (a copy)."""
        known = self._known_
        return {k: v for k, v in self.items() if k not in known}

    def copy(self) -> Self:
        """A shallow copy of the same model type (``dict(m)`` gives a plain dict)."""
        new = dict.__new__(type(self))
        dict.update(new, self)
        return new


def _plain(value: Any) -> Any:
    if isinstance(value, DictModel):
        return value.to_dict()
    if isinstance(value, WireModel):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _make_init(cls: type, keys: list[_Key]) -> Callable[..., None]:
    """Compile the constructor: positional in declaration order, like a dataclass."""
    names: dict[str, Any] = {"_U": _UNSET, "_set": dict.__setitem__}
    params: list[str] = []
    body: list[str] = []
    defaulted = False
    for i, key in enumerate(keys):
        names[f"k{i}"] = key
        arg = key.name
        required = key.default is _UNSET
        if required and not defaulted and isinstance(key.absent, type(None)):
            params.append(arg)
            body.append(f"    _set(self, {key.wire!r}, k{i}.incoming({arg}))")
            continue
        defaulted = True
        params.append(f"{arg}=_U")
        if required:
            if key.absent is None:
                body.append(f"    if {arg} is _U:")
                message = f"{cls.__name__}() missing required argument: {arg!r}"
                body.append(f"        raise TypeError({message!r})")
            else:
                names[f"a{i}"] = key.absent
                body.append(f"    if {arg} is _U:")
                body.append(f"        {arg} = a{i}")
            body.append(f"    _set(self, {key.wire!r}, k{i}.incoming({arg}))")
        elif key.default is None:
            body.append(f"    if {arg} is not _U:")
            body.append(f"        _set(self, {key.wire!r}, k{i}.incoming({arg}))")
        else:
            names[f"d{i}"] = key.default
            body.append(
                f"    _set(self, {key.wire!r}, k{i}.incoming(d{i} if {arg} is _U else {arg}))"
            )
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    filename = f"<edgee dict model {cls.__module__}.{cls.__qualname__}.__init__>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), names)
    init: Callable[..., None] = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = f"Build a {cls.__name__} from its fields, in the schema's order."
    return init


_DICT_FIELDS: dict[type, tuple[tuple[str, type[DictModel]], ...]] = {}


def coerce_dict_fields(obj: WireModel) -> None:
    """Turn plain mappings held by ``obj``'s dict-model fields into those models.

    ``Choice(0, {"role": "assistant", "content": "hi"}, "stop")`` is how the
    official SDK's dataclass was built; the message must still be a
    ``ResponseMessage`` with typed attributes afterwards.
    """
    cls: Any = type(obj)
    plan = _DICT_FIELDS.get(cls)
    if plan is None:
        attrs.resolve_types(cls)
        plan = tuple(
            (a.name, inner)
            for a in attrs.fields(cls)
            for inner in [_optional_of(a.type)[0]]
            if _is_dict_model(inner)
        )
        _DICT_FIELDS[cls] = plan
    for name, model in plan:
        value = getattr(obj, name)
        if value is not None and not isinstance(value, model):
            object.__setattr__(obj, name, model._structure(value, f"{cls.__name__}.{name}"))


# --------------------------------------------------------------------------------------
# The converter: attrs models, with unknown keys kept


def _any_json(value: Any, _: Any) -> Any:
    return value


def _make_slow_structure(cls: type[Any]) -> Callable[[Any, Any], Any]:
    """The reference structure function: cattrs' generated one, plus unknown keys.

    Every result and every error of the fast path below is defined as what
    this function returns or raises for the same input.
    """
    fields = [a for a in attrs.fields(cls) if a.name != "_extra"]
    known = frozenset(_wire_name(a) for a in fields)
    overrides: dict[str, Any] = {
        a.name: override(rename=_wire_name(a)) for a in fields if "wire" in a.metadata
    }
    base = make_dict_structure_fn(cls, converter, _extra=override(omit=True), **overrides)

    def structure_model(data: Any, _: Any) -> Any:
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__} must be a JSON object, not {type(data).__name__}")
        obj = base(data, cls)
        # Subset test in C first: the common case (no unknown keys) pays nothing more.
        if not data.keys() <= known:
            extra = {k: v for k, v in data.items() if k not in known}
            object.__setattr__(obj, "_extra", extra)
        return obj

    return structure_model


# The fast path: one specialised function per model, written out as source and
# compiled once (the way attrs and cattrs build theirs), that reads each wire
# key with one dict lookup, takes values of exactly the declared type as they
# are, and calls the class with positional arguments. It only ever takes the
# shortcut where cattrs would return the very same value (``str(s) is s`` for a
# ``str``); any other value goes through cattrs' own hook for the field's type,
# and any error makes it start over with the reference function above, so
# results and error messages are cattrs' exactly. A chunk of a stream costs a
# third of what the reference function costs.

_PRIMITIVES = (str, int, float, bool)
_MISSING = object()
_FAST: dict[type[Any], Callable[..., Any]] = {}
_BUILDING: set[type[Any]] = set()


def _optional_of(tp: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, else ``(tp, False)``; ``E | str`` counts as ``E``."""
    args = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else ()
    if not args:
        return tp, False
    rest = [a for a in args if a is not type(None)]
    enum_type = _enum_of(rest)
    inner = enum_type if enum_type is not None else (rest[0] if len(rest) == 1 else tp)
    if inner is tp:
        return tp, False
    return inner, len(rest) < len(args)


def _model_hook(model: type[Any]) -> Callable[..., Any]:
    """The structure function of a nested model (late-bound inside a cycle)."""
    if model in _BUILDING:
        return lambda data, _=None: _FAST[model](data, model)
    return converter.get_structure_hook(model)


def _extra_loop(pre: str, src: str) -> list[str]:
    """Lines gathering ``src``'s unknown keys, in wire order, into ``{pre}extra``.

    A loop: cheaper than a comprehension's frame on 3.11.
    """
    return [
        f"{pre}extra = {{}}",
        f"for {pre}k in {src}:",
        f"    if {pre}k not in {pre}_known:",
        f"        {pre}extra[{pre}k] = {src}[{pre}k]",
    ]


def _init_only_assigns(cls: type[Any]) -> bool:
    """Whether attrs' ``__init__`` of ``cls`` does nothing but set each slot."""
    return (
        "__slots__" in cls.__dict__
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(
            a.init and a.validator is None and a.converter is None and a.on_setattr is None
            for a in attrs.fields(cls)
        )
    )


# A generated line that structures a nested model by calling its function: a shaped
# function may put the nested model's own shaped lines there instead (_Plan.shaped).
_NESTED = "\0"


@attrs.define(slots=True)
class _FieldCode:
    """The generated lines that read one field, in the two forms a function needs."""

    wire: str  # the JSON key
    general: list[str]  # read and convert it whatever the dict holds (``.get``)
    present: list[str]  # read and convert it from a dict known to hold the key
    absent: str | None  # the value when the key is missing (None: the field is required)
    value: str  # the local the lines leave the value in
    nested: Any = None  # the model a nested call builds (a field or a list's one element)
    nested_value: str = ""  # the local holding that model's JSON


class _Plan:
    """How to write the structure code of one attrs model class.

    Every generated name is prefixed (``pre``) and reads from the local ``src``,
    so the code of a nested model can be written inside its holder's function.
    """

    def __init__(self, cls: type[Any], fields: list[Any], extra_alias: str) -> None:
        self.cls = cls
        self.fields = fields
        self.known = frozenset(_wire_name(a) for a in fields)
        self.extra_alias = extra_alias
        plain_setattr = cls.__setattr__ is object.__setattr__  # type: ignore[comparison-overlap]
        self.plain_setattr = plain_setattr
        self.inline_init = plain_setattr and _init_only_assigns(cls)

    def codes(self, names: dict[str, Any], pre: str, src: str) -> list[_FieldCode] | None:
        """Every field's lines (None: a field this generator does not handle)."""
        names[f"{pre}_cls"] = self.cls
        names[f"{pre}_known"] = self.known
        codes = []
        for i, a in enumerate(self.fields):
            code = _field_code(i, a, names, pre, src)
            if code is None:
                return None
            codes.append(code)
        return codes

    def build(self, codes: list[_FieldCode], pre: str, extra: str, target: str) -> list[str]:
        """Lines making the object in ``target``, with ``extra`` its ``_extra`` expression."""
        call = ", ".join(
            c.value if not a.kw_only else f"{a.alias}={c.value}"
            for c, a in zip(codes, self.fields, strict=True)
        )
        if self.inline_init:
            # What attrs' __init__ would do, inline: the slots set in this frame.
            return [
                f"{target} = _new({pre}_cls)",
                *(
                    f"{target}.{a.name} = {c.value}"
                    for c, a in zip(codes, self.fields, strict=True)
                ),
                f"{target}._extra = {extra}",
            ]
        if extra == "None":
            return [f"{target} = {pre}_cls({call})"]
        if self.plain_setattr:
            # Set the slot after a positional call, cheaper than a keyword.
            return [f"{target} = {pre}_cls({call})", f"{target}._extra = {extra}"]
        sep = ", " if call else ""
        return [f"{target} = {pre}_cls({call}{sep}{self.extra_alias}={extra})"]

    def shaped(
        self,
        names: dict[str, Any],
        sample: dict[str, Any],
        pre: str,
        src: str,
        target: str,
        depth: int = 1,
    ) -> list[str] | None:
        """Lines structuring ``src``, a dict with exactly ``sample``'s keys, into ``target``.

        No ``try``: the caller's catches any error and starts over. A nested
        model whose JSON in ``sample`` is an object of a model with a plan gets
        its own shaped lines, behind a check that the keys are the same again.
        None when a required field is missing (the general path reports it).
        """
        codes = self.codes(names, pre, src)
        if codes is None:
            return None
        lines: list[str] = []
        for code in codes:
            if code.wire not in sample:
                if code.absent is None:
                    return None
                lines.append(f"{code.value} = {code.absent}")
                continue
            for line in code.present:
                if not line.lstrip().startswith(_NESTED):
                    lines.append(line)
                    continue
                indent = line[: len(line) - len(line.lstrip())]
                call = line.lstrip()[1:]
                inner = _nested_sample(sample[code.wire], code.nested)
                plan = _PLANS.get(code.nested) if inner is not None else None
                body = None
                if plan is not None and inner is not None and depth < _INLINE_DEPTH:
                    child = f"{pre}n{code.value}_"
                    v = code.nested_value
                    body = plan.shaped(names, inner, child, v, f"{child}obj", depth + 1)
                if body is None or inner is None:
                    lines.append(indent + call)
                    continue
                names[f"{pre}K{code.value}"] = frozenset(inner)
                v = code.nested_value
                lines += [
                    f"{indent}if type({v}) is _dict and {v}.keys() == {pre}K{code.value}:",
                    *(f"{indent}    {b}" for b in body),
                    f"{indent}    {v} = {child}obj",
                    f"{indent}else:",
                    f"{indent}    {call}",
                ]
        unknown = [k for k in sample if k not in self.known]
        if not unknown:
            extra = "None"
        elif len(unknown) == 1:
            extra = f"{{{unknown[0]!r}: {src}[{unknown[0]!r}]}}"
        else:  # the loop keeps each dict's own order of them
            lines += _extra_loop(pre, src)
            extra = f"{pre}extra"
        return lines + self.build(codes, pre, extra, target)


#: How many models deep a shaped function writes nested models' lines (chunk, choice, delta).
_INLINE_DEPTH = 3
_PLANS: dict[type[Any], _Plan] = {}


def _nested_sample(value: Any, model: Any) -> dict[str, Any] | None:
    """The JSON object of the nested ``model`` in a sample value, if that is what it is."""
    if model is None:
        return None
    if type(value) is list:
        value = value[0] if len(value) == 1 else None
    return value if type(value) is dict else None


def _field_code(i: int, a: Any, names: dict[str, Any], pre: str, src: str) -> _FieldCode | None:
    """The lines for field ``i`` (``a``), registering what they use in ``names``."""
    n = f"{pre}{{}}{i}".format  # a generated name: n("v") is this field's value local
    v = n("v")
    wire = _wire_name(a)
    names[n("t")] = a.type
    names[n("h")] = converter.get_structure_hook(a.type)
    default = a.default
    inner, optional = _optional_of(a.type)
    absent: str | None
    if default is attrs.NOTHING:
        fetch = [f"{v} = {src}[{wire!r}]"]
        has_default = False
        absent = None
    elif default is None and optional:
        fetch = [f"{v} = {src}.get({wire!r})"]
        has_default = False  # absent and null both give None
        absent = "None"
    else:
        names[n("d")] = default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if default.takes_self:
                return None
            absent = f"{n('d')}.factory()"
        else:
            absent = n("d")
        fetch = [f"{v} = {src}.get({wire!r}, _M)", f"if {v} is _M:", f"    {v} = {absent}"]
        has_default = True
    guard = f"{v} is not None and " if optional and not has_default else ""
    nested: Any = None
    nested_value = ""
    if inner in _PRIMITIVES:
        names[n("p")] = inner
        body = [f"if {guard}type({v}) is not {n('p')}:", f"    {v} = {n('h')}({v}, {n('t')})"]
    elif _is_model(inner) and (optional or has_default):
        names[n("s")] = _model_hook(inner)
        nested, nested_value = inner, v
        body = [f"{_NESTED}{v} = {n('s')}({v}, {n('t')})"]
        if optional:
            body = [f"if {v} is not None:", "    " + body[0]]
    elif (
        typing.get_origin(inner) is list
        and len(typing.get_args(inner)) == 1
        and _is_model(typing.get_args(inner)[0])
    ):
        element = typing.get_args(inner)[0]
        names[n("s")] = _model_hook(element)
        names[n("e")] = element
        names[n("l")] = list
        nested, nested_value = element, n("x")
        x, s, e = n("x"), n("s"), n("e")
        body = [
            f"if type({v}) is {n('l')}:",
            # One element (a stream chunk's one choice): no comprehension frame.
            f"    if len({v}) == 1:",
            f"        {x} = {v}[0]",
            f"        {_NESTED}{x} = {s}({x}, {e})",
            f"        {v} = [{x}]",
            "    else:",
            f"        {v} = [{s}(x, {e}) for x in {v}]",
            "else:",
            f"    {v} = {n('h')}({v}, {n('t')})",
        ]
        if optional and not has_default:
            body = [f"if {v} is not None:", *("    " + b for b in body)]
    else:
        # Anything else (unions, Any, lists of scalars): cattrs' hook. An enum
        # first looks its member up by value, which is what Role("user") does.
        hook = f"{n('h')}({v}, {n('t')})"
        members = getattr(inner, "_value2member_map_", None)
        if isinstance(inner, type) and issubclass(inner, enum.Enum) and members is not None:
            names[n("m")] = members
            hook = f"{n('m')}.get({v}) or {hook}"  # a falsy member: the hook finds it too
        if optional and not has_default:
            body = [f"if {v} is not None:", f"    {v} = {hook}"]
        else:
            body = [f"{v} = {hook}"]
    # After the general fetch of a defaulted field the value is either the default
    # (taken as it is) or what the dict held; the body then goes under an ``else``.
    if has_default:
        if body[0].startswith("if "):
            convert = ["el" + body[0], *body[1:]]
        else:
            convert = ["else:", *("    " + b for b in body)]
    else:
        convert = body
    general = [line.replace(_NESTED, "") for line in (*fetch, *convert)]
    return _FieldCode(
        wire=wire,
        general=general,
        present=[f"{v} = {src}[{wire!r}]", *body],
        absent=absent,
        value=v,
        nested=nested,
        nested_value=nested_value,
    )


# Shapes: a stream's chunks mostly have the very same keys, chunk after chunk.
# Once a set of keys has been structured _SHAPE_WARMUP times, a function for
# exactly that set is compiled: it reads the keys that are there by subscript,
# sets the missing fields to their defaults without looking, knows the unknown
# keys in advance, and builds the nested models the sample held with their own
# shaped lines, in the same function. A one-entry cache (the last shape) in
# front of it costs one C-level set comparison. At most _SHAPE_LIMIT shapes per
# class; _SHAPE_TRACKED distinct key sets are counted before the count starts over.
_SHAPE_WARMUP = 16
_SHAPE_LIMIT = 8
_SHAPE_TRACKED = 64
# Equal to the keys of no dict: the cache before the first shape.
_NO_SHAPE: frozenset[object] = frozenset({object()})


class _Shapes:
    """The shape-specialised functions of one model class, and what is learned."""

    __slots__ = ("compile", "counts", "functions", "names")

    def __init__(self, names: dict[str, Any], compile: Callable[[Any], Any]) -> None:
        self.names = names  # the generated functions' globals: ``_last`` lives there
        self.compile = compile
        self.functions: dict[frozenset[str], Callable[[Any], Any]] = {}
        self.counts: dict[frozenset[str], int] = {}

    def miss(self, data: dict[str, Any]) -> Any:
        """Structure ``data`` whose keys are not the last shape's."""
        key = frozenset(data)
        fn = self.functions.get(key)
        if fn is None:
            general = self.names["_general"]
            if len(self.functions) >= _SHAPE_LIMIT:
                return general(data)
            counts = self.counts
            seen = counts.get(key, 0) + 1
            if seen < _SHAPE_WARMUP:
                if len(counts) >= _SHAPE_TRACKED:
                    counts.clear()
                counts[key] = seen
                return general(data)
            counts.pop(key, None)
            fn = self.compile(data)
            if fn is None:  # a required field is missing: the general path reports it
                return general(data)
            self.functions[key] = fn
        self.names["_last"] = (key, fn)
        return fn(data)

    def forget(self) -> None:
        """Drop every learned shape (for tests)."""
        self.functions.clear()
        self.counts.clear()
        self.names["_last"] = (_NO_SHAPE, self.names["_general"])


_SHAPES: dict[type[Any], _Shapes] = {}


def _make_fast_structure(cls: type[Any], slow: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    attrs.resolve_types(cls)
    fields = [a for a in attrs.fields(cls) if a.name != "_extra"]
    extra_field = attrs.fields_dict(cls).get("_extra")
    if extra_field is None or not extra_field.init:
        return slow
    if any(not a.init for a in fields):
        return slow
    plan = _Plan(cls, fields, extra_field.alias or "_extra")
    names: dict[str, Any] = {
        "_slow": slow,
        "_M": _MISSING,
        "_dict": dict,
        "_new": object.__new__,
        "_all_known": plan.known.issuperset,
    }
    codes = plan.codes(names, "", "data")
    if codes is None:
        return slow
    lines = ["def _general(data):", "    try:"]
    for code in codes:
        lines.extend("        " + line for line in code.general)
    lines += [
        "    except Exception:",
        "        return _slow(data, _cls)  # raises cattrs' own error",
    ]
    lines += [
        "    if _all_known(data):",
        *("        " + b for b in plan.build(codes, "", "None", "obj")),
    ]
    lines += ["        return obj"]
    lines += [
        "    " + b for b in (*_extra_loop("", "data"), *plan.build(codes, "", "extra", "obj"))
    ]
    lines += [
        "    return obj",
        "",
        "def structure(data, _=None):",
        "    if type(data) is not _dict:",
        "        return _slow(data, _cls)",
        "    last = _last",
        "    if data.keys() == last[0]:",
        "        return last[1](data)",
        "    return _miss(data)",
    ]
    source = "\n".join(lines) + "\n"
    qualname = f"{cls.__module__}.{cls.__qualname__}"
    filename = f"<edgee fast structure {qualname}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), names)
    names["_last"] = (_NO_SHAPE, names["_general"])
    _PLANS[cls] = plan

    def compile_shape(data: dict[str, Any]) -> Callable[[Any], Any] | None:
        """The function for dicts with exactly ``data``'s keys."""
        scope = dict(names)  # the nested models' names go here, not into the general's
        body = plan.shaped(scope, data, "", "data", "obj")
        if body is None:
            return None
        lines = ["def shaped(data):", "    try:", *("        " + b for b in body)]
        lines += ["    except Exception:", "        return _slow(data, _cls)", "    return obj"]
        source = "\n".join(lines) + "\n"
        shape = ", ".join(sorted(map(repr, data)))
        filename = f"<edgee shaped structure {qualname} {{{shape}}}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), scope)
        shaped: Callable[[Any], Any] = scope["shaped"]
        return shaped

    shapes = _SHAPES[cls] = _Shapes(names, compile_shape)
    names["_miss"] = shapes.miss
    fast: Callable[..., Any] = names["structure"]
    return fast


def _make_structure(cls: type[Any]) -> Callable[..., Any]:
    slow = _make_slow_structure(cls)
    _BUILDING.add(cls)
    try:
        fast = _make_fast_structure(cls, slow)
    finally:
        _BUILDING.discard(cls)
    _FAST[cls] = fast
    return fast


def _make_unstructure(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    plan = [(a.name, _wire_name(a)) for a in attrs.fields(cls) if a.name != "_extra"]
    unstructure_value = converter.unstructure

    def unstructure_model(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, wire in plan:
            value = getattr(obj, name)
            if value is not None:
                out[wire] = unstructure_value(value)
        extra = obj._extra
        if extra:
            for key, value in extra.items():
                out.setdefault(key, value)
        return out

    return unstructure_model


def _is_attrs_model(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, WireModel) and attrs.has(cls)


def _is_model(cls: Any) -> bool:
    """Whether ``cls`` is structured by a model hook (attrs or dict model)."""
    return _is_attrs_model(cls) or _is_dict_model(cls)


def _structure_dict_model(cls: type[DictModel]) -> Callable[[Any, Any], Any]:
    build = cls._structure

    def structure_dict_model(data: Any, _: Any) -> Any:
        return build(data)

    return structure_dict_model


def _unstructure_dict_model(obj: DictModel) -> dict[str, Any]:
    return obj.to_dict()


# --- unions, structured by shape


def _union_args(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return ()


def _is_enum_union(tp: Any) -> bool:
    """``E | str`` or ``E | str | None`` for an open enum ``E``."""
    args = [a for a in _union_args(tp) if a is not type(None)]
    return len(args) > 1 and _enum_of(args) is not None


def _structure_enum_union(tp: Any) -> Callable[[Any, Any], Any]:
    enum_type = _enum_of([a for a in _union_args(tp) if a is not type(None)])
    nullable = type(None) in _union_args(tp)

    def structure_enum(value: Any, _: Any) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise TypeError(f"expected a string, not {type(value).__name__}")
        return enum_type(value)

    return structure_enum


def _json_scalar_or_container(tp: Any) -> bool:
    if tp in (str, int, float, bool, type(None)) or tp is Any:
        return True
    origin = typing.get_origin(tp)
    if origin is dict:
        return True
    if origin is list:
        return all(_json_scalar_or_container(a) for a in typing.get_args(tp))
    return False


def _is_json_union(tp: Any) -> bool:
    """A union of plain JSON types (``str | dict[str, Any]``, ``str | list[str]``): kept as sent."""
    args = _union_args(tp)
    if len([a for a in args if a is not type(None)]) < 2:
        return False  # ``int | None`` is cattrs' own (it turns "7" into 7)
    return not _is_enum_union(tp) and all(map(_json_scalar_or_container, args))


def _is_shape_union(tp: Any) -> bool:
    """A union holding models, enums or lists of models: structured by the value's shape."""
    args = _union_args(tp)
    if not args or _is_enum_union(tp) or _is_json_union(tp):
        return False
    return any(
        _is_model(a) or _is_open_enum(a) or _list_of_dict_models(a) is not None for a in args
    )


def _required_wire_keys(model: type[Any]) -> frozenset[str]:
    if _is_dict_model(model):
        return frozenset(k.wire for k in model._keys_ if k.default is _UNSET and k.absent is None)
    return frozenset(_wire_name(a) for a in attrs.fields(model) if a.default is attrs.NOTHING)


def _known_wire_keys(model: type[Any]) -> frozenset[str]:
    if _is_dict_model(model):
        known: frozenset[str] = model._known_
        return known
    return frozenset(_wire_name(a) for a in attrs.fields(model) if a.name != "_extra")


def _structure_shape_union(tp: Any) -> Callable[[Any, Any], Any]:
    """Text or parts, a string or one of several objects (``tool_choice``'s three forms).

    A string goes to the union's enum (or stays a string); a list to its list
    of models; an object to the model whose required keys it has and whose
    known keys cover most of it (``{"type": "auto"}`` is the typed mode,
    ``{"type": "function", "function": ...}`` the named function).
    """
    args = _union_args(tp)
    nullable = type(None) in args
    enum_type = _enum_of([a for a in args if a is str or _is_open_enum(a)])
    takes_str = str in args
    lists = [_list_of_dict_models(a) for a in args if _list_of_dict_models(a) is not None]
    models = [a for a in args if _is_model(a)]

    def structure_union(value: Any, _: Any) -> Any:
        if value is None and nullable:
            return None
        if isinstance(value, str):
            if enum_type is not None:
                return enum_type(value)
            if takes_str:
                return value
        elif isinstance(value, list) and lists:
            return [lists[0]._structure(x) for x in value]
        elif isinstance(value, dict) and models:
            keys = value.keys()
            fits = [m for m in models if _required_wire_keys(m) <= keys]
            if fits:
                best = min(fits, key=lambda m: len(keys - _known_wire_keys(m)))
                return converter.structure(value, best)
        raise TypeError(f"{type(value).__name__} is not one of {tp}")

    return structure_union


def _enum_value(member: OpenEnum) -> str:
    return str(member.value)


# A predicate, not register_structure_hook(Any, ...): on Python 3.10 typing.Any
# is not a class and cattrs' singledispatch refuses it.
converter.register_structure_hook_func(lambda tp: tp is Any, _any_json)
converter.register_structure_hook_func(_is_json_union, _any_json)
converter.register_structure_hook_factory(_is_enum_union, _structure_enum_union)
converter.register_structure_hook_factory(_is_shape_union, _structure_shape_union)
converter.register_structure_hook_factory(_is_attrs_model, _make_structure)
converter.register_unstructure_hook_factory(_is_attrs_model, _make_unstructure)
converter.register_structure_hook_factory(_is_dict_model, _structure_dict_model)
converter.register_unstructure_hook_func(_is_dict_model, _unstructure_dict_model)
# An open enum is a str subclass: without this hook cattrs would pass the
# member through and to_dict() would hold enum objects instead of strings.
converter.register_unstructure_hook(OpenEnum, _enum_value)


def structure(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from wire JSON."""
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    """Turn a model (or a list of them) back into wire JSON."""
    return converter.unstructure(obj)
