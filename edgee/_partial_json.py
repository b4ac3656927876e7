"""Best-effort values of a JSON document that is still arriving.

A structured answer (or a tool call's arguments) streams in as pieces of one
JSON text. :class:`PartialJSON` is fed those pieces and can say at any moment
what the text so far amounts to, by completing the prefix and parsing it:

* open strings, arrays and objects are closed;
* a string cut mid-way reads as its text so far (an escape cut mid-way,
  ``\\`` or ``\\u00``, or half of a surrogate pair, is left out);
* a number cut mid-way reads as its digits so far (``12.`` -> ``12``,
  ``1e`` -> ``1``; a lone ``-`` is no value yet);
* an object member whose value has not started, or whose key is cut, is left
  out, and so is a cut literal (``tru``, ``nul``); a trailing comma is dropped;
* an array or object that was opened but holds nothing yet reads as empty.

So ``{"city": "Par`` reads as ``{"city": "Par"}`` and ``{"a": [1, 2], "b"``
as ``{"a": [1, 2]}``. Complete documents give exactly what ``json.loads``
gives. The parser never raises: at the first character that cannot belong to
a JSON document it stops, and the value is that of the text before it.
The value depends only on the text, never on how it was split into pieces.

The scan is incremental (each character is looked at once, strings are
skipped with one regex call per run) and the value is parsed by ``json.loads``
on demand, so following a whole stream costs one C parse per look.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["PartialJSON", "parse_partial_json"]

# Scanner modes.
_VALUE = 0  # a value must come (top level, after ':' or after ',' in an array)
_VALUE_OR_CLOSE = 1  # after '[': a value or ']'
_KEY_OR_CLOSE = 2  # after '{': a key or '}'
_KEY = 3  # after ',' in an object
_COLON = 4  # after a key
_AFTER = 5  # after a value inside a container: ',' or the closer
_STRING = 6
_TOKEN = 7  # a number or literal
_END = 8  # the top-level value is complete

_WHITESPACE = frozenset(" \t\n\r")
_TOKEN_START = frozenset("-0123456789tfn")
_TOKEN_CHARS = frozenset("0123456789+-.eEtruefalsn")
_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]*')  # JSON strings hold no raw control characters
_ESCAPES = frozenset('"\\/bfnrtu')
_HIGH_SURROGATE_END = re.compile(r"(\\+)u[dD][89abAB][0-9a-fA-F]{2}\Z")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_LITERALS = frozenset(("true", "false", "null"))
_HEX = frozenset("0123456789abcdefABCDEF")


class PartialJSON:
    """Feed pieces of one JSON text; :meth:`value` is what it amounts to so far.

    ``value()`` is ``None`` until some value can be read (and for a JSON
    ``null``; :attr:`has_value` tells them apart). :attr:`complete` is true once
    the top-level value has ended; :attr:`failed` once the text stopped being
    JSON.
    """

    __slots__ = (
        "_cached",
        "_cached_at",
        "_esc",
        "_fail_at",
        "_is_key",
        "_joined",
        "_length",
        "_mode",
        "_pieces",
        "_stack",
        "_starts",
        "_token",
        "has_value",
    )

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._joined = ""
        self._length = 0
        self._mode = _VALUE
        self._stack: list[str] = []  # "}" or "]": the closer each open container needs
        self._starts: list[int] = []  # per container: where its current member begins
        self._is_key = False
        self._esc = 0  # 0: none, 1: after a backslash, 2..5: hex digits of \\u still due
        self._token = 0
        self._cached: Any = None
        self._cached_at = -1
        self._fail_at = -1  # where the text stopped being JSON; the scan stops there
        self.has_value = False

    @property
    def length(self) -> int:
        """How many characters were fed."""
        return self._length

    @property
    def complete(self) -> bool:
        """Whether the top-level value has ended (only whitespace may follow)."""
        if self._fail_at >= 0:
            return False
        return self._mode == _END or (self._mode == _TOKEN and not self._stack and self._token_ok())

    @property
    def failed(self) -> bool:
        """Whether a character that cannot be JSON was met (the value stays the last one)."""
        return self._fail_at >= 0

    def text(self) -> str:
        """All the text fed so far."""
        if self._pieces:
            self._joined += "".join(self._pieces)
            self._pieces = []
        return self._joined

    def feed(self, piece: str) -> None:
        """Add the next piece of the text."""
        if not piece:
            return
        base = self._length
        self._pieces.append(piece)
        self._length += len(piece)
        if self._fail_at < 0:
            self._scan(piece, base)

    def _token_ok(self, end: int | None = None) -> bool:
        token = self.text()[self._token : end]
        return token in _LITERALS or _NUMBER.match(token) is not None

    def _scan(self, s: str, base: int) -> None:
        i, n = 0, len(s)
        mode = self._mode
        stack, starts = self._stack, self._starts
        while i < n:
            if mode == _STRING:
                if self._esc:
                    c = s[i]
                    if self._esc == 1:
                        if c not in _ESCAPES:
                            self._fail_at = base + i
                            break
                        self._esc = 5 if c == "u" else 0
                    elif c in _HEX:
                        self._esc = 0 if self._esc == 2 else self._esc - 1
                    else:
                        self._fail_at = base + i
                        break
                    i += 1
                    continue
                i = _STRING_RUN.match(s, i).end()  # type: ignore[union-attr]
                if i >= n:
                    break
                if s[i] < " ":
                    self._fail_at = base + i
                    break
                if s[i] == "\\":
                    self._esc = 1
                    i += 1
                    continue
                i += 1  # the closing quote
                mode = _COLON if self._is_key else (_AFTER if stack else _END)
                continue
            c = s[i]
            if mode == _TOKEN:
                if c in _TOKEN_CHARS:
                    i += 1
                    continue
                if not self._token_ok(base + i):
                    self._fail_at = base + i
                    break
                mode = _AFTER if stack else _END
                continue  # look at c again
            if c in _WHITESPACE:
                i += 1
                continue
            if mode == _AFTER:
                closer = stack[-1]
                if c == ",":
                    mode = _KEY if closer == "}" else _VALUE
                    starts[-1] = base + i
                elif c == closer:
                    stack.pop()
                    starts.pop()
                    mode = _AFTER if stack else _END
                else:
                    self._fail_at = base + i
                    break
            elif mode in (_VALUE, _VALUE_OR_CLOSE):
                if c == "{":
                    stack.append("}")
                    starts.append(base + i + 1)
                    mode = _KEY_OR_CLOSE
                elif c == "[":
                    stack.append("]")
                    starts.append(base + i + 1)
                    mode = _VALUE_OR_CLOSE
                elif c == '"':
                    self._is_key = False
                    mode = _STRING
                elif c in _TOKEN_START:
                    self._token = base + i
                    mode = _TOKEN
                elif c == "]" and mode == _VALUE_OR_CLOSE:
                    stack.pop()
                    starts.pop()
                    mode = _AFTER if stack else _END
                else:
                    self._fail_at = base + i
                    break
            elif mode in (_KEY, _KEY_OR_CLOSE):
                if c == '"':
                    self._is_key = True
                    mode = _STRING
                elif c == "}" and mode == _KEY_OR_CLOSE:
                    stack.pop()
                    starts.pop()
                    mode = _AFTER if stack else _END
                else:
                    self._fail_at = base + i
                    break
            elif mode == _COLON:
                if c != ":":
                    self._fail_at = base + i
                    break
                mode = _VALUE
            else:  # _END: only whitespace may follow
                self._fail_at = base + i
                break
            i += 1
        self._mode = mode

    def _completion(self) -> str | None:
        """The text so far, cut and closed into a whole document; ``None`` if no value yet."""
        text = self.text()
        if self._fail_at >= 0:
            text = text[: self._fail_at]
        mode = self._mode
        stack = self._stack
        if mode == _END:
            return text
        cut: int | None = None  # drop the innermost container's current member
        tail = ""
        if mode == _STRING:
            if self._is_key:
                cut = self._starts[-1]
            else:
                end = len(text)
                if self._esc == 1:
                    end -= 1
                elif self._esc:
                    end -= 2 + (5 - self._esc)  # "\u" and the digits so far
                text = text[:end]
                # A high surrogate whose low half has not come yet is left out too.
                pair = _HIGH_SURROGATE_END.search(text)
                if pair is not None and len(pair.group(1)) % 2 == 1:
                    text = text[: pair.start() + len(pair.group(1)) - 1]
                tail = '"'
        elif mode == _TOKEN:
            token = text[self._token :]
            if token not in _LITERALS:
                token = token.rstrip(".eE+-")
                if not token or _NUMBER.match(token) is None:
                    token = ""
            elif not stack:
                return text
            if token:
                text = text[: self._token] + token
            elif not stack:
                return None
            else:
                cut = self._starts[-1]
        elif mode in (_VALUE, _VALUE_OR_CLOSE, _KEY, _KEY_OR_CLOSE, _COLON):
            if not stack:
                return None
            cut = self._starts[-1]
        if cut is not None:
            text = text[:cut]
        return text + tail + "".join(reversed(stack))

    def value(self) -> Any:
        """The best-effort value of the text so far (see the module's rules)."""
        limit = self._fail_at if self._fail_at >= 0 else self._length
        if self._cached_at == limit:
            return self._cached
        # The value depends on the text alone, never on how it was split.
        completed = self._completion()
        value: Any = None
        has_value = False
        if completed is not None:
            try:
                value = json.loads(completed)
                has_value = True
            except (ValueError, RecursionError):  # absurd nesting; the scan admits the rest
                pass
        self._cached, self.has_value, self._cached_at = value, has_value, limit
        return self._cached


def parse_partial_json(text: str) -> Any:
    """The best-effort value of a JSON prefix (``None`` when none); never raises."""
    parser = PartialJSON()
    parser.feed(text)
    return parser.value()
