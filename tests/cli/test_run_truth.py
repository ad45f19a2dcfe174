"""A run tells the truth: header drift named first with the rename that fixes it, a
skip says when the contract or the source options changed since the commit, and the
commands the summary, a quarantine reason and `tidegate doctor` suggest work when run."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from helpers import make_sales_project, query
from store_backends import store_arg
from tidegate import EXIT_DATA_HELD, EXIT_OK
from tidegate.cli import app
from tidegate.store import Store

runner = CliRunner()

FINDING = (
    'missing columns amount, invoice_no; unknown headers "Invoice Number", "Total"; '
    'add to the contract: normalize: {rename: {"Invoice Number": invoice_no, "Total": amount}}'
)


def _invoke(args: list[str]) -> tuple[int, str, str]:
    """Exit code, output as printed, and output with its line wrapping undone."""
    result = runner.invoke(app, args)
    return result.exit_code, result.output, " ".join(result.output.split())


def _invoices_project(root: Path) -> Path:
    (root / "schemas").mkdir(parents=True)
    contract: dict[str, Any] = {
        "source": "invoices",
        "version": 1,
        "primary_key": ["invoice_no"],
        "columns": {
            "invoice_no": {"type": "int64", "nullable": False},
            "amount": {"type": "float64", "nullable": False},
            "customer": {"type": "string"},
        },
        "policy": {"max_quarantine_ratio": 0.2},
    }
    (root / "schemas" / "invoices.yaml").write_text(yaml.safe_dump(contract))
    (root / "pipelines").mkdir()
    pipeline = {
        "name": "invoices",
        "source": {"kind": "file", "path": "data/*.csv"},
        "contract": "schemas/invoices.yaml",
    }
    (root / "pipelines" / "invoices.yaml").write_text(yaml.safe_dump(pipeline))
    (root / "data").mkdir()
    (root / "data" / "a.csv").write_text("invoice_no,amount,customer\n1,10,alice\n2,20,bob\n")
    rows = "".join(f"{n},{n}.50,c{n}\n" for n in range(100, 110))
    (root / "data" / "b.csv").write_text("Invoice Number,Total,customer\n" + rows)
    return root


def _audit(store: Store | Path, event: str) -> list[dict[str, Any]]:
    rows = query(store, "SELECT detail FROM audit WHERE event = ? ORDER BY seq", [event])
    return [json.loads(r[0]) for r in rows]


def test_header_drift_is_named_first_and_its_fix_works(tmp_path: Path, prefect_api: str) -> None:
    project = _invoices_project(tmp_path / "p")
    store = tmp_path / "s.duckdb"
    where = ["--project", str(project), "--store", str(store)]
    code, printed, out = _invoke(["run", "invoices", *where])
    assert code == EXIT_DATA_HELD, out
    # the summary's line for b.csv: the header finding first, then the policy's verdict
    assert f"b.csv: {FINDING}; quarantine ratio 1.000 (10 of 10 rows)" in out
    assert out.index(FINDING) < out.index("top failing rules")
    # every quarantined record of b.csv says why, in its errors
    records = query(store, "SELECT errors FROM quarantine WHERE location LIKE '%b.csv'")
    assert len(records) == 10
    for (errors,) in records:
        messages = {e["rule"]: e["message"] for e in json.loads(errors)}
        assert messages["_batch.held"].startswith(FINDING)
        assert messages["amount.not_null"] == f"the column is not in the file's header: {FINDING}"
    (held,) = _audit(store, "batch_held")
    assert held["headers"] == FINDING and held["held"].startswith(FINDING)
    assert held["missing_columns"] == ["amount", "invoice_no"]

    # "Where to look next" names the real table with a command that works
    (command,) = re.findall(r"`(tidegate audit sql [^`]*)`", printed)
    assert "FROM invoices LIMIT 10" in command and f"--store {store}" in command
    code, _, rows = _invoke(shlex.split(command)[1:])
    assert code == 0 and "alice" in rows and "bob" in rows, rows
    assert "duckdb " not in printed

    # follow the advice without bumping `version:`: the skip says the contract changed
    path = project / "schemas" / "invoices.yaml"
    contract = yaml.safe_load(path.read_text())
    contract["normalize"] = {"rename": {"Invoice Number": "invoice_no", "Total": "amount"}}
    path.write_text(yaml.safe_dump(contract))
    code, _, out = _invoke(["run", "invoices", *where])
    assert code == EXIT_OK, out
    changed = (
        "committed under contract invoices v1 with a different content hash: the contract "
        "changed since (bump `version:` to record it); rerun with `tidegate run invoices "
        "--reprocess` to read it under the current contract"
    )
    assert "b.csv: already committed as" in out and changed in out
    skips = _audit(store, "batch_skipped")
    assert [s["changed_since"] for s in skips] == [[changed], [changed]]
    assert query(store, "SELECT count(*) FROM invoices") == [(2,)]
    # the command it names loads the file
    (advised,) = set(re.findall(r"`(tidegate run [^`]*--reprocess)`", out))
    code, _, out = _invoke([*shlex.split(advised)[1:], *where])
    assert code == EXIT_OK, out
    assert query(store, "SELECT count(*) FROM invoices") == [(12,)]
    assert query(store, "SELECT count(*) FROM quarantine WHERE status = 'pending'") == [(0,)]


def test_a_rejected_file_loads_by_following_the_advice(
    tmp_path: Path, store: Store, prefect_api: str
) -> None:
    files = {"a.csv": "id,amount\n1,10\n2,20\n", "z.csv": b"id,amount\n7,70\n8,80\xa0\n"}
    project = make_sales_project(tmp_path / "p", files)
    where = ["--project", str(project), "--store", store_arg(store)]
    code, _, out = _invoke(["run", "sales", *where])
    assert code == EXIT_DATA_HELD, out
    assert "z.csv: bytes are not valid utf-8" in out
    ((errors,),) = query(store, "SELECT errors FROM quarantine WHERE rules = '_file.unreadable'")
    (message,) = [e["message"] for e in json.loads(errors)]
    advised = set(re.findall(r"`(tidegate run [^`]*)`", message))
    # doctor gives the same advice
    result = runner.invoke(app, ["doctor", "--format", "json", *where])
    last_run = next(c for c in json.loads(result.output)["checks"] if c["check"] == "last run")
    assert "`tidegate run sales --reprocess`" in last_run["todo"]
    assert advised == {"tidegate run sales --reprocess"}

    # fix the option; a plain run skips the same bytes and says the options changed
    path = project / "pipelines" / "sales.yaml"
    pipeline = yaml.safe_load(path.read_text())
    pipeline["source"]["encoding"] = "latin-1"
    path.write_text(yaml.safe_dump(pipeline))
    code, _, out = _invoke(["run", "sales", *where])
    changed = (
        "source options changed since: encoding utf-8 -> latin-1; rerun with "
        "`tidegate run sales --reprocess` to read it with the current options"
    )
    assert changed in out
    assert [s.get("changed_since") for s in _audit(store, "batch_skipped")] == [
        [changed],
        [changed],
    ]
    assert query(store, "SELECT count(*) FROM sales") == [(2,)]

    # run as advised: the file loads, its file-level entry leaves the queue
    code, _, out = _invoke([*shlex.split(advised.pop())[1:], *where])
    assert code == EXIT_OK, out
    assert query(store, "SELECT count(*) FROM sales") == [(4,)]
    assert query(store, "SELECT count(*) FROM quarantine WHERE status = 'pending'") == [(0,)]
    options = query(
        store,
        "SELECT source_options, source_options_hash FROM checkpoints "
        "WHERE status = 'committed' AND location LIKE '%z.csv'",
    )
    assert json.loads(options[0][0])["encoding"] == "latin-1" and len(options[0][1]) == 64
