"""PostgreSQL lock keys come from the store's resolved schema, not from the text of
``search_path``: runs that spell the same path differently take turns, on a fresh store
too (before its schema exists)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import tidegate
from helpers import make_contract, query
from sql_backends import require_service
from store_backends import PG_DATABASE_URL, PG_HOST, PG_PORT
from tidegate.store import PostgresStore
from tidegate.store._pg_schema import first_path_entry, store_schema
from tidegate.store._postgres import pg_connect

ROWS = [
    {"order_id": str(i), "status": "shipped", "amount": "1.00", "order_date": "2024-01-02"}
    for i in range(1, 201)
]


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("tg_a", "tg_a"),
        ("TG_A, public", "tg_a"),
        (' "tg_a" , public', "tg_a"),
        ('"TG A", public', "TG A"),
        ('"a""b",c', 'a"b'),
        ('"$user", public', "$user"),
        ("", ""),
    ],
)
def test_the_first_entry_of_search_path_is_read_as_postgresql_reads_it(
    path: str, schema: str
) -> None:
    assert first_path_entry(path) == schema


def _spellings(schema: str) -> list[PostgresStore]:
    # tg_x | "tg_x" | TG_X: one schema, three texts of search_path
    texts = [schema, f"%22{schema}%22", schema.upper()]
    return [PostgresStore(f"{PG_DATABASE_URL}?options=-csearch_path%3D{t}") for t in texts]


@pytest.fixture
def fresh_schema() -> Iterator[str]:
    import psycopg

    require_service("PostgreSQL", PG_HOST, PG_PORT)
    schema = f"tg_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        con.execute(f'DROP SCHEMA IF EXISTS "{schema.upper()}" CASCADE')


@pytest.mark.postgres
def test_every_spelling_resolves_to_one_schema_before_and_after_it_exists(
    fresh_schema: str,
) -> None:
    stores = _spellings(fresh_schema)
    for store in stores:
        with pg_connect(store) as con:
            assert store_schema(con) == fresh_schema  # before: from search_path
    tidegate.Pipeline(source=ROWS[:1], contract=make_contract(), store=stores[2]).run()
    for store in stores:
        with pg_connect(store) as con:
            assert store_schema(con) == fresh_schema  # after: current_schema()
    # the upper-case spelling made the schema PostgreSQL reads it as, not "TG_..."
    assert query(stores[0], "SELECT count(*) FROM orders") == [(1,)]


@pytest.mark.postgres
def test_a_source_lock_held_under_one_spelling_is_busy_under_another(fresh_schema: str) -> None:
    first, second, third = _spellings(fresh_schema)
    with first.source_lock("orders", on_busy="skip") as held:
        assert held
        got: list[bool] = []

        def other(store: PostgresStore) -> None:  # another thread: the lock is not re-entrant
            with store.source_lock("orders", on_busy="skip") as busy_or_held:
                got.append(busy_or_held)

        for store in (second, third):
            t = threading.Thread(target=other, args=(store,))
            t.start()
            t.join()
        assert got == [False, False]


@pytest.mark.postgres
def test_concurrent_runs_on_a_fresh_store_with_different_spellings_take_turns(
    fresh_schema: str,
) -> None:
    stores = _spellings(fresh_schema)
    contract = make_contract()
    start = threading.Barrier(len(stores))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(store: PostgresStore) -> None:
        try:
            pipeline = tidegate.Pipeline(source=ROWS, contract=contract, store=store)
            start.wait()
            results.append(pipeline.run())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    events = sorted(o.event for r in results for o in r.outcomes)
    assert events == ["batch_committed", "batch_skipped", "batch_skipped"]
    assert query(stores[0], "SELECT count(*) FROM orders") == [(len(ROWS),)]


@pytest.mark.postgres
def test_a_fresh_store_whose_path_falls_back_to_public_is_made_in_its_first_schema(
    fresh_schema: str,
) -> None:
    """``tg_x, public`` before tg_x exists: current_schema() says public, but the store
    (and its lock keys) are tg_x, before and after its first write."""
    url = f"{PG_DATABASE_URL}?options=-csearch_path%3D{fresh_schema}%2Cpublic"
    store = PostgresStore(url)
    with pg_connect(store) as con:
        assert con.execute("SELECT current_schema()").fetchall() == [("public",)]
        assert store_schema(con) == fresh_schema
    tidegate.Pipeline(source=ROWS[:3], contract=make_contract(), store=store).run()
    with pg_connect(store) as con:
        assert store_schema(con) == fresh_schema
        tables = con.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'orders'"
            " AND table_schema IN (?, 'public')",
            [fresh_schema],
        ).fetchall()
    assert tables == [(fresh_schema,)]
    assert query(store, "SELECT count(*) FROM orders") == [(3,)]


@pytest.mark.postgres
def test_a_store_further_down_search_path_is_not_taken_for_this_one(
    fresh_schema: str,
) -> None:
    """``tg_x, tg_y`` where tg_y holds a store and tg_x does not exist yet: the run makes
    its own store in tg_x and leaves tg_y's as it was."""
    import psycopg

    other = f"{fresh_schema}_y"
    decoy = PostgresStore(f"{PG_DATABASE_URL}?options=-csearch_path%3D{other}")
    try:
        tidegate.Pipeline(source=ROWS[:5], contract=make_contract(), store=decoy).run()
        url = f"{PG_DATABASE_URL}?options=-csearch_path%3D{fresh_schema}%2C{other}"
        store = PostgresStore(url)
        result = tidegate.Pipeline(source=ROWS[:3], contract=make_contract(), store=store).run()
        assert [o.event for o in result.outcomes] == ["batch_committed"]
        assert query(store, f'SELECT count(*) FROM "{fresh_schema}".orders') == [(3,)]
        assert query(decoy, f'SELECT count(*) FROM "{other}".orders') == [(5,)]
        assert query(decoy, f'SELECT count(*) FROM "{other}".audit') == query(
            store, f'SELECT count(*) FROM "{fresh_schema}".audit'
        )
    finally:
        with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')
