"""No CSV record merged or lost (``_csv_records.py``): stray and unclosed quotes, quoted
headers, csv.Errors; and every physical line accounted for exactly once, on both
readers (the whole text, and block by block at random block sizes)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tidegate.batches import RECORD_COLUMN, LineCounts, RawBatch, RecordReject
from tidegate.sources import LocalFileBatch
from tidegate.sources._csv import CsvOptions, ParsedCsv, parse_csv_text
from tidegate.sources._csv_dialect import reader_kwargs, split_line
from tidegate.sources._csv_records import doubles_quotes, quote_problem

_LINE_END = re.compile(r"\r\n|\r|\n")
_SEP = "\x1f"  # between a record's values when counting its line ends ("\r" + "\n": two)


def both(text: str, tmp_path: Path, **options: Any) -> tuple[ParsedCsv, list[RawBatch]]:
    """The whole-text reader's result, and the streaming reader's at several block sizes
    (each checked equal to the whole text's, line figures included)."""
    want = parse_csv_text(text, CsvOptions(**options))
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    got = []
    for size, block in (("1 B", None), ("7 B", None), ("40 B", None), ("1MiB", None), (2, 3)):
        file = LocalFileBatch("s", path, "csv", chunk_size=size, block_bytes=block, **options)
        batch = file.collect()
        assert isinstance(batch, RawBatch)
        assert_frame_equal(batch.frame, want.frame)
        assert list(batch.rejects) == want.rejects
        assert file.line_counts == want.line_counts
        got.append(batch)
    return want, got


def test_quote_problem_names_the_field_and_the_fix() -> None:
    options = CsvOptions()
    assert quote_problem('1,"a""b",""', options) is None
    assert quote_problem("1,plain,3", options) is None
    assert quote_problem('1,ab"c,3', options) == (
        'stray quote in field 2 ("ab"c"): quote a field that contains quotes and double '
        'them ("ab""c")'
    )
    assert quote_problem('1,"ab"c,3', options) == (
        'stray quote in field 2 (""ab"c"): quote a field that contains quotes and double '
        'them ("""ab""c")'
    )
    assert quote_problem('"x" ,2', options) is not None  # a space after the closing quote
    assert quote_problem('1,"abc', options) == (
        'unclosed quote in field 2 ("abc): close the quote, or double a quote that is '
        'part of the value ("")'
    )
    assert quote_problem('1,"ab""', options) is not None and "unclosed" in str(
        quote_problem('1,"ab""', options)
    )  # the last two quotes are one quote inside the field: never closed
    long = quote_problem('1,"' + "x" * 200, options)
    assert long is not None and len(long) < 200 and "..." in long
    semi = CsvOptions(delimiter=";", quote="'")
    assert quote_problem("1;it's", semi) is not None and quote_problem("1;'it''s'", semi) is None


def test_the_rule_follows_the_dialect() -> None:
    """Quotes in the middle of a field are findings only where quotes are doubled (the
    escape char is the quote char, the default); the csv module is built the same way
    for both readers and for a line read on its own."""
    escaped, unquoted = CsvOptions(escape="\\"), CsvOptions(quote=None)
    assert doubles_quotes(CsvOptions()) and doubles_quotes(CsvOptions(quote="'", escape="'"))
    assert not doubles_quotes(escaped) and not doubles_quotes(unquoted)
    assert not doubles_quotes(CsvOptions(escape="none"))
    assert reader_kwargs(escaped)["escapechar"] == "\\"
    assert reader_kwargs(unquoted)["quoting"] == csv.QUOTE_NONE
    assert split_line('1,"a\\"b",c', escaped) == ["1", 'a"b', "c"]
    assert split_line("1||a|b||c", CsvOptions(delimiter="||")) == ["1", "a|b", "c"]


def test_a_stray_quote_at_a_rows_end_splits_nothing(tmp_path: Path) -> None:
    want, _ = both('a,b,c\n1,2,3\n3,abc",x\n4,5,6\n', tmp_path)
    assert want.frame.rows() == [("1", "2", "3", 2), ("4", "5", "6", 4)]
    assert [(r.record, r.raw) for r in want.rejects] == [(3, '3,abc",x')]
    assert want.rejects[0].reason.startswith('stray quote in field 2 ("abc"")')


def test_an_unclosed_quote_no_longer_joins_records(tmp_path: Path) -> None:
    want, _ = both('a,b,c\n1,2,3\n3,"abc,x\n4,5,6\n\n7,8,9\n', tmp_path)
    assert want.frame.rows() == [("1", "2", "3", 2), ("4", "5", "6", 4), ("7", "8", "9", 6)]
    assert want.rejects == [
        RecordReject(
            3,
            '3,"abc,x',
            "ragged row: 2 fields, header has 3 (an unclosed quote at line 3 ran into the "
            "next lines; each line read on its own)",
        )
    ]
    assert want.line_counts == LineCounts(6, 4, 4, {"header": 1, "blank": 1})


def test_a_quote_open_at_the_end_of_the_file(tmp_path: Path) -> None:
    """Its lines no longer merge into one value: a finding for the line where it opened,
    every later line read on its own."""
    want, _ = both('a,b\n1,"abc\n2,def\n3,ghi', tmp_path)
    assert want.frame.rows() == [("2", "def", 3), ("3", "ghi", 4)]
    (reject,) = want.rejects
    assert (reject.record, reject.raw) == (2, '1,"abc')
    assert reject.reason.startswith('unclosed quote in field 2 ("abc)')
    # on the last line alone: one record, one finding
    want, _ = both('a,b\n1,2\n3,"open', tmp_path)
    assert [(r.record, r.raw) for r in want.rejects] == [(3, '3,"open')]


def test_a_multi_line_record_of_the_right_width_stays_one(tmp_path: Path) -> None:
    want, _ = both('a,b\n1,"x\r\ny ""q"""\n2,3\n', tmp_path)
    assert want.frame.rows() == [("1", 'x\r\ny "q"', 2), ("2", "3", 4)]
    assert want.rejects == [] and want.line_counts == LineCounts(4, 2, 3, {"header": 1})


def test_a_header_that_spans_lines_is_a_finding(tmp_path: Path) -> None:
    want, _ = both('id,"na\nme",x\n1,2\n3,4,5\n', tmp_path)
    assert want.frame.columns == ["id", "na", RECORD_COLUMN]
    assert want.frame.rows() == [("1", "2", 3)]
    assert [(r.record, r.raw) for r in want.rejects] == [(1, 'id,"na'), (2, 'me",x'), (4, "3,4,5")]
    assert want.rejects[0].reason == (
        "malformed header: a quote opened in the header ran into line 2; header read from "
        "line 1 alone, its quotes dropped (id,na)"
    )
    assert want.rejects[1].reason.endswith(
        "(a quote opened in the header ran into this line; each line read on its own)"
    )
    assert want.line_counts == LineCounts(4, 4, 4, {})


def test_quotes_in_the_middle_of_fields(tmp_path: Path) -> None:
    want, _ = both('a,b,c\n1,ab"c,3\n2,"ab"c,3\n3,"a""b",3\n', tmp_path)
    assert want.frame.rows() == [("3", 'a"b', "3", 4)]
    assert [r.record for r in want.rejects] == [2, 3]
    assert all(r.reason.startswith("stray quote in field 2") for r in want.rejects)
    for line in ('1,ab"c,3', '1,"ab"c,3', '1, "ab",3', '1,"ab'):
        with pytest.raises(ValueError, match="does not apply"):  # the exact path decides
            parse_csv_text(f"a,b,c\n{line}\n", CsvOptions(), path="fast")


# --- every physical line accounted for exactly once ------------------------------------

_VALUE = st.text(alphabet='ab ,;"\r\n', max_size=6)


@st.composite
def messy_csv(draw: st.DrawFn) -> tuple[str, str]:
    """CSV text with random quoting, delimiters, line ends (mixed), blank lines, stray
    quotes inserted anywhere, and ragged rows."""
    delimiter = draw(st.sampled_from([",", ";"]))
    width = draw(st.integers(1, 4))
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append("")
            continue
        count = width if kind > 2 else draw(st.integers(1, 6))
        fields = []
        for _ in range(count):
            value = draw(_VALUE)
            style = draw(st.sampled_from(["plain", "plain", "quoted", "raw"]))
            if style == "quoted":
                value = '"' + value.replace('"', '""') + '"'
            elif style == "plain":
                value = "".join(c for c in value if c not in f'"\r\n{delimiter}')
            fields.append(value)
        line = delimiter.join(fields)
        if draw(st.integers(0, 5)) == 0:  # a stray quote anywhere
            at = draw(st.integers(0, len(line)))
            line = line[:at] + '"' + line[at:]
        lines.append(line)
    text = ""
    for line in lines:
        text += line + draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if text and draw(st.booleans()):
        text = text[: -2 if text.endswith("\r\n") else -1]  # no line end at the end
    return text, delimiter


def _span(text: str) -> int:
    return len(_LINE_END.findall(text)) + 1


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    messy_csv(),
    st.booleans(),
    st.one_of(
        st.integers(1, 5).map(lambda n: f"{n} rows"), st.integers(1, 50).map(lambda n: f"{n} B")
    ),
    st.integers(1, 30),
)
def test_every_physical_line_is_accounted_for_once(
    tmp_path: Path, case: tuple[str, str], has_header: bool, size: str, block: int
) -> None:
    text, delimiter = case
    options = CsvOptions(delimiter=delimiter, has_header=has_header)
    lines = _LINE_END.split(text)
    if text == "" or _LINE_END.fullmatch(text[-2:]) or text.endswith(("\n", "\r")):
        lines = lines[:-1]  # a final line end ends the last line: no empty line after it
    physical = len(lines)
    for path in ("auto", "slow"):
        parsed = parse_csv_text(text, options, path=path)  # type: ignore[arg-type]
        file_path = tmp_path / "f.csv"
        file_path.write_bytes(text.encode())
        file = LocalFileBatch(
            "s",
            file_path,
            "csv",
            delimiter=delimiter,
            has_header=has_header,
            chunk_size=size,
            block_bytes=block if "rows" in size else None,
        )
        streamed = file.collect()
        assert isinstance(streamed, RawBatch)
        assert_frame_equal(streamed.frame, parsed.frame)
        assert list(streamed.rejects) == parsed.rejects
        assert file.line_counts == parsed.line_counts
        counts = parsed.line_counts
        assert counts.physical == physical
        # each record covers its start line and the line ends inside it
        covered: dict[int, str] = {}
        values = [c for c in parsed.frame.columns if c != RECORD_COLUMN]
        spans = [
            (int(row[RECORD_COLUMN]), _span(_SEP.join(row[c] for c in values)))
            for row in parsed.frame.iter_rows(named=True)
        ] + [(r.record, _span(r.raw)) for r in parsed.rejects]
        for start, span in spans:
            for line in range(start, start + span):
                assert line not in covered, (line, covered)
                covered[line] = "record"
        assert counts.records == len(spans)
        # no reject holds more than its own line: a record of several lines that came
        # out wrong was read line by line
        assert all(_span(r.raw) == 1 for r in parsed.rejects), parsed.rejects
        assert counts.record_lines == sum(span for _, span in spans)
        # every other line is blank, or the header (the first non-blank line)
        rest = [n for n in range(1, physical + 1) if n not in covered]
        blank = [n for n in rest if lines[n - 1] == ""]
        header = [n for n in rest if lines[n - 1] != ""]
        assert len(header) <= 1 and (not header or has_header)
        if header:
            assert all(lines[n - 1] == "" for n in range(1, header[0]))
        assert counts.skipped == {
            k: v for k, v in {"blank": len(blank), "header": len(header)}.items() if v
        }
        assert counts.accounted == physical


