"""A plain file that grows while it is read is not committed: `tidegate run` says it
changed and will be read on the next run (exit 3, a ``batch_deferred`` audit entry), no
partial last line is loaded, and the next run loads the whole file once, with or
without a primary key.

The growth is simulated deterministically: the file is appended to between the last
read and the check that follows it (no timing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import query
from store_backends import store_arg
from tidegate.cli import app
from tidegate.sources import _file_pass
from tidegate.store import Store

pytestmark = pytest.mark.e2e
runner = CliRunner()
FIRST = b"id,name\n1,alpha\n2,beta\n3,gam"  # the writer is half-way through line 4
REST = b"ma\n4,delta\n"


def _project(tmp_path: Path, primary_key: bool, chunk_size: int | None) -> Path:
    project = tmp_path / "project"
    for folder in ("pipelines", "schemas", "data"):
        (project / folder).mkdir(parents=True)
    (project / "schemas" / "people.yaml").write_text(
        "source: people\nversion: 1\n"
        + ("primary_key: [id]\n" if primary_key else "")
        + "columns:\n  id: {type: int64}\n  name: {type: string}\n"
    )
    chunks = "" if chunk_size is None else f", chunk_size: {chunk_size}"
    (project / "pipelines" / "people.yaml").write_text(
        f"name: people\nsource: {{kind: file, path: data/people.csv{chunks}}}\n"
        "contract: schemas/people.yaml\n"
    )
    (project / "data" / "people.csv").write_bytes(FIRST)
    return project


def _run(project: Path, store: Store) -> tuple[int, str]:
    result = runner.invoke(
        app, ["run", "people", "--project", str(project), "--store", store_arg(store)]
    )
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("primary_key", [True, False], ids=["key", "no-key"])
@pytest.mark.parametrize("chunk_size", [None, 1], ids=["one-piece", "chunked"])
def test_a_file_that_grows_while_read_is_left_whole_for_the_next_run(
    tmp_path: Path,
    store: Store,
    prefect_api: str,
    monkeypatch: pytest.MonkeyPatch,
    primary_key: bool,
    chunk_size: int | None,
) -> None:
    project = _project(tmp_path, primary_key, chunk_size)
    check = _file_pass.FilePass._check_unchanged
    done: list[bool] = []

    def appended_then_checked(self: _file_pass.FilePass) -> None:
        if not done and self.path.name == "people.csv":
            done.append(True)
            with self.path.open("ab") as handle:
                handle.write(REST)
        check(self)

    monkeypatch.setattr(_file_pass.FilePass, "_check_unchanged", appended_then_checked)
    code, out = _run(project, store)
    assert done, "the read was not checked"
    assert code == 3, out
    assert "changed while read" in out and "will be read on the next run" in out
    events = query(store, "SELECT event, detail FROM audit ORDER BY seq")
    assert [e for e, _ in events if e.startswith("batch_")] == ["batch_deferred"]
    detail = json.loads(events[-1][1])
    assert detail["location"].endswith("people.csv") and "bytes" in detail["changed"]
    monkeypatch.undo()

    code, out = _run(project, store)  # the writer is done: the whole file, once
    assert code == 0, out
    rows = query(store, "SELECT id, name FROM people ORDER BY id")
    assert rows == [(1, "alpha"), (2, "beta"), (3, "gamma"), (4, "delta")]  # no "gam"
    code, out = _run(project, store)  # and again: already committed, nothing doubled
    assert code == 0, out
    assert query(store, "SELECT count(*) FROM people") == [(4,)]
