"""Detect a CSV file's dialect with DuckDB's ``sniff_csv``, for `schema infer` and `new source`.

DuckDB's sniffer (a tested one: we do not write our own) finds the delimiter, quote and
escape chars, the preamble lines before the header, and whether there is a header. The
result is a :class:`Dialect`: the pipeline-file options of ``kind: file, format: csv``
(only the ones that differ from the defaults) with a reason for each. What the user
passes wins over the sniffer. When the sniffer fails or is unsure, the defaults are
used and :attr:`Dialect.fallback` says why, in one line.

A sample whose options the tidegate reader does not read is read with DuckDB's
``read_csv`` (:func:`read_csv_with_duckdb`): every column as a string, so the guess
sees the right columns. DuckDB here parses a file; it is not the store.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from tidegate.errors import SourceConfigError
from tidegate.sources._text import check_encoding, unique_names

_SAMPLE_BYTES = 1 << 20  # what the encoding and the "unsure" checks look at
_DELIMITER_CANDIDATES = (",", ";", "\t", "|")
_NO_NULL = "\x01"  # never in a text file: empty fields stay "" as the tidegate reader has them


def _shown(char: str | None) -> str:
    return "none" if char is None else repr(char)


@dataclass(frozen=True)
class DialectGiven:
    """What the user passed on the command line; None: detect it."""

    delimiter: str | None = None
    quote: str | None = None  # "none": no quoting
    skip_rows: int | None = None
    header: bool | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is split into fields, as pipeline-file options.

    ``quote`` None means no quoting (``quote: none``); ``escape`` None means no escape
    char, and the default is the quote char (a doubled quote). ``columns`` is the field
    count of the first record. ``why`` holds one reason per option that differs from
    the default; ``fallback`` says why the defaults were used instead of the sniffer.
    """

    delimiter: str = ","
    quote: str | None = '"'
    escape: str | None = '"'
    skip_rows: int = 0
    header_rows: int = 1
    columns: int = 0
    encoding: str = "utf-8"
    why: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    fallback: str | None = field(default=None, compare=False)

    def to_options(self, known: Collection[str] | None = None) -> dict[str, Any]:
        """The pipeline-file keys that differ from the defaults, in file order.

        ``known`` is the set of keys the installed reader accepts: a headerless file is
        ``header_rows: 0``, or ``has_header: false`` (the older spelling) for a reader
        that knows only that; ``columns:`` (its field count) is left out for a reader
        that does not know it.
        """
        out: dict[str, Any] = {}
        if self.delimiter != ",":
            out["delimiter"] = self.delimiter
        if self.quote != '"':
            out["quote"] = "none" if self.quote is None else self.quote
        if self.quote is not None and self.escape != self.quote:
            out["escape"] = "none" if self.escape is None else self.escape
        if self.skip_rows:
            out["skip_rows"] = self.skip_rows
        if self.header_rows != 1:
            old = known is not None and "header_rows" not in known and "has_header" in known
            if old and self.header_rows == 0:
                out["has_header"] = False
            else:
                out["header_rows"] = self.header_rows
            if self.columns and (known is None or "columns" in known):
                out["columns"] = self.columns
        if check_encoding(self.encoding) != "utf-8":
            out["encoding"] = self.encoding
        return out

    def reason(self, key: str) -> str:
        """Why ``key`` has its value (``has_header`` shares the reason of ``header_rows``)."""
        return self.why.get("header_rows" if key == "has_header" else key, "")

    def summary(self, known: Collection[str] | None = None) -> str:
        """One line for a person: what was found, or that the defaults are used."""
        options = self.to_options(known)
        shown = ", ".join(
            f"{key} {_shown(value) if key in ('delimiter', 'quote', 'escape') else value}"
            for key, value in options.items()
        )
        if self.fallback:
            return f"{self.fallback}; using the defaults" + (f" and {shown}" if shown else "")
        return shown or "the defaults: ',' delimiter, '\"' quote, one header row, utf-8"


