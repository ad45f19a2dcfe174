"""What a user can get wrong ends in one line naming the value or path and the next step,
exit 2, never a traceback: `--version`, store URLs tidegate does not support, store
folders and files that cannot be written, read-only file systems, missing folders."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from helpers import CLEAN_CSV, SOME_BAD_CSV, make_sales_project, query
from tidegate.cli import app
from tidegate.errors import ConfigError
from tidegate.store import open_store

runner = CliRunner()
AS_ROOT = os.geteuid() == 0  # chmod does not restrict root


def one_line_error(result: Result, *wanted: str) -> str:
    """The single error line of a refused command, holding each of ``wanted``."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for text in wanted:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def test_version_from_package_metadata() -> None:
    for flag in ("--version", "-V"):
        result = runner.invoke(app, [flag])
        assert result.exit_code == 0 and result.output == f"tidegate {version('tidegate')}\n"


@pytest.mark.parametrize(
    "value", ["mysql://root:s3cret@127.0.0.1/shop", "sqlite:///shop.db", "http://example.com/x"]
)
def test_a_store_url_tidegate_does_not_support_is_refused(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scheme = value.split("://")[0]
    with pytest.raises(ConfigError, match=f"{scheme}://"):
        open_store(value)
    by_option = runner.invoke(app, ["audit", "list", "--store", value])
    line = one_line_error(by_option, f"{scheme}://", "DuckDB file path", "postgresql://")
    assert "s3cret" not in line  # the password never shows
    by_env = runner.invoke(app, ["store", "init"], env={"TIDEGATE_STORE": value})
    one_line_error(by_env, f"{scheme}://", "postgresql://")
    assert list(tmp_path.iterdir()) == []  # no file called `mysql:` or anything else


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    return make_sales_project(tmp_path / "project", {"a.csv": CLEAN_CSV})


@pytest.mark.parametrize(
    "command",
    [
        ["store", "init"],
        ["quarantine", "reject", "1", "--reason", "x"],
        ["run", "sales"],  # refused before Prefect starts
    ],
)
def test_a_store_folder_that_cannot_be_made(command: list[str], sales: Path) -> None:
    result = runner.invoke(app, [*command, "--project", str(sales), "--store", "/proc/x/t.duckdb"])
    one_line_error(result, "/proc/x", "TIDEGATE_STORE")


def test_the_real_entry_point_prints_one_line() -> None:
    tidegate = Path(sys.executable).parent / "tidegate"
    proc = subprocess.run(
        [str(tidegate), "store", "init", "--store", "/proc/x/t.duckdb"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "60"},  # a narrow terminal does not wrap it
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "/proc/x" in proc.stderr


@pytest.mark.skipif(AS_ROOT, reason="root ignores chmod: the EROFS tests below cover it")
def test_a_read_only_folder_and_a_read_only_store_file(sales: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        made = runner.invoke(app, ["store", "init", "--store", str(locked / "sub" / "t.duckdb")])
        one_line_error(made, str(locked / "sub"), "--store")
        run = runner.invoke(
            app, ["run", "sales", "--project", str(sales), "--store", str(locked / "t.duckdb")]
        )
        one_line_error(run, str(locked), "--store")
    finally:
        locked.chmod(0o700)
    store = tmp_path / "ro.duckdb"
    assert runner.invoke(app, ["store", "init", "--store", str(store)]).exit_code == 0
    store.chmod(0o444)
    rejected = runner.invoke(
        app, ["quarantine", "reject", "1", "--reason", "x", "--store", str(store)]
    )
    one_line_error(rejected, str(store))


def test_a_read_only_file_system_before_a_run(
    sales: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tidegate.store import _location

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "tmpXYZ"))

    monkeypatch.setattr(_location.tempfile, "TemporaryFile", read_only)
    store = tmp_path / "ro" / "t.duckdb"
    result = runner.invoke(app, ["run", "sales", "--project", str(sales), "--store", str(store)])
    one_line_error(result, "Read-only file system", str(store.parent), "--store")
    assert not store.exists()


def test_a_read_only_store_file_a_writing_command_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    import tidegate

    project = make_sales_project(tmp_path / "project", {"a.csv": SOME_BAD_CSV})
    store = tmp_path / "t.duckdb"
    contract = tidegate.load_contract(project / "schemas" / "sales.yaml")
    tidegate.Pipeline(source=str(project / "data" / "a.csv"), contract=contract, store=store).run()
    real_connect = duckdb.connect

    def read_only_fs(database: str = ":memory:", *args: object, **kwargs: object) -> object:
        if kwargs.get("read_only"):
            return real_connect(database, *args, **kwargs)  # type: ignore[arg-type]
        raise duckdb.IOException(f'IO Error: Cannot open file "{database}": Read-only file system')

    monkeypatch.setattr(duckdb, "connect", read_only_fs)
    args = ["quarantine", "reject", "1", "--reason", "x", "--store", str(store)]
    one_line_error(runner.invoke(app, args), str(store), "Read-only file system", "--store")
    monkeypatch.undo()
    assert query(store, "SELECT DISTINCT status FROM quarantine") == [("pending",)]


def test_missing_folders_name_where_tidegate_looked(sales: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    no_pipelines = runner.invoke(app, ["run", "sales", "--project", str(empty)])
    one_line_error(no_pipelines, f"no pipelines/ folder in {empty}", "tidegate init")
    no_schemas = runner.invoke(app, ["schema", "check", "--project", str(empty)])
    one_line_error(no_schemas, str(empty / "schemas"), "tidegate init")
    for contract in (sales / "schemas").iterdir():
        contract.unlink()
    (sales / "schemas").rmdir()
    missing = runner.invoke(app, ["run", "sales", "--project", str(sales)])
    one_line_error(missing, "schemas/sales.yaml", f"no folder {sales / 'schemas'}", "tidegate init")


def test_any_file_a_command_cannot_write_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = tmp_path / "sample.csv"
    sample.write_text(CLEAN_CSV)
    result = runner.invoke(app, ["schema", "infer", str(sample), "-o", "/proc/x/new.yaml"])
    one_line_error(result, "cannot write /proc/x/new.yaml", "choose another path with -o")

    def read_only(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "write_text", read_only)
    target = tmp_path / "new.yaml"
    result = runner.invoke(app, ["schema", "infer", str(sample), "-o", str(target)])
    one_line_error(result, f"cannot write {target}: Read-only file system", "another path")


def test_a_suite_query_that_does_not_run_is_refused_before_a_run(
    sales: Path, tmp_path: Path
) -> None:
    """An ``unexpected_rows_query`` naming a column the contract lacks is refused in one
    line, before Prefect, and nothing reaches the store."""
    import json

    suite = {
        "name": "sales",
        "expectations": [
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE no_such < 0"},
            }
        ],
    }
    (sales / "schemas" / "sales.gx.json").write_text(json.dumps(suite))
    contract = sales / "schemas" / "sales.yaml"
    contract.write_text(contract.read_text() + "expectations: {suite: sales.gx.json}\n")
    store = tmp_path / "t.duckdb"
    result = runner.invoke(app, ["run", "sales", "--project", str(sales), "--store", str(store)])
    one_line_error(result, "_row.unexpected_rows_expectation", "no_such", "unexpected_rows_query")
    assert not store.exists()


def test_an_expectation_whose_kwargs_gx_refuses_is_refused_before_a_run(
    sales: Path, tmp_path: Path
) -> None:
    import json

    suite = {
        "name": "sales",
        "expectations": [
            {
                "type": "expect_table_row_count_to_be_between",
                "kwargs": {"min_value": 1, "at_most": 9},
            }
        ],
    }
    (sales / "schemas" / "sales.gx.json").write_text(json.dumps(suite))
    contract = sales / "schemas" / "sales.yaml"
    contract.write_text(contract.read_text() + "expectations: {suite: sales.gx.json}\n")
    store = tmp_path / "t.duckdb"
    result = runner.invoke(app, ["run", "sales", "--project", str(sales), "--store", str(store)])
    one_line_error(
        result, "_batch.expect_table_row_count_to_be_between", "at_most", "fix its kwargs"
    )
    assert not store.exists()
