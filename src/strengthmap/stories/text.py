"""Story text as plain text: checks on the way in, paragraphs and escaped HTML on the way out,
CSV cells that a spreadsheet will not run.

Example:
    >>> paragraphs("The lunch club.\\n\\nIt saved my winter.\\r\\nThank you.")
    ['The lunch club.', 'It saved my winter.\\nThank you.']
    >>> str(render_paragraphs("<b>hi</b> [x](https://evil.example)\\n\\nbye"))
    '<p>&lt;b&gt;hi&lt;/b&gt; [x](https://evil.example)</p>\\n<p>bye</p>'
    >>> neutralise_csv_cell("=HYPERLINK(\\"http://x\\")"), neutralise_csv_cell("-1 cup")
    ('\\'=HYPERLINK("http://x")', "'-1 cup")

Nothing is normalised on the way in: a story is stored exactly as typed, byte for byte, in any
script. Control characters other than tab and line breaks are refused (they cannot be shown,
cannot travel in XML, and PostgreSQL text cannot hold NUL), as are lone surrogates (not text).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from strengthmap.errors import Fault

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BLANK_LINE = re.compile(r"\n[ \t\u00a0]*\n")
#: Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|")


def text_faults(value: str | None, *, field: str, max_chars: int, required: bool) -> list[Fault]:
    """What is wrong with one text field (empty when nothing is).

    >>> [f.message for f in text_faults("  ", field="text", max_chars=10, required=True)]
    ['required: the story is empty']
    >>> [f.message for f in text_faults("x" * 11, field="text", max_chars=10, required=True)]
    ['too long: 11 characters, at most 10']
    """
    if value is None or not value.strip():
        return [Fault(field, "required: the story is empty")] if required else []
    faults = []
    if len(value) > max_chars:
        faults.append(Fault(field, f"too long: {len(value):,} characters, at most {max_chars:,}"))
    bad = _CONTROL.search(value)
    if bad:
        faults.append(
            Fault(field, f"control character U+{ord(bad.group()):04X} at {bad.start()}: remove it")
        )
    bad = _SURROGATE.search(value)
    if bad:
        faults.append(Fault(field, f"not valid Unicode text at {bad.start()} (a lone surrogate)"))
    return faults


def paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: split at blank lines, line ends as ``\\n``, edges trimmed."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip() for p in _BLANK_LINE.split(unified) if p.strip()]


def render_paragraphs(text: str) -> Markup:
    """Escaped HTML for a template: one ``<p>`` per paragraph, ``<br>`` at single line ends.
    Nothing in the text becomes markup: no tags, no links (Markdown or bare URLs stay text)."""
    html = "\n".join(
        "<p>" + "<br>\n".join(str(escape(line)) for line in p.split("\n")) + "</p>"
        for p in paragraphs(text)
    )
    return Markup(html)


def excerpt(text: str, limit: int = 280) -> str:
    """The start of the text, cut at a word boundary, with an ellipsis when cut.

    >>> excerpt("one two three four", limit=9)
    'one two…'
    """
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,.;:") + "…"


def neutralise_csv_cell(value: str) -> str:
    """A text cell made inert for spreadsheets: a leading ``'`` when it starts like a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


__all__ = ["excerpt", "neutralise_csv_cell", "paragraphs", "render_paragraphs", "text_faults"]
