"""Names a contract may not give, because a store cannot hold them.

A source names its target table and a column names a table column. PostgreSQL cuts a
name at 63 bytes, keeps names starting with ``pg_`` for its own catalog (which is found
before the store's schema) and has system columns in every table. DuckDB is the
default store and takes all of them, but a project moves to PostgreSQL later (``store
copy``), so a contract is refused such names whatever its store: the same contract
loads on every store.
"""

from __future__ import annotations

# PostgreSQL's NAMEDATALEN - 1: a longer name is cut, so two long names can meet.
MAX_NAME_BYTES = 63
SYSTEM_COLUMNS = ("ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "oid")
SYSTEM_PREFIX = "pg_"


def _too_long(name: str) -> str | None:
    size = len(name.encode("utf-8"))
    if size <= MAX_NAME_BYTES:
        return None
    return f"{MAX_NAME_BYTES} bytes at most (PostgreSQL's limit for a name; this one has {size})"


def column_name_refusal(name: str) -> str | None:
    """What a column name would have to be, or None when a store can hold it."""
    mapped = f"with `aliases: [{name}]` so the file's header still maps to it"
    long = _too_long(name)
    if long:
        return f"a column name of {long}: shorten it, {mapped}"
    if name in SYSTEM_COLUMNS:
        return (
            f"a column name other than PostgreSQL's system columns "
            f"({', '.join(SYSTEM_COLUMNS)}): rename it, e.g. {name}_value, {mapped}"
        )
    return None


def source_name_refusal(name: str) -> str | None:
    """What a source name (its target table's) would have to be, or None."""
    long = _too_long(name)
    if long:
        return f"a source name of {long}: shorten it (the target table takes its name)"
    if name.startswith(SYSTEM_PREFIX):
        return (
            f"a source name not starting with {SYSTEM_PREFIX!r} (PostgreSQL keeps those for "
            f"its catalog, found before the store's tables): rename it, e.g. "
            "without the prefix"
        )
    return None


def storable_column_name(name: str) -> str:
    """``name`` made a column name every store holds (for ``schema infer``): a system
    column's name gets ``_value``, a long one is cut, leaving room for a ``_2`` suffix."""
    if name in SYSTEM_COLUMNS:
        return f"{name}_value"
    return name[: MAX_NAME_BYTES - 4].rstrip("_") if len(name) > MAX_NAME_BYTES else name
