"""After `store init --grant-writer ROLE` then `store copy`, the writer role loads and
replays: the owner made the target tables' indexes and gave the writer the copied
tables, so a run never tries to index a table it does not own."""

from __future__ import annotations

from pathlib import Path

import pytest

import tidegate
from helpers import make_contract, query
from store_backends import make_store, writer_role
from tidegate.review import edit_records, replay_records
from tidegate.store import PostgresStore, transaction
from tidegate.store._copy import copy_store

ROW = {"order_id": "1", "status": "shipped", "amount": "10.00", "order_date": "2024-01-02"}


def _indexes(store: PostgresStore, table: str) -> list[tuple[str, str]]:
    return query(
        store,
        "SELECT indexname, pg_get_userbyid(c.relowner) FROM pg_indexes i "
        "JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = "
        "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
        f"WHERE i.schemaname = current_schema() AND i.tablename = '{table}' ORDER BY 1",
    )


@pytest.mark.postgres
def test_a_writer_loads_and_replays_into_a_copied_store(tmp_path: Path) -> None:
    contract = make_contract()
    local = tidegate.open_store(tmp_path / "local.duckdb")
    first = [ROW, {**ROW, "order_id": "2", "status": "lost"}]  # record 2 quarantined
    tidegate.Pipeline(source=first, contract=contract, store=local).run()
    owner = make_store("postgres", tmp_path)
    assert isinstance(owner, PostgresStore)
    with writer_role(owner) as (writer, _):
        report = copy_store(local, owner)
        assert report.rows["orders"] == 1
        role = writer.url.split("://", 1)[1].split("@", 1)[0]
        assert any(f'ON "orders" TO "{role}"' in g for g in report.granted)
        made = _indexes(owner, "orders")
        assert [name.rsplit("_", 1)[1] for name, _ in made] == ["batch", "key"]
        assert {who for _, who in made} == {"postgres"}  # by the owner, at copy time
        # the writer loads a new batch (a new key and an update of a copied one)
        second = [{**ROW, "amount": "11.00"}, {**ROW, "order_id": "3"}]
        result = tidegate.Pipeline(source=second, contract=contract, store=writer).run()
        assert result.exit_code == tidegate.EXIT_OK, result.message
        assert [o.event for o in result.outcomes] == ["batch_committed"]
        assert query(owner, "SELECT order_id, amount FROM orders ORDER BY 1") == [
            (1, pytest.approx(11)),
            (3, pytest.approx(10)),
        ]
        # and replays the copied quarantine record once it is fixed
        ((record_id,),) = query(owner, "SELECT id FROM quarantine WHERE status = 'pending'")
        contracts = {contract.source: contract}
        edit_records(writer, {record_id: (None, {"status": "pending"})}, contracts, actor="w")
        summary = replay_records(writer, [record_id], contracts, actor="w")
        assert summary.loaded == 1
        assert query(owner, "SELECT count(*) FROM orders") == [(3,)]
        assert _indexes(owner, "orders") == made  # nothing made or needed at run time


@pytest.mark.postgres
def test_init_indexes_target_tables_it_finds(tmp_path: Path) -> None:
    """A target table made before the indexes existed (or by a copy from an older
    tidegate) gets them from `store init`, made by the owner."""
    owner = make_store("postgres", tmp_path)
    assert isinstance(owner, PostgresStore)
    with writer_role(owner) as (writer, _):
        tidegate.Pipeline(source=[ROW], contract=make_contract(), store=owner).run()
        with transaction(owner) as con:
            for name, _ in _indexes(owner, "orders"):
                con.execute(f'DROP INDEX "{name}"')
        assert _indexes(owner, "orders") == []
        from tidegate.store._init import init_store

        init_store(owner, [writer.url.split("://", 1)[1].split("@", 1)[0]])
        assert [n.rsplit("_", 1)[1] for n, _ in _indexes(owner, "orders")] == ["batch", "key"]
