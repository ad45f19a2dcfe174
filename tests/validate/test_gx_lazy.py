"""Great Expectations is an optional extra (`tidegate[gx]`), imported only when a contract
names a suite: a real run and the read-only commands of a project without one never import
it, and without the extra a contract naming one is refused in one line that says what to
install, before anything reaches the store.

Each command runs in a fresh interpreter (`_CLI`: the `tidegate` console script's
``main``, with the process's real exit code and output), which records at exit which of
the heavy packages it imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import CLEAN_CSV, SOME_BAD_CSV, copy_store, make_sales_project, query
from tidegate.contracts._suite import GX_INSTALL, gx_installed

# argv: REPORT MODE ARGS...; MODE "without-gx" hides great_expectations from the path
# finder, as when the extra is not installed: find_spec() returns None and an import
# raises ModuleNotFoundError (what `gx_installed` and a plain import each see).
_CLI = """
import importlib.machinery, importlib.util, json, sys

report, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
if mode == "without-gx":
    class _WithoutGX(importlib.machinery.PathFinder):
        @classmethod
        def find_spec(cls, fullname, path=None, target=None):
            if fullname.partition(".")[0] == "great_expectations":
                return None
            return super().find_spec(fullname, path, target)

    sys.meta_path[:] = [
        _WithoutGX if f is importlib.machinery.PathFinder else f for f in sys.meta_path
    ]
try:
    from tidegate.cli import main

    sys.argv = ["tidegate", *args]
    main()
finally:
    top = {m.partition(".")[0] for m in sys.modules}
    state = {"imported": sorted(top & {"great_expectations", "prefect"})}
    if mode == "without-gx":  # what the hidden extra looks like, after the command
        state["gx_found"] = importlib.util.find_spec("great_expectations") is not None
        try:
            import great_expectations  # noqa: F401
            state["gx_importable"] = True
        except ModuleNotFoundError:
            state["gx_importable"] = False
    with open(report, "w") as f:
        json.dump(state, f)
"""
# "never imports GX" says something only where GX could have been imported
with_gx = pytest.mark.skipif(not gx_installed(), reason="the gx extra is not installed")


@dataclass(frozen=True)
class Ran:
    code: int
    out: str  # stdout and stderr
    imported: list[str]  # of great_expectations and prefect
    gx_found: bool | None = None  # without-gx only: importlib.util.find_spec's answer
    gx_importable: bool | None = None  # without-gx only: `import great_expectations`

    @property
    def lines(self) -> list[str]:
        return self.out.strip().splitlines()


def tidegate(args: Sequence[str], report: Path, *, without_gx: bool = False) -> Ran:
    """``tidegate ARGS`` in a fresh interpreter, on the project's default store unless
    ARGS say ``--store``. COLUMNS is wide so that a message is one printed line."""
    mode = "without-gx" if without_gx else "as-installed"
    env = {k: v for k, v in os.environ.items() if k != "TIDEGATE_STORE"}
    proc = subprocess.run(
        [sys.executable, "-c", _CLI, str(report), mode, *args],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "500", "PREFECT_LOGGING_LEVEL": "WARNING"},
        timeout=300,
    )
    return Ran(proc.returncode, proc.stdout + proc.stderr, **json.loads(report.read_text()))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def add_suite(project: Path) -> Path:
    """Name a GX suite (one row expectation of a type tidegate lists) in `sales`'s contract."""
    suite = {
        "name": "sales",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "amount", "min_value": 0},
            }
        ],
    }
    (project / "schemas" / "sales.gx.json").write_text(json.dumps(suite))
    contract = project / "schemas" / "sales.yaml"
    contract.write_text(contract.read_text() + "expectations: {suite: sales.gx.json}\n")
    return contract


@dataclass(frozen=True)
class SalesRun:
    project: Path
    store: Path
    ran: Ran


