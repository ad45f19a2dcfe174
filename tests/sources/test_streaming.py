"""Streaming readers: a file read in chunks is exactly the file read whole.

For every format and chunk size the chunks concatenated equal today's whole-file reader
(the oracle: ``read_csv_bytes`` / ``parse_csv_text``, ``read_json_bytes``,
``read_parquet_bytes``): same columns, values, record numbers and record rejects; the
sha256 is the file's; an unreadable file gives the whole-file reason; a file that
changes while it is read raises FileChangedError; memory stays bounded.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tidegate.batches import (
    DEFAULT_CHUNK_SIZE,
    RECORD_COLUMN,
    ChunkSize,
    FileBatch,
    FileChangedError,
    FileReject,
    FileUnreadableError,
    RawBatch,
)
from tidegate.errors import SourceConfigError
from tidegate.sources import (
    FileSource,
    LandingFolderSource,
    LocalFileBatch,
    _csv_stream,
    source_from_config,
)
from tidegate.sources import _csv as csv_module
from tidegate.sources._csv import CsvOptions, parse_csv_text, read_csv_bytes
from tidegate.sources._jsonl import read_json_bytes
from tidegate.sources._parquet import read_parquet_bytes
from tidegate.sources._text import FileInfo
from tidegate.sources._text_pass import line_blocks

WriteFile = Callable[[str, bytes], Path]
CorpusDir = Callable[[str], Path]

# (chunk size, block_bytes): rows chunks also over tiny parse blocks
CHUNK_SIZES = [
    ("1 rows", None),
    ("2 rows", 3),
    ("3 rows", None),
    ("5 rows", 1),
    ("1000 rows", 16),
    ("1 B", None),
    ("7 B", None),
    ("40 B", None),
    ("1MiB", None),
]
CHUNK_IDS = [f"{size}/{block or 'default'}" for size, block in CHUNK_SIZES]


def whole(path: Path, fmt: str, **options: Any) -> RawBatch | FileReject:
    """The oracle: today's whole-file reader on the file's bytes."""
    data = path.read_bytes()
    info = FileInfo("s", str(path), hashlib.sha256(data).hexdigest())
    if fmt in ("csv", "tsv"):
        delimiter = options.pop("delimiter", "\t" if fmt == "tsv" else ",")
        return read_csv_bytes(data, info, CsvOptions(delimiter=delimiter, **options))
    if fmt in ("json", "jsonl"):
        return read_json_bytes(data, info, document=fmt == "json", **options)
    return read_parquet_bytes(data, info)


def assert_same(got: RawBatch | FileReject, want: RawBatch | FileReject) -> None:
    assert type(got) is type(want), (got, want)
    if isinstance(want, FileReject):
        assert got == want
        return
    assert isinstance(got, RawBatch)
    assert_frame_equal(got.frame, want.frame)
    assert got.rejects == want.rejects
    assert (got.content_sha256, got.fmt, got.location) == (
        want.content_sha256,
        want.fmt,
        want.location,
    )


def check_chunks(
    file: LocalFileBatch, *, same_columns: bool = True, document: bool = False
) -> list[RawBatch]:
    """One pass: chunk invariants (sizes, order, columns, hashes); the chunks."""
    chunks = list(file.chunks())
    assert chunks, "a file always gives at least one chunk"
    assert file.content_sha256 == hashlib.sha256(file.path.read_bytes()).hexdigest()
    numbers: list[int] = []
    for chunk in chunks:
        assert chunk.content_sha256 == "" and chunk.source == file.source
        assert chunk.location == file.location and chunk.fmt == file.fmt
        assert chunk.frame.schema[RECORD_COLUMN] == pl.Int64
        records = chunk.frame[RECORD_COLUMN].to_list() + [r.record for r in chunk.rejects]
        numbers.extend(sorted(records))
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    if same_columns:
        assert len({tuple(chunk.frame.columns) for chunk in chunks}) == 1
    rows = file.chunk_size.rows
    if document:  # a JSON document is read whole, as one chunk
        assert len(chunks) == 1
    elif rows is not None:
        assert all(chunk.rows_in == rows for chunk in chunks[:-1])
        assert chunks[-1].rows_in <= rows
    else:
        assert all(chunk.rows_in > 0 for chunk in chunks[:-1])
    return chunks


# --- CSV -------------------------------------------------------------------------------

TRICKY_CSV: dict[str, tuple[bytes, dict[str, Any]]] = {
    "simple": (b"a,b\n1,2\n3,4\n", {}),
    "no final newline": (b"a,b\n1,2\n3,4", {}),
    "multi-line quoted": (b'a,b\n1,"x\ny"\n\n3,"p\r\nq\r\nr"\n5,6\n7,"long\n\n\nfield"\n', {}),
    "quoted fields": (b'a,b,c\n"x,y",2,""\n"say ""hi""",,3\n', {}),
    "blank lines": (b"\n\na,b\n\n1,2\n\n\n3,4\n\n", {}),
    "crlf": (b"a,b\r\n1,2\r\n\r\n3,4\r\n", {}),
    "cr in quotes": (b'a,b\n1,"x\ry"\n2,"\r"\n3,4\n', {}),
    "lone cr line ends": (b"a,b\r1,2\r3,4\r", {}),
    "ragged": (b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n\n13\n", {}),
    "ragged spanning lines": (b'a,b\n"x\ny",2,3\n4,5\n"p\nq"\n', {}),
    "stray quotes": (b'a,b\nx"y,2\n"z"q,3\n4,"open\n5,6\n', {}),
    "unterminated at end": (b'a,b\n1,2\n3,"never closed\n4,5\n', {}),
    "bom": ("\ufeffid,name\n1,Zoë\n2,Jürgen\n".encode(), {}),
    "duplicate names": (b"id,,id,_tidegate_record\n1,2,3,4\n", {}),
    "no header": (b"1,2\n3,4\n5\n\n6,7\n", {"has_header": False}),
    "no header multi-line": (b'1,"a\nb"\n3,4\n', {"has_header": False}),
    "header only": (b"a,b,c\n", {}),
    "header only no newline": (b"a,b,c", {}),
    "empty": (b"", {}),
    "blank only": (b"\n\r\n\n", {}),
    "semicolon": (b'a;b\n1;"x;y"\n2;z\n', {"delimiter": ";"}),
    "tab": (b"a\tb\n1\t2\n", {"delimiter": "\t"}),
    "single quote char": (b"a;b\n1;'it''s; here'\n", {"delimiter": ";", "quote": "'"}),
    "non-ascii delimiter": ("a§b\n1§2\n3§4§5\n".encode(), {"delimiter": "§"}),
    "latin-1": ("city,n\nZürich,1\nSão Paulo,2\n".encode("latin-1"), {"encoding": "latin-1"}),
    "cp1252": ("a,b\n€,“q”\n".encode("cp1252"), {"encoding": "cp1252"}),
    "utf-16": ('a,b\n1,Zoë\n2,"x\ny"\n'.encode("utf-16"), {"encoding": "utf-16"}),
    "utf-16-le no bom": ("a,b\n1,2\n".encode("utf-16-le"), {"encoding": "utf-16"}),
    "multibyte utf-8": ('k,v\n1,日本語\n2,\U0001f600\n3,"多\n行"\n'.encode(), {}),
    "one column": (b"a\n1\n\n2\n", {}),
    "one column quoted empty": (b'a\n""\n\n"x"\n', {}),
    "wide ragged first block": (b"a\n1,2,3,4,5,6,7,8\n2\n", {}),
    # no record merged or lost (see _csv_records.py)
    "stray quote at a row's end": (b'a,b,c\n1,2,3\n3,abc",x\n4,5,6\n', {}),
    "unclosed quote joins rows": (b'a,b,c\n1,2,3\n3,"abc,x\n4,5,6\n7,8,9\n', {}),
    "unclosed quote closed later": (b'a,b,c\n3,"abc,x\n4,5,6\n7,"q,r\n8,9,10\n', {}),
    "unterminated at eof": (b'a,b\n1,"abc\n2,def\n\n3,ghi', {}),
    "unterminated at eof crlf": (b'a,b\r\n1,2\r\n1,"abc\r\n2,def\r\n3,ghi\r\n', {}),
    "quote in the header": (b'id,"name,city\n1,2,3\n4,5,6\n', {}),
    "header spans lines": (b'id,"na\nme",x\n1,2\n3,4,5\n', {}),
    "mid-field quotes": (b'a,b,c\n1,ab"c,3\n1,"ab"c,3\n2,"a""b",3\n4, "x",5\n', {}),
    "doubled quote then stray": (b'a,b\n1,"x""\n2,3\n', {}),
    "legit multi-line then stray": (b'a,b\n1,"x\ny"z\n2,3\n', {}),
    "no header stray": (b'1,"a\n2,b\n3,c\n', {"has_header": False}),
    "no header mid-field": (b'1,a"b\n2,c\n', {"has_header": False}),
    "blank lines in a merged record": (b'a,b\n1,"x\n\n\n2,y\n', {}),
    "single quote char stray": (b"a;b\n1;it's\n2;'ok'\n", {"delimiter": ";", "quote": "'"}),
}


