"""The PostgreSQL store's schema, resolved the way PostgreSQL resolves it, and the
advisory lock keys made from it.

Two runs may spell the same ``search_path`` differently (``tg``, ``"tg", public``,
``TG``): a lock key made from the setting's text would differ between them and the runs
would not take turns (on a fresh store, both create the tables: ``relation ... already
exists``). The key is made from the schema name instead: the first entry of
``search_path`` as PostgreSQL reads it (unquoted: lower case; quoted: as written), the
schema the first write creates when it does not exist yet (``current_schema()`` for
PostgreSQL's default ``"$user", public``).
"""

from __future__ import annotations

from typing import Any

WRITER_LOCK_PREFIX = "tidegate:"
SOURCE_LOCK_PREFIX = "tidegate-source:"


def first_path_entry(search_path: str) -> str:
    """The first schema ``search_path`` names, as PostgreSQL parses it: ``"A b", c`` ->
    ``A b``, ``TG_X, public`` -> ``tg_x``; ``''`` for an empty path."""
    text = search_path.lstrip()
    if text.startswith('"'):
        name, i = [], 1
        while i < len(text):
            if text[i] == '"':
                if text[i + 1 : i + 2] == '"':
                    name.append('"')
                    i += 2
                    continue
                break
            name.append(text[i])
            i += 1
        return "".join(name)
    first = text.split(",", 1)[0].strip()
    # PostgreSQL folds an unquoted identifier's ASCII letters only
    return first.translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    )


def store_schema(con: Any) -> str:
    """The store's schema on connection ``con``: the first entry of ``search_path``
    whether or not it exists yet (``tg_x, public`` on a fresh store is ``tg_x``, where
    the first write creates the tables, not ``public``, which ``current_schema()`` would
    say until then); for ``"$user", ...`` (PostgreSQL's default) ``current_schema()``;
    ``''`` when there is none."""
    current, path = con.execute(
        "SELECT current_schema(), current_setting('search_path')"
    ).fetchall()[0]
    first = first_path_entry(str(path or ""))
    if first and first != "$user":
        return first
    return str(current) if current is not None else ""


def take_writer_lock(con: Any) -> None:
    """The transaction-scoped lock writers of one store schema take turns on."""
    key = WRITER_LOCK_PREFIX + store_schema(con)
    con.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [key])


def source_lock_key(con: Any, source: str) -> str:
    """The text of the session lock one run of ``source`` holds in this store schema."""
    return f"{SOURCE_LOCK_PREFIX}{store_schema(con)}:{source}"
