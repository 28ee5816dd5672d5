"""Find personal data a teller may not mean to publish, so the form can show it and let them remove it.

Example:
    >>> text = "Ring Mrs Khan on 0113 378 5005 or write to sam@example.org, LS12 1BE."
    >>> [(m.kind, m.text) for m in find_personal_data(text)]
    [('name', 'Mrs Khan'), ('phone', '0113 378 5005'), ('email', 'sam@example.org'), ('postcode', 'LS12 1BE')]
    >>> m = find_personal_data(text)[0]; text[m.start:m.end]
    'Mrs Khan'
    >>> remove_personal_data(text, find_personal_data(text))
    'Ring [removed] on [removed] or write to [removed], [removed].'

What is looked for (``kind``):

* ``email``: an address with a dotted domain.
* ``phone``: a UK number, national (``0113 378 5005``, ``(0113) 3785005``, ``07700 900123``) or
  international (``+44 7700 900123``, ``+44 (0)113 ...``, ``0044 ...``), checked to have the
  9 or 10 digits after the leading 0 that UK numbers have.
* ``postcode``: a full UK postcode in any case, with or without the space (``ls121be``).
* ``name``: a capitalised name after a title (Mr, Mrs, Ms, Miss, Mx, Dr, Prof, Rev), with an
  initial or a second name if there is one (``Dr J. Patel``, ``Mrs Anna Nowak``).
* ``nhs_number``: ten digits (``943 476 5919``) that pass the NHS number's modulus 11 check.

Positions are in characters (Python string indexes, code points) of the text as given, so
``text[m.start:m.end] == m.text``. The check finds what looks like personal data; it cannot
find everything (a name without a title, a street address), which is why public stories also
pass an editor before anyone can read them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strengthmap.sources.postcodes import POSTCODE, normalise_postcode

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)44[\s.-]*(?:\(0\)[\s.-]*)?|\(?0)\d(?:[\s.-]?\)?[\s.-]?\d){7,11}(?!\w)"
)
_POSTCODE = re.compile(r"(?<!\w)[A-Za-z]{1,2}\d[A-Za-z\d]?[ \t]*\d[A-Za-z]{2}(?!\w)")
_NAME = re.compile(r"(?<!\w)(?:Mrs|Mr|Ms|Miss|Mx|Dr|Prof|Rev)\.?(?:[ \t]+[^\W\d_][\w'’-]*\.?){1,3}")
_WORD = re.compile(r"[ \t]+([^\W\d_][\w'’-]*)(\.?)")
_NHS = re.compile(r"(?<![\w+])[1-9]\d{2}[ -]?\d{3}[ -]?\d{4}(?!\w)")

#: The kinds found, in the order they claim overlapping text.
KINDS = ("email", "phone", "nhs_number", "postcode", "name")


@dataclass(frozen=True)
class PersonalDataMatch:
    """One piece of personal data found: what kind, where (``[start, end)`` of ``field``) and
    the text."""

    kind: str
    start: int
    end: int
    text: str
    field: str = "text"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }

    def __str__(self) -> str:
        where = "" if self.field == "text" else f" in the {self.field}"
        return f"{self.kind} {self.text!r} at {self.start}:{self.end}{where}"


def _uk_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip("(").startswith(("+44", "0044")):
        digits = digits[2:] if candidate.startswith("+") else digits[4:]
        if "(0)" in candidate:
            digits = digits[1:] if digits.startswith("0") else digits
    elif digits.startswith("0"):
        digits = digits[1:]
    else:
        return False
    # UK national significant numbers: 9 or 10 digits, starting 1, 2, 3, 5, 7, 8 or 9
    return len(digits) in (9, 10) and digits[0] in "1235789"


def _nhs_number(candidate: str) -> bool:
    digits = [int(d) for d in re.sub(r"\D", "", candidate)]
    if len(digits) != 10:
        return False
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == digits[9]


def _name_end(m: re.Match[str]) -> int | None:
    """Where the name after the title ends: capitalised words (or initials) only, at least one."""
    head = re.match(r"\w+\.?", m.group())
    assert head is not None
    end = None
    for word in _WORD.finditer(m.group(), head.end()):
        if not word.group(1)[0].isupper():
            break
        # an initial keeps its dot; a full stop after a name ends the sentence, not the name
        initial = len(word.group(1)) == 1 and word.group(2)
        end = m.start() + (word.end() if initial else word.end(1))
        if word.group(2) and not initial:
            break
    return end


def find_personal_data(text: str, *, field: str = "text") -> list[PersonalDataMatch]:
    """Every piece of personal data found in ``text`` (the form's ``field``), in order, none
    overlapping."""
    found: list[PersonalDataMatch] = []

    def add(kind: str, start: int, end: int) -> None:
        if not any(start < m.end and m.start < end for m in found):
            found.append(PersonalDataMatch(kind, start, end, text[start:end], field))

    for m in _EMAIL.finditer(text):
        add("email", *m.span())
    for m in _PHONE.finditer(text):
        if _uk_phone(m.group()):
            add("phone", *m.span())
    for m in _NHS.finditer(text):
        if _nhs_number(m.group()):
            add("nhs_number", *m.span())
    for m in _POSTCODE.finditer(text):
        if POSTCODE.match(normalise_postcode(m.group())):
            add("postcode", *m.span())
    at = 0
    while (title := _NAME.search(text, at)) is not None:
        # the pattern takes up to three words; the name may be fewer, and the rest may hold the
        # next title ("Dr Who. Mr Ali"), so the search goes on from the end of the name itself
        end = _name_end(title)
        if end is not None:
            add("name", title.start(), end)
        at = end if end is not None else title.start() + 2
    return sorted(found, key=lambda m: m.start)


def remove_personal_data(
    text: str, matches: Sequence[PersonalDataMatch], replacement: str = "[removed]"
) -> str:
    """``text`` with each match (found in this very text) replaced by ``replacement``."""
    out = []
    at = 0
    for m in sorted(matches, key=lambda m: m.start):
        if text[m.start : m.end] != m.text or m.start < at:
            raise ValueError(f"{m} is not a match in this text")
        out.append(text[at : m.start])
        out.append(replacement)
        at = m.end
    out.append(text[at:])
    return "".join(out)


__all__ = ["KINDS", "PersonalDataMatch", "find_personal_data", "remove_personal_data"]