def detect_encoding(path: Path) -> tuple[str, str | None]:
    """The encoding of the file's first MiB, and why when it is not UTF-8."""
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "the file starts with a UTF-16 byte order mark"
    if b"\x00" in head:
        return "utf-8", None  # binary, not text: the reader says why it cannot read it
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8", None
    except UnicodeDecodeError as exc:
        bad = f"byte 0x{head[exc.start]:02x} at offset {exc.start} is not UTF-8"
    try:
        head.decode("cp1252")
        return "cp1252", f"{bad}; cp1252 (Windows Western) reads it: check accented letters"
    except UnicodeDecodeError:
        return "latin-1", f"{bad}; latin-1 reads any byte: check accented letters"


@contextmanager
def _utf8_path(path: Path, encoding: str) -> Iterator[Path]:
    """``path`` itself when it is UTF-8, else a UTF-8 copy DuckDB can read."""
    if check_encoding(encoding) == "utf-8":
        yield path
        return
    try:
        text = path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceConfigError(
            f"cannot read {path} as {encoding}: byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start} is not valid; pass --encoding (e.g. cp1252, latin-1, utf-16)"
        ) from None
    with tempfile.TemporaryDirectory(prefix="tidegate-sniff-") as folder:
        copy = Path(folder) / path.name
        copy.write_text(text, encoding="utf-8")
        yield copy


def _sniff(path: Path) -> dict[str, Any]:
    """DuckDB's ``sniff_csv`` of the file (its first 20480 rows), as a dict of its columns."""
    import duckdb

    relation = duckdb.table_function("sniff_csv", [str(path)])
    rows = relation.fetchall()
    if not rows:
        raise ValueError("sniff_csv returned nothing")
    return dict(zip(relation.columns, rows[0], strict=True))


def _char(found: object) -> str | None:
    """A sniffed char, None for DuckDB's ``(empty)``."""
    return None if found in (None, "", "(empty)") else str(found)


