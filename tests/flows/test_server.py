"""Reaching Prefect without racing its start-up: tidegate's background server, a
configured PREFECT_API_URL that does not answer, a slow start, Prefect's temporary
server with a generous limit. Each failure is one message, and nothing is written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, free_port
from helpers import query
from tidegate.errors import ConfigError, PrefectUnavailableError
from tidegate.flows import _prefect_api, _server

EXE = Path(sys.executable).with_name("tidegate")


def _env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a new user's shell: no PREFECT_* at all, a TIDEGATE_HOME and
    a port of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TIDEGATE_"))}
    return {**env, "TIDEGATE_HOME": str(home), "TIDEGATE_SERVER_PORT": str(free_port()), **extra}


def _tidegate(
    *args: str, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def _one_message(proc: subprocess.CompletedProcess[str]) -> str:
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    assert proc.returncode == 2, out
    return " ".join(proc.stderr.split())


def test_a_prefect_api_url_that_does_not_answer_is_one_message_and_nothing_is_written(
    tmp_path: Path, project_root: Path
) -> None:
    store = tmp_path / "s.duckdb"
    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    env = _env(tmp_path / "home", PREFECT_API_URL=url, TIDEGATE_SERVER_TIMEOUT="2")
    proc = _tidegate(
        "run", "orders", "--project", str(project_root), "--store", str(store), env=env
    )
    message = _one_message(proc)
    assert f"PREFECT_API_URL={url} does not answer" in message
    assert "`prefect server start`" in message and "`tidegate server start`" in message
    assert not store.exists()
    assert not (tmp_path / "home" / "prefect-server" / "server.json").exists()  # none started


def test_a_server_slower_than_the_limit_is_one_message_stopped_and_nothing_is_written(
    tmp_path: Path, project_root: Path
) -> None:
    """A real `prefect server start` needs well over 2 s to answer (it creates its
    database first): tidegate waits TIDEGATE_SERVER_TIMEOUT, then says what to raise."""
    store = tmp_path / "s.duckdb"
    home = tmp_path / "home"
    env = _env(home, TIDEGATE_SERVER_TIMEOUT="2")
    proc = _tidegate(
        "run", "orders", "--project", str(project_root), "--store", str(store), env=env
    )
    message = _one_message(proc)
    assert "did not answer" in message and "within 2 s" in message
    assert "TIDEGATE_SERVER_TIMEOUT" in message
    assert str(home / "prefect-server" / "server.log") in "".join(message.split())
    assert not store.exists()
    assert not (home / "prefect-server" / "server.json").exists()  # the slow server was stopped
    status = _tidegate("server", "status", env=env)
    assert status.returncode == 1 and "not running" in status.stdout


def test_prefects_temporary_server_gets_the_configured_limit(
    tmp_path: Path, project_root: Path
) -> None:
    store = tmp_path / "s.duckdb"
    env = _env(tmp_path / "home", TIDEGATE_PREFECT_SERVER="ephemeral", TIDEGATE_SERVER_TIMEOUT="1")
    proc = _tidegate(
        "run", "orders", "--project", str(project_root), "--store", str(store), env=env
    )
    message = _one_message(proc)
    assert "Prefect's temporary API server did not start within 1 s" in message
    assert "TIDEGATE_SERVER_TIMEOUT" in message
    assert "TIDEGATE_PREFECT_SERVER=ephemeral" in proc.stdout  # which server was tried
    assert not store.exists()


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("TIDEGATE_SERVER_TIMEOUT", "soon", "expected a number of seconds"),
        ("TIDEGATE_SERVER_PORT", "99999", "expected a TCP port"),
        ("TIDEGATE_PREFECT_SERVER", "cloud", "expected one of background, ephemeral"),
    ],
)
def test_a_bad_setting_is_named(
    tmp_path: Path, project_root: Path, name: str, value: str, named: str
) -> None:
    store = tmp_path / "s.duckdb"
    proc = _tidegate(
        "run",
        "orders",
        "--project",
        str(project_root),
        "--store",
        str(store),
        env=_env(tmp_path / "home", **{name: value}),
    )
    message = _one_message(proc)
    assert f"{name}={value!r} is not valid" in message and named in message
    assert not store.exists()


def test_a_prefect_api_lost_during_a_run_is_one_message() -> None:
    os.environ["PREFECT_API_URL"] = "http://127.0.0.1:9/api"
    try:
        message = _prefect_api.prefect_failure(httpx.ConnectError("All connection attempts failed"))
    finally:
        del os.environ["PREFECT_API_URL"]
    assert message is not None
    assert "http://127.0.0.1:9/api" in message and "stopped answering" in message
    assert "the batch under way was not written" in message
    assert _prefect_api.prefect_failure(ValueError("a bug")) is None


def _events(api_url: str, prefix: str) -> list[dict]:
    body = json.dumps({"filter": {"event": {"prefix": [prefix]}}, "limit": 50}).encode()
    request = urllib.request.Request(
        api_url + "/events/filter", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return list(json.loads(response.read())["events"])


def _orders_project(root: Path, project_root: Path) -> Path:
    for folder in ("schemas", "pipelines"):
        shutil.copytree(project_root / folder, root / folder)
    shutil.copytree(project_root / "sample_data" / "orders", root / "sample_data" / "orders")
    return root


def _create_readme_automation(api_url: str, hook_url: str, env: dict[str, str], tmp: Path) -> None:
    """automations/data-held.yaml as the README says: a notification block, its id in the
    file, `prefect automation create --from-file`. The block posts to ``hook_url``."""
    env = {**env, "PREFECT_API_URL": api_url}
    save = (
        "from prefect.blocks.notifications import CustomWebhookNotificationBlock as B\n"
        "fields = {'subject': '{{subject}}', 'body': '{{body}}'}\n"
        f"b = B(name='data-team', url={hook_url!r}, json_data=fields)\n"
        "print(b.save('data-team', overwrite=True))\n"
    )
    saved = subprocess.run(
        [sys.executable, "-c", save], capture_output=True, text=True, env=env, timeout=300
    )
    assert saved.returncode == 0, saved.stderr
    block_id = saved.stdout.strip().splitlines()[-1]
    text = (ROOT / "automations" / "data-held.yaml").read_text()
    placeholder = "00000000-0000-0000-0000-000000000000"
    assert placeholder in text
    (tmp / "data-held.yaml").write_text(text.replace(placeholder, block_id))
    prefect = Path(sys.executable).with_name("prefect")
    made = subprocess.run(
        [str(prefect), "automation", "create", "--from-file", str(tmp / "data-held.yaml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert made.returncode == 0 and "Created automation 'tidegate-data-held'" in made.stdout, (
        made.stdout + made.stderr
    )


@pytest.mark.e2e
def test_the_background_server_starts_once_and_every_later_run_reuses_it(
    tmp_path: Path, project_root: Path
) -> None:
    """As a new user: no PREFECT_* set, no server. The first run starts tidegate's
    server (slow once), the next run reuses the same process, the README's automation
    fires on a rejected file, and `server stop` ends it."""
    from monitor._support import webhook_receiver

    home = tmp_path / "home"
    store = tmp_path / "s.duckdb"
    project = _orders_project(tmp_path / "project", project_root)
    env = _env(home, TIDEGATE_SERVER_TIMEOUT="300")
    run = ("run", "orders", "--project", str(project), "--store", str(store))
    info: dict = {}
    try:
        first = _tidegate(*run, env=env)
        out = first.stdout + first.stderr
        assert "Traceback" not in out
        assert first.returncode == 3, out  # two sample files are rejected on purpose
        assert "Starting tidegate's Prefect server in the background" in first.stdout
        info = json.loads((home / "prefect-server" / "server.json").read_text())
        assert info["url"] == f"http://127.0.0.1:{env['TIDEGATE_SERVER_PORT']}/api"
        assert (Path(info["home"]) / "prefect.db").exists()
        assert query(store, "SELECT event, count(*) FROM audit GROUP BY event ORDER BY event") == [
            ("batch_committed", 2),
            ("file_rejected", 2),
        ]
        status = _tidegate("server", "status", env=env)
        assert status.returncode == 0 and "answering" in status.stdout
        assert str(info["pid"]) in status.stdout

        second = _tidegate(*run, env=env)
        assert second.returncode == 0, second.stdout + second.stderr  # nothing new
        assert "Starting tidegate's Prefect server" not in second.stdout
        pid = json.loads((home / "prefect-server" / "server.json").read_text())["pid"]
        assert pid == info["pid"]
        assert query(store, "SELECT count(*) FROM audit WHERE event = 'batch_skipped'") == [(4,)]

        # the runs' events reached the server, where an automation sees them
        names = _wait_for_events(info["url"], "tidegate.batch.skipped", 4)
        assert names.count("tidegate.batch.committed") == 2, names
        assert names.count("tidegate.batch.file_rejected") == 2, names

        with webhook_receiver() as receiver:
            _create_readme_automation(info["url"], receiver.url, env, tmp_path)
            bad = project / "sample_data" / "orders" / "orders_2024-05.csv"
            bad.write_bytes(b"\x00\x01 not a csv at all")
            third = _tidegate(*run, env=env)
            assert third.returncode == 3, third.stdout + third.stderr
            assert "1 file rejected (orders: orders_2024-05.csv)" in " ".join(third.stdout.split())
            deadline = time.monotonic() + 180
            while not receiver.bodies and time.monotonic() < deadline:
                time.sleep(1)
        assert receiver.bodies, "the automation did not notify within 180 s"
        notice = receiver.bodies[0]
        assert notice["subject"] == "tidegate: tidegate.batch.file_rejected on orders"
        assert "orders_2024-05.csv" in notice["body"]
        assert "tidegate quarantine list --source orders" in notice["body"]
    finally:
        stop = _tidegate("server", "stop", env=env)
    assert stop.returncode == 0 and "stopped the Prefect server" in stop.stdout
    assert not _server._alive(info["pid"])
    assert _tidegate("server", "status", env=env).returncode == 1


def _wait_for_events(api_url: str, name: str, count: int) -> list[str]:
    deadline = time.monotonic() + 60
    names: list[str] = []
    while time.monotonic() < deadline:
        names = sorted(e["event"] for e in _events(api_url, "tidegate.batch."))
        if names.count(name) >= count:
            break
        time.sleep(1)
    assert names.count(name) == count, names
    return names


def test_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDEGATE_SERVER_TIMEOUT", "0")
    with pytest.raises(ConfigError, match="above 0"):
        _server.startup_timeout()
    monkeypatch.setenv("TIDEGATE_SERVER_TIMEOUT", "45")
    assert _server.startup_timeout() == 45.0
    monkeypatch.delenv("TIDEGATE_SERVER_TIMEOUT")
    assert _server.startup_timeout() == _server.DEFAULT_TIMEOUT_S


def test_a_recorded_pid_now_used_by_another_program_is_never_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a reboot the pid in server.json may belong to anything: tidegate neither
    waits on it nor stops it, and starts a server of its own."""
    monkeypatch.setenv("TIDEGATE_HOME", str(tmp_path))
    _server.server_dir().mkdir(parents=True)
    state = {"pid": os.getpid(), "url": "http://127.0.0.1:9/api", "home": "h", "log": "l"}
    (_server.server_dir() / "server.json").write_text(json.dumps({**state, "started_at": "x"}))
    assert _server.read_info() is None
    assert _server.stop_server() is None  # and this test's own process is still here
    assert not (_server.server_dir() / "server.json").exists()


def test_a_message_quoting_a_log_is_printed_as_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    """A server log line such as `[/] [link=x]` is text in the message, never markup."""
    from tidegate.cli._common import fail

    exit_ = fail(PrefectUnavailableError("last lines:\n[/] [bold]boom[/bold] [link=http://x]y"))
    assert exit_.exit_code == 2
    err = capsys.readouterr().err
    assert "[/] [bold]boom[/bold] [link=http://x]y" in err
