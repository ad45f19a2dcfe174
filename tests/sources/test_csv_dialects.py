"""Every CSV dialect a user meets, on both readers: preamble, multi-row header, escapes,
no quoting, multi-character delimiters, headerless files with `columns:`, comments.

Each file is read by the whole-text oracle (``parse_csv_text``) and by the block reader
(``LocalFileBatch`` / ``CsvStream``) at several chunk and block sizes; both must give the
rows, rejects and counts of skipped lines written out here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tidegate.batches import RECORD_COLUMN, RawBatch
from tidegate.errors import SourceConfigError
from tidegate.sources import FileSource, LocalFileBatch, source_from_config
from tidegate.sources._csv import CsvOptions, parse_csv_text, read_csv_bytes
from tidegate.sources._csv_stream import CsvStream
from tidegate.sources._text import FileInfo
from tidegate.sources._text_pass import line_blocks

WriteFile = Callable[[str, bytes], Path]

CHUNK_SIZES = [("1 rows", None), ("2 rows", 3), ("5 rows", 1), ("7 B", None), ("1MiB", None)]
BLOCK_SIZES = [1, 5, 17, 1 << 20]


def _skipped(
    preamble: int = 0, comment: int = 0, header: int = 1, blank: int = 0
) -> dict[str, int]:
    counts = {"preamble": preamble, "comment": comment, "header": header, "blank": blank}
    return {kind: n for kind, n in counts.items() if n}  # as the readers give them


# name -> (text, options, rows (record number first), rejects (record, reason), skipped)
CASES: dict[
    str, tuple[str, dict[str, Any], list[tuple[Any, ...]], list[tuple[int, str]], dict[str, int]]
] = {
    "preamble of 3 lines": (
        'Sales report "Q1"\nexported 2026-01-02\n\nid,name\n1,ann\n\n2,bob\n',
        {"skip_rows": 3},
        [(5, "1", "ann"), (7, "2", "bob")],
        [],
        _skipped(preamble=3, blank=1),
    ),
    "2-row header": (
        "Region,,Sales,\nName,Code,Q1,Q2\nnorth,N,10,20\nsouth,S,30\n",
        {"header_rows": 2},
        [(3, "north", "N", "10", "20")],
        [(4, "ragged row: 3 fields, header has 4")],
        _skipped(header=2),
    ),
    "backslash escape": (
        'id,quote\n1,"she said \\"hi\\""\n2,"a\\\\b"\n3,plain\n',
        {"escape": "\\"},
        [(2, "1", 'she said "hi"'), (3, "2", "a\\b"), (4, "3", "plain")],
        [],
        _skipped(),
    ),
    "escape none": (
        'id,v\n1,"x""y"\n2,"z"\n',
        {"escape": "none"},
        [(2, "1", 'x"y"'), (3, "2", "z")],  # the 2nd quote closes the field: the rest is data
        [],
        _skipped(),
    ),
    "quote none": (
        'id,v\n1,5" pipe\n"2",say "hi\n',
        {"quote": "none"},
        [(2, "1", '5" pipe'), (3, '"2"', 'say "hi')],
        [],
        _skipped(),
    ),
    "delimiter comma space": (
        'id, city, note\n1, "Paris, France", ok\n2, Rome, "a, b, c"\n3, x\n',
        {"delimiter": ", "},
        [(2, "1", "Paris, France", "ok"), (3, "2", "Rome", "a, b, c")],
        [(4, "ragged row: 2 fields, header has 3")],
        _skipped(),
    ),
    "delimiter double pipe": (
        'id||v\n1||"x||y"\n2||"multi\nline || here"\n3||z\n',
        {"delimiter": "||"},
        [(2, "1", "x||y"), (3, "2", "multi\nline || here"), (5, "3", "z")],
        [],
        _skipped(),
    ),
    "headerless, 3 columns": (
        "1,2,3\n4,5,6\n7,8\n",
        {"header_rows": 0, "columns": 3},
        [(1, "1", "2", "3"), (2, "4", "5", "6")],
        [(3, "ragged row: 2 fields, `columns:` declares 3")],
        _skipped(header=0),
    ),
    "headerless, named": (
        "7,8\n1,2,3\n\n4,5,6\n",
        {"has_header": False, "columns": ["id", "name", "amount"]},
        [(2, "1", "2", "3"), (4, "4", "5", "6")],
        [(1, "ragged row: 2 fields, `columns:` declares 3")],
        _skipped(header=0, blank=1),
    ),
    "comment lines": (
        '# exported by x\nid,v\n#skip me\n1,"a\n# inside quotes: data"\n'
        '2,"#not a comment"\n# end\n',
        {"comment": "#"},
        [(4, "1", "a\n# inside quotes: data"), (6, "2", "#not a comment")],
        [],
        _skipped(comment=3),
    ),
    "everything at once": (
        "title\n\n; note\nA;;C\nx;y;z\n1;'p;q';3\n; more\n4;5;6\n",
        {"skip_rows": 2, "comment": "; ", "header_rows": 2, "delimiter": ";", "quote": "'"},
        [(6, "1", "p;q", "3"), (8, "4", "5", "6")],
        [],
        _skipped(preamble=2, comment=2, header=2),
    ),
}
HEADERS = {
    "preamble of 3 lines": ["id", "name"],
    "2-row header": ["Region Name", "Code", "Sales Q1", "Q2"],
    "headerless, 3 columns": ["column_1", "column_2", "column_3"],
    "headerless, named": ["id", "name", "amount"],
    "everything at once": ["A x", "y", "C z"],
}


def _oracle(name: str) -> tuple[pl.DataFrame, list[tuple[int, str]], dict[str, int]]:
    text, options, _, _, _ = CASES[name]
    parsed = parse_csv_text(text, CsvOptions(**options))
    rejects = [(r.record, r.reason) for r in parsed.rejects]
    return parsed.frame, rejects, parsed.skipped_lines


@pytest.mark.parametrize("name", list(CASES))
def test_the_oracle_reads_each_dialect(name: str) -> None:
    _, _, rows, rejects, skipped = CASES[name]
    frame, got_rejects, got_skipped = _oracle(name)
    columns = [RECORD_COLUMN, *(c for c in frame.columns if c != RECORD_COLUMN)]
    assert frame.select(columns).rows() == rows
    if name in HEADERS:
        assert frame.columns[:-1] == HEADERS[name]
    assert got_rejects == rejects
    assert got_skipped == skipped


@pytest.mark.parametrize(("size", "block"), CHUNK_SIZES)
@pytest.mark.parametrize("name", list(CASES))
def test_chunks_equal_the_oracle(
    name: str, size: str, block: int | None, write_file: WriteFile
) -> None:
    text, options, rows, _, _ = CASES[name]
    path = write_file("f.csv", text.encode())
    data = path.read_bytes()
    info = FileInfo("s", str(path), hashlib.sha256(data).hexdigest())
    want = read_csv_bytes(data, info, CsvOptions(**options))
    assert isinstance(want, RawBatch) and want.frame.height == len(rows)
    got = LocalFileBatch("s", path, "csv", chunk_size=size, block_bytes=block, **options)
    batch = got.collect()
    assert isinstance(batch, RawBatch)
    assert_frame_equal(batch.frame, want.frame)
    assert batch.rejects == want.rejects


@pytest.mark.parametrize("block", BLOCK_SIZES)
@pytest.mark.parametrize("name", list(CASES))
def test_the_stream_counts_the_skipped_lines(name: str, block: int) -> None:
    text, options, _, _, skipped = CASES[name]
    stream = CsvStream(CsvOptions(**options), target=block, min_chars=0)
    pieces = list(stream.pieces(line_blocks([text], block, universal=True)))
    assert sum(piece.frame.height for piece in pieces) == len(CASES[name][2])
    assert stream.skipped_lines == skipped


def test_comments_and_preamble_stay_on_the_fast_path_after_the_header() -> None:
    body = "".join(f"{i},{i * 2}\n" if i % 10 else f"# note {i}\n" for i in range(1, 2001))
    text = "Report\n(c) someone\nid,v\n" + body
    options = CsvOptions(skip_rows=2, comment="#")
    stream = CsvStream(options, target=256, min_chars=0)
    fast: list[bool] = []
    real = stream._fast_block

    def spy(block: str) -> bool:
        fast.append(real(block))
        return fast[-1]

    stream._fast_block = spy  # type: ignore[method-assign]
    pieces = list(stream.pieces(line_blocks([text], 256, universal=True)))
    assert sum(fast) > len(fast) * 0.9
    frame = pl.concat([p.frame for p in pieces])
    assert_frame_equal(frame, parse_csv_text(text, options).frame)
    assert frame.height == 1800
    assert stream.skipped_lines == _skipped(preamble=2, comment=200)


def test_the_default_dialect_keeps_the_fast_path() -> None:
    text = 'id,v\n1,"a,b"\n2,c\n'
    assert parse_csv_text(text, CsvOptions()).path == "fast"
    assert parse_csv_text(text, CsvOptions(expected_columns=("id", "v"))).path == "fast"
    assert parse_csv_text(text, CsvOptions(quote=None)).path == "fast"
    assert parse_csv_text(text, CsvOptions(escape="\\")).path == "slow"


def test_yaml_null_means_none_for_quote_and_escape(write_file: WriteFile) -> None:
    path = write_file("f.csv", b'id,v\n1,"x"\n')
    source = source_from_config(
        "s", {"kind": "file", "path": str(path), "quote": None, "escape": None}, path.parent
    )
    assert isinstance(source, FileSource) and (source.quote, source.escape) == ("none", "none")
    batch = source.read_file(path, "csv")
    assert isinstance(batch, RawBatch) and batch.frame["v"].to_list() == ['"x"']


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"skip_rows": -1}, r"skip_rows -1 is not valid: .* e\.g\. `skip_rows: 3`"),
        ({"skip_rows": "3"}, r"skip_rows '3' is not valid"),
        ({"header_rows": -2}, r"header_rows -2 is not valid: .*e\.g\. `header_rows: 2`"),
        ({"delimiter": ""}, r"delimiter '' is not valid: .*e\.g\. ','"),
        ({"delimiter": "a\nb"}, r"delimiter 'a\\nb' is not valid"),
        ({"delimiter": '"|'}, r"""delimiter '"\|' contains the quote char '"'"""),
        ({"quote": "ab"}, r"quote 'ab' is not valid: .*or none for no quoting"),
        ({"escape": "ab"}, r"escape 'ab' is not valid: .*e\.g\. '\\\\'"),
        ({"escape": ""}, r"escape '' is not valid"),
        ({"delimiter": "\\|", "escape": "\\"}, r"escape '\\\\' is part of the delimiter"),
        ({"comment": ""}, r"comment '' is not valid: .*e\.g\. '#'"),
        ({"columns": 3}, r"columns 3 \(a field count\) contradicts header_rows 1"),
        ({"columns": 0, "header_rows": 0}, r"columns 0 is not valid: .*e\.g\. `columns: 3`"),
        ({"columns": []}, r"columns \[\] is not valid: give one non-empty name per field"),
        ({"columns": ["a", "a"]}, r"columns \['a', 'a'\] is not valid: names must differ"),
        ({"columns": ["a", "_tidegate_record"]}, r"_tidegate_record is the lineage column"),
        ({"has_header": False, "header_rows": 2}, r"has_header false contradicts header_rows 2"),
    ],
)
def test_each_bad_option_is_one_clear_line(options: dict[str, Any], match: str) -> None:
    with pytest.raises(SourceConfigError, match=match) as info:
        FileSource("s", "*.csv", **options)
    assert "\n" not in str(info.value).replace("'a\\nb'", "")


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("header_rows", "two", r"option 'header_rows' is 'two' \(str\); expected an integer"),
        ("columns", {"a": 1}, r"option 'columns' is a mapping .*expected an integer or a list"),
        ("comment", 1, r"option 'comment' is 1 \(int\); expected a string"),
    ],
)
def test_pipeline_file_types_are_checked(option: str, value: Any, match: str) -> None:
    with pytest.raises(SourceConfigError, match=match):
        source_from_config("s", {"kind": "file", "path": "*.csv", option: value}, Path("."))


def test_a_stray_quote_in_the_header_does_not_swallow_the_file() -> None:
    text = 'id,"amount,note\n1,2,x\n3,4,y\n'
    options = CsvOptions(expected_columns=("id", "amount", "note"))
    for path in ("auto", "slow"):
        parsed = parse_csv_text(text, options, path=path)  # type: ignore[arg-type]
        assert parsed.frame.rows() == [("1", "2", "x", 2), ("3", "4", "y", 3)]
        (reject,) = parsed.rejects
        assert (reject.record, reject.raw) == (1, 'id,"amount,note')
        assert reject.reason.startswith("malformed header: 2 fields where the contract declares")
    for block in BLOCK_SIZES:
        stream = CsvStream(options, target=block, min_chars=0)
        pieces = list(stream.pieces(line_blocks([text], block, universal=True)))
        assert [r for p in pieces for r in p.rejects] == parsed.rejects
        assert_frame_equal(pl.concat([p.frame for p in pieces]), parsed.frame)


DIALECTS: list[dict[str, Any]] = [
    {"skip_rows": 2},
    {"header_rows": 2},
    {"header_rows": 0, "columns": 3},
    {"header_rows": 0, "columns": ["a", "b", "c"]},
    {"comment": "#"},
    {"comment": "#", "skip_rows": 1, "header_rows": 2},
    {"escape": "\\"},
    {"escape": "none"},
    {"quote": None},
    {"delimiter": "||"},
    {"delimiter": ", ", "comment": "#"},
    {"columns": ["a", "b", "c"]},
    {"expected_columns": ("a", "b", "c")},
    {"expected_columns": ("a", "b", "c"), "comment": "#", "delimiter": "||"},
]
_PIECES = st.sampled_from(
    ["x", "y1", "", " ", '"', '""', "\\", '\\"', "#", ",", "|", "||", ", ", "\n"]
)


@st.composite
def dialect_texts(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A random text for a random dialect: mostly 3 fields, some ragged, quoted fields
    with the delimiter, escapes, comment-like values, blank lines, stray quotes."""
    options = dict(draw(st.sampled_from(DIALECTS)))
    delimiter = options.get("delimiter", ",")
    lines = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append("")
        elif kind == 1:
            lines.append("#" + draw(st.text('ab","', max_size=4)))
        else:
            count = 3 if kind > 3 else draw(st.integers(1, 5))
            fields = []
            for _ in range(count):
                value = "".join(draw(st.lists(_PIECES, max_size=3)))
                if draw(st.booleans()):
                    value = '"' + value.replace('"', '""') + '"'
                else:
                    value = value.replace("\n", "")
                fields.append(value)
            lines.append(delimiter.join(fields))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return ending.join(lines) + (ending if draw(st.booleans()) else ""), options


