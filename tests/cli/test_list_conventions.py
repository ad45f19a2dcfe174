"""One set of list options and ids that are always whole: `quarantine list` beside
`audit list`, batch-id prefixes on every command that takes a batch, on each backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from helpers import SOME_BAD_CSV, make_sales_project, query
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store import Store
from tidegate.store._review_audit import record_details

runner = CliRunner()
# two batches committed in the same second (so only their whole ids tell them apart),
# and one a minute later (its id up to the second is unique)
BATCH_IDS = (
    "sales-20261201T100000-aaaa1111-0001",
    "sales-20261201T100000-bbbb2222-0002",
    "sales-20261201T100100-cccc3333-0003",
)


@pytest.fixture
def sales(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A sales project and its store: 3 files, 3 batches, 2 pending records each."""
    import tidegate
    from tidegate.store import _batches

    files = {f"f{n}.csv": SOME_BAD_CSV.replace("\n1", f"\n{n}1") for n in range(3)}
    project = make_sales_project(tmp_path / "project", files)
    ids = iter(BATCH_IDS)
    monkeypatch.setattr(_batches, "new_batch_id", lambda source, key: next(ids))
    contract = tidegate.load_contract(project / "schemas" / "sales.yaml")
    result = tidegate.Pipeline(
        source=str(project / "data" / "*.csv"), contract=contract, store=store
    ).run()
    assert (result.quarantined, len(result.outcomes)) == (6, 3)
    monkeypatch.undo()
    yield project


