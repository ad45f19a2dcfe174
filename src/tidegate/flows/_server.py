"""tidegate's background Prefect server: start it, find it, wait for it, stop it.
Importing this does not import Prefect (``tidegate server status`` reads it).

One server per user: ``prefect server start`` in a session of its own, on a database
in ``$TIDEGATE_HOME/prefect-server`` (by default ``~/.tidegate/prefect-server``), where
``server.json`` records it and ``start.lock`` lets one process at a time start it.
A start is waited for as long as ``TIDEGATE_SERVER_TIMEOUT`` allows (default 180 s);
its port is ``TIDEGATE_SERVER_PORT`` (default 4200). Which Prefect API the flows use,
this server or another, is decided in :mod:`tidegate.flows._prefect_api`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from tidegate.errors import ConfigError, PrefectUnavailableError

DEFAULT_TIMEOUT_S = 180.0
DEFAULT_PORT = 4200


@dataclass(frozen=True)
class ServerInfo:
    """The background server tidegate started, as written to its state file."""

    pid: int
    url: str  # the API URL, http://127.0.0.1:PORT/api
    home: str  # its PREFECT_HOME (holds prefect.db)
    log: str
    started_at: str

    @property
    def ui(self) -> str:
        return self.url.removesuffix("/api")


def server_dir() -> Path:
    """Where the background server keeps its database, log and state file."""
    base = os.environ.get("TIDEGATE_HOME") or str(Path.home() / ".tidegate")
    return Path(base).expanduser() / "prefect-server"


def startup_timeout() -> float:
    raw = os.environ.get("TIDEGATE_SERVER_TIMEOUT")
    if raw is None or not raw.strip():
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(
            f"TIDEGATE_SERVER_TIMEOUT={raw!r} is not valid; expected a number of seconds "
            f"above 0 (default {DEFAULT_TIMEOUT_S:.0f})"
        )
    return value


def server_port() -> int:
    raw = os.environ.get("TIDEGATE_SERVER_PORT")
    if raw is None or not raw.strip():
        return DEFAULT_PORT
    if not raw.strip().isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(
            f"TIDEGATE_SERVER_PORT={raw!r} is not valid; expected a TCP port from 1 to 65535 "
            f"(default {DEFAULT_PORT})"
        )
    return int(raw)


def healthy(api_url: str, timeout: float = 5.0) -> bool:
    """Whether a Prefect server answers ``/health`` with 200 at ``api_url``."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as r:
            return bool(r.status == 200)
    except (OSError, ValueError):
        return False


def _state_file() -> Path:
    return server_dir() / "server.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own child that exited) is not alive
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
    return True


def _is_prefect_server(pid: int) -> bool:
    """Whether ``pid`` is still a `prefect server start` (a recorded pid may have been
    reused by another program after a reboot: that one is never waited on or stopped)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _alive(pid)  # no /proc (macOS): trust the pid
    return b"prefect" in command and b"server" in command and _alive(pid)


def read_info() -> ServerInfo | None:
    """The recorded background server, if its process is still there."""
    try:
        info = ServerInfo(**json.loads(_state_file().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return info if _is_prefect_server(info.pid) else None


@contextlib.contextmanager
def _start_lock() -> Iterator[None]:
    """One process at a time decides whether to start the server (two `tidegate run`
    at once start one server, not two)."""
    import fcntl

    folder = server_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "start.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _log_tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


Waiting = Callable[[float], None]  # called with the seconds waited so far


def wait_until_healthy(
    api_url: str, timeout: float, *, pid: int | None = None, on_wait: Waiting | None = None
) -> bool:
    """Poll ``/health`` until it answers, ``timeout`` passes, or process ``pid`` exits."""
    started = time.monotonic()
    while True:
        if healthy(api_url, timeout=min(5.0, timeout)):
            return True
        waited = time.monotonic() - started
        if waited >= timeout or (pid is not None and not _alive(pid)):
            return False
        if on_wait is not None:
            on_wait(waited)
        time.sleep(0.5)


def start_server(*, timeout: float | None = None, on_wait: Waiting | None = None) -> ServerInfo:
    """Start the background Prefect server (or find the one already running) and wait
    until it answers. Raises :class:`PrefectUnavailableError` with the log's last lines."""
    timeout = startup_timeout() if timeout is None else timeout
    with _start_lock():
        info = read_info()
        if info is None:
            info = _spawn(server_port())
        if not wait_until_healthy(info.url, timeout, pid=info.pid, on_wait=on_wait):
            _raise_not_started(info, timeout)
    return info


def _spawn(port: int) -> ServerInfo:
    folder = server_dir()
    url = f"http://127.0.0.1:{port}/api"
    if _port_taken(port):
        raise PrefectUnavailableError(
            f"port {port} on 127.0.0.1 is in use by another program, so tidegate cannot start "
            "its Prefect server there; set TIDEGATE_SERVER_PORT to a free port, or point "
            "PREFECT_API_URL at the Prefect server you run"
        )
    log = folder / "server.log"
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILE")}
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
    }
    command = [sys.executable, "-m", "prefect", "server", "start"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(folder),
            start_new_session=True,  # outlives this command; stopped by `tidegate server stop`
        )
    info = ServerInfo(
        pid=process.pid,
        url=url,
        home=str(home),
        log=str(log),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _state_file().write_text(json.dumps(asdict(info)))
    return info


def _raise_not_started(info: ServerInfo, timeout: float) -> None:
    tail = _log_tail(Path(info.log))
    if _alive(info.pid):
        why = f"did not answer {info.url}/health within {timeout:.0f} s"
        _terminate(info.pid)
    else:
        why = "exited before it answered"
    _state_file().unlink(missing_ok=True)
    raise PrefectUnavailableError(
        f"the Prefect server tidegate started in the background {why}. "
        f"Its log is {info.log}"
        + (f"; last lines:\n{tail}\n" if tail else ". ")
        + "On a busy machine raise TIDEGATE_SERVER_TIMEOUT (seconds, now "
        f"{timeout:.0f}) and run `tidegate server start`; or run `prefect server start` "
        "yourself and set PREFECT_API_URL=http://127.0.0.1:4200/api"
    )


def _terminate(pid: int, grace: float = 15.0) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop_server() -> ServerInfo | None:
    """Stop the background server; the one that was running, or None."""
    with _start_lock():
        info = read_info()
        if info is not None:
            _terminate(info.pid)
        _state_file().unlink(missing_ok=True)
    return info