def test_a_header_the_csv_module_cannot_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A csv.Error on the header (a field over the size limit) is a finding for line 1;
    the header is split on the delimiter and the records after it are read."""
    from tidegate.sources import _csv as csv_module
    from tidegate.sources import _csv_stream

    limit = csv.field_size_limit()
    monkeypatch.setattr(csv_module, "_FIELD_SIZE_LIMIT", 8)
    monkeypatch.setattr(_csv_stream, "_FIELD_SIZE_LIMIT", 8)
    csv.field_size_limit(8)
    try:
        want, _ = both("a§very long name\n1§2\n", tmp_path, delimiter="§")
    finally:
        csv.field_size_limit(limit)
    assert want.frame.columns == ["a", "very long name", RECORD_COLUMN]
    assert want.frame.rows() == [("1", "2", 2)]
    assert want.rejects == [
        RecordReject(
            1,
            "a§very long name",
            "malformed header: the csv reader failed on line 1 (field larger than field "
            "limit (8)); header read from line 1 alone",
        )
    ]
    assert want.line_counts == LineCounts(2, 2, 2, {})


# --- the same, in every dialect --------------------------------------------------------

_PIECE = st.sampled_from(["a", "b1", "", " ", '"', '""', "\\", '\\"', "#", ",", ";", "||", "\n"])
_HEADER_REJECT = ("malformed header", "header does not match")


@st.composite
def dialect_csv(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Text in a random dialect (preamble, comments, multi-row or no header, ``columns:``,
    the contract's columns, escapes, no quoting, multi-character delimiters) with quoted
    line breaks, stray quotes, ragged rows, blank and comment-like lines."""
    delimiter = draw(st.sampled_from([",", ";", "||", ", "]))
    quote = draw(st.sampled_from(['"', '"', "'", None]))
    escape = draw(st.sampled_from([None, None, "\\", "none"]))
    width = draw(st.integers(1, 4))
    names = tuple(f"c{i}" for i in range(width))
    options: dict[str, Any] = {"delimiter": delimiter, "quote": quote, "escape": escape}
    options["skip_rows"] = draw(st.integers(0, 3))
    options["comment"] = draw(st.sampled_from([None, "#", "//"]))
    header_rows = draw(st.integers(0, 3))
    options["header_rows"] = header_rows
    columns = draw(st.sampled_from(["none", "count", "names"]))
    if columns == "count" and header_rows == 0:
        options["columns"] = width
    elif columns == "names":
        options["columns"] = list(names)
    if draw(st.booleans()):
        options["expected_columns"] = names
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 11))
        if kind == 0:
            lines.append("")
        elif kind == 1:
            lines.append(draw(st.sampled_from(["#", "//", "# x", '#"', "//a,b"])))
        else:
            count = width if kind > 4 else draw(st.integers(1, 6))
            fields = []
            for _ in range(count):
                value = "".join(draw(st.lists(_PIECE, max_size=3)))
                if quote is not None and draw(st.booleans()):
                    value = quote + value.replace(quote, quote + quote) + quote
                else:
                    value = value.replace("\n", "")
                fields.append(value)
            lines.append(delimiter.join(fields))
    # an escape char at a physical line's end takes the line end into the value, even
    # where the line is the file's last or is read alone (a line break the spans below
    # would count as one more line); and before "\r\n" it escapes the "\r" alone
    ending = "\n" if escape == "\\" else draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines) + (ending if lines and draw(st.booleans()) else "")
    if escape == "\\":  # no escape char at a physical line's end
        text = text.replace("\\\n", "\\a\n") + ("a" if text.endswith("\\") else "")
    return text, options


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    dialect_csv(),
    st.one_of(
        st.integers(1, 5).map(lambda n: f"{n} rows"), st.integers(1, 50).map(lambda n: f"{n} B")
    ),
    st.integers(1, 30),
)
def test_every_physical_line_is_accounted_for_once_in_every_dialect(
    tmp_path: Path, case: tuple[str, dict[str, Any]], size: str, block: int
) -> None:
    text, options = case
    csv_options = CsvOptions(**options)
    lines = _LINE_END.split(text)
    if text == "" or text.endswith("\n"):
        lines = lines[:-1]  # a final line end ends the last line: no empty line after it
    physical = len(lines)
    file_path = tmp_path / "f.csv"
    file_path.write_bytes(text.encode())
    want = parse_csv_text(text, csv_options, path="slow")
    for path in ("auto", "slow"):
        parsed = parse_csv_text(text, csv_options, path=path)  # type: ignore[arg-type]
        assert_frame_equal(parsed.frame, want.frame)
        assert parsed.rejects == want.rejects and parsed.line_counts == want.line_counts
    file = LocalFileBatch(
        "s",
        file_path,
        "csv",
        chunk_size=size,
        block_bytes=block if "rows" in size else None,
        **options,
    )
    streamed = file.collect()
    assert isinstance(streamed, RawBatch)
    assert_frame_equal(streamed.frame, want.frame)
    assert list(streamed.rejects) == want.rejects
    assert file.line_counts == want.line_counts
    counts = want.line_counts
    assert counts.physical == physical and counts.accounted == physical
    # each record covers its start line and the line ends inside it; the header's reject
    # covers its rows' lines (not always next to each other: blank or comment lines between)
    values = [c for c in want.frame.columns if c != RECORD_COLUMN]
    # (where no rule holds quotes (another escape char, ``escape: none``), a quote left
    # open in the last record takes the file's last line end into its value: a record
    # ends at the file's end at the latest)
    spans = [
        (start, min(_span(_SEP.join(row[c] for c in values)), physical - start + 1))
        for row in want.frame.iter_rows(named=True)
        for start in [int(row[RECORD_COLUMN])]
    ] + [(r.record, _span(r.raw)) for r in want.rejects if not r.reason.startswith(_HEADER_REJECT)]
    header_rejects = [r for r in want.rejects if r.reason.startswith(_HEADER_REJECT)]
    assert len(header_rejects) <= 1
    header_reject_lines = sum(_span(r.raw) for r in header_rejects)
    covered: set[int] = set()
    for start, span in spans:
        for line in range(start, start + span):
            assert line not in covered, (line, spans)
            covered.add(line)
    covered.update(r.record for r in header_rejects)
    assert counts.records == len(spans) + len(header_rejects)
    assert counts.record_lines == sum(span for _, span in spans) + header_reject_lines
    # no data reject holds more than its own line: a record of several lines that came out
    # wrong was read line by line
    assert all(span == 1 for _, span in spans[want.frame.height :]), want.rejects
    # every other line is in the preamble, blank, a comment, or a header row
    rest = [n for n in range(1, physical + 1) if n not in covered]
    skip_rows, comment = csv_options.skip_rows, csv_options.comment
    preamble = [n for n in rest if n <= skip_rows]
    blank = [n for n in rest if n > skip_rows and lines[n - 1] == ""]
    comments = [n for n in rest if n > skip_rows and comment and lines[n - 1].startswith(comment)]
    header = len(rest) - len(preamble) - len(blank) - len(comments)
    wanted = {"preamble": len(preamble), "comment": len(comments), "blank": len(blank)}
    assert {kind: counts.skipped.get(kind, 0) for kind in wanted} == wanted
    assert header == counts.skipped.get("header", 0) + header_reject_lines - len(header_rejects)
    assert counts.skipped.get("header", 0) + header_reject_lines <= csv_options.rows_of_header
