"""Commands that only read never import Prefect (nor start a server): audit, quarantine
(`recheck` too, of a contract without a suite), report, doctor, review, `server status`
and `schema check`/`json-schema`, run one after another in one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import copy_store


def test_read_only_commands_import_neither_prefect_nor_great_expectations(
    demo_template: Path, tmp_path: Path, project_root: Path
) -> None:
    store = str(copy_store(demo_template, tmp_path / "demo"))
    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps({"reviewer-token-0123456789": {"user": "ann", "role": "reviewer"}})
    )
    calls = [
        ["audit", "verify", "--store", store],
        ["audit", "list", "--source", "orders", "--store", store],
        ["quarantine", "list", "--source", "orders", "--store", store],
        ["quarantine", "list", "--after", "0", "-n", "2", "--store", store],
        ["quarantine", "show", "1", "--store", store],
        # a reveal appends its audit entry, still without Prefect
        ["quarantine", "list", "-f", "json", "--reveal", "--store", store],
        ["quarantine", "show", "1", "--reveal", "--store", store],
        ["audit", "show", "1", "--reveal", "--store", store],
        ["report", "-o", str(tmp_path / "r.html"), "--store", store],
        [
            "audit",
            "trace",
            "orders",
            "--line",
            "2",
            "--project",
            str(project_root),
            "--store",
            store,
        ],
        ["doctor", "--project", str(project_root), "--store", store],
        ["review", "--tokens", str(tokens), "--project", str(project_root), "--store", store],
        ["server", "status"],
        ["schema", "check", "--project", str(project_root)],
        ["schema", "shadow-report", "orders", "--project", str(project_root), "--store", store],
        # judges the pending records under a candidate (no suite): pandera, not Prefect
        [
            "quarantine",
            "recheck",
            "--contract",
            str(project_root / "schemas" / "orders.yaml"),
            "--project",
            str(project_root),
            "--store",
            store,
        ],
        ["schema", "json-schema", "pipeline", "-o", str(tmp_path / "pipeline.json")],
    ]
    code = (
        "import json, sys\n"
        "import uvicorn\n"
        "served = []\n"
        "uvicorn.run = lambda app, **kw: served.append(kw['port'])\n"
        "from typer.testing import CliRunner\n"
        "from tidegate.cli import app\n"
        f"for call in json.loads({json.dumps(json.dumps(calls))}):\n"
        "    r = CliRunner().invoke(app, call)\n"
        "    assert r.exception is None or isinstance(r.exception, SystemExit), (call, r.output)\n"
        "    print(call[0], call[1], r.exit_code)\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "heavy = sorted(top & {'prefect', 'great_expectations'})\n"
        "print('heavy:', ','.join(heavy))\n"
        "print('served', *served)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "heavy: " in lines, proc.stdout
    # each ran for real: verify passes, report wrote its file, review served
    assert "audit verify 0" in lines and "quarantine show 0" in lines
    assert "audit trace 0" in lines
    assert "audit show 0" in lines
    assert "served 8765" in lines and (tmp_path / "r.html").stat().st_size > 1000
    assert "server status 1" in lines  # none running: said, and no server started
    assert "schema shadow-report 0" in lines
    assert "quarantine recheck 0" in lines
    assert "schema check 0" in lines and (tmp_path / "pipeline.json").stat().st_size > 1000


def test_version_imports_no_data_or_orchestration_package() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tidegate.cli import app\n"
        "r = CliRunner().invoke(app, ['--version'])\n"
        "heavy = {'prefect', 'great_expectations', 'polars', 'pandera', 'duckdb', 'yaml',\n"
        "         'pydantic'}\n"
        "loaded = heavy & {m.split('.')[0] for m in sys.modules}\n"
        "# no command module either: `--version` is the root group's own option\n"
        "loaded |= {m for m in sys.modules if m.startswith('tidegate.cli._')} - {\n"
        "    'tidegate.cli._app', 'tidegate.cli._common', 'tidegate.cli._lazy_commands'}\n"
        "print(r.exit_code, r.output.strip(), sorted(loaded))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from importlib.metadata import version

    assert proc.stdout.strip() == f"0 tidegate {version('tidegate')} []"


def test_schema_history_and_diff_import_neither_prefect_nor_great_expectations(
    demo_template: Path, tmp_path: Path, project_root: Path
) -> None:
    """The recorded contract versions are read without Prefect or GX (nor pandera)."""
    store = str(copy_store(demo_template, tmp_path / "demo"))
    orders = str(project_root / "schemas" / "orders.yaml")
    calls = [
        ["schema", "history", "orders", "--store", store],
        ["schema", "history", "orders", "--format", "json", "--store", store],
        ["schema", "diff", "orders", "1", orders, "--store", store],
        ["schema", "diff", "orders", "1", orders, "--format", "json", "--store", store],
    ]
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from tidegate.cli import app\n"
        f"for call in json.loads({json.dumps(json.dumps(calls))}):\n"
        "    r = CliRunner().invoke(app, call)\n"
        "    assert r.exit_code == 0, (call, r.output)\n"
        "    print(call[1], r.output.splitlines()[0] if r.output else '')\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "print('heavy:', ','.join(sorted(top & {'prefect', 'great_expectations', 'pandera'})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    lines = proc.stdout.splitlines()
    assert "heavy: " in lines, proc.stdout
    # the demo committed under the sample's orders contract: the diff with it is empty
    assert any(line.startswith("diff orders: v1") and "0 changes" in line for line in lines)


def test_the_fast_read_commands_import_no_data_package(
    demo_template: Path, tmp_path: Path, project_root: Path
) -> None:
    """`--help`, `audit list`/`verify`, `quarantine list`, `schema history` and
    `shadow-report` start without polars or pyarrow (nor Prefect, GX, pandera): each in a
    fresh process, as a user runs it. The commands that read no contract import neither
    the contract model nor pydantic (typer from 0.28 on builds pydantic adapters for every
    parameter: it is held below that in pyproject.toml), nor YAML, nor another command's
    module."""
    store = str(copy_store(demo_template, tmp_path / "demo"))
    no_contract = {
        "yaml",
        "pydantic",
        "tidegate.contracts",
        "tidegate.cli._run",
        "tidegate.cli._schema",
    }
    calls = [
        (["--help"], {"yaml", "pydantic", "tidegate.contracts", "duckdb"}),
        (["audit", "list", "--store", store], no_contract),
        (["audit", "verify", "--store", store], no_contract),
        (["quarantine", "list", "--store", store], no_contract | {"tidegate.cli._audit"}),
        (["schema", "history", "orders", "--store", store], set()),
        (
            ["schema", "shadow-report", "orders", "--project", str(project_root), "--store", store],
            set(),
        ),
        # a record of a source whose contract is not in the project: shown without polars
        (["quarantine", "show", "1", "--project", str(tmp_path), "--store", store], set()),
    ]
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from tidegate.cli import app\n"
        "r = CliRunner().invoke(app, json.loads(sys.argv[1]))\n"
        "heavy = {'polars', 'pyarrow', 'prefect', 'great_expectations', 'pandera'}\n"
        "loaded = heavy & {m.split('.')[0] for m in sys.modules}\n"
        "loaded |= {m for m in json.loads(sys.argv[2]) if m in sys.modules}\n"
        "print(r.exit_code, ','.join(sorted(loaded)) or '-')\n"
    )
    for call, also_absent in calls:
        proc = subprocess.run(
            [sys.executable, "-c", code, json.dumps(call), json.dumps(sorted(also_absent))],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["0", "-"], (call, proc.stdout)
