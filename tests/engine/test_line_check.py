"""The engine's line check: a CSV file's line figures go in its audit entry, and
figures that do not add up (a record merged or lost: a bug in tidegate) hold the batch.

The batches are fakes (:class:`SlicedBatch` with the figures a reader would report),
so that the check is tested apart from the readers, on both stores, for a file of one
chunk (committed in one piece) and one of many chunks (staged, then published).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from engine.sliced import SlicedBatch
from engine.test_chunked import contract, raw_batch, records
from tidegate.batches import LineCounts
from tidegate.engine import ingest_batch, line_check
from tidegate.store import Store, transaction


@dataclass
class CountedBatch(SlicedBatch):
    """A sliced batch whose reader reports ``line_counts`` (as LocalFileBatch does)."""

    line_counts: LineCounts | None = None


def counted(rows: int, **changes: int) -> CountedBatch:
    raw = raw_batch(records())  # 46 records, one line each
    n = raw.rows_in
    figures = {"physical": n + 3, "records": n, "record_lines": n, **changes}
    counts = LineCounts(skipped={"header": 1, "blank": 2}, **figures)
    return CountedBatch(raw, rows, line_counts=counts)


def store_state(store: Store) -> tuple[int, list[str], dict[str, Any], str]:
    with transaction(store) as con:
        (loaded,) = con.execute("SELECT count(*) FROM orders").fetchall()[0]
        rules = [r for (r,) in con.execute("SELECT rules FROM quarantine").fetchall()]
        event, detail = con.execute(
            "SELECT event, detail FROM audit WHERE event LIKE 'batch_%' ORDER BY seq DESC"
        ).fetchall()[0]
    return int(loaded), rules, json.loads(detail), event


@pytest.mark.parametrize("rows", [1000, 7], ids=["one chunk", "chunks of 7"])
def test_figures_that_add_up_are_in_the_audit_entry(store: Store, rows: int) -> None:
    batch = counted(rows)
    outcome = ingest_batch(store, batch, contract())
    assert outcome.event == "batch_committed" and outcome.loaded > 0
    loaded, rules, detail, event = store_state(store)
    assert event == "batch_committed" and loaded == outcome.loaded
    assert len(rules) == outcome.quarantined
    assert detail["lines"] == {
        "physical": 49,
        "records": 46,
        "record_lines": 46,
        "blank": 2,
        "header": 1,
    }


@pytest.mark.parametrize("rows", [1000, 7], ids=["one chunk", "chunks of 7"])
@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"physical": 50}, "its lines do not add up (50 physical lines, 46 records in 46 lines"),
        ({"record_lines": 44}, "its lines do not add up (49 physical lines, 46 records in 44"),
        ({"records": 47, "record_lines": 47, "physical": 50}, "made 47 records but the batch"),
    ],
    ids=["a line lost", "two lines merged away", "a record lost on the way"],
)
def test_figures_that_do_not_add_up_hold_the_batch(
    store: Store, rows: int, changes: dict[str, int], why: str
) -> None:
    batch = counted(rows, **changes)
    outcome = ingest_batch(store, batch, contract())
    assert outcome.event == "batch_held" and outcome.loaded == 0
    assert outcome.reason is not None
    assert outcome.reason.startswith("tidegate could not account for every line of orders.csv")
    assert why in outcome.reason and "a bug in tidegate" in outcome.reason
    loaded, rules, detail, event = store_state(store)
    assert (loaded, event) == (0, "batch_held")
    assert detail["held"] == outcome.reason
    assert detail["lines"]["physical"] == changes.get("physical", 49)
    # every record is in the quarantine, held (exact repeats counted as duplicates)
    assert len(rules) == outcome.rows_in - outcome.duplicates == outcome.quarantined
    assert all("_batch.held" in r for r in rules)


def test_line_check_reads_nothing_from_a_batch_without_figures() -> None:
    plain = SlicedBatch(raw_batch(records()), 5)
    assert line_check(plain, 46) == (None, None)
    good = counted(5)
    assert line_check(good, 46) == (good.line_counts.detail(), None)  # type: ignore[union-attr]
    assert line_check(good, 45)[1] is not None