def _first_line(exc: BaseException) -> str:
    return next(
        (line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__
    )


def _ask_the_sniffer(
    path: Path, encoding: str
) -> tuple[dict[str, Any], list[str], str, str | None]:
    """What sniff_csv found (empty when it failed or is unsure), the column names it
    found, the decoded start of the file, and why the defaults are used instead."""
    found: dict[str, Any] = {}
    fallback: str | None = None
    with _utf8_path(path, encoding) as readable:
        with readable.open("rb") as handle:
            head = handle.read(_SAMPLE_BYTES).decode("utf-8", errors="replace")
        try:
            found = _sniff(readable) if head.strip() else {}  # nothing to sniff: the defaults
        except Exception as exc:  # whatever the sniffer raises, the defaults are used
            said = _first_line(exc).replace(str(readable), str(path))
            fallback = f"DuckDB sniff_csv could not tell the dialect ({said})"
    delimiter = _char(found.get("Delimiter")) or ","
    names = [column["name"] for column in found.get("Columns") or []]
    if not fallback and found and len(names) <= 1:
        others = [c for c in _DELIMITER_CANDIDATES if c != delimiter and c in head]
        if others:
            fallback = (
                f"DuckDB sniff_csv found one column though the file has {_shown(others[0])} in "
                "it (unsure)"
            )
    if fallback:
        return {}, [], head, fallback
    return found, names, head, None


def detect_dialect(path: Path, given: DialectGiven | None = None) -> Dialect:
    """The dialect of the CSV file at ``path``: what ``given`` says, else what DuckDB's
    sniffer found, else the defaults (``fallback`` then says why).

    Raises SourceConfigError for a file that cannot be decoded in the given encoding."""
    given = given or DialectGiven()
    why: dict[str, str] = {}
    if given.encoding is not None:
        encoding = given.encoding
        why["encoding"] = "given: --encoding"
    else:
        encoding, because = detect_encoding(path)
        if because:
            why["encoding"] = because
    check_encoding(encoding)
    found, names, head, fallback = _ask_the_sniffer(path, encoding)
    delimiter = _char(found.get("Delimiter")) or ","
    sniffed = "DuckDB sniff_csv"
    dialect: dict[str, Any] = {}

    if given.delimiter is not None:
        dialect["delimiter"], why["delimiter"] = given.delimiter, "given: --delimiter"
    elif found:
        dialect["delimiter"] = delimiter
        why["delimiter"] = f"{sniffed}: fields are split by {_shown(delimiter)}"

    quote: str | None = '"'
    if given.quote is not None:
        quote = None if given.quote == "none" else given.quote
        why["quote"] = "given: --quote"
    elif found:
        quote = _char(found.get("Quote"))
        if quote is None and '"' not in head:
            quote = '"'  # nothing is quoted: the default reads it the same
        elif quote is None:
            why["quote"] = f"{sniffed}: the file has '\"' chars that do not quote fields"
        elif quote != '"':
            why["quote"] = f"{sniffed}: fields are quoted with {_shown(quote)}"
    dialect["quote"] = quote

    # a quote char the user gives has its default escape (the sniffer saw another quote)
    escape = _char(found.get("Escape")) if found and given.quote is None else None
    dialect["escape"] = quote if escape is None else escape
    if quote is not None and escape not in (None, quote):
        why["escape"] = f"{sniffed}: quotes inside quoted fields are escaped with {_shown(escape)}"

    if given.skip_rows is not None:
        dialect["skip_rows"], why["skip_rows"] = given.skip_rows, "given: --skip-rows"
    elif found and int(found.get("SkipRows") or 0):
        dialect["skip_rows"] = int(found["SkipRows"])
        why["skip_rows"] = f"{sniffed}: {dialect['skip_rows']} preamble line(s) before the data"

    if given.header is not None:
        dialect["header_rows"] = 1 if given.header else 0
        why["header_rows"] = "given: --header" if given.header else "given: --no-header"
    elif found and found.get("HasHeader") is False:
        dialect["header_rows"] = 0
        why["header_rows"] = f"{sniffed}: the first row looks like data, not a header"
    if dialect.get("header_rows") == 0:
        why["columns"] = f"{len(names)} fields in the first record" if names else ""
    return Dialect(**dialect, columns=len(names), encoding=encoding, why=why, fallback=fallback)


def read_csv_with_duckdb(path: Path, dialect: Dialect) -> tuple[pl.DataFrame, list[str]]:
    """Every record of the file read with DuckDB's ``read_csv`` in ``dialect``, all columns
    as strings (empty fields stay ""), with notes for a person.

    A record DuckDB cannot split is left out and the note says how many; a file it
    cannot read at all is a SourceConfigError naming the options to check."""
    import duckdb

    options: dict[str, Any] = {
        "sep": dialect.delimiter,
        "quotechar": dialect.quote or "",
        "escapechar": dialect.escape or "",
        "skiprows": dialect.skip_rows,
        "header": dialect.header_rows > 0,
        "all_varchar": True,
        "na_values": [_NO_NULL],
    }
    notes: list[str] = []
    with _utf8_path(path, dialect.encoding) as readable:
        try:
            frame = duckdb.read_csv(str(readable), **options).pl()
        except duckdb.Error as exc:
            try:
                frame = duckdb.read_csv(str(readable), **options, ignore_errors=True).pl()
            except duckdb.Error:
                raise SourceConfigError(
                    f"cannot read {path} with {dialect.summary()}: {_first_line(exc)}; "
                    "check --delimiter, --quote, --skip-rows and --encoding"
                ) from None
            notes.append(
                f"DuckDB left out records it could not split ({_first_line(exc)}); "
                "they are not in the guess, and `tidegate run` quarantines them"
            )
    if dialect.header_rows == 0:
        frame.columns = unique_names([""] * frame.width)
    return frame, notes