@settings(max_examples=300, deadline=None)
@given(dialect_texts(), st.integers(1, 40))
def test_random_dialects_stream_as_the_oracle_reads(
    case: tuple[str, dict[str, Any]], block: int
) -> None:
    text, options = case
    csv_options = CsvOptions(**options)
    want = parse_csv_text(text, csv_options)
    slow = parse_csv_text(text, csv_options, path="slow")
    assert_frame_equal(want.frame, slow.frame)
    assert want.rejects == slow.rejects
    stream = CsvStream(csv_options, target=block, min_chars=0)
    pieces = list(stream.pieces(line_blocks([text], block, universal=True)))
    frames = [p.frame for p in pieces if p.frame.height] or [pieces[-1].frame]
    assert_frame_equal(pl.concat(frames), want.frame)
    assert [r for p in pieces for r in p.rejects] == want.rejects
    assert stream.skipped_lines == want.skipped_lines


def test_a_malformed_header_hands_back_to_the_fast_path_once_decided() -> None:
    """Records are held (exact path) only until the header is decided."""
    text = "id,amount\n" + "".join(f"{i},{i}.5,c{i}\n" for i in range(3000))
    options = CsvOptions(expected_columns=("id", "amount", "customer"))
    stream = CsvStream(options, target=512, min_chars=0)
    fast: list[bool] = []
    real = stream._fast_block

    def spy(block: str) -> bool:
        fast.append(real(block))
        return fast[-1]

    stream._fast_block = spy  # type: ignore[method-assign]
    pieces = list(stream.pieces(line_blocks([text], 512, universal=True)))
    assert fast[0] is False and sum(fast) > len(fast) * 0.9
    frame = pl.concat([p.frame for p in pieces if p.frame.height])
    assert frame.columns == ["id", "amount", "customer", RECORD_COLUMN]
    assert frame.height == 3000 and frame.row(-1) == ("2999", "2999.5", "c2999", 3001)
    (reject,) = [r for p in pieces for r in p.rejects]
    assert (reject.record, reject.raw) == (1, "id,amount")
