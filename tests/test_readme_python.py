"""README's "Use it from Python": every block runs, in order, as a user would paste it;
each ``print(...)  # expected`` comment is checked against what it printed, and the
store the examples wrote is checked afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import query
from tidegate.audit import verify_chain
from tidegate.store import open_store

SECTION = re.compile(r"^## Use it from Python\n(.*?)^## ", re.S | re.M)
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
EXPECTED = re.compile(r"^print\(.*\)  # (.+)$")


def readme_python(root: Path) -> str:
    section = SECTION.search((root / "README.md").read_text(encoding="utf-8"))
    assert section, 'README.md has no "## Use it from Python" section'
    blocks = BLOCK.findall(section.group(1))
    assert len(blocks) >= 3, "the section lost its examples"
    return "\n".join(blocks)


def test_the_readme_python_examples_run_and_say_what_they_print(
    tmp_path: Path, project_root: Path, prefect_api: str
) -> None:
    for folder in ("schemas", "sample_data"):
        shutil.copytree(project_root / folder, tmp_path / folder)
    code = readme_python(project_root)
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("TIDEGATE_STORE", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout.splitlines()
    for line in code.splitlines():
        match = EXPECTED.match(line.strip())
        if not match:
            continue
        expected = match.group(1).split("...")[0].rstrip(" ,")
        assert any(out.strip().startswith(expected) for out in printed), (
            f"README says {line.strip()!r} prints {expected!r}; it printed:\n{done.stdout}"
        )

    store = open_store(tmp_path / ".tidegate" / "python-example.duckdb")
    events = [e for (e,) in query(store, "SELECT event FROM audit ORDER BY seq")]
    assert events == ["batch_committed"] * 2 + ["batch_skipped"] * 2 + ["batch_committed"]
    details = [
        json.loads(d)
        for (d,) in query(store, "SELECT detail FROM audit WHERE event = 'batch_committed'")
    ]
    assert [d["loaded"] for d in details] == [15, 11, 1]  # February updates one January key
    net = sum(d["loaded"] - d["updated"] for d in details)
    assert query(store, "SELECT count(*) FROM orders") == [(net,)] == [(26,)]
    statuses = query(store, "SELECT status, count(*) FROM quarantine GROUP BY status")
    assert statuses == [("pending", 16 + 1)]
    (rules,) = query(store, "SELECT rules FROM quarantine WHERE location = 'my-api'")[0]
    assert rules == "status.isin"
    assert verify_chain(store).ok
