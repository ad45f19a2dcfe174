"""Reading pipeline files needs neither Prefect nor polars, nor the flows package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_loading_pipelines_imports_neither_prefect_nor_polars(project_root: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tidegate.pipelines import load_pipelines\n"
        f"specs = load_pipelines(Path({str(project_root)!r}))\n"
        "assert all(s.schedule_spec is None or s.schedule_spec.next_run() for s in specs)\n"
        "print('pipelines:', ','.join(s.name for s in specs))\n"
        "loaded = {m.split('.')[0] for m in sys.modules} | set(sys.modules)\n"
        "print('heavy:', ','.join(sorted(loaded & {'prefect', 'polars', 'tidegate.flows'})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "pipelines: customers,inventory,orders" in lines, proc.stdout
    assert "heavy: " in lines, proc.stdout
