"""The CSV reader: ragged rows, line numbers, encodings, delimiters, unreadable files."""

from __future__ import annotations

import io
from typing import Any, Literal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tidegate.errors import SourceConfigError
from tidegate.sources import RECORD_COLUMN, FileReject, RawBatch, RecordReject
from tidegate.sources._csv import CsvOptions, ParsedCsv, parse_csv_text, read_csv_bytes
from tidegate.sources._text import FileInfo

INFO = FileInfo("orders", "orders.csv", "0" * 64)


def read(data: bytes, **options: Any) -> RawBatch:
    batch = read_csv_bytes(data, INFO, CsvOptions(**options))
    assert isinstance(batch, RawBatch), batch
    return batch


def reject(data: bytes, **options: Any) -> FileReject:
    item = read_csv_bytes(data, INFO, CsvOptions(**options))
    assert isinstance(item, FileReject), item
    return item


def rows(batch: RawBatch) -> list[tuple[object, ...]]:
    return batch.frame.rows()


@pytest.mark.parametrize("path", ["auto", "slow"])
def test_ragged_rows_become_record_rejects(path: Literal["auto", "slow"]) -> None:
    text = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"
    parsed = parse_csv_text(text, CsvOptions(), path=path)
    assert parsed.frame.rows() == [("1", "2", "3", 2), ("10", "11", "12", 5)]
    assert parsed.rejects == [
        RecordReject(3, "4,5", "ragged row: 2 fields, header has 3"),
        RecordReject(4, "6,7,8,9", "ragged row: 4 fields, header has 3"),
    ]


def test_ragged_row_spanning_lines_is_read_line_by_line() -> None:
    """A record of several lines that comes out ragged is no record: each of its lines
    is read on its own, with its own line number and text."""
    batch = read(b'a,b\n"x\ny",2,3\n4,5\n')
    why = "(lines 2-3 made one record of 3 fields; each line read on its own)"
    assert batch.rejects == (
        RecordReject(2, '"x', f"ragged row: 1 fields, header has 2 {why}"),
        RecordReject(3, 'y",2,3', f"ragged row: 3 fields, header has 2 {why}"),
    )  # fmt: skip
    assert rows(batch) == [("4", "5", 4)]


def test_line_numbers_count_blank_lines() -> None:
    batch = read(b"\na,b\n\n1,2\n\n\n3,4\n")
    assert batch.frame.columns == ["a", "b", RECORD_COLUMN]
    assert rows(batch) == [("1", "2", 4), ("3", "4", 7)]
    assert batch.rows_in == 2


def test_line_numbers_after_embedded_newlines() -> None:
    batch = read(b'a,b\n1,"two\nlines"\n\n3,"x\r\ny\r\nz"\n5,6\n')
    assert rows(batch) == [("1", "two\nlines", 2), ("3", "x\r\ny\r\nz", 5), ("5", "6", 8)]


def test_values_stay_exactly_as_read() -> None:
    batch = read(b'a,b,c\n  x ,"",\nN/A,"say ""hi""",null\n')
    assert rows(batch) == [("  x ", "", "", 2), ("N/A", 'say "hi"', "null", 3)]
    assert batch.frame.schema == {"a": pl.String, "b": pl.String, "c": pl.String,
                                  RECORD_COLUMN: pl.Int64}  # fmt: skip


def test_utf8_bom_is_stripped() -> None:
    batch = read("\ufeffid,name\n1,Zoë\n".encode())
    assert batch.frame.columns == ["id", "name", RECORD_COLUMN]
    assert rows(batch) == [("1", "Zoë", 2)]


def test_crlf_line_endings() -> None:
    batch = read(b"a,b\r\n1,2\r\n\r\n3,4\r\n")
    assert rows(batch) == [("1", "2", 2), ("3", "4", 4)]


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_other_delimiters(delimiter: str) -> None:
    text = f'a{delimiter}b\n1{delimiter}"x{delimiter}y"\n2{delimiter}z\n'
    batch = read(text.encode(), delimiter=delimiter)
    assert rows(batch) == [("1", f"x{delimiter}y", 2), ("2", "z", 3)]


def test_quote_char_option() -> None:
    batch = read(b"a;b\n1;'it''s; here'\n", delimiter=";", quote="'")
    assert rows(batch) == [("1", "it's; here", 2)]


def test_non_ascii_delimiter_uses_exact_parser() -> None:
    batch = read("a§b\n1§2\n".encode(), delimiter="§")
    assert rows(batch) == [("1", "2", 2)]


def test_latin1_declared_encoding() -> None:
    batch = read("city\nZürich\nSão Paulo\n".encode("latin-1"), encoding="latin-1")
    assert batch.frame["city"].to_list() == ["Zürich", "São Paulo"]


