"""The public API is what ``tidegate/__init__.py`` lists: pinned here, as httpx pins its
own, so that a name is added or removed on purpose only."""

from __future__ import annotations

import subprocess
import sys

import tidegate

PUBLIC = [
    "EXIT_DATA_HELD",
    "EXIT_FAILED",
    "EXIT_OK",
    "BatchOutcome",
    "Contract",
    "ContractDiff",
    "FileReject",
    "FileSource",
    "MemorySource",
    "Pipeline",
    "RawBatch",
    "RecheckResult",
    "RunResult",
    "ShadowVerdict",
    "Source",
    "Store",
    "TidegateError",
    "Verdict",
    "__version__",
    "contract_from_dict",
    "ingest_flow",
    "load_contract",
    "open_store",
    "recheck",
]

TASKS = [
    "TASK_STAGES",
    "commit_task",
    "ingest",
    "monitor_task",
    "prepare_task",
    "publish_task",
    "reject_task",
    "skip_task",
    "stage_task",
]


def test_the_public_names_are_pinned() -> None:
    assert tidegate.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(tidegate, name) is not None, name
        assert name in dir(tidegate)
        if name[0].isupper() and not name.startswith("EXIT"):
            assert getattr(tidegate, name).__doc__, f"tidegate.{name} has no docstring"


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        tidegate.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("tidegate.no_such_thing did not raise")


def test_the_prefect_tasks_are_pinned() -> None:
    import tidegate.tasks

    assert tidegate.tasks.__all__ == TASKS
    assert tidegate.tasks.ingest is tidegate.ingest_flow()
    for name in TASKS[1:]:
        if name == "ingest":
            continue
        assert hasattr(getattr(tidegate.tasks, name), "submit"), f"{name} is not a Prefect task"


def test_import_tidegate_is_light_and_contracts_load_without_prefect() -> None:
    code = (
        "import sys, tidegate\n"
        "assert 'polars' not in sys.modules and 'prefect' not in sys.modules, 'heavy import'\n"
        "c = tidegate.load_contract('schemas/orders.yaml')\n"
        "v = c.validate([{'order_id': '1'}])\n"
        "assert 'prefect' not in sys.modules, 'validate imported Prefect'\n"
        "print(v.rows_in)\n"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