@pytest.mark.parametrize(("size", "block"), CHUNK_SIZES, ids=CHUNK_IDS)
@pytest.mark.parametrize("name", list(TRICKY_CSV))
def test_csv_chunks_equal_the_whole_file(
    name: str, size: str, block: int | None, write_file: WriteFile
) -> None:
    data, options = TRICKY_CSV[name]
    path = write_file("f.csv", data)
    file = LocalFileBatch("s", path, "csv", chunk_size=size, block_bytes=block, **options)
    want = whole(path, "csv", **options)
    assert isinstance(want, RawBatch)
    chunks = check_chunks(file)
    assert chunks[0].frame.columns == want.frame.columns
    assert_same(file.collect(), want)


def test_chunk_sizes_are_honoured(write_file: WriteFile) -> None:
    lines = ["a,b"] + [f"{i},{'x' * (i % 7)}" for i in range(200)]
    text = "\n".join(lines) + "\n"
    path = write_file("f.csv", text.encode())
    for rows in (1, 7, 64):
        chunks = list(LocalFileBatch("s", path, "csv", chunk_size=rows).chunks())
        assert [c.rows_in for c in chunks[:-1]] == [rows] * (len(chunks) - 1)
    # bytes: a chunk ends at the first record end after `bytes` of input (header included)
    ends = [0]
    for line in lines:
        ends.append(ends[-1] + len(line) + 1)  # ends[n]: input up to the end of line n
    for size in (16, 100, 1000):
        chunks = list(LocalFileBatch("s", path, "csv", chunk_size=f"{size} B").chunks())
        start = 0
        for chunk in chunks[:-1]:
            last = int(chunk.frame[RECORD_COLUMN][-1])
            assert ends[last] - ends[start] >= size > ends[last - 1] - ends[start]
            start = last
        assert int(chunks[-1].frame[RECORD_COLUMN][-1]) == len(lines)


