"""DuckDB's sniff_csv, mapped to tidegate's CSV options: what it finds, what the user
gives instead, and the defaults (said in one line) when it fails or is unsure."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from csv_dialects import CASES
from tidegate.errors import SourceConfigError
from tidegate.sources import _sniff
from tidegate.sources._sniff import (
    Dialect,
    DialectGiven,
    detect_dialect,
    read_csv_with_duckdb,
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_sniff_csv_finds_the_dialect_and_duckdb_reads_it(tmp_path: Path, case: str) -> None:
    text, expected, options, names, second = CASES[case]
    path = write(tmp_path, case, text)
    dialect = detect_dialect(path)
    assert dialect == expected
    assert dialect.fallback is None
    assert dialect.to_options() == options
    for key in options:
        assert dialect.reason(key), key  # every option says why
    frame, notes = read_csv_with_duckdb(path, dialect)
    assert frame.columns == names
    assert frame.height == 3 and notes == []
    assert frame.get_column(names[1]).to_list() == second


def test_a_reader_without_header_rows_gets_the_older_spelling() -> None:
    headerless = Dialect(header_rows=0, columns=4)
    old_reader = {"kind", "path", "format", "delimiter", "quote", "encoding", "has_header"}
    assert headerless.to_options(old_reader) == {"has_header": False}
    assert headerless.to_options(old_reader | {"header_rows", "columns"}) == {
        "header_rows": 0,
        "columns": 4,
    }
    assert headerless.reason("has_header") == headerless.reason("header_rows")


def test_the_defaults_have_no_options_and_say_so() -> None:
    assert Dialect().to_options() == {}
    assert "the defaults" in Dialect().summary()
    assert Dialect(quote=None, escape=None).to_options() == {"quote": "none"}
    assert Dialect(escape=None).to_options() == {"escape": "none"}


def test_what_the_user_gives_wins_over_the_sniffer(tmp_path: Path) -> None:
    path = write(tmp_path, "preamble", CASES["preamble"][0])
    given = DialectGiven(delimiter=",", skip_rows=0, header=False, quote="none")
    dialect = detect_dialect(path, given)
    assert (dialect.delimiter, dialect.skip_rows, dialect.header_rows) == (",", 0, 0)
    assert dialect.quote is None
    assert dialect.reason("delimiter") == "given: --delimiter"
    assert dialect.reason("skip_rows") == "given: --skip-rows"
    assert dialect.reason("header_rows") == "given: --no-header"
    assert dialect.to_options()["quote"] == "none"


def test_a_quote_char_that_quotes_nothing_is_quote_none(tmp_path: Path) -> None:
    path = write(tmp_path, "inches", 'id;size\n1;5" pipe\n2;3" pipe\n3;1" bolt\n')
    dialect = detect_dialect(path)
    assert dialect.delimiter == ";"
    assert dialect.to_options()["quote"] == "none"
    frame, _ = read_csv_with_duckdb(path, dialect)
    assert frame.get_column("size").to_list() == ['5" pipe', '3" pipe', '1" bolt']


def test_a_cp1252_file_is_detected_and_read(tmp_path: Path) -> None:
    path = write(tmp_path, "latin", "id;city\n1;Zürich\n2;Genève\n3;Köln\n", "cp1252")
    dialect = detect_dialect(path)
    assert dialect.to_options() == {"delimiter": ";", "encoding": "cp1252"}
    assert "not UTF-8" in dialect.reason("encoding")
    frame, _ = read_csv_with_duckdb(path, dialect)
    assert frame.get_column("city").to_list() == ["Zürich", "Genève", "Köln"]


def test_a_given_encoding_that_does_not_decode_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,name\n1,\xff\xfe\xfa\n")
    with pytest.raises(SourceConfigError, match=r"cannot read .* as ascii: byte 0xff.*--encoding"):
        detect_dialect(path, DialectGiven(encoding="ascii"))


def test_one_column_on_a_file_with_delimiters_is_unsure_and_the_defaults_are_used(
    tmp_path: Path,
) -> None:
    # a ragged row makes sniff_csv settle on one column though every line has commas
    path = write(tmp_path, "ragged", "id,name\n1,a\n2,b,c\n3,d\n")
    dialect = detect_dialect(path)
    assert dialect == Dialect(columns=0)
    assert dialect.fallback is not None and "unsure" in dialect.fallback
    assert dialect.summary().endswith("using the defaults")
    assert "\n" not in dialect.summary()


def test_a_sniffer_that_raises_means_the_defaults_said_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "semicolon", CASES["semicolon"][0])

    def refuse(_: Path) -> dict[str, object]:
        raise duckdb.InvalidInputException(f'Error when sniffing file "{path}".\nmore detail')

    monkeypatch.setattr(_sniff, "_sniff", refuse)
    dialect = detect_dialect(path)
    assert dialect == Dialect()
    assert dialect.to_options() == {}
    assert dialect.summary() == (
        f'DuckDB sniff_csv could not tell the dialect (Error when sniffing file "{path}".); '
        "using the defaults"
    )


def test_an_empty_file_is_the_defaults_without_asking_the_sniffer(tmp_path: Path) -> None:
    path = write(tmp_path, "empty", "")
    dialect = detect_dialect(path)
    assert dialect == Dialect() and dialect.fallback is None


def test_records_duckdb_cannot_split_are_left_out_and_counted_in_a_note(tmp_path: Path) -> None:
    path = write(tmp_path, "ragged", "id;name\n1;a\n2;b;c\n3;d\n")
    frame, notes = read_csv_with_duckdb(path, Dialect(delimiter=";", skip_rows=0))
    assert frame.get_column("id").to_list() == ["1", "3"]
    assert len(notes) == 1 and "quarantines them" in notes[0]


def test_given_options_stay_when_the_sniffer_is_unsure_and_the_line_says_both(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "ragged", "id,name\n1,a\n2,b,c\n3,d\n")
    dialect = detect_dialect(path, DialectGiven(header=False, delimiter=";"))
    assert (dialect.delimiter, dialect.header_rows, dialect.columns) == (";", 0, 0)
    assert dialect.to_options() == {"delimiter": ";", "header_rows": 0}  # no count known
    assert dialect.summary().endswith("using the defaults and delimiter ';', header_rows 0")