def tg(store: Store, project: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--store", store_arg(store), "--project", str(project)])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def pending(store: Store) -> dict[str, int]:
    rows = query(store, "SELECT batch_id, count(*) FROM quarantine WHERE status = 'pending' "
                 "GROUP BY batch_id")  # fmt: skip
    return {str(b): int(n) for b, n in rows}


def _table_rows(
    store: Store, columns: int, monkeypatch: pytest.MonkeyPatch, command: str = "quarantine"
) -> list[tuple[int, str]]:
    """(record id or seq, batch as shown) of each row of `quarantine list` (or `audit
    list`) at ``columns``."""
    from tidegate.cli import _common

    monkeypatch.setattr(_common.console, "width", columns)  # as rich reads COLUMNS
    result = runner.invoke(
        app, [command, "list", "--store", store_arg(store)], env={"COLUMNS": str(columns)}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= columns for line in lines), lines
    header = lines[0].split()  # "at (UTC)" and its cells are two words each
    assert header[0] in ("id", "seq") and "batch" in header, lines
    at = header.index("batch")
    cells = [line.split() for line in lines[2:]]
    return [(int(c[0]), c[at]) for c in cells if c and c[0].isdigit()]


def test_every_id_in_the_table_is_whole_and_usable(
    store: Store, sales: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = dict(query(store, "SELECT id, batch_id FROM quarantine"))
    # the same-second batches show whole, the other up to its second
    shown = {b: b for b in BATCH_IDS[:2]} | {BATCH_IDS[2]: "sales-20261201T100100"}
    expected = [(i, shown[stored[i]]) for i in sorted(stored)]
    committed = [(1, shown[BATCH_IDS[0]]), (2, shown[BATCH_IDS[1]]), (3, shown[BATCH_IDS[2]])]
    for columns in (80, 100, 120, 200):
        assert _table_rows(store, columns, monkeypatch) == expected, columns
        assert _table_rows(store, columns, monkeypatch, "audit") == committed, columns
    for label in sorted(set(shown.values())):  # each is accepted back, and names its batch
        listed = tg(store, sales, "quarantine", "list", "--batch", label, "-f", "json")
        records = [json.loads(x) for x in listed.splitlines()]
        assert len(records) == 2 and {shown[r["batch_id"]] for r in records} == {label}
    record_id = expected[-1][0]
    show = " ".join(tg(store, sales, "quarantine", "show", str(record_id)).split())
    assert f"record {record_id}" in show and BATCH_IDS[2] in show


def test_replay_takes_a_batch_prefix(store: Store, sales: Path) -> None:
    contract_file = sales / "schemas" / "sales.yaml"
    contract = yaml.safe_load(contract_file.read_text())
    contract["columns"]["amount"]["checks"] = []  # negative amounts are fine now
    contract["version"] = 2
    contract_file.write_text(yaml.safe_dump(contract))
    before = int(query(store, "SELECT count(*) FROM sales")[0][0])

    out = tg(store, sales, "quarantine", "replay", "--batch", "sales-20261201T1001")
    assert "2 loaded" in out
    assert pending(store) == {BATCH_IDS[0]: 2, BATCH_IDS[1]: 2}  # only that batch left
    assert int(query(store, "SELECT count(*) FROM sales")[0][0]) == before + 2
    replayed = query(store, "SELECT batch_id, detail FROM audit WHERE event = 'record_replayed'")
    # one audit entry for the batch's page, saying what happened to each of its 2 records
    assert [b for b, _ in replayed] == [BATCH_IDS[2]]
    assert len(record_details(json.loads(replayed[0][1]))) == 2

    ambiguous = tg(store, sales, "quarantine", "replay", "--batch", "sales-20261201T1000", code=2)
    line = " ".join(ambiguous.split())
    assert "ambiguous" in line and BATCH_IDS[0] in line and BATCH_IDS[1] in line
    unknown = tg(store, sales, "quarantine", "reject", "--batch", "sales-1999", "--reason", "x",
                 code=2)  # fmt: skip
    assert len(unknown.strip().splitlines()) == 1 and "'sales-1999'" in unknown
    assert pending(store) == {BATCH_IDS[0]: 2, BATCH_IDS[1]: 2}  # refused: nothing changed


def test_reject_export_and_audit_take_the_same_prefix(store: Store, sales: Path) -> None:
    prefix = BATCH_IDS[1][:-3]  # "...-bbbb2222-0": unique
    exported = tg(store, sales, "quarantine", "export", "-s", "sales", "--batch", prefix)
    lines = [line for line in exported.strip().splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 + 2  # header and the batch's 2 records (stderr: the -5 quoted)
    audit_rows = tg(store, sales, "audit", "list", "--batch", prefix, "-f", "json").splitlines()
    assert {json.loads(x)["batch_id"] for x in audit_rows} == {BATCH_IDS[1]}
    shown = tg(store, sales, "audit", "show", prefix)
    assert "batch_committed" in shown
    tg(store, sales, "quarantine", "reject", "--batch", prefix, "--reason", "duplicate export")
    assert pending(store) == {BATCH_IDS[0]: 2, BATCH_IDS[2]: 2}
    rejected = query(store, "SELECT batch_id, detail FROM audit WHERE event = 'record_rejected'")
    assert [b for b, _ in rejected] == [BATCH_IDS[1]]  # one entry for the batch's records
    assert len(record_details(json.loads(rejected[0][1]))) == 2


def test_quarantine_list_shows_pending_by_default_and_pages_like_audit(
    store: Store, sales: Path
) -> None:
    first = json.loads(tg(store, sales, "quarantine", "list", "-f", "json").splitlines()[0])
    tg(store, sales, "quarantine", "reject", str(first["id"]), "--reason", "test")

    def ids(*args: str) -> list[int]:
        out = tg(store, sales, "quarantine", "list", *args, "-f", "json")
        return [json.loads(x)["id"] for x in out.splitlines()]

    everything = ids("--status", "all")
    assert len(everything) == 6 and first["id"] in everything
    assert ids() == [i for i in everything if i != first["id"]]  # pending, as the web page
    assert ids("--status", "rejected") == [first["id"]]
    assert ids("-n", "2") == ids("--limit", "2") == ids()[:2]
    assert ids("-n", "2", "--page", "2") == ids()[2:4]
    # --since takes an age or a date, exactly as `audit list` does
    assert ids("--since", "7d") == ids()
    assert ids("--since", "2999-01-01") == []
    assert len(tg(store, sales, "audit", "list", "--since", "7d", "-n", "2", "-f", "json")
               .splitlines()) == 2  # fmt: skip
    bad = tg(store, sales, "quarantine", "list", "--since", "last week", code=2)
    assert "'last week'" in bad and "7d" in bad
    status = tg(store, sales, "quarantine", "list", "--status", "done", code=2)
    assert "'done'" in status and "all" in status