def test_a_record_is_never_split_across_chunks(write_file: WriteFile) -> None:
    big = "y" * 500 + "\n" + "z" * 500
    path = write_file("f.csv", f'a,b\n1,"{big}"\n2,3\n'.encode())
    chunks = list(LocalFileBatch("s", path, "csv", chunk_size="10 B").chunks())
    values = [v for c in chunks for v in c.frame["b"].to_list()]
    assert values == [big, "3"]


def test_exact_path_hands_back_to_the_fast_path(write_file: WriteFile) -> None:
    """A multi-line record early on does not send the rest of the file to the csv module."""
    rows = "\n".join(f"{i},{i}" for i in range(2000))
    path = write_file("f.csv", f'a,b\n0,"x\ny"\n{rows}\n'.encode())
    stream = _csv_stream.CsvStream(CsvOptions(), target=64, min_chars=0)
    fast: list[bool] = []
    real = stream._fast_block

    def spy(block: str) -> bool:
        fast.append(real(block))
        return fast[-1]

    stream._fast_block = spy  # type: ignore[method-assign]
    text = path.read_text()
    pieces = list(stream.pieces(line_blocks([text], 64, universal=True)))
    assert fast[0] is False and sum(fast) > len(fast) * 0.9
    frame = pl.concat([p.frame for p in pieces])
    assert_frame_equal(frame, parse_csv_text(text, CsvOptions()).frame)


