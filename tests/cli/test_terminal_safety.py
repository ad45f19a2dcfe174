"""Values from data never reach the terminal as control sequences or markup (issue 13).

A store whose quarantined values, raw text, file name, header and reject reason carry
an ANSI colour, a clear-screen, an OSC 8 link, a C1 CSI, a bidi override and rich
markup (``[/]``, ``[link=...]``, ``[bold]``): every command that prints them exits 0,
prints no ESC of the data's (with colour off: no ESC at all), and shows the escapes
and the markup as visible text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from helpers import query
from tidegate import EXIT_OK, Pipeline
from tidegate.cli import app

runner = CliRunner()

RED, CLEAR = "\x1b[31m", "\x1b[2J"
OSC8 = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"
C1_CSI, RLO = "\x9b", "\u202e"
LINK = "[link=http://x]y[/link]"
EVIL = f"a{RED}{CLEAR}{OSC8}{C1_CSI}{RLO}[/]{LINK}[bold]z"
EVIL_SHOWN = "a\\x1b[31m\\x1b[2J\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\\\x9b\\u202e"
FILE_NAME = f"evil{RED}[bold]{RLO}{C1_CSI}.csv"  # a file name holds no "/"
# what rich itself writes: styles (SGR) and, for a live progress bar, cursor hide/show,
# erase line and cursor moves
RICH_CONTROL = rb"\x1b\[(?:[0-9;]*m|\?25[lh]|2K|[0-9]*[ABCDG])"
FILE_SHOWN = "evil\\x1b[31m[bold]\\u202e\\x9b.csv"


def _project(root: Path) -> Path:
    """Pipeline `notes` (id, status in [ok], note) over data/*.csv, one file whose name,
    values and one extra header carry every kind of escape and markup."""
    contract = {
        "source": "notes",
        "version": 1,
        "primary_key": ["id"],
        "columns": {
            "id": {"type": "int64", "nullable": False},
            "status": {"type": "string", "checks": [{"isin": ["ok"]}]},
            "note": {"type": "string"},
        },
        "policy": {"max_quarantine_ratio": 1.0},
    }
    pipeline = {
        "name": "notes",
        "source": {"kind": "file", "path": "data/*.csv", "format": "csv"},
        "contract": "schemas/notes.yaml",
    }
    for folder in ("schemas", "pipelines", "data"):
        (root / folder).mkdir(parents=True)
    (root / "schemas" / "notes.yaml").write_text(yaml.safe_dump(contract))
    (root / "pipelines" / "notes.yaml").write_text(yaml.safe_dump(pipeline))
    rows = f"1,ok,fine\n2,{EVIL},{EVIL}\n3,ok\n4,{EVIL},x\n"  # 3: ragged, kept as raw text
    (root / "data" / FILE_NAME).write_text(f"id,status,note\n{rows}", encoding="utf-8")
    return root


@pytest.fixture
def evil_store(tmp_path: Path) -> tuple[Path, Path]:
    """The project, run once (Prefect-free, through the same engine as the flow), and
    record 2 rejected with the evil text as its reason."""
    project = _project(tmp_path / "p")
    store = tmp_path / "s.duckdb"
    result = Pipeline(
        source=str(project / "data" / "*.csv"),
        contract=project / "schemas" / "notes.yaml",
        store=store,
        base_dir=project,
    ).run()
    assert [(o.loaded, o.quarantined) for o in result.outcomes] == [(1, 3)]
    rejected = _tg(project, store, "quarantine", "reject", "2", "--reason", EVIL)
    assert "1 record(s) rejected" in rejected.stdout
    return project, store


def _tg(project: Path, store: Path, *args: str) -> Result:
    result = runner.invoke(app, [*args, "--project", str(project), "--store", str(store)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _strings(value: object) -> set[str]:
    """Every string in a JSON value."""
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value))
    return {value} if isinstance(value, str) else set()


def _assert_safe(result: Result, code: int = EXIT_OK) -> str:
    """The output (colour is off under CliRunner): the exit code, no ESC at all, no C1
    or bidi control; returned with its wrapping undone for `in` checks."""
    assert result.exit_code == code, result.output
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and C1_CSI not in stream and RLO not in stream, stream
    return "".join(result.output.split("\n"))


def test_quarantine_list_and_show(evil_store: tuple[Path, Path]) -> None:
    project, store = evil_store
    listed = _assert_safe(_tg(project, store, "quarantine", "list", "--status", "all"))
    assert listed.count("evil\\x1b[") == 3  # the file name, cut to its column: escaped
    for record_id in ("1", "2"):
        shown = _assert_safe(_tg(project, store, "quarantine", "show", record_id))
        assert FILE_SHOWN in shown  # the header line: file name in full
        assert EVIL_SHOWN in shown.replace("\\\\", "\\")  # the failing value, as a repr
        assert "[/]" in shown and LINK in shown and "[bold]z" in shown
    rejected = _assert_safe(_tg(project, store, "quarantine", "show", "2"))
    assert f"rejected: {EVIL_SHOWN}[/]{LINK}[bold]z" in rejected  # the reason in full
    ragged = _assert_safe(_tg(project, store, "quarantine", "show", "3"))
    assert "ragged row" in ragged and "record text as read" in ragged
    # JSON lines keep the exact values, with every control character escaped
    lines = _tg(project, store, "quarantine", "list", "-f", "json", "--status", "all").stdout
    assert "\x1b" not in lines and C1_CSI not in lines and RLO not in lines
    records = [json.loads(line) for line in lines.splitlines()]
    assert {r["raw"].get("status") for r in records} >= {EVIL}
    assert Path(records[0]["location"]).name == FILE_NAME


def test_audit_list_show_trace_and_sql(evil_store: tuple[Path, Path]) -> None:
    project, store = evil_store
    listed = _assert_safe(_tg(project, store, "audit", "list"))
    assert "batch_committed" in listed and "record_rejected" in listed
    committed = _assert_safe(_tg(project, store, "audit", "show", "1"))
    assert '"location": ' in committed and "evil\\u001b[31m[bold]\\u202e\\u009b.csv" in committed
    reject = _assert_safe(_tg(project, store, "audit", "show", "2"))
    assert "[/]" in reject and LINK in reject and "\\u001b]8;;http://evil" in reject
    batch = query(store, "SELECT batch_id FROM audit WHERE seq = 1")[0][0]
    both = _assert_safe(_tg(project, store, "audit", "show", batch))
    assert "seq 1" in both and "seq 2" in both
    entries = _tg(project, store, "audit", "show", "2", "-f", "json").stdout
    assert "\x1b" not in entries and C1_CSI not in entries and RLO not in entries
    assert EVIL in _strings(json.loads(entries))  # the reason exactly as stored
    traced = _assert_safe(_tg(project, store, "audit", "trace", "notes", "2"))
    assert FILE_SHOWN in traced and "quarantine #1" in traced
    by_line = _assert_safe(_tg(project, store, "audit", "trace", "notes", "--line", "5"))
    assert "quarantine #2 (rejected" in by_line and FILE_SHOWN in by_line
    sql = _assert_safe(_tg(project, store, "audit", "sql", "SELECT reason FROM quarantine"))
    assert "[/]" in sql and "\\x1b[31m" in sql


def test_an_error_message_quoting_a_file_name_is_one_plain_line(tmp_path: Path) -> None:
    binary = tmp_path / f"bad{RED}{CLEAR}{RLO}{C1_CSI}.csv"  # "[" would be a glob pattern
    binary.write_bytes(b"id,x\n\x00\x01\n")
    result = runner.invoke(app, ["schema", "infer", str(binary)])
    assert result.exit_code == 2, result.output
    assert "\x1b" not in result.stderr and RLO not in result.stderr and C1_CSI not in result.stderr
    line = "".join(result.stderr.split("\n"))
    assert line.startswith("error: cannot read ")
    assert "bad\\x1b[31m\\x1b[2J\\u202e\\x9b.csv: not a text/CSV file" in line


def test_schema_infer_shows_the_values_it_guessed_plainly(tmp_path: Path) -> None:
    data = tmp_path / "sample.csv"
    rows = "".join(f"{n},{EVIL if n % 2 else 'ok'}\n" for n in range(40))
    data.write_text(f"id,kind\n{rows}", encoding="utf-8")
    result = runner.invoke(app, ["schema", "infer", str(data), "-o", str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stderr and C1_CSI not in result.stderr and RLO not in result.stderr
    # the table of guesses proposes `isin` with the value, shown as text (never a link)
    assert "isin" in result.stderr and "\\x1b[31m" in result.stderr
    assert "[/][link" in result.stderr and "]y[/link]" in result.stderr


def test_schema_infer_writes_the_sample_s_file_name_visibly(tmp_path: Path) -> None:
    data = tmp_path / f"s{CLEAR}{RLO}{C1_CSI}.csv"  # "[" would be a glob pattern
    data.write_text("id,kind\n1,a\n2,b\n", encoding="utf-8")
    result = runner.invoke(app, ["schema", "infer", str(data)])
    assert result.exit_code == 0, result.output
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and C1_CSI not in stream and RLO not in stream
    assert "2 rows of s\\x1b[2J\\u202e\\x9b.csv" in result.stdout  # comment and description
    assert yaml.safe_load(result.stdout)["columns"]["kind"]["type"] == "string"


def test_schema_infer_yaml_escapes_what_yaml_would_write_raw(tmp_path: Path) -> None:
    """PyYAML writes NEL and bidi controls as they are in a plain or quoted scalar: the
    inferred contract has them double-quoted and escaped, and reads back the same."""
    data = tmp_path / "sample.csv"
    members = [f"x{RLO}y", "p\x85q", "ok"]
    rows = "".join(f"{n},{members[n % 3]}\n" for n in range(60))
    data.write_text(f"id,kind{RLO}\n{rows}", encoding="utf-8")
    result = runner.invoke(app, ["schema", "infer", str(data)])
    assert result.exit_code == 0, result.output
    assert RLO not in result.stdout and "\x85" not in result.stdout
    contract = yaml.safe_load(result.stdout)
    assert f"kind{RLO}" in contract["normalize"]["rename"]  # the header, exactly
    (column,) = [c for c in contract["columns"].values() if "checks" in c]
    assert sorted(column["checks"][0]["isin"]) == sorted(members)


def test_a_real_run_prints_its_summary_plainly(tmp_path: Path, prefect_api: str) -> None:
    project = _project(tmp_path / "p")
    # 14 bytes whose only row is markup: once ended in a MarkupError after the commit
    (project / "data" / "short.csv").write_text("id,status\n[/]\n")
    store = tmp_path / "s.duckdb"
    result = _tg(project, store, "run", "notes")
    out = _assert_safe(result)
    assert FILE_SHOWN in out and "short.csv" in out  # both files in the summary
    # every row ended somewhere: 1 loaded, the evil file's 3 and short.csv's 1 quarantined
    assert query(store, "SELECT count(*) FROM notes")[0][0] == 1
    assert query(store, "SELECT count(*) FROM quarantine")[0][0] == 4


def test_with_colour_forced_only_rich_draws_escapes(tmp_path: Path, prefect_api: str) -> None:
    """A terminal that takes colour: rich draws its styles (SGR sequences), but none of
    the data's escapes reach it (no clear-screen, no link, no data-placed colour)."""
    project = _project(tmp_path / "p")
    store = tmp_path / "s.duckdb"
    env = {**os.environ, "TERM": "xterm-256color", "FORCE_COLOR": "1", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    where = ["--project", str(project), "--store", str(store)]
    for args, code in (
        (["run", "notes"], EXIT_OK),
        (["quarantine", "show", "1"], EXIT_OK),
        (["audit", "show", "1"], EXIT_OK),
        (["audit", "trace", "notes", "2"], EXIT_OK),
        (["audit", "trace", "notes", f"{RED}[/]"], 1),  # no such key: the answer quotes it
    ):
        done = subprocess.run(
            [sys.executable, "-c", "from tidegate.cli import main; main()", *args, *where],
            capture_output=True,
            env=env,
            check=False,
        )
        assert done.returncode == code, (args, done.stdout, done.stderr)
        both = done.stdout + done.stderr
        assert b"\x1b[" in both, args  # colour was on: rich styled something
        assert b"\x1b]8;" not in both and b"\x1b[2J" not in both, args
        assert f"a{RED}".encode() not in both and f"[{RLO}".encode() not in both, args
        assert C1_CSI.encode() not in both and RLO.encode() not in both, args
        # with rich's own styles and its progress display's cursor moves taken out, no
        # escape of any kind is left
        unstyled = re.sub(RICH_CONTROL, b"", both)
        assert b"\x1b" not in unstyled, (args, unstyled)
        if args[0] != "run":
            assert b"\\x1b[31m" in unstyled or b"\\u001b[31m" in unstyled, args
    assert query(store, "SELECT count(*) FROM quarantine")[0][0] == 3


def _run_on_a_terminal(args: list[str]) -> bytes:
    """What the command writes to stdout when stdout is a terminal (a pseudo-terminal)."""
    import pty

    leader, follower = pty.openpty()
    code = "from tidegate.cli import main; main()"
    with subprocess.Popen([sys.executable, "-c", code, *args], stdout=follower) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait() == 0
    os.close(leader)
    return b"".join(chunks)


def test_csv_is_exact_through_a_pipe_and_visible_on_a_terminal(
    evil_store: tuple[Path, Path],
) -> None:
    project, store = evil_store
    args = ["quarantine", "list", "-f", "csv", "--status", "all"]
    where = ["--project", str(project), "--store", str(store)]
    piped = _tg(project, store, *args).stdout  # CliRunner: not a terminal
    assert FILE_NAME in piped  # the data, exactly as stored
    on_tty = _run_on_a_terminal([*args, *where])
    assert b"\x1b" not in on_tty and C1_CSI.encode() not in on_tty and RLO.encode() not in on_tty
    assert FILE_SHOWN.encode() in on_tty
    sql = ["audit", "sql", "SELECT reason FROM quarantine WHERE reason IS NOT NULL", "-f", "csv"]
    assert EVIL in _tg(project, store, *sql).stdout
    reason = _run_on_a_terminal([*sql, *where])
    assert b"\x1b" not in reason and b"\\x1b[31m\\x1b[2J" in reason and LINK.encode() in reason