def test_wrong_encoding_is_a_file_reject() -> None:
    data = "city\nZürich\n".encode("latin-1")
    item = reject(data)
    assert "utf-8" in item.reason and "byte offset 6 (line 2," in item.reason
    assert "encoding: latin-1" in item.reason
    assert item.size_bytes == len(data) and item.content_sha256 == INFO.content_sha256
    assert item.head == repr(data)


def test_binary_content_is_a_file_reject() -> None:
    data = bytes(range(256)) * 4
    item = reject(data)
    assert "not a text/CSV file" in item.reason
    assert len(item.head) < 1000


def test_nul_in_valid_utf8_is_a_file_reject() -> None:
    assert "not a text/CSV file" in reject(b"a,b\n1,\x002\n").reason


def test_utf16_bom_suggests_declaring_the_encoding() -> None:
    data = "a,b\n1,2\n".encode("utf-16")
    assert "encoding: utf-16" in reject(data).reason
    assert rows(read(data, encoding="utf-16")) == [("1", "2", 2)]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\r\n"])
def test_empty_file_is_an_empty_batch(data: bytes) -> None:
    batch = read(data)
    assert batch.frame.columns == [RECORD_COLUMN]
    assert batch.frame.height == 0 and batch.rejects == ()


def test_header_only_file_has_columns_and_no_rows() -> None:
    batch = read(b"a,b,c\n")
    assert batch.frame.columns == ["a", "b", "c", RECORD_COLUMN]
    assert batch.frame.height == 0


def test_duplicate_empty_and_reserved_header_names() -> None:
    batch = read(b"id,,id,name,id,_tidegate_record\n1,2,3,4,5,6\n")
    assert batch.frame.columns == [
        "id", "column_2", "id_2", "name", "id_3", "_tidegate_record_2", RECORD_COLUMN,
    ]  # fmt: skip
    assert rows(batch) == [("1", "2", "3", "4", "5", "6", 2)]


def test_without_header() -> None:
    batch = read(b"1,2\n3,4\n5\n", has_header=False)
    assert batch.frame.columns == ["column_1", "column_2", RECORD_COLUMN]
    assert rows(batch) == [("1", "2", 1), ("3", "4", 2)]
    assert batch.rejects == (RecordReject(3, "5", "ragged row: 1 fields, first record has 2"),)


@pytest.mark.parametrize(
    "options",
    [
        {"delimiter": ""},
        {"delimiter": "|\r"},
        {"delimiter": "\n"},
        {"quote": ","},
        {"encoding": "no-such-codec"},
    ],
)
def test_bad_options_raise_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(SourceConfigError, match=r"valid|known|differ"):
        CsvOptions(**options)


def test_fast_path_handles_quoted_delimiters_and_slow_path_embedded_newlines() -> None:
    assert parse_csv_text('a,b\n"x,y",2\n', CsvOptions()).path == "fast"
    assert parse_csv_text('a,b\n"x\ny",2\n', CsvOptions()).path == "slow"
    assert parse_csv_text('a,b\nx"y,2\n', CsvOptions()).path == "slow"  # quote mid-field
    assert parse_csv_text('a,b\n"x\ry",2\n', CsvOptions()).path == "slow"  # csv: "\r" ends lines
    with pytest.raises(ValueError, match="fast path"):
        parse_csv_text('a,b\n"x\ny",2\n', CsvOptions(), path="fast")


# --- fast path == slow path ------------------------------------------------------------

_FIELD = st.text(alphabet='ab ,;"\t\r\n', max_size=4)


@st.composite
def csv_texts(draw: st.DrawFn) -> tuple[str, str]:
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    width = draw(st.integers(1, 4))
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append("")  # blank line
            continue
        count = width if draw(st.integers(0, 4)) else draw(st.integers(1, 6))
        fields = []
        for _ in range(count):
            value = draw(_FIELD)
            style = draw(st.sampled_from(["plain", "quoted", "raw"]))
            if style == "quoted":
                value = '"' + value.replace('"', '""') + '"'
            elif style == "plain":
                value = "".join(c for c in value if c not in f'"\r\n{delimiter}')
            fields.append(value)
        lines.append(delimiter.join(fields))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines) + (ending if draw(st.booleans()) else "")
    return text, delimiter


def _same(left: ParsedCsv, right: ParsedCsv) -> None:
    assert_frame_equal(left.frame, right.frame)
    assert left.rejects == right.rejects


@settings(max_examples=500, deadline=None)
@given(csv_texts(), st.booleans())
def test_fast_path_equals_slow_path(case: tuple[str, str], has_header: bool) -> None:
    text, delimiter = case
    options = CsvOptions(delimiter=delimiter, has_header=has_header)
    slow = parse_csv_text(text, options, path="slow")
    auto = parse_csv_text(text, options)
    _same(auto, slow)
    physical_lines = len(io.StringIO(text, newline="").readlines())  # "\r" ends a line too
    assert slow.frame.height + len(slow.rejects) <= physical_lines
