"""SqlSource: a table or query of PostgreSQL, MySQL/MariaDB or SQLite, read through connectorx.

With a ``cursor`` column the source is incremental: each run reads the rows with
``cursor > watermark``, ordered by the cursor, ``chunk_size`` rows at a time. The
watermark (the last committed cursor value, or None to start from the first row) is
handed in by the caller: a source never reads the store. Every chunk is one RawBatch
(one window ``(lo, hi]``) whose batch key is the hash of ``(relation, cursor, lo, hi)``;
its watermark ``hi`` is stored by ``commit_batch`` on the batch's checkpoint in the
batch's own transaction. A window never splits rows that share one cursor value, so
``cursor > hi`` never skips a row.

Without a cursor, every run reads the whole table or query; each chunk's key is the hash of
its content, so unchanged content is skipped as already committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from tidegate.batches import RECORD_COLUMN, FileReject, RawBatch
from tidegate.errors import SourceConfigError, SourceUnavailableError
from tidegate.sources._blocks import load_secret_block
from tidegate.sources._parquet import _as_text
from tidegate.sources._sql_url import SqlUrl, check_reachable, parse_url, scrub

# Test-only hook: seconds to sleep after a chunk is read and before it is handed on,
# so that a test can kill the process between read and commit.
TEST_SLEEP_ENV = "TIDEGATE_TEST_SQL_SLEEP_AFTER_READ"

_TRANSIENT_WORDS = (
    "timed out",
    "timeout",
    "connection refused",
    "connection reset",
    "broken pipe",
    "too many connections",
    "server closed",
    "gone away",
    "lost connection",
)


class SqlSource:
    """Rows of ``table`` (or the result of ``query``) from the database at ``url``.

    The URL is either ``url`` (``${ENV}`` is interpolated) or the value of the Prefect
    ``Secret`` block named ``url_block``, loaded here so that a bad one fails before a run.
    With a ``cursor`` column, ``watermark`` is the last committed cursor value: every read
    starts after it (None: from the first row, as for `tidegate run --reprocess`).
    """

    def __init__(
        self,
        name: str,
        url: str | None = None,
        table: str | None = None,
        query: str | None = None,
        cursor: str | None = None,
        chunk_size: int = 100_000,
        base_dir: str | Path | None = None,
        url_block: str | None = None,
        watermark: str | None = None,
    ) -> None:
        self.name = name
        self.base_dir = None if base_dir is None else Path(base_dir)
        if (table is None) == (query is None):
            raise SourceConfigError(
                f"source {name!r}: give exactly one of `table:` (e.g. public.orders) "
                "or `query:` (a SELECT) in the pipeline file"
            )
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise SourceConfigError(
                f"source {name!r}: chunk_size is {chunk_size!r}; expected a whole number >= 1 "
                "(e.g. `chunk_size: 100000`)"
            )
        if cursor is not None and not cursor.strip():
            raise SourceConfigError(f"source {name!r}: `cursor:` is empty; name a column")
        if url_block is not None:
            if url is not None:
                raise SourceConfigError(
                    f"source {name!r}: give exactly one of `url:` or `url_block:` (a Prefect "
                    f"Secret block holding the URL), not both; drop `url:` to use the block "
                    f"{url_block!r}"
                )
            secret = load_secret_block(name, url_block, "url_block")
            self.target: SqlUrl = parse_url(secret, name, self.base_dir, block=url_block)
        elif url is not None:
            self.target = parse_url(url, name, self.base_dir)
        else:
            raise SourceConfigError(
                f"source {name!r}: `url` is missing; e.g. `url: postgresql://user:${{PGPASSWORD}}"
                "@host:5432/db` (${ENV} is read from the environment), or `url_block: NAME` "
                "(a Prefect Secret block holding the URL)"
            )
        self.url_block = url_block
        self.table = table
        self.query = None if query is None else query.strip().rstrip(";").strip()
        if self.query is not None and not self.query:
            raise SourceConfigError(f"source {name!r}: `query:` is empty; give a SELECT")
        self.cursor = cursor
        self.chunk_size = chunk_size
        # None: read every window from the first row (`tidegate run --reprocess`; a window
        # already committed is then replaced in its batch's transaction)
        self.watermark = watermark

    def __repr__(self) -> str:
        what = f"table={self.table!r}" if self.table else f"query={self.query!r}"
        return (
            f"SqlSource(name={self.name!r}, url={self.target.shown!r}, {what}, "
            f"cursor={self.cursor!r})"
        )

    # -- SQL text -------------------------------------------------------------------------

    def _ident(self, name: str) -> str:
        if self.target.dialect == "mysql":
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def _literal(self, value: str) -> str:
        if self.target.dialect == "mysql":
            value = value.replace("\\", "\\\\")
        return "'" + value.replace("'", "''") + "'"

    @property
    def relation(self) -> str:
        if self.table is not None:
            return ".".join(self._ident(part) for part in self.table.split("."))
        return f"({self.query}) AS _tg_q"

    @property
    def label(self) -> str:
        return f"table {self.table}" if self.table is not None else "query"

    def _window_sql(self, lo: str | None, hi: str | None, limit: int | None) -> str:
        assert self.cursor is not None
        c = self._ident(self.cursor)
        where = [f"{c} IS NOT NULL"] if lo is None else [f"{c} > {self._literal(lo)}"]
        if hi is not None:
            where.append(f"{c} <= {self._literal(hi)}")
        sql = f"SELECT * FROM {self.relation} WHERE {' AND '.join(where)} ORDER BY {c}"
        return sql + (f" LIMIT {limit}" if limit is not None else "")

    # -- reading --------------------------------------------------------------------------

    def _fetch(self, sql: str) -> pl.DataFrame:
        import connectorx as cx

        try:
            table = cx.read_sql(self.target.url, sql, return_type="arrow")
        except Exception as exc:  # connectorx raises RuntimeError/others with driver text
            if self.target.dialect == "sqlite" and "invalid column type" in str(exc).lower():
                return self._fetch_sqlite_text(sql)  # a column whose values mix types
            message = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else "", "")
            message = scrub(message, self.target.url)
            lowered = message.lower()
            if any(word in lowered for word in _TRANSIENT_WORDS):
                raise SourceUnavailableError(
                    f"source {self.name!r}: {self.target.shown} did not answer: {message}; "
                    "the run is retried"
                ) from None
            raise SourceConfigError(
                f"source {self.name!r}: reading {self.label} from {self.target.shown} failed: "
                f"{message} (SQL: {sql}); check `table:`/`query:`/`cursor:` in the pipeline file"
            ) from None
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def _fetch_sqlite_text(self, sql: str) -> pl.DataFrame:
        """SQLite columns may hold values of several types (REAL in a DECIMAL column), which
        connectorx refuses; read such a result with sqlite3, every value as its text."""
        assert self.target.path is not None
        con = sqlite3.connect(f"file:{self.target.path}?mode=ro", uri=True)
        try:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            data: dict[str, list[str | None]] = {name: [] for name in names}
            while rows := cur.fetchmany(10_000):
                for row in rows:
                    for name, value in zip(names, row, strict=True):
                        data[name].append(None if value is None else str(value))
        except sqlite3.Error as exc:
            raise SourceConfigError(
                f"source {self.name!r}: reading {self.label} from {self.target.shown} failed: "
                f"{exc} (SQL: {sql})"
            ) from None
        finally:
            con.close()
        return pl.DataFrame(data, schema=dict.fromkeys(names, pl.String()))

    def read(self) -> Iterator[RawBatch | FileReject]:
        """One RawBatch per chunk; incremental after ``watermark`` (from the first row
        when it is None)."""
        check_reachable(self.target, self.name)
        if self.cursor is None:
            yield from self._read_all()
            return
        lo = self.watermark
        while True:
            frame, hi = self._next_window(lo)
            if frame.is_empty() or hi is None:
                return
            yield self._batch(frame, lo, hi)
            lo = hi

    def _next_window(self, lo: str | None) -> tuple[pl.DataFrame, str | None]:
        """Rows of the next window after ``lo`` and its upper bound, whole cursor groups only."""
        assert self.cursor is not None
        frame = self._fetch(self._window_sql(lo, None, self.chunk_size + 1))
        if self.cursor not in frame.columns:
            raise SourceConfigError(
                f"source {self.name!r}: cursor column {self.cursor!r} is not in the result of "
                f"{self.label}; columns: {', '.join(frame.columns)}"
            )
        if frame.is_empty():
            return frame, None
        values = frame.get_column(self.cursor)  # ordered by the cursor
        if frame.height <= self.chunk_size:
            return frame, _cursor_text(values[-1])
        last = values[self.chunk_size - 1]
        if values[self.chunk_size] != last:
            window = frame.head(self.chunk_size)
        else:  # the tie group at the end goes to the next window, whole
            start = values.head(self.chunk_size).to_list().index(last)  # ordered: by position
            window = frame.head(start)
            if window.is_empty():  # one cursor value holds more rows than a chunk: read it all
                hi = _cursor_text(last)
                return self._fetch(self._window_sql(lo, hi, None)), hi
        return window, _cursor_text(window.get_column(self.cursor)[-1])

    def _batch(self, frame: pl.DataFrame, lo: str | None, hi: str) -> RawBatch:
        key = json.dumps(
            [self.table if self.table is not None else self.query, self.cursor, lo, hi],
            separators=(",", ":"),
        )
        sha = hashlib.sha256(key.encode("utf-8")).hexdigest()
        location = f"{self.target.shown} {self.label} ({self.cursor} > {lo}, <= {hi})"
        batch = RawBatch(
            source=self.name,
            location=location,
            content_sha256=sha,
            frame=_text_frame(frame),
            fmt="sql",
            cursor_column=self.cursor,
            cursor_value=hi,
        )
        _test_pause()
        return batch

    def _read_all(self) -> Iterator[RawBatch]:
        frame = self._fetch(f"SELECT * FROM {self.relation}")
        for offset in range(0, max(frame.height, 1), self.chunk_size):
            chunk = _text_frame(frame.slice(offset, self.chunk_size))
            if chunk.is_empty():
                return
            digest = hashlib.sha256(
                f"{self.table or self.query}\n".encode() + chunk.write_csv().encode()
            ).hexdigest()
            _test_pause()
            yield RawBatch(
                source=self.name,
                location=f"{self.target.shown} {self.label} rows {offset}..",
                content_sha256=digest,
                frame=chunk,
                fmt="sql",
            )


def _cursor_text(value: object) -> str:
    """A cursor value as text the databases compare with it (``YYYY-MM-DD HH:MM:SS[.ffffff]``)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _text_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as strings (nulls kept), plus the 0-based row offset in the window."""
    names = [f"{RECORD_COLUMN}_2" if n == RECORD_COLUMN else n for n in frame.columns]
    columns = [
        _as_text(frame.get_column(n)).alias(new)
        for n, new in zip(frame.columns, names, strict=True)
    ]
    return pl.DataFrame(
        [*columns, pl.int_range(frame.height, dtype=pl.Int64, eager=True).alias(RECORD_COLUMN)]
    )


def _test_pause() -> None:
    seconds = os.environ.get(TEST_SLEEP_ENV)
    if seconds:
        time.sleep(float(seconds))


_SQL_OPTIONS: dict[str, type] = {
    "kind": str,
    "url": str,
    "url_block": str,
    "table": str,
    "query": str,
    "cursor": str,
    "chunk_size": int,
}


def sql_source_from_config(
    name: str, config: Mapping[str, Any], base_dir: Path, *, watermark: str | None = None
) -> SqlSource:
    """``{kind: sql, url: ..., table: ... | query: ..., cursor: updated_at, chunk_size: N}``.

    Instead of ``url:``, ``url_block:`` names a Prefect ``Secret`` block holding the URL.
    ``watermark``: the last committed value of the ``cursor`` column (see :class:`SqlSource`).
    """
    for key, value in config.items():
        if key not in _SQL_OPTIONS:
            raise SourceConfigError(
                f"source {name!r}: unknown option {key!r}; valid options for kind 'sql': "
                f"{', '.join(_SQL_OPTIONS)} (fix the pipeline file)"
            )
        expected = _SQL_OPTIONS[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            what = "a whole number" if expected is int else "a string"
            raise SourceConfigError(
                f"source {name!r}: option {key!r} is {type(value).__name__}; expected {what} "
                "(fix the pipeline file)"
            )
    options = {key: value for key, value in config.items() if key != "kind"}
    return SqlSource(name, base_dir=base_dir, watermark=watermark, **options)
