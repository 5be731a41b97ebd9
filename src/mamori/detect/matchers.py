"""Runtime helpers the generated rule functions call, and the constants they are built from.

Generated code works on two views of an event: ``L`` (field → lower-cased string, the case-insensitive
default of Sigma) and ``E`` (the flat original, for ``|re`` and ``|cased`` which compare exact text).
A field value may also be a tuple of strings (a JSON list): a leaf then matches when any element does.

Constants that are not plain strings (regexes, networks, sets, automata) are described by a picklable
*spec* so that a compiled rule set can be cached on disk and rebuilt without pySigma.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any

import ahocorasick
import re2  # type: ignore[import-untyped]

from mamori.detect.errors import RuleCompileError

Spec = tuple[Any, ...]  # ("set", [...]) | ("re2", pattern, flags) | ("re", pattern) | ("net", [...]) | ("ac", [...])

# Fields keyword (field-less) items never search: the envelope, and the raw text (it repeats field names).
ENVELOPE = frozenset({"@timestamp", "org", "sensor", "source", "host", "raw", "@id"})

# The lower-cased view ``L`` carries, under this name, every keyword-searchable value joined by NUL and
# lower-cased once: a plain keyword (a substring without NUL) occurs in one value exactly when it occurs in this
# text, and one ``in`` test over it is far cheaper than one per field. The name cannot clash with a parsed field
# that matters: the views always overwrite it.
KEYWORDS = "\x00keywords"
KEYWORD_SKIP = ENVELOPE | {KEYWORDS}  # fields a keyword is never searched in

_UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED
_NO_MATCH = (-1, -1)
_RE2_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


def build_const(spec: Spec) -> Any:
    """Turn one constant spec into the object the generated code uses."""
    kind = spec[0]
    if kind == "set":
        return frozenset(spec[1])
    if kind == "tuple":
        return tuple(spec[1])
    if kind == "re2":
        return compile_untrusted_regex(spec[1], spec[2])
    if kind == "re":
        # Our own patterns from wildcards ("." and ".*" around escaped text): no catastrophic backtracking.
        return re.compile(spec[1], re.DOTALL)
    if kind == "net":
        return tuple(ipaddress.ip_network(n, strict=False) for n in spec[1])
    if kind == "ac":
        return substring_automaton(spec[1])
    raise ValueError(f"unknown constant kind {kind!r}")


def compile_untrusted_regex(pattern: str, flags: str) -> Any:
    """Rule regexes are untrusted: RE2 (linear time, no backtracking), as pySigma's SafePolicy."""
    from sigma.policy.regex_engine import RE2RegexEngine

    bits = 0
    for flag in flags:
        bits |= _RE2_FLAGS[flag]
    try:
        return SafeRegex(RE2RegexEngine().compile(pattern, bits))
    except Exception as exc:  # re2 raises its own error type
        raise RuleCompileError(f"regular expression not supported by RE2 (lookaround/backreference?): {exc}") from exc


class SafeRegex:
    """An RE2 pattern with a yes/no ``search``.

    Why not the ``re2`` module's own ``search``: it maps every match span back to character offsets, which costs
    ~10x the match itself, and a rule only asks whether the pattern occurs.
    """

    __slots__ = ("_match", "pattern")

    def __init__(self, compiled: Any) -> None:
        self.pattern: str = compiled.pattern
        self._match = compiled._regexp.Match  # the wrapper's RE2 object, see the docstring

    def search(self, text: str) -> bool:
        # surrogatepass: a lone surrogate (broken UTF-16 in a log) becomes bytes RE2 treats as invalid, not an error
        data = text.encode("utf-8", "surrogatepass")
        found: bool = self._match(_UNANCHORED, data, 0, len(data))[0] != _NO_MATCH
        return found


def substring_automaton(needles: Iterable[str]) -> Any:
    automaton = ahocorasick.Automaton()
    for needle in needles:
        automaton.add_word(needle, needle)
    automaton.make_automaton()
    return automaton


def ac_any(automaton: Any, value: str) -> bool:
    """True when any of the automaton's needles occurs in ``value``."""
    for _ in automaton.iter(value):
        return True
    return False


def glob(value: str, prefix: str, middle: tuple[str, ...], suffix: str) -> bool:
    """A wildcard pattern of text and ``*`` only: ``prefix``, each ``middle`` piece in order, then ``suffix``.

    Greedy leftmost search is exact for such patterns, and linear: the regex ``a.*b.*c`` it replaces backtracks
    on long command lines (``Image|contains|all``-like values such as ``* -e* JAB*`` are common in SigmaHQ).
    """
    if not (value.startswith(prefix) and value.endswith(suffix)):
        return False
    position, end = len(prefix), len(value) - len(suffix)
    if position > end:  # prefix and suffix would overlap
        return False
    for piece in middle:
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def any_of(predicate: Callable[[str], bool], values: Any) -> bool:
    """List-valued field: any element matches."""
    return any(predicate(v) for v in values)


def cidr(networks: tuple[Any, ...], value: str) -> bool:
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return any(address in net for net in networks)


def to_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        text = str(value).strip()
        return float(int(text, 16)) if text[:2].lower() == "0x" else float(text)
    except ValueError:
        return None


def compare(value: Any, op: str, number: float) -> bool:
    found = to_number(value)
    if found is None:
        return False
    if op == "lt":
        return found < number
    if op == "lte":
        return found <= number
    if op == "gt":
        return found > number
    if op == "gte":
        return found >= number
    return found != number


def original(event: dict[str, Any], field: str) -> Any:
    """The original (not lower-cased) value as text, or a tuple of texts for a list; None when absent."""
    value = event.get(field)
    return value if value.__class__ is str else original_value(value)


def original_value(value: Any) -> Any:
    """:func:`original` of one field value."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return tuple(text_of(v) for v in value)
    return text_of(value)


def text_of(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value if isinstance(value, str) else str(value)


def keyword_values(low: dict[str, Any]) -> list[str]:
    """Every field value a keyword (field-less) item is searched in."""
    out: list[str] = []
    for name, value in low.items():
        if name in KEYWORD_SKIP or value is None:  # None: a field the event lacks (see detect.columns)
            continue
        if isinstance(value, tuple):
            out.extend(value)
        else:
            out.append(value)
    return out


HELPERS: dict[str, Any] = {
    "_ac_any": ac_any,
    "_glob": glob,
    "_any_of": any_of,
    "_cidr": cidr,
    "_cmp": compare,
    "_orig": original,
    "_kw": keyword_values,
    "__builtins__": {"any": any, "len": len, "str": str, "True": True, "False": False, "None": None},
}
