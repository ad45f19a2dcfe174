"""`keys_in_target`: which primary keys a target holds already, on a read-only
connection (recheck writes nothing), for one-column and compound keys, on both stores."""

from __future__ import annotations

from datetime import date

from tidegate.store import Store, transaction
from tidegate.store._connect import read_if_made
from tidegate.store._lookups import keys_in_target
from tidegate.store._tables import ensure_store_tables


def test_the_keys_found_are_exactly_those_loaded(store: Store) -> None:
    with transaction(store) as con:
        ensure_store_tables(con)  # the store is made (and, on PostgreSQL, its schema)
        con.execute("CREATE TABLE lines (order_id BIGINT, day DATE, note VARCHAR)")
        con.execute(
            "INSERT INTO lines VALUES (1, DATE '2026-01-01', 'a'), (1, DATE '2026-01-02', 'b'), "
            "(2, DATE '2026-01-01', 'c')"
        )
    loaded = [(1, date(2026, 1, 1)), (2, date(2026, 1, 1))]
    asked = [*loaded, (1, date(2026, 1, 3)), (3, date(2026, 1, 1)), (None, date(2026, 1, 1))]
    with read_if_made(store) as con:
        assert con is not None
        assert keys_in_target(con, "lines", ("order_id", "day"), asked) == set(loaded)
        assert keys_in_target(con, "lines", ("order_id",), [(2,), (5,)]) == {(2,)}
        assert keys_in_target(con, "no_such_table", ("order_id",), [(1,)]) == set()
        assert keys_in_target(con, "lines", ("order_id",), []) == set()
