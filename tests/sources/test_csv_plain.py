"""The plain-block path of the CSV block reader (``_csv_plain.py``) against the line table.

A block whose lines are all plain records is read without a line table; every test here
reads the same file with that path and with it switched off (every block through the
line table, as before) and wants the same frames, record rejects and line counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tidegate.batches import RawBatch
from tidegate.sources import _csv_stream
from tidegate.sources._bytes import byte_view, count_byte
from tidegate.sources._csv import CsvOptions, parse_csv_text
from tidegate.sources._csv_plain import plain_lines
from tidegate.sources._file_batch import LocalFileBatch

CorpusDir = Callable[[str], Path]


@contextlib.contextmanager
def line_table_only() -> Iterator[None]:
    """Every block through the line table (the plain path never applies)."""
    with mock.patch.object(_csv_stream, "plain_lines", lambda *args: None):
        yield


@contextlib.contextmanager
def plain_taken(taken: list[int]) -> Iterator[None]:
    """The plain path as is, each block's answer recorded in ``taken``."""

    def spy(*args: Any) -> int | None:
        lines = plain_lines(*args)
        taken.append(-1 if lines is None else lines)
        return lines

    with mock.patch.object(_csv_stream, "plain_lines", spy):
        yield


def read_both(path: Path, **options: Any) -> tuple[RawBatch, RawBatch, list[int]]:
    """The file read with the plain path, and with the line table only."""
    taken: list[int] = []
    with plain_taken(taken):
        plain_file = LocalFileBatch("s", path, "csv", **options)
        plain = plain_file.collect()
    with line_table_only():
        table_file = LocalFileBatch("s", path, "csv", **options)
        table = table_file.collect()
    assert isinstance(plain, RawBatch) and isinstance(table, RawBatch)
    assert_frame_equal(plain.frame, table.frame)
    assert plain.rejects == table.rejects
    assert plain.content_sha256 == table.content_sha256
    assert plain_file.line_counts == table_file.line_counts
    counts = plain_file.line_counts
    assert counts is not None and counts.accounted == counts.physical
    return plain, table, taken


# --- the byte view -----------------------------------------------------------------------


def test_byte_view_and_counts_see_the_bytes() -> None:
    data = b'a,"b"\r\n,\n\x00\xff'
    assert byte_view(data).to_list() == list(data)
    for byte in range(256):
        assert count_byte(data, byte) == data.count(bytes([byte]))
    assert count_byte(b"", 10) == 0


# --- plain_lines: what it proves and what it leaves to the line table ----------------------

OPTIONS = CsvOptions()


@pytest.mark.parametrize(
    ("block", "lines"),
    [
        ("1,2,3\n4,5,6\n", 2),
        ("1,2,3\n4,5,6", 2),
        ("1,2,3\r\n4,5,6\r\n", 2),
        ('1,"a,b",3\n4,"say ""hi""",6\n' + "7,8,9\n" * 40, 42),
        ('"1","2","3"\r\n4,5,""\r\n' + "7,8,9\r\n" * 40, 42),
        ("é,ü,日本\n,,\n", 2),
    ],
)
def test_plain_blocks(block: str, lines: int) -> None:
    assert plain_lines(block, block.encode(), OPTIONS, 3) == lines


@pytest.mark.parametrize(
    "block",
    [
        "",
        "1,2,3\n\n4,5,6\n",  # a blank line
        "1,2,3\r\n\r\n",  # a blank CRLF line
        "1,2\n4,5,6\n",  # short
        "1,2,3,4\n4,5,6\n",  # long
        "1,2,3\r4,5,6\n",  # a lone CR
        "1,2,3\r",  # a CR at the end
        "1,2\r\r\n",  # a CR before a CRLF
        '1,"2,3\n4,5,6\n' + "7,8,9\n" * 40,  # an unclosed quote
        '1,a"b,3\n4,5,6\n' + "7,8,9\n" * 40,  # a stray quote
        '1,"a"b,3\n4,5,6\n' + "7,8,9\n" * 40,  # a quote closed mid-field
        '1,"a,b"\n4,5,6\n' + "7,8,9\n" * 40,  # a quoted line of two fields
        '1,"a,b",3,4\n4,5\n' + "7,8,9\n" * 40,  # a long quoted line, a short one
        '"a","b","c"\n"d","e","f"\n',  # quotes on every line: the line table
    ],
)
def test_blocks_left_to_the_line_table(block: str) -> None:
    assert plain_lines(block, block.encode(), OPTIONS, 3) is None


def test_comment_and_one_column_blocks_are_left_to_the_line_table() -> None:
    commented = CsvOptions(comment="#")
    assert plain_lines("1,2\n3,4\n", b"1,2\n3,4\n", commented, 2) == 2
    assert plain_lines("1,2\n#,x\n", b"1,2\n#,x\n", commented, 2) is None
    assert plain_lines("#,x\n1,2\n", b"#,x\n1,2\n", commented, 2) is None
    assert plain_lines("1\n2\n", b"1\n2\n", OPTIONS, 1) is None  # a blank line is a field


