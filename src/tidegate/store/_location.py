"""Where the store lives: a DuckDB file (the default) or a PostgreSQL database (a team).

``--store`` / ``$TIDEGATE_STORE`` takes either a file path or a ``postgresql://`` URL;
:func:`open_store` turns either into a :class:`~tidegate.store.Store`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from tidegate.errors import ConfigError, StoreError
from tidegate.store._duckdb import DuckDBStore, make_store_folder
from tidegate.store._pg_store import PostgresStore
from tidegate.store._protocol import Store, StoreLike

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# `scheme://...`: a URL, never a file name (a Windows drive `C:\\` has no `//`)
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")

__all__ = [
    "POSTGRES_SCHEMES",
    "DuckDBStore",
    "PostgresStore",
    "Store",
    "check_writable",
    "open_store",
]


def open_store(value: StoreLike) -> Store:
    """The store ``value`` names: a ``postgresql://`` (or ``postgres://``) URL is a
    :class:`PostgresStore`, any other text or path a :class:`DuckDBStore` of that file,
    and a store comes back as it is. Any other URL (``mysql://``, ``sqlite://``, ...) is a
    :class:`~tidegate.errors.ConfigError` naming it, never a file called ``mysql:``."""
    if not isinstance(value, str | Path):
        return value
    text = str(value)
    if text.startswith(POSTGRES_SCHEMES):
        return PostgresStore(text)
    url = _URL.match(text)
    if url:
        raise ConfigError(
            f"store {_redacted(text)!r} is a {url.group('scheme')}:// URL, which tidegate "
            "cannot store into; give a DuckDB file path (such as .tidegate/tidegate.duckdb) "
            "or a postgresql://user@host/db URL in --store or TIDEGATE_STORE"
        )
    return DuckDBStore(Path(text))


def _redacted(url: str) -> str:
    """``url`` without a password (``scheme://user:***@host``)."""
    return re.sub(r"^([^:/]+://[^:/@]*):[^@]*@", r"\1:***@", url)


def check_writable(store: Store) -> None:
    """Refuse, before any work starts, a DuckDB store that cannot be written: a folder
    that cannot be made, a read-only folder or file system (DuckDB writes its ``.wal``
    beside the file), a read-only store file. A PostgreSQL store answers for itself.
    """
    if not isinstance(store, DuckDBStore):
        return
    make_store_folder(store.path)
    where = store.path.parent
    try:
        with tempfile.TemporaryFile(dir=where):
            pass
        if store.path.exists():
            where = store.path
            with where.open("r+b"):
                pass
    except OSError as exc:
        raise StoreError(
            f"store {store.path} cannot be written ({exc.strerror or exc}: {where}); "
            "make it writable, or point --store (TIDEGATE_STORE) at a writable place"
        ) from None
