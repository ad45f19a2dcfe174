"""Text from data made safe for the terminal: every control character visible, no markup."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest
from rich.console import Console

import tidegate._safe_text as safe_text
from tidegate._safe_text import assemble, json_safe, json_text, plain, visible, visible_lines

OSC8 = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31m", "\\x1b[31m"),
        ("\x1b[2J", "\\x1b[2J"),
        (OSC8, "\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\"),
        ("\x00\x07\x08\x0b\x0c\x1f", "\\x00\\x07\\x08\\x0b\\x0c\\x1f"),
        ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
        ("\x7f", "\\x7f"),
        ("\x80\x85\x9b\x9f", "\\x80\\x85\\x9b\\x9f"),
        ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
        ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
        # printable text, markup and backslashes stay as they are
        ("café 日本 [/] [link=http://x]y[/link]", "café 日本 [/] [link=http://x]y[/link]"),
        ("C:\\data\\x.csv ^\\d+$", "C:\\data\\x.csv ^\\d+$"),
        ("\u00a0\u200b\u2028", "\u00a0\u200b\u2028"),  # not controls a terminal acts on
        (12, "12"),
    ],
)
def test_visible_writes_every_control_character_as_an_escape(raw: object, shown: str) -> None:
    assert visible(raw) == shown


def test_visible_leaves_no_control_character_at_all() -> None:
    every = "".join(chr(c) for c in range(0x2100))
    out = visible(every)
    controls = [c for c in out if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]
    bidi = [c for c in out if 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069]
    assert controls == [] and bidi == []
    assert visible(out) == out  # nothing left to escape


def test_visible_lines_keeps_only_its_line_breaks() -> None:
    assert visible_lines("bad \x1b[2J file\n  help: [x]\r") == "bad \\x1b[2J file\n  help: [x]\\r"


def _render(renderable: object) -> str:
    console = Console(width=200, force_terminal=True, color_system="truecolor")
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def test_plain_and_assemble_are_never_markup() -> None:
    value = "[/] [link=http://x]y[/link] [bold]b \x1b[31m"
    out = _render(assemble(("error:", "bold red"), " ", value, (value, "cyan")))
    assert "\x1b]8;" not in out  # no hyperlink
    assert out.count("[/]") == 2 and out.count("[link=http://x]y[/link]") == 2
    assert out.count("\\x1b[31m") == 2 and "\x1b[31m" not in out
    assert "\x1b[1;31merror:" in out  # tidegate's own style is still drawn
    assert _render(plain(value, "bold")).count("[bold]") == 1
    assert plain(None).plain == ""


def test_json_safe_is_the_same_json_value_with_nothing_a_terminal_acts_on() -> None:
    value = {"v\u202e": ["\x1b[2J", "\x9b31m", "\x7f", "é", "日本", "\\x1b"], "n": 1}
    text = json_safe(json.dumps(value, ensure_ascii=False, indent=2))
    assert json.loads(text) == value
    assert visible_lines(text) == text  # no control character but its line breaks
    assert "é" in text and "日本" in text  # readable text is not escaped
    rendered = json_text(value).plain
    assert json.loads(rendered) == value and visible_lines(rendered) == rendered


def test_the_module_imports_neither_polars_nor_prefect() -> None:
    tree = ast.parse(Path(safe_text.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported - {"rich"} <= sys.stdlib_module_names, imported  # no polars, no Prefect