def test_a_short_and_a_long_line_are_found_by_polars(tmp_path: Path) -> None:
    # the delimiters average out: polars' refusal of the long line sends the block on
    head = "a,b,c\n" + "1,2,3\n" * 100
    text = head + "4,5\n6,7,8,9\n" + "1,2,3\n" * 100
    path = tmp_path / "f.csv"
    path.write_text(text)
    plain, _, taken = read_both(path, block_bytes=len(head))
    assert taken[0] > 0  # the second block holds both lines: plain by its counts
    assert [r.reason for r in plain.rejects] == [
        "ragged row: 2 fields, header has 3",
        "ragged row: 4 fields, header has 3",
    ]
    assert [r.record for r in plain.rejects] == [102, 103]
    assert plain.frame.height == 200


# --- whole files through both paths ----------------------------------------------------------


def _orders(rows: int, every: int, ending: str = "\n") -> str:
    lines = ["id,name,amount,note"]
    for n in range(rows):
        amount = f'"${n},{n % 100:02d}"' if n % every == 0 else f"{n}.5"
        lines.append(f"{n},user{n},{amount},ok")
    return ending.join(lines) + ending


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_plain_blocks_are_taken_and_read_as_the_line_table_reads_them(
    tmp_path: Path, ending: str
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(_orders(5000, 37, ending), newline="")
    plain, _, taken = read_both(path, block_bytes=4096)
    assert plain.frame.height == 5000 and not plain.rejects
    assert sum(1 for lines in taken if lines > 0) >= len(taken) - 1  # the header block
    want = parse_csv_text(path.read_bytes().decode(), CsvOptions())
    assert_frame_equal(plain.frame, want.frame)


def test_faults_in_some_blocks(tmp_path: Path) -> None:
    text = _orders(3000, 50)
    lines = text.split("\n")
    lines[400] = ""  # blank
    lines[900] = "1,2"  # short
    lines[901] = "1,2,3,4,5,6"  # long
    lines[1500] = 'x,"open,1,2'  # an unclosed quote runs on
    lines[2000] = "y,a\rb,1,2"  # a lone CR
    lines[2500] = 'z,a"b,1,2'  # a stray quote
    path = tmp_path / "faults.csv"
    path.write_bytes("\n".join(lines).encode())
    plain, _, taken = read_both(path, block_bytes=2048)
    assert any(lines > 0 for lines in taken) and -1 in taken
    want = parse_csv_text(path.read_bytes().decode(), CsvOptions())
    assert_frame_equal(plain.frame, want.frame)
    assert list(plain.rejects) == want.rejects


@pytest.mark.parametrize("options", [{}, {"skip_rows": 2}, {"comment": "#"}])
def test_preamble_and_comments(tmp_path: Path, options: dict[str, Any]) -> None:
    text = "preamble\nmore\n" + _orders(800, 13).replace("\n5,", "\n#5,", 1)
    path = tmp_path / "f.csv"
    path.write_text(text)
    read_both(path, block_bytes=512, **options)


def test_csv_spectrum_corpus_both_paths(corpus_dir: CorpusDir) -> None:
    paths = sorted((corpus_dir("csv-spectrum") / "csvs").glob("*.csv"))
    assert paths
    for path in paths:
        for block in (1, 7, 64, None):
            read_both(path, block_bytes=block)


_PLAIN = st.text(alphabet="ab é1", max_size=4)
_ODD = st.sampled_from(["", '"', '""', '"x,y"', 'a"b', '"a\nb"', "\r", "\r\n", "\n", ",", ";"])


@st.composite
def mostly_plain_csv(draw: st.DrawFn) -> tuple[str, str]:
    """Lines of a fixed width, now and then a fault (a short, long, blank or odd line)."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    width = draw(st.integers(1, 5))
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.integers(0, 19))
        count = width if kind < 17 else draw(st.integers(0, 6))
        fields = [draw(_PLAIN) for _ in range(count)]
        if kind == 19 and fields:
            fields[draw(st.integers(0, len(fields) - 1))] = draw(_ODD)
        if kind in (16, 18) and fields:  # a quoted delimiter
            value = draw(_PLAIN) + delimiter + draw(_PLAIN)
            fields[0] = '"' + value.replace('"', '""') + '"'
        lines.append(delimiter.join(fields))
    ending = draw(st.sampled_from(["\n", "\r\n", "\n", "\r"]))
    return ending.join(lines) + (ending if draw(st.booleans()) else ""), delimiter


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mostly_plain_csv(),
    st.booleans(),
    st.integers(1, 120),
    st.sampled_from(["utf-8", "utf-16", "latin-1"]),
    st.sampled_from([{}, {"comment": "#"}, {"skip_rows": 1}]),
)
def test_random_mostly_plain_csv_both_paths(
    tmp_path: Path,
    case: tuple[str, str],
    has_header: bool,
    block: int,
    encoding: str,
    dialect: dict[str, Any],
) -> None:
    text, delimiter = case
    if dialect.get("comment"):
        text = text.replace("a", "#", 1)
    path = tmp_path / "random.csv"
    path.write_bytes(text.encode(encoding))
    options = {"delimiter": delimiter, "has_header": has_header, "encoding": encoding}
    plain, _, _ = read_both(path, block_bytes=block, **options, **dialect)
    want = parse_csv_text(text, CsvOptions(**options, **dialect))
    assert_frame_equal(plain.frame, want.frame)
    assert list(plain.rejects) == want.rejects


def test_plain_path_frames_are_strings_with_record_numbers(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(_orders(100, 7))
    plain, _, _ = read_both(path, block_bytes=256)
    assert plain.frame.schema["id"] == pl.String
    assert plain.frame["_tidegate_record"].to_list() == list(range(2, 102))
