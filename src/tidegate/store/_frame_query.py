"""A person's read-only query over one in-memory frame, in DuckDB (the store's engine):
a GX suite's ``unexpected_rows_query`` over its batch. Nothing of the store is touched."""

from __future__ import annotations

import duckdb
import polars as pl

from tidegate.errors import ReadQueryError


def query_frame(frame: pl.DataFrame, table: str, query: str) -> pl.DataFrame:
    """The rows ``query`` returns with ``frame`` as the table ``table``, in a private
    in-memory DuckDB; ReadQueryError (DuckDB's first line) when it does not run."""
    con = duckdb.connect()
    try:
        con.register(table, frame)
        return con.sql(query).pl()
    except duckdb.Error as exc:
        raise ReadQueryError(str(exc).splitlines()[0]) from None
    finally:
        con.close()