def test_csv_error_takes_only_its_own_records_lines(
    write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The csv module's error (here a field over its size limit) is a reject for its own
    record's lines only (a record of several lines: each line read on its own), and the
    reader goes on after it, the same on the whole text and in chunks."""
    limit = csv.field_size_limit()
    monkeypatch.setattr(csv_module, "_FIELD_SIZE_LIMIT", 8)
    monkeypatch.setattr(_csv_stream, "_FIELD_SIZE_LIMIT", 8)
    csv.field_size_limit(8)
    try:
        # a delimiter polars cannot take: the exact path reads every block (polars has
        # no field size limit, so on the fast path there is no such error)
        data = 'a§b\n1§2\n3§"x\ny"\n4§much too long a field\n5§6\n7§"ab\nwide open\nq"\n8§9\n'
        path = write_file("f.csv", data.encode())
        want = whole(path, "csv", delimiter="§")
        assert isinstance(want, RawBatch)
        assert want.frame.rows() == [("1", "2", 2), ("3", "x\ny", 3), ("5", "6", 6), ("8", "9", 10)]
        too_long = "field larger than field limit (8)"
        merged = f"(the csv reader failed on lines 7-8: {too_long}; each line read on its own)"
        assert [(r.record, r.raw, r.reason) for r in want.rejects] == [
            (5, "4§much too long a field", f"cannot split into fields: {too_long}"),
            (7, '7§"ab', f'unclosed quote in field 2 ("ab): close the quote, or double a '
             f'quote that is part of the value ("") {merged}'),
            (8, "wide open", f"cannot split into fields: {too_long} {merged}"),
            (9, 'q"', "ragged row: 1 fields, header has 2"),
        ]  # fmt: skip
        for size in ("1 rows", "1 B", "1MiB"):
            file = LocalFileBatch("s", path, "csv", delimiter="§", chunk_size=size)
            assert_same(file.collect(), want)
            assert file.line_counts is not None and file.line_counts.detail() == {
                "physical": 10,
                "records": 8,
                "record_lines": 9,
                "header": 1,
            }
    finally:
        csv.field_size_limit(limit)


def test_csv_spectrum_corpus(corpus_dir: CorpusDir) -> None:
    folder = corpus_dir("csv-spectrum") / "csvs"
    paths = sorted(folder.glob("*.csv"))
    assert paths
    for path in paths:
        want = whole(path, "csv")
        for size, block in (("1 rows", 2), ("1 B", None), ("13 B", None), ("1MiB", None)):
            file = LocalFileBatch("s", path, "csv", chunk_size=size, block_bytes=block)
            check_chunks(file)
            assert_same(file.collect(), want)
            counts = file.line_counts
            assert counts is not None and counts.accounted == counts.physical > 0
            assert counts.records == want.rows_in


_FIELD = st.text(alphabet='ab é,;"\t\r\n', max_size=5)


@st.composite
def csv_texts(draw: st.DrawFn) -> tuple[str, str]:
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    width = draw(st.integers(1, 4))
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 5)) == 0:
            lines.append("")
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
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return ending.join(lines) + (ending if draw(st.booleans()) else ""), delimiter


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    csv_texts(),
    st.booleans(),
    st.one_of(
        st.integers(1, 6).map(lambda n: f"{n} rows"),
        st.integers(1, 60).map(lambda n: f"{n} B"),
    ),
    st.integers(1, 40),
    st.sampled_from(["utf-8", "utf-16", "latin-1"]),
)
def test_random_csv_in_chunks_equals_parse_csv_text(
    tmp_path: Path,
    case: tuple[str, str],
    has_header: bool,
    size: str,
    block: int,
    encoding: str,
) -> None:
    text, delimiter = case
    path = tmp_path / "random.csv"
    path.write_bytes(text.encode(encoding))
    options = CsvOptions(delimiter=delimiter, has_header=has_header, encoding=encoding)
    want = parse_csv_text(text, options)
    file = LocalFileBatch(
        "s",
        path,
        "csv",
        delimiter=delimiter,
        has_header=has_header,
        encoding=encoding,
        chunk_size=size,
        block_bytes=block if "rows" in size else None,
    )
    got = file.collect()
    assert isinstance(got, RawBatch)
    assert_frame_equal(got.frame, want.frame)
    assert list(got.rejects) == want.rejects


# --- unreadable files --------------------------------------------------------------------

UNREADABLE: dict[str, tuple[bytes, dict[str, Any]]] = {
    "bad utf-8": ("city\nZürich\n".encode("latin-1"), {}),
    "binary": (bytes(range(256)) * 4, {}),
    "nul character": (b"a,b\n1,\x002\n", {}),
    "utf-16 bom undeclared": ("a,b\n1,2\n".encode("utf-16"), {}),
    "utf-16 odd length": ("a,b\n1,2\n".encode("utf-16") + b"\n", {"encoding": "utf-16"}),
    "truncated multibyte": ("a\nZoë".encode()[:-1], {}),
    "cp1252 undefined byte": (b"a\nx\x81y\n", {"encoding": "cp1252"}),
    # the NUL-byte check looks at the first 8192 bytes only
    "nul early, bad byte late": (b"a\n\x00\n" + b"x" * 9000 + b"\n\xff\n", {}),
    "nul late": (b"a\n" + b"x" * 9000 + b"\n\x00\n", {}),
}


@pytest.mark.parametrize("size", ["1 B", "5 B", "3 rows", "1MiB"])
@pytest.mark.parametrize("name", list(UNREADABLE))
def test_unreadable_reasons_equal_the_whole_file(
    name: str, size: str, write_file: WriteFile
) -> None:
    data, options = UNREADABLE[name]
    path = write_file("f.csv", data)
    want = whole(path, "csv", **options)
    assert isinstance(want, FileReject)
    file = LocalFileBatch("s", path, "csv", chunk_size=size, **options)
    with pytest.raises(FileUnreadableError) as info:
        list(file.chunks())
    assert info.value.reject == want
    assert file.collect() == want
    assert file.content_sha256 == want.content_sha256


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=40),
    st.sampled_from(["utf-8", "utf-16", "utf-16-be", "utf-32", "cp1252", "shift_jis", "gb18030"]),
    st.integers(1, 9),
)
def test_random_bytes_decode_or_fail_as_the_whole_file(
    tmp_path: Path, data: bytes, encoding: str, block: int
) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    want = whole(path, "csv", encoding=encoding)
    got = LocalFileBatch("s", path, "csv", encoding=encoding, chunk_size=f"{block} B").collect()
    assert_same(got, want)


def test_invalid_byte_deep_in_a_large_file(write_file: WriteFile) -> None:
    line = b"12345,some text,more text,2024-01-01\n"
    count = 80_000  # about 3 MB
    data = b"a,b,c,d\n" + line * count
    at = len(data) - 1000
    data = data[:at] + b"\xe9" + data[at + 1 :]
    path = write_file("big.csv", data)
    want = whole(path, "csv")
    assert isinstance(want, FileReject)
    assert f"byte offset {at} (line " in want.reason
    file = LocalFileBatch("s", path, "csv", chunk_size="64KiB")
    seen = 0
    with pytest.raises(FileUnreadableError) as info:
        for _ in file.chunks():
            seen += 1
    assert seen > 10  # chunks were read before the bad byte was
    reject = info.value.reject
    assert reject == want
    assert reject.content_sha256 == hashlib.sha256(data).hexdigest()
    assert reject.size_bytes == len(data) and reject.head == repr(data[:200])


# --- hashes, passes, changes ---------------------------------------------------------------


def test_sha256_is_the_files_and_hash_reads_without_parsing(write_file: WriteFile) -> None:
    data = b'a,b\n1,"x\ny"\n' * 100
    path = write_file("f.csv", data)
    file = LocalFileBatch("s", path, "csv", chunk_size="50 B")
    assert isinstance(file, FileBatch) and file.content_sha256 is None
    assert file.hash() == hashlib.sha256(data).hexdigest() == file.content_sha256
    assert len(list(file.chunks())) > 1
    assert file.content_sha256 == hashlib.sha256(data).hexdigest()
    assert LocalFileBatch("s", write_file("x.csv", b"\xff"), "csv").hash()  # no parse


def test_file_appended_while_it_is_read_raises_file_changed(write_file: WriteFile) -> None:
    path = write_file("f.csv", b"a,b\n" + b"1,2\n" * 1000)
    file = LocalFileBatch("s", path, "csv", chunk_size="100 B")
    with pytest.raises(FileChangedError) as info:
        for index, _chunk in enumerate(file.chunks()):
            if index == 3:
                with path.open("ab") as handle:
                    handle.write(b"3,4\n")
    assert info.value.location == str(path)
    assert "size 4004 -> 4008 bytes" in info.value.why
    assert file.content_sha256 is None


def test_file_appended_after_its_last_chunk_raises_file_changed(write_file: WriteFile) -> None:
    path = write_file("f.csv", b"a,b\n1,2\n")
    file = LocalFileBatch("s", path, "csv")
    with pytest.raises(FileChangedError, match="changed while it was read"):
        for _chunk in file.chunks():
            with path.open("ab") as handle:
                handle.write(b"3,4\n")


def test_second_pass_with_other_content_raises_file_changed(write_file: WriteFile) -> None:
    path = write_file("f.csv", b"a,b\n1,2\n")
    file = LocalFileBatch("s", path, "csv")
    first = file.collect()
    assert isinstance(first, RawBatch)
    stat = path.stat()
    path.write_bytes(b"a,b\n9,9\n")  # same size, and the same mtime: only the bytes differ
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(FileChangedError) as info:
        list(file.chunks())
    assert info.value.why == "its content differs from the first read"
    with pytest.raises(FileChangedError, match="differs from the first read"):
        file.hash()
    assert file.content_sha256 == first.content_sha256
    again = LocalFileBatch("s", path, "csv")
    assert len(list(again.chunks())) == len(list(again.chunks())) == 1  # same bytes: fine


def test_landing_file_that_changes_while_read_raises_file_changed(tmp_path: Path) -> None:
    landing = tmp_path / "in"
    landing.mkdir()
    path = landing / "a.csv"
    path.write_bytes(b"id\n" + b"1\n" * 1000)
    old = path.stat().st_mtime - 10
    os.utime(path, (old, old))
    source = LandingFolderSource("orders", landing, chunk_size="64 B")
    (file,) = source.read()
    assert isinstance(file, LocalFileBatch) and source.skipped == []
    assert file.chunk_size == ChunkSize(bytes=64)
    with pytest.raises(FileChangedError):
        for _chunk in file.chunks():
            with path.open("ab") as handle:
                handle.write(b"2\n")


# --- JSON Lines and JSON -----------------------------------------------------------------

TRICKY_JSONL: dict[str, bytes] = {
    "growing keys": b'{"a": 1}\n{"b": "x", "a": 2}\n\n{"c": null}\n{"a": 3, "d": [1, {"e": 2}]}\n',
    "bad lines": b'{"a": 1}\n\n{"a": 2,, "b": 3}\n[1, 2]\n"text"\n{"a": NaN}\n  \n{"a": 3}\r\n',
    "cr inside a line": b'{"a": "1"}\r{"b": 2}\n{"c": 3}\n',
    "leading blank lines": b'\n\n  \n{"a": 1}\n{"a": 2}',
    "empty": b"",
    "blank only": b"\n \n\t\n",
    "array document": b'[\n  {"a": 1},\n  {"b": true},\n  3\n]\n',
    "pretty object": b'\n{\n  "a": "x",\n  "b": [1, {"c": null}]\n}\n',
    "pretty objects, not a document": b'{\n"a": 1\n}\n{\n"b": 2\n}\n',
    "broken pretty document": b'{\n  "a": 1,\n  "b": \n',
    "single line object": b'  {"a": "\\ud800"}  \r\n',
    "single line then blank": b'{"a": "\\ud800"}\n\n\n',
    "surrogate first of two": b'{"a": "\\ud800"}\n{"a": 1}\n',
    "first line broken early": b'{"a": 1,, }\n{"a": 2}\n',
    "extra data on first line": b'{"a": 1} {"b": 2}\n{"c": 3}\n',
    "unterminated string first": b'{"a": "x\n{"a": 2}\n',
    "scalar first": b'1\n{"a": 2}\n',
    "reserved key": b'{"_tidegate_record": "x"}\n',
    "deep nesting": b'{"a": ' * 3000 + b"\n" + b'{"b": 1}\n',
    "utf-8 text": '{"city": "Zürich"}\n{"city": "日本"}\n'.encode(),
}


@pytest.mark.parametrize(("size", "block"), CHUNK_SIZES, ids=CHUNK_IDS)
@pytest.mark.parametrize("name", list(TRICKY_JSONL))
def test_jsonl_chunks_equal_the_whole_file(
    name: str, size: str, block: int | None, write_file: WriteFile
) -> None:
    path = write_file("f.jsonl", TRICKY_JSONL[name])
    file = LocalFileBatch("s", path, "jsonl", chunk_size=size, block_bytes=block)
    want = whole(path, "jsonl")
    assert_same(file.collect(), want)
    if isinstance(want, FileReject):
        return
    # read whole: it starts with "[", or its first record does not end on its line
    document = name in ("array document", "pretty object", "pretty objects, not a document")
    chunks = check_chunks(file, same_columns=False, document=document)
    columns = [chunk.frame.columns for chunk in chunks]
    for before, after in itertools.pairwise(columns):  # they only grow
        assert after[: len(before) - 1] == before[:-1] and after[-1] == RECORD_COLUMN
    assert columns[-1] == want.frame.columns


def test_jsonl_columns_are_the_keys_seen_so_far(write_file: WriteFile) -> None:
    path = write_file("f.jsonl", b'{"a": 1}\n{"b": 2}\n{"a": 3}\n{"c": 4}\n')
    chunks = list(LocalFileBatch("s", path, "jsonl", chunk_size=1).chunks())
    assert [c.frame.columns for c in chunks] == [
        ["a", RECORD_COLUMN],
        ["a", "b", RECORD_COLUMN],
        ["a", "b", RECORD_COLUMN],
        ["a", "b", "c", RECORD_COLUMN],
    ]
    assert chunks[2].frame.rows() == [("3", None, 3)]


def test_a_json_document_is_one_chunk(write_file: WriteFile) -> None:
    data = b"[" + b",".join(b'{"a": %d}' % i for i in range(100)) + b"]"
    for fmt in ("json", "jsonl"):
        path = write_file(f"f.{fmt}", data)
        file = LocalFileBatch("s", path, fmt, chunk_size=1)
        (chunk,) = file.chunks()
        assert chunk.frame.height == 100 and chunk.fmt == fmt
        assert_same(file.collect(), whole(path, fmt))


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_json_test_suite_corpus(fmt: str, corpus_dir: CorpusDir) -> None:
    folder = corpus_dir("json-test-suite") / "test_parsing"
    paths = sorted(folder.glob("*.json"))
    assert len(paths) > 100
    for path in paths:
        want = whole(path, fmt)
        for size in ("2 rows", "7 B") if fmt == "jsonl" else ("1MiB",):
            assert_same(LocalFileBatch("s", path, fmt, chunk_size=size).collect(), want)


def test_jsonl_unreadable_is_the_whole_file_reason(write_file: WriteFile) -> None:
    data = b'{"a": 1}\n' * 2000 + b'{"a": "\xff"}\n'
    path = write_file("f.jsonl", data)
    want = whole(path, "jsonl")
    assert isinstance(want, FileReject) and "byte offset 18007 (line 2001," in want.reason
    file = LocalFileBatch("s", path, "jsonl", chunk_size=100)
    with pytest.raises(FileUnreadableError) as info:
        list(file.chunks())
    assert info.value.reject == want


# --- Parquet ---------------------------------------------------------------------------------


def _parquet(write_file: WriteFile, frame: pl.DataFrame, group: int) -> Path:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, row_group_size=group)
    return write_file("f.parquet", buffer.getvalue())


PARQUET_FRAME = pl.DataFrame(
    {
        "id": list(range(50)),
        "name": [None if i % 9 == 0 else f"n{i}é" for i in range(50)],
        "ratio": [i / 4 for i in range(50)],
        "day": pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 2, 19), eager=True),
        "tags": [[str(i), "x"] if i % 3 else None for i in range(50)],
        "point": [{"x": i, "y": "p"} for i in range(50)],
        "text": [f"t{i}".encode() for i in range(50)],
        # UTF-8 but for one value in the last row group: hex in every chunk, as whole
        "raw": [b"ok" if i != 47 else b"\xff\x00" for i in range(50)],
    }
)


@pytest.mark.parametrize(
    "size", ["1 rows", "3 rows", "10 rows", "1000 rows", "1 B", "300 B", "1MiB"]
)
def test_parquet_row_groups_equal_the_whole_file(size: str, write_file: WriteFile) -> None:
    path = _parquet(write_file, PARQUET_FRAME, group=7)
    file = LocalFileBatch("s", path, "parquet", chunk_size=size)
    want = whole(path, "parquet")
    assert isinstance(want, RawBatch)
    assert want.frame["raw"][0] == "6f6b"  # hex: one value is not UTF-8
    chunks = check_chunks(file)
    if size in ("1 rows", "3 rows", "1 B"):
        assert len(chunks) > 5
    assert_same(file.collect(), want)
    offset = 0  # the 0-based row offset in the file, across chunks
    for chunk in chunks:
        assert chunk.frame[RECORD_COLUMN].to_list() == list(
            range(offset, offset + chunk.frame.height)
        )
        offset += chunk.frame.height


def test_parquet_empty_and_unreadable(write_file: WriteFile) -> None:
    path = _parquet(write_file, PARQUET_FRAME.head(0), group=7)
    (chunk,) = LocalFileBatch("s", path, "parquet", chunk_size=1).chunks()
    assert chunk.frame.height == 0 and chunk.frame.columns[-1] == RECORD_COLUMN
    csv_named_parquet = write_file("x.parquet", b"a,b\n1,2\n")
    corrupt = bytearray(_parquet(write_file, PARQUET_FRAME, group=7).read_bytes())
    corrupt[8:-8] = b"\x00" * (len(corrupt) - 16)
    broken = write_file("y.parquet", bytes(corrupt))
    good = _parquet(write_file, pl.DataFrame({"a": [str(i) for i in range(5000)]}), group=500)
    data = bytearray(good.read_bytes())
    data[3000:3100] = b"\x07" * 100  # a corrupt page in the middle
    middle = write_file("z.parquet", bytes(data))
    for path in (csv_named_parquet, broken, middle):
        want = whole(path, "parquet")
        assert isinstance(want, FileReject), path
        file = LocalFileBatch("s", path, "parquet", chunk_size=100)
        with pytest.raises(FileUnreadableError) as info:
            list(file.chunks())
        assert info.value.reject.reason.startswith(("not a Parquet", "corrupt Parquet"))
        assert info.value.reject == want
        assert file.collect() == want


# --- the sources ----------------------------------------------------------------------------


def test_file_source_chunk_size(tmp_path: Path, write_file: WriteFile) -> None:
    write_file("d/a.csv", b"a\n1\n2\n3\n")
    write_file("d/b.jsonl", b'{"a": 1}\n')
    assert FileSource("x", "d/*").chunk_size == DEFAULT_CHUNK_SIZE
    source = FileSource("x", "d/*", base_dir=tmp_path, chunk_size="2 rows")
    files = list(source.read())
    assert [type(f) for f in files] == [LocalFileBatch, LocalFileBatch]
    assert [len(list(f.chunks())) for f in files] == [2, 1]
    assert_same(source.read_file(*source.files()[0]), files[0].collect())
    with pytest.raises(SourceConfigError, match=r"source 'x': chunk_size '2 lines' is not valid"):
        FileSource("x", "d/*", chunk_size="2 lines")
    config = {"kind": "file", "path": "d/*.csv", "chunk_size": "16 KiB"}
    assert source_from_config("x", config, tmp_path).chunk_size == ChunkSize(bytes=16 * 1024)
    landing = {"kind": "landing", "folder": "d", "chunk_size": 1000}
    assert source_from_config("x", landing, tmp_path).chunk_size == ChunkSize(rows=1000)
    with pytest.raises(SourceConfigError, match="chunk_size"):
        source_from_config("x", {**landing, "chunk_size": True}, tmp_path)


# --- memory ------------------------------------------------------------------------------------

_MEMORY_CHILD = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    import polars as pl
    import pyarrow  # a library, imported on the first read: counted with the imports
    from tidegate.sources import LocalFileBatch

    def peak():
        # VmHWM is this image's own peak; ru_maxrss keeps the forked parent's across exec
        try:
            with open("/proc/self/status") as status:
                return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) * 1024
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    imported = peak()
    small = Path(sys.argv[2])
    for chunk in LocalFileBatch("s", small, "csv", chunk_size="4MiB").chunks():
        pass
    warm = peak()  # polars' one-time set-up (thread pool, readers) done
    rows = 0
    for chunk in LocalFileBatch("s", Path(sys.argv[1]), "csv", chunk_size="4MiB").chunks():
        rows += chunk.rows_in
    print(imported, warm, peak(), rows)
    """
)