@pytest.fixture(scope="module")
def sales_run(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> SalesRun:
    """One real `tidegate run sales` (Prefect flow and all) of a contract without a suite:
    a.csv loads 5 rows, b.csv 3 of 5 (2 fail `amount.ge` and are quarantined)."""
    root = tmp_path_factory.mktemp("gx-lazy")
    project = make_sales_project(root / "project", {"a.csv": CLEAN_CSV, "b.csv": SOME_BAD_CSV})
    store = root / "s.duckdb"
    ran = tidegate(
        ["run", "sales", "--project", str(project), "--store", str(store)], root / "report.json"
    )
    return SalesRun(project, store, ran)


@with_gx
def test_a_run_of_a_contract_without_a_suite_never_imports_gx(sales_run: SalesRun) -> None:
    ran = sales_run.ran
    assert ran.code == 0, ran.out
    assert ran.imported == ["prefect"], ran.imported  # the flow ran; GX was never loaded
    store = sales_run.store
    assert query(store, "SELECT id FROM sales ORDER BY id") == [
        (i,) for i in (1, 2, 3, 4, 5, 11, 13, 15)
    ]
    quarantined = query(store, "SELECT rules FROM quarantine WHERE source = 'sales'")
    assert len(quarantined) == 2 and all("amount.ge" in str(r[0]) for r in quarantined)
    events = query(store, "SELECT event FROM audit WHERE source = 'sales'")
    assert [e for (e,) in events].count("batch_committed") == 2


@with_gx
def test_read_only_commands_import_neither_gx_nor_prefect(
    sales_run: SalesRun, tmp_path: Path
) -> None:
    store = str(copy_store(sales_run.store, tmp_path / "copy"))
    project = str(sales_run.project)
    audit = tidegate(["audit", "list", "--store", store], tmp_path / "audit.json")
    assert audit.code == 0, audit.out
    assert "batch_committed" in audit.out
    held = tidegate(["quarantine", "list", "-f", "json", "--store", store], tmp_path / "q.json")
    assert held.code == 0, held.out
    records = [json.loads(line) for line in held.lines]  # JSON lines
    assert len(records) == 2 and {r["source"] for r in records} == {"sales"}
    check = tidegate(["schema", "check", "--project", project], tmp_path / "check.json")
    assert check.code == 0, check.out
    [line] = check.lines
    assert line.startswith("✓ ") and "sales.yaml: source sales v1, 2 columns" in line
    for ran in (audit, held, check):
        assert ran.imported == [], (ran.imported, ran.out)


@with_gx
def test_checking_a_contract_that_names_a_suite_reads_it_without_importing_gx(
    tmp_path: Path,
) -> None:
    """The suite's types are classified from tidegate's own lists: GX is for running it."""
    project = make_sales_project(tmp_path / "project", {"a.csv": CLEAN_CSV})
    add_suite(project)
    check = tidegate(["schema", "check", "--project", str(project)], tmp_path / "r.json")
    assert check.code == 0, check.out
    assert "source sales v1" in check.out
    assert check.imported == []


@pytest.fixture
def without_extra(tmp_path: Path) -> Path:
    """A project whose contract names a suite, for a process that cannot import GX."""
    project = make_sales_project(tmp_path / "project", {"a.csv": CLEAN_CSV})
    add_suite(project)
    return project


def _refusal(ran: Ran) -> str:
    """The one line of ``ran``'s output naming the install command; never a traceback."""
    assert not ran.gx_found and not ran.gx_importable  # the extra really is missing
    assert "Traceback" not in ran.out, ran.out
    named = [line for line in ran.lines if GX_INSTALL in line]
    assert len(named) == 1, ran.out
    assert "schemas/sales.yaml" in named[0] and "expectations.suite" in named[0]
    assert ran.imported == [], ran.imported  # refused before Prefect, GX not tried
    return named[0]


def test_without_the_extra_schema_check_names_the_install_command(
    without_extra: Path, tmp_path: Path
) -> None:
    before = snapshot(without_extra)
    ran = tidegate(
        ["schema", "check", "--project", str(without_extra)], tmp_path / "r.json", without_gx=True
    )
    assert ran.code == 1, ran.out
    assert _refusal(ran).startswith("✗ ")
    assert snapshot(without_extra) == before


def test_without_the_extra_a_run_names_the_install_command_and_writes_nothing(
    without_extra: Path, tmp_path: Path
) -> None:
    before = snapshot(without_extra)
    store = tmp_path / "s.duckdb"
    where = ["--project", str(without_extra)]
    for args in (["run", "sales", *where, "--store", str(store)], ["run", "--all", *where]):
        ran = tidegate(args, tmp_path / "r.json", without_gx=True)
        assert ran.code == 2, ran.out
        assert ran.lines == [_refusal(ran)] and ran.lines[0].startswith("error: "), ran.out
    assert not store.exists()
    assert not (without_extra / ".tidegate").exists()  # `--all`: the default store
    assert snapshot(without_extra) == before
