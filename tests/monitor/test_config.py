"""The ``monitor:`` section: parsed into MonitorConfig; mistakes name file, key and value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tidegate.errors import PipelineError
from tidegate.monitor import MonitorConfig, RowCountConfig, ValueDriftConfig, WebhookConfig
from tidegate.pipelines import load_pipeline, load_pipelines


def write_pipeline(tmp_path: Path, monitor: object) -> Path:
    (tmp_path / "schemas").mkdir(exist_ok=True)
    (tmp_path / "schemas" / "sales.yaml").write_text("source: sales\n")
    (tmp_path / "pipelines").mkdir(exist_ok=True)
    path = tmp_path / "pipelines" / "sales.yaml"
    data = {
        "name": "sales",
        "source": {"kind": "file", "path": "data/*.csv", "format": "csv"},
        "contract": "schemas/sales.yaml",
        "monitor": monitor,
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_full_section_parses(tmp_path: Path) -> None:
    path = write_pipeline(
        tmp_path,
        {
            "max_quarantine_ratio": 0.1,
            "row_count": {"min": 10, "max": 100000, "vs_recent": 3.0},
            "schema_drift": True,
            "value_drift": {"null_rate": 0.2, "new_categories": True, "mean_shift": 3.0},
            "recent_batches": 5,
            "webhook": {"url": "http://127.0.0.1:9999/hook", "retries": 3, "timeout_s": 2},
        },
    )
    assert load_pipeline(path, tmp_path).monitor == MonitorConfig(
        max_quarantine_ratio=0.1,
        row_count=RowCountConfig(min=10, max=100000, vs_recent=3.0),
        schema_drift=True,
        value_drift=ValueDriftConfig(null_rate=0.2, new_categories=True, mean_shift=3.0),
        recent_batches=5,
        webhook=WebhookConfig(url="http://127.0.0.1:9999/hook", retries=3, timeout_s=2.0),
    )


def test_shorthands_and_defaults(tmp_path: Path) -> None:
    path = write_pipeline(tmp_path, {"value_drift": True, "webhook": "https://example.org/h"})
    monitor = load_pipeline(path, tmp_path).monitor
    assert monitor is not None
    assert monitor.value_drift == ValueDriftConfig(0.2, True, 3.0)
    assert monitor.webhook == WebhookConfig(url="https://example.org/h")
    assert monitor.max_quarantine_ratio is None and not monitor.schema_drift


def test_no_section_means_no_monitoring(tmp_path: Path) -> None:
    path = write_pipeline(tmp_path, None)
    assert load_pipeline(path, tmp_path).monitor is None


@pytest.mark.parametrize(
    ("monitor", "key", "shown", "valid"),
    [
        ({"max_quarantine_ratio": 1.5}, "monitor.max_quarantine_ratio", "1.5", "<= 1"),
        ({"max_quarantine_ratio": "high"}, "monitor.max_quarantine_ratio", "'high'", "a number"),
        ({"row_count": {"min": -1}}, "monitor.row_count.min", "-1", "a whole number >= 0"),
        ({"row_count": {"min": 50, "max": 10}}, "monitor.row_count.min", "50", "<= max (10)"),
        ({"row_count": {"vs_recent": 0.5}}, "monitor.row_count.vs_recent", "0.5", "> 1"),
        ({"row_count": {"mim": 5}}, "monitor.row_count.mim", "5", "did you mean 'min'?"),
        ({"schema_drift": "yes"}, "monitor.schema_drift", "'yes'", "true or false"),
        ({"value_drift": {"null_rate": 2}}, "monitor.value_drift.null_rate", "2", "<= 1"),
        ({"value_drift": {"ignore": "id"}}, "monitor.value_drift.ignore", "'id'", "a list"),
        ({"recent_batches": 0}, "monitor.recent_batches", "0", "a whole number >= 1"),
        ({"webhook": {"url": "ftp://x"}}, "monitor.webhook.url", "'ftp://x'", "http://"),
        ({"webhook": {"url": "http://x", "retries": -2}}, "monitor.webhook.retries", "-2", ">= 0"),
        ({"max_quarantine": 0.1}, "monitor.max_quarantine", "0.1", "max_quarantine_ratio"),
        ([1, 2], "monitor", "[1, 2]", "a mapping with keys max_quarantine_ratio"),
    ],
)
def test_mistakes_name_file_key_value_and_what_is_valid(
    tmp_path: Path, monitor: object, key: str, shown: str, valid: str
) -> None:
    path = write_pipeline(tmp_path, monitor)
    with pytest.raises(PipelineError) as caught:
        load_pipeline(path, tmp_path)
    message = str(caught.value)
    assert str(path) in message
    assert f"{key}: {shown} is not valid" in message
    assert valid in message


def test_the_sample_pipelines_all_have_a_monitor_section(project_root: Path) -> None:
    pipelines = load_pipelines(project_root)
    assert {p.name for p in pipelines} == {"orders", "customers", "inventory"}
    for p in pipelines:
        assert p.monitor is not None, p.name
        assert p.monitor.max_quarantine_ratio is not None
        assert p.monitor.schema_drift
