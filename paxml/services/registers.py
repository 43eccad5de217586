"""Matching a value a PAXml file gives against a company register, as people write it.

Time systems write the employment form, personnel category or position as the code some
of the time and as the name the rest of it (``<anstform>Tillsvidareanställning</anstform>``).
A value matches by code, else by name; both ignore case and runs of white space. Two or
more entries on the same level (two names alike) is ambiguous: the caller reports the
value and the candidates instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SPACE = re.compile(r"\s+")


def normalize(value: object) -> str:
    """Case- and white-space-insensitive form of a register value."""
    return _SPACE.sub(" ", str(value)).strip().casefold()


@dataclass
class Match:
    id: int | None = None
    candidates: list[str] = field(default_factory=list)

    @property
    def ambiguous(self) -> bool:
        return self.id is None and len(self.candidates) > 1


class RegisterIndex:
    """The entries of one register: ``(id, code, name)`` rows, matched code first."""

    def __init__(self, rows) -> None:
        self.by_code: dict[str, list[tuple[int, str, str]]] = {}
        self.by_name: dict[str, list[tuple[int, str, str]]] = {}
        for row in rows:
            self.add(*row)

    def add(self, pk: int, code: str, name: str = "") -> None:
        entry = (pk, code, name)
        self.by_code.setdefault(normalize(code), []).append(entry)
        if name:
            self.by_name.setdefault(normalize(name), []).append(entry)

    def find(self, value: str) -> Match:
        key = normalize(value)
        if not key:
            return Match()
        for level in (self.by_code, self.by_name):
            found = level.get(key, [])
            if len(found) == 1:
                return Match(id=found[0][0], candidates=[_label(found[0])])
            if len(found) > 1:
                return Match(candidates=sorted(_label(entry) for entry in found))
        return Match()

    def codes(self) -> set[str]:
        return {entry[1] for entries in self.by_code.values() for entry in entries}


def _label(entry: tuple[int, str, str]) -> str:
    _pk, code, name = entry
    return f"{code} ({name})" if name and name != code else code


def code_for(value: str, taken: set[str], *, max_length: int = 20) -> str:
    """A register code for a new entry named ``value``: the value itself when it fits,
    else its first letters and digits, made unique among ``taken``."""
    text = _SPACE.sub(" ", value).strip()
    if len(text) <= max_length and text not in taken:
        return text
    base = re.sub(r"[^0-9A-Za-zÅÄÖåäö]", "", text).upper()[:max_length] or "NY"
    candidate, n = base, 1
    while candidate in taken:
        suffix = str(n)
        candidate = base[: max_length - len(suffix)] + suffix
        n += 1
    return candidate