def test_a_large_csv_is_read_in_bounded_memory(tmp_path: Path) -> None:
    line = '{i},customer {i},"{i}.50",2024-01-01,"quoted, with a comma",user{i}@example.com\n'
    path = tmp_path / "big.csv"
    rows = 0
    with path.open("w") as handle:  # about 150 MB, written 10,000 lines at a time
        handle.write("id,name,amount,day,note,email\n")
        while handle.tell() < 150 * 1024**2:
            handle.write("".join(line.format(i=i) for i in range(rows, rows + 10_000)))
            rows += 10_000
    small = tmp_path / "small.csv"
    small.write_text("id,name\n1,x\n")
    size = path.stat().st_size
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(path), str(small)],
        check=True,
        capture_output=True,
        text=True,
    )
    imported, warm, peak, read = (int(v) for v in done.stdout.split())
    assert read == rows
    # measured with VmHWM (this process's own peak; ru_maxrss had counted the forked
    # pytest parent's): 90 to 108 MB above the RSS after imports for 150 MB (0.6 to 0.7
    # of the file, polars' reader buffers included); the old whole-file read took about
    # 6.5 times the file's size. pyarrow is imported by the first read, so the child
    # imports it with the other libraries: its own pages are not the reader's memory.
    # The bound is taken from after a first small read (polars' thread pool and readers
    # set up, about 25 MB here and up to 100 MB on a busy CI machine): 70 MB above it.
    assert peak - warm < 1.0 * size, (imported, warm, peak, size)
