"""`tidegate report` on a store built by the real CLI and Prefect flow over sample_data/.

The figures must say what the audit says; the HTML must be one self-contained
file, and it must open in headless Chromium with its charts drawn (a screenshot
is taken). Browser tests skip when chromium or playwright is missing, except
under CI=true, where that is a failure.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from browser_support import CHROMIUM, CHROMIUM_ARGS, require_browser
from helpers import copy_store, query, scalar
from store_backends import STORE_BACKENDS, make_store, pg_database_copy, store_arg
from tidegate.audit._report import load_report
from tidegate.cli._report import doctor, report
from tidegate.store import PostgresStore, Store, connect, read_audit

pytestmark = pytest.mark.e2e
runner = CliRunner()

# The sample README's totals (tests/e2e/test_demo_end_to_end.py): rows_in, loaded, updated,
# quarantined, duplicates, files rejected.
EXPECTED = {
    "orders": (43, 26, 1, 16, 1, 2),
    "customers": (26, 16, 0, 9, 1, 0),
    "inventory": (24, 20, 0, 4, 0, 1),
}


def cli() -> typer.Typer:
    """The two commands on their own app, as `_app.py` registers them."""
    app = typer.Typer()
    app.command("report")(report)
    app.command("doctor")(doctor)
    return app


@pytest.fixture(scope="module")
def duckdb_demo_store(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A module's own copy of the session's demo store (built by the real CLI and flow)."""
    return copy_store(demo_template, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module", params=STORE_BACKENDS)
def demo_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The demo's store on each backend (PostgreSQL: a copy of the demo database)."""
    if request.param == "duckdb":
        yield request.getfixturevalue("duckdb_demo_store")
        return
    with pg_database_copy(request.getfixturevalue("pg_demo_template")) as store:
        yield store


def write_report_file(store: Store, folder: Path) -> Path:
    out = folder / "report.html"
    result = runner.invoke(cli(), ["report", "--store", store_arg(store), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "chain intact" in _flat(result.output)
    return out


@pytest.fixture(scope="module")
def report_file(demo_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report_file(demo_store, tmp_path_factory.mktemp("html"))


@pytest.fixture(scope="module")
def duckdb_report_file(duckdb_demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the DuckDB demo store (the browser test renders one report, not two)."""
    return write_report_file(duckdb_demo_store, tmp_path_factory.mktemp("html"))


def detail_int(store: Store, key: str) -> str:
    """SQL for an integer field of the audit entry's JSON ``detail``, in the store's dialect."""
    if isinstance(store, PostgresStore):
        return f"CAST(detail::jsonb ->> '{key}' AS INTEGER)"
    return f"CAST(json_extract(detail, '$.{key}') AS INTEGER)"


def test_rows_per_run_equal_the_batch_details(demo_store: Store) -> None:
    f = load_report(demo_store).figures
    details = query(
        demo_store,
        "SELECT seq, source, detail FROM audit WHERE event IN "
        "('batch_committed', 'batch_held', 'batch_reprocessed') ORDER BY seq",
    )
    assert len(f.runs) == len(details) > 0
    for run, (seq, source, detail) in zip(f.runs, details, strict=True):
        d = json.loads(detail)
        assert (run.seq, run.source) == (seq, source)
        got = (run.rows_in, run.loaded, run.updated, run.quarantined, run.duplicates)
        assert got == (d["rows_in"], d["loaded"], d["updated"], d["quarantined"], d["duplicates"])
        assert run.duration_ms == d["duration_ms"]
        in_quarantine = scalar(
            demo_store, "SELECT count(*) FROM quarantine WHERE batch_id = ?", [run.batch_id]
        )
        assert in_quarantine == run.quarantined


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_per_source_summary_and_ratio_match_the_audit(demo_store: Store, source: str) -> None:
    f = load_report(demo_store, source=source).figures
    (s,) = f.summaries
    rows_in, loaded, updated, quarantined, duplicates, rejected = EXPECTED[source]
    assert (s.rows_in, s.loaded, s.updated, s.quarantined, s.duplicates) == (
        rows_in,
        loaded,
        updated,
        quarantined,
        duplicates,
    )
    assert s.files_rejected == rejected
    sql_ratio = scalar(
        demo_store,
        f"SELECT CAST(sum({detail_int(demo_store, 'quarantined')}) AS DOUBLE PRECISION) / "
        f"sum({detail_int(demo_store, 'rows_in')}) FROM audit "
        "WHERE source = ? AND event = 'batch_committed'",
        [source],
    )
    assert s.quarantine_ratio == pytest.approx(sql_ratio)
    per_batch = {p.batch_id: p.ratio for p in f.ratio_by_source[source]}
    for run in f.runs:
        assert per_batch[run.batch_id] == pytest.approx(run.quarantined / run.rows_in)
    rules: dict[str, int] = {}
    for (detail,) in query(
        demo_store,
        "SELECT detail FROM audit WHERE source = ? AND event = 'batch_committed'",
        [source],
    ):
        for rule, n in json.loads(detail)["failures"].items():
            rules[rule] = rules.get(rule, 0) + n
    top = max(rules.values())
    assert f.top_rules[0].rows == top and rules[f.top_rules[0].rule] == top


def test_report_is_one_self_contained_file(report_file: Path, demo_store: Store) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", html, re.I)
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert len(re.findall(r'<svg class="chart"', html)) == 5
    with connect(demo_store, read_only=True) as con:
        head = read_audit(con)[-1]
    assert f"{head.seq} entries verified" in html and head.hash in html


def _flat(text: str) -> str:
    """Command output with rich's line wrapping undone (long temp paths wrap anywhere)."""
    return " ".join(text.split())


def test_report_filters_and_bad_times(demo_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "orders.html"
    arg = store_arg(demo_store)
    ok = runner.invoke(cli(), ["report", "--store", arg, "-s", "orders", "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "2 batches, 1 sources" in _flat(ok.output)
    html = out.read_text(encoding="utf-8")
    assert "orders_2024-01.csv" in html and "customers.jsonl" not in html
    future = runner.invoke(
        cli(), ["report", "--store", arg, "--since", "2999-01-01", "-o", str(out)]
    )
    assert future.exit_code == 0 and "0 batches" in _flat(future.output)
    bad = runner.invoke(cli(), ["report", "--store", arg, "--until", "soon"])
    assert bad.exit_code == 2 and "not an ISO 8601" in _flat(bad.output)
    # nothing ingested yet: no DuckDB file, or a PostgreSQL schema without tables
    empty = make_store("postgres" if isinstance(demo_store, PostgresStore) else "duckdb", tmp_path)
    missing = runner.invoke(cli(), ["report", "--store", store_arg(empty)])
    assert missing.exit_code == 2, missing.output
    assert re.search(r"no (tidegate )?store", _flat(missing.output)), missing.output


def test_broken_chain_still_writes_the_report_and_exits_1(
    duckdb_demo_store: Path, tmp_path: Path
) -> None:
    import duckdb

    copy = tmp_path / "tampered.duckdb"
    copy.write_bytes(duckdb_demo_store.read_bytes())
    con = duckdb.connect(str(copy))
    con.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
    con.close()
    out = tmp_path / "r.html"
    result = runner.invoke(cli(), ["report", "--store", str(copy), "-o", str(out)])
    assert result.exit_code == 1
    assert "chain broken at seq 2" in _flat(result.output)
    assert "Audit chain broken at seq 2" in out.read_text(encoding="utf-8")


def test_figures_are_published_as_prefect_artifacts(demo_store: Store, prefect_api: str) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from tidegate.flows._report_artifacts import publish_report_artifacts

    @flow(name="report-artifacts-test")
    def publish() -> None:
        publish_report_artifacts(demo_store, "orders")

    publish()

    async def read(key: str) -> list[Any]:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
            )

    (markdown, *_) = asyncio.run(read("tidegate-report-orders"))
    (table, *_) = asyncio.run(read("tidegate-report-orders-batches"))
    assert markdown.type == "markdown" and "| 2 | 0 |" in markdown.data
    assert "email.regex" in markdown.data
    rows = table.data if isinstance(table.data, list) else json.loads(table.data)
    assert [r["file"] for r in rows] == ["orders_2024-01.csv", "orders_2024-02.csv"]
    assert sum(r["loaded"] for r in rows) == EXPECTED["orders"][1]


def test_artifacts_never_fail_the_flow(store: Store, prefect_api: str) -> None:
    """``store`` is empty: no DuckDB file, or a PostgreSQL schema without tables."""
    from prefect import flow

    from tidegate.flows._report_artifacts import publish_report_artifacts

    @flow(name="report-artifacts-missing-store")
    def publish() -> str:
        publish_report_artifacts(store, "orders")
        return "done"

    assert publish() == "done"


@pytest.mark.browser
def test_report_renders_its_charts_in_headless_chromium(
    duckdb_report_file: Path, tmp_path: Path
) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(duckdb_report_file.as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("svg.chart")
            assert charts.count() == 5
            for i in range(5):
                box = charts.nth(i).bounding_box()
                assert box and box["width"] > 300 and box["height"] > 50, box
            drawn = page.evaluate(
                """() => [...document.querySelectorAll('svg.chart')].map(svg => ({
                    name: svg.dataset.chart,
                    shapes: [...svg.querySelectorAll('rect.bar, circle.point, polyline.line')]
                        .filter(s => { const b = s.getBBox(); return b.width > 0 && b.height > 0; })
                        .length,
                }))"""
            )
            assert {d["name"]: d["shapes"] > 0 for d in drawn} == {
                "rows-per-run": True,
                "quarantine-now": True,
                "quarantine-ratio": True,
                "top-rules": True,
                "run-duration": True,
            }, drawn
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            chart_shot = page.locator("svg.chart").first.screenshot()
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000  # a blank page is a few KB
    assert len(chart_shot) > 5_000
    assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests
