"""The flow skips committed content without the stages, and the audit reads in read order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import query
from store_backends import store_arg
from tidegate.audit import verify_chain
from tidegate.errors import SourceUnavailableError
from tidegate.store import Store


@pytest.fixture
def project(tmp_path: Path, project_root: Path) -> Path:
    for folder in ("schemas", "pipelines"):
        shutil.copytree(project_root / folder, tmp_path / folder)
    shutil.copytree(project_root / "sample_data" / "orders", tmp_path / "sample_data" / "orders")
    return tmp_path


def test_a_new_file_between_committed_ones_keeps_the_audit_in_read_order(
    project: Path, store: Store, prefect_api: str
) -> None:
    from tidegate.flows import ingest_flow

    first = ingest_flow()(pipeline="orders", project_dir=str(project), store=store_arg(store))
    assert [o["event"] for o in first] == [
        "batch_committed",
        "batch_committed",
        "file_rejected",
        "file_rejected",
    ]
    folder = project / "sample_data" / "orders"
    new = folder / "orders_2024-02b.csv"  # read third, between the committed files
    new.write_text(
        "order_id,customer_id,status,amount,order_date,email,quantity\n"
        "9001,1,shipped,1.00,2024-02-15,a@b.co,1\n"
    )
    seq = query(store, "SELECT max(seq) FROM audit")[0][0]
    again = ingest_flow()(pipeline="orders", project_dir=str(project), store=store_arg(store))
    assert [(Path(o["location"]).name, o["event"]) for o in again] == [
        ("orders_2024-01.csv", "batch_skipped"),
        ("orders_2024-02.csv", "batch_skipped"),
        ("orders_2024-02b.csv", "batch_committed"),
        ("orders_2024-03_latin1.csv", "batch_skipped"),
        ("orders_2024-04.csv", "batch_skipped"),
    ]
    assert [o["batch_id"] for o in again[:2]] == [o["batch_id"] for o in first[:2]]
    audit = query(
        store,  # the new 1-row file also raises monitor alerts, right after its commit
        "SELECT seq, event, batch_id FROM audit WHERE seq > ? AND event <> 'alert_raised' "
        "ORDER BY seq",
        [seq],
    )
    assert [(s, e, b) for s, e, b in audit] == [
        (o["audit_seq"], o["event"], o["batch_id"]) for o in again
    ]
    assert verify_chain(store).ok


def test_a_source_that_gives_up_audits_the_skips_read_so_far_then_fails(
    project: Path, store: Store, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tidegate.flows import ingest_flow
    from tidegate.sources import FileSource

    ingest_flow()(pipeline="orders", project_dir=str(project), store=store_arg(store))
    seq = query(store, "SELECT max(seq) FROM audit")[0][0]
    real = FileSource.read

    def gives_up(self):  # type: ignore[no-untyped-def]
        items = real(self)
        yield next(items)
        raise SourceUnavailableError("the share went away")

    monkeypatch.setattr(FileSource, "read", gives_up)
    with pytest.raises(SourceUnavailableError):  # not retried into a silent end of the source
        ingest_flow()(pipeline="orders", project_dir=str(project), store=store_arg(store))
    events = query(store, "SELECT event FROM audit WHERE seq > ? ORDER BY seq", [seq])
    assert [e for (e,) in events] == ["batch_skipped", "source_failed"]
