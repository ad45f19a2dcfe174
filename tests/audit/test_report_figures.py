"""Report figures and charts from hand-made audit entries (no store, no Prefect)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tidegate.audit import verify_entries
from tidegate.audit._figures import compute_figures, parse_time, select_entries
from tidegate.audit._report import Report, axis_scale, charts, render_report
from tidegate.flows._report_artifacts import (
    report_artifact_key,
    report_markdown,
    report_table,
    sparkline,
)
from tidegate.store import (
    GENESIS_HASH,
    AuditEntry,
    PostgresStore,
    Store,
    canonical_json,
    entry_hash,
)


def chain(rows: list[tuple[str, str, str, dict[str, Any]]]) -> list[AuditEntry]:
    """Properly hash-chained entries from ``(at, event, source, detail)``."""
    out, prev = [], GENESIS_HASH
    for seq, (at, event, source, detail) in enumerate(rows, start=1):
        body = {
            "seq": seq,
            "at": at,
            "actor": "test",
            "event": event,
            "source": source,
            "batch_id": f"{source}-{seq}",
            "detail": canonical_json(detail),
        }
        e = AuditEntry(**body, prev_hash=prev, hash=entry_hash(prev, body))  # type: ignore[arg-type]
        out.append(e)
        prev = e.hash
    return out


def batch(rows_in: int, loaded: int, quarantined: int, duplicates: int = 0, **kw: Any) -> dict:
    return {
        "location": kw.pop("location", "/data/f.csv"),
        "contract": {"version": 2, "hash": "h"},
        "rows_in": rows_in,
        "loaded": loaded,
        "updated": kw.pop("updated", 0),
        "quarantined": quarantined,
        "duplicates": duplicates,
        "failures": kw.pop("failures", {}),
        "normalized": {},
        "duration_ms": kw.pop("duration_ms", 10),
        "held": kw.pop("held", None),
    }


D1, D2 = "2024-05-01T", "2024-05-02T"
ENTRIES = chain(
    [
        (D1 + "08:00:00Z", "batch_committed", "orders", batch(10, 8, 2, failures={"amount.ge": 2})),
        (D1 + "09:00:00Z", "batch_committed", "customers", batch(4, 4, 0)),
        (
            D2 + "08:00:00Z",
            "batch_held",
            "orders",
            batch(10, 0, 10, held="ratio", failures={"amount.ge": 6, "email.regex": 4}),
        ),
        (D2 + "08:00:01Z", "file_rejected", "orders", {"location": "/bad.csv", "reason": "bin"}),
        ("2024-05-03T08:00:00Z", "batch_skipped", "customers", {"location": "/data/f.csv"}),
        ("2024-05-03T09:00:00Z", "record_replayed", "orders", {"record": 1}),
        (
            "2024-05-04T08:00:00Z",
            "batch_reprocessed",
            "orders",
            batch(10, 9, 1, 0, duration_ms=None, failures={"email.regex": 1}),
        ),
    ]
)


def test_parse_time_reads_iso_dates_and_times_as_utc() -> None:
    assert parse_time("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_time("2024-05-01T10:00:00+02:00") == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert parse_time("2024-05-01T08:00:00.5Z").microsecond == 500000
    with pytest.raises(ValueError, match="not an ISO 8601"):
        parse_time("yesterday")


def test_rows_per_run_are_the_batch_details_in_order() -> None:
    f = compute_figures(ENTRIES)
    assert [(r.seq, r.event) for r in f.runs] == [
        (1, "batch_committed"),
        (2, "batch_committed"),
        (3, "batch_held"),
        (7, "batch_reprocessed"),
    ]
    for r, e in zip(f.runs, [ENTRIES[i] for i in (0, 1, 2, 6)], strict=True):
        d = json.loads(e.detail)
        assert (r.rows_in, r.loaded, r.quarantined, r.duplicates) == (
            d["rows_in"],
            d["loaded"],
            d["quarantined"],
            d["duplicates"],
        )
    assert f.runs[2].held and f.runs[3].duration_ms is None


def test_quarantine_ratio_series_top_rules_and_summaries() -> None:
    f = compute_figures(ENTRIES)
    assert [p.ratio for p in f.ratio_by_source["orders"]] == [0.2, 1.0, 0.1]
    assert [p.ratio for p in f.ratio_by_source["customers"]] == [0.0]
    assert [(r.rule, r.rows) for r in f.top_rules] == [("amount.ge", 8), ("email.regex", 5)]
    orders = next(s for s in f.summaries if s.source == "orders")
    assert (orders.batches, orders.held, orders.files_rejected, orders.skipped) == (3, 1, 1, 0)
    assert (orders.rows_in, orders.loaded, orders.quarantined) == (30, 17, 13)
    assert orders.quarantine_ratio == pytest.approx(13 / 30)
    assert orders.last_event == "batch_reprocessed" and orders.contract_version == 2
    assert orders.mean_duration_ms == 10  # the batch without a duration is left out
    customers = next(s for s in f.summaries if s.source == "customers")
    assert (customers.batches, customers.skipped, customers.last_event) == (1, 1, "batch_skipped")


def test_source_and_window_filters() -> None:
    f = compute_figures(
        ENTRIES, source="orders", since=parse_time("2024-05-02"), until=parse_time("2024-05-04")
    )
    assert [r.seq for r in f.runs] == [3]
    assert f.sources == ["orders"]
    assert [e.seq for e in select_entries(ENTRIES, until=parse_time("2024-05-01T09:00:00Z"))] == [1]


def test_axis_scale_is_round() -> None:
    assert axis_scale(26) == (30, 10)
    assert axis_scale(0.38) == pytest.approx((0.4, 0.1))
    assert axis_scale(472) == (500, 100)
    assert axis_scale(0) == (1.0, 0.25)


def _report(entries: list[AuditEntry], store: Store = Path("s.duckdb")) -> str:
    return render_report(
        Report(compute_figures(entries), verify_entries(entries), store, datetime.now(UTC))
    )


def test_html_is_self_contained_and_has_five_charts() -> None:
    html = _report(ENTRIES)
    assert len(re.findall(r'<svg class="chart"', html)) == 5
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "Audit chain intact" in html and ENTRIES[-1].hash in html
    assert 'class="held"' in html  # the held batch is marked


def test_a_postgres_store_is_named_without_its_password() -> None:
    store = PostgresStore("postgresql://tidegate:s3cret@db.example:5432/prod")
    html = _report(ENTRIES, store)
    assert "postgresql://tidegate:***@db.example:5432/prod" in html
    assert "s3cret" not in html


def test_broken_chain_and_hostile_names_are_shown_safely() -> None:
    entries = chain(
        [("2024-05-01T08:00:00Z", "batch_committed", "<script>x</script>", batch(2, 1, 1))]
    )
    tampered = [entries[0].__class__(**{**entries[0].__dict__, "actor": "mallory"})]
    html = _report(tampered)
    assert "Audit chain broken at seq 1" in html
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def test_empty_window_draws_placeholders() -> None:
    svgs = charts(compute_figures([]))
    assert all("no " in svg and 'class="chart"' in svg for svg in svgs.values())


def test_markdown_and_table_artifacts() -> None:
    f = compute_figures(ENTRIES, source="orders")
    md = report_markdown(f, "orders")
    assert "| 3 | 1 | 0 | 1 | 30 | 17 | 0 | 13 | 0 | 43.3% |" in md
    assert "`amount.ge` | 8" in md and "tidegate report --source orders" in md
    rows = report_table(f)
    assert [r["event"] for r in rows] == ["batch_committed", "batch_held", "batch_reprocessed"]
    assert rows[1]["quarantine_ratio"] == 1.0
    assert report_markdown(compute_figures([], source="x"), "x").endswith("audit trail yet.")
    assert report_artifact_key("Web Events!") == "tidegate-report-web-events"
    assert report_artifact_key("orders", "batches") == "tidegate-report-orders-batches"
    assert sparkline([0, 0.5, 1]) == "▁▅█" and sparkline([0, 0]) == "▁▁"
