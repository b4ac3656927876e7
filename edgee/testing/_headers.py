"""HTTP header values for the test gateway: a case-insensitive mapping and header checks.

Standard library only, like the rest of `edgee.testing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

__all__ = ["Headers", "check_header", "checked_headers", "merge_headers"]

HeaderList = list[tuple[str, str]]


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive mapping of HTTP header names to values.

    Lookups ignore case (``headers["authorization"] == headers["Authorization"]``); iteration
    yields each name once, spelled as first received. A header repeated on the wire maps to
    its values joined with ``", "``; `raw` keeps the original ``(name, value)`` pairs.
    """

    __slots__ = ("_index", "_names", "raw")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self.raw: tuple[tuple[str, str], ...] = tuple(items)
        index: dict[str, str] = {}
        names: dict[str, str] = {}
        for name, value in self.raw:
            key = name.lower()
            if key in index:
                index[key] = f"{index[key]}, {value}"
            else:
                index[key] = value
                names[key] = name
        self._index = index
        self._names = names

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._index)

    def get_all(self, name: str) -> list[str]:
        """Every value received for `name` (any case), in order."""
        key = name.lower()
        return [value for item_name, value in self.raw if item_name.lower() == key]

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def check_header(name: str, value: str) -> None:
    """Refuse a scripted header that would not stay one header on the wire (injection)."""
    if any(ch in name for ch in "\r\n:") or not name or any(ch in value for ch in "\r\n"):
        raise ValueError(f"invalid header {name!r}: {value!r}")


def checked_headers(headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """A copy of scripted `headers` after `check_header` on each; ``None`` stays ``None``."""
    if headers is None:
        return None
    for name, value in headers.items():
        check_header(name, value)
    return dict(headers)


def merge_headers(base: HeaderList, extra: Mapping[str, str] | None) -> HeaderList:
    """`base` with every header of `extra` replacing same-named (any case) entries."""
    if not extra:
        return base
    overridden = {name.lower() for name in extra}
    merged = [(n, v) for n, v in base if n.lower() not in overridden]
    merged.extend(extra.items())
    return merged
