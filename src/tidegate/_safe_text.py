"""Text from data, made safe for the terminal: control characters shown, never markup.

What the CLI prints comes largely from data and user files: a quarantined value, a
raw record, a file name, a header, a rule's message, a reason, an error quoting any
of them. Printed as they are, an ANSI escape (``ESC [2J``) clears the screen, an
OSC 8 sequence draws a link that goes elsewhere than it reads, a bidi override
reorders what a reviewer reads, and a ``[/]`` or ``[link=...]`` is rich markup (a
crash, or a clickable link). So every data-bearing string goes through
:func:`visible` and is printed as a :class:`rich.text.Text` (never parsed as markup
or emoji): :func:`plain` for one value, :func:`assemble` for a line that mixes
tidegate's own styling with data.

A backslash stays a backslash. A reader then cannot tell the four characters
``\\x1b`` from an escaped ESC, but both say the same thing to a person reviewing a
value, the stored value is untouched (``--format json`` prints it exactly, with
JSON's own escapes), and doubling every backslash would garble what people read far
more often: Windows paths and the regexes of contract checks.

It sits beside the packages, not in ``cli/``, because the audit's terminal output
(``audit/_render.py``) uses it too. Imports neither polars nor Prefect: the read-only
commands use it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from rich.text import Text

# C0 controls (tab, newline and carriage return included), DEL, C1 controls, and the
# bidi embeddings/overrides (U+202A-U+202E) and isolates (U+2066-U+2069).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# What json.dumps(ensure_ascii=False) leaves raw inside a string (it escapes C0 itself).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(value: object) -> str:
    """``str(value)`` with every control character written as a visible escape: ``\\t``,
    ``\\n``, ``\\r``, ``\\x1b``, ``\\x7f``, ``\\x9b``, ``\\u202e``. Safe to print: the
    result holds no byte a terminal acts on."""
    return _UNSAFE.sub(_shown, str(value))


def visible_lines(value: object) -> str:
    """As :func:`visible`, but each line break stays one: for tidegate's own messages
    that span lines on purpose (an error with a help text under it) and quote data."""
    return "\n".join(visible(line) for line in str(value).split("\n"))


def plain(value: object, style: str = "") -> Text:
    """One value as plain text (a table cell, a title, a line): visible, never markup;
    None is empty."""
    return Text("" if value is None else visible(value), style=style)


def plain_lines(value: object, style: str = "") -> Text:
    """As :func:`plain`, keeping line breaks (:func:`visible_lines`): for tidegate's own
    messages over several lines that quote data (a path, a file name)."""
    return Text(visible_lines(value), style=style)


Part = str | tuple[str, str] | Text


def assemble(*parts: Part) -> Text:
    """A line of tidegate's words, its styles and data, as :meth:`Text.assemble` takes
    it (a ``str``, a ``(text, style)`` pair, or a :class:`Text` kept as it is); every
    string is made :func:`visible` and none is read as markup, so a value quoted in
    the line cannot style, link or break it."""
    safe: list[str | tuple[str, str] | Text] = []
    for part in parts:
        if isinstance(part, Text):
            safe.append(part)
        elif isinstance(part, tuple):
            safe.append((visible(part[0]), part[1]))
        else:
            safe.append(visible(part))
    return Text.assemble(*safe)


def markup_safe(value: object) -> str:
    """``value`` made :func:`visible` and escaped for rich markup, to put into a markup
    string of tidegate's own (where a :class:`Text` does not fit, e.g. a progress
    description); prefer :func:`assemble`."""
    from rich.markup import escape

    return escape(visible(value))


def cell_writer(stream: Any) -> Callable[[object], str]:
    """How a machine format (CSV) writes each value to ``stream``: exactly as stored on a
    file or a pipe (the data must survive the trip), :func:`visible` on a terminal, the
    way ``ls`` shows control characters in names only on a terminal."""
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return lambda value: visible("" if value is None else value)
    return lambda value: "" if value is None else str(value)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_safe(text: str) -> str:
    """JSON text with the control characters ``json.dumps(ensure_ascii=False)`` leaves
    as they are (DEL, C1, bidi) written as ``\\uXXXX`` escapes: the same JSON value
    for a program that reads it, nothing a terminal acts on. (Inside a JSON string
    only: outside one, JSON text never holds these characters, and the line breaks
    of indented JSON stay.)"""
    return _JSON_UNSAFE.sub(_json_escape, text)


def json_dumps(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)`` made :func:`json_safe`."""
    return json_safe(json.dumps(value, ensure_ascii=False, **options))


def json_text(value: Any) -> Text:
    """``value`` pretty-printed as JSON (indent 2) and coloured as rich's ``JSON`` does,
    built from :func:`json_safe` text, so no value in it reaches the terminal raw."""
    from rich.highlighter import JSONHighlighter

    text = JSONHighlighter()(Text(json_dumps(value, indent=2, default=str)))
    text.no_wrap = True
    text.overflow = None
    return text
