"""Reaching a Prefect API without racing its start-up. Importing this does not import Prefect.

Without ``PREFECT_API_URL``, Prefect 3 starts a temporary API server inside every
new process and gives it 20 s to answer; on a busy machine it needs longer, and
the command crashes. tidegate does not take part in that race:

- ``background`` (the default): tidegate starts ``prefect server start`` once, in
  the background, on a per-user database (``$TIDEGATE_HOME/prefect-server``, by
  default ``~/.tidegate/prefect-server``), waits for it as long as
  ``TIDEGATE_SERVER_TIMEOUT`` allows (default 180 s), and every later command
  reuses it: the first start is slow once, every later run is not.
  ``tidegate server start|stop|status`` manage it by hand.
- ``ephemeral`` (``TIDEGATE_PREFECT_SERVER=ephemeral``): Prefect's temporary
  server, given ``TIDEGATE_SERVER_TIMEOUT`` instead of 20 s
  (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``).

A ``PREFECT_API_URL`` that is set (in the environment or the Prefect profile) is
always used as it is; it only has to answer.
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
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from tidegate.errors import ConfigError, PrefectUnavailableError

MODES = ("background", "ephemeral")
DEFAULT_TIMEOUT_S = 180.0
DEFAULT_PORT = 4200
# a server somebody set up (PREFECT_API_URL) may be restarting; it gets this long at most
CONFIGURED_WAIT_S = 30.0


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


def mode() -> str:
    value = os.environ.get("TIDEGATE_PREFECT_SERVER", "background").strip().lower()
    if value not in MODES:
        raise ConfigError(
            f"TIDEGATE_PREFECT_SERVER={value!r} is not valid; expected one of "
            f"{', '.join(MODES)} (or unset it for `background`)"
        )
    return value


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


def answers(api_url: str, timeout: float = 5.0) -> bool:
    """Whether an HTTP server answers at ``api_url`` (any HTTP status counts: Prefect
    Cloud answers its health path only with credentials)."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


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


def configured_api_url() -> str | None:
    """``PREFECT_API_URL`` as Prefect resolves it (environment, profile, ``prefect.toml``).
    Imports Prefect's settings, which the commands that run flows import anyway."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def resolve_api(
    on_wait: Waiting | None = None,
    on_start: Callable[[], None] | None = None,
    *,
    long_lived: str | None = None,
) -> tuple[str, dict[str, str]]:
    """Which Prefect API the flows about to run use, starting tidegate's background
    server if that is the one: a line saying which, and the Prefect settings to apply.

    ``long_lived`` names a command that needs a server which outlives it (``serve``,
    ``deploy``): it gets a configured API or tidegate's running server, never a
    temporary one, and does not start one by itself."""
    timeout = startup_timeout()
    chosen = mode()
    url = configured_api_url()
    if url:
        wait = min(timeout, CONFIGURED_WAIT_S)
        if not _wait_answers(url, wait, on_wait):
            raise PrefectUnavailableError(
                f"the Prefect API at PREFECT_API_URL={url} does not answer (waited {wait:.0f} s). "
                "Start that server (`prefect server start`), or unset PREFECT_API_URL to let "
                "tidegate start its own in the background (`tidegate server start`)"
            )
        return f"Prefect API {url} (PREFECT_API_URL)", {}
    info = read_info()
    if long_lived is not None and (info is None or not healthy(info.url)):
        raise PrefectUnavailableError(
            f"tidegate {long_lived} needs a Prefect server that outlives it: run "
            "`tidegate server start` (tidegate's, in the background), or run `prefect server "
            "start` in another terminal and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    if chosen == "ephemeral":
        limit = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", f"{timeout:g}")
        return (
            f"Prefect's temporary server (TIDEGATE_PREFECT_SERVER=ephemeral), {limit} s to start",
            {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": limit},
        )
    if info is None or not healthy(info.url):
        if on_start is not None:
            on_start()
        info = start_server(timeout=timeout, on_wait=on_wait)
    line = f"Prefect server {info.ui} (tidegate's, in the background; `tidegate server stop`)"
    return line, {"PREFECT_API_URL": info.url}


@contextlib.contextmanager
def prefect_api(
    on_wait: Waiting | None = None,
    on_start: Callable[[], None] | None = None,
    *,
    long_lived: str | None = None,
) -> Iterator[str]:
    """Run the block against a Prefect API that answers (see the module docstring).

    The settings apply to this process (Prefect's ``temporary_settings``) and, through
    the environment, to the processes it starts (Dask workers); both are restored after.
    """
    import prefect.settings

    line, updates = resolve_api(on_wait, on_start, long_lived=long_lived)
    saved = {name: os.environ.get(name) for name in updates}
    os.environ.update(updates)
    try:
        settings = {getattr(prefect.settings, name): value for name, value in updates.items()}
        with prefect.settings.temporary_settings(updates=settings):
            yield line
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _wait_answers(url: str, timeout: float, on_wait: Waiting | None) -> bool:
    started = time.monotonic()
    while not answers(url, timeout=min(5.0, timeout)):
        waited = time.monotonic() - started
        if waited >= timeout:
            return False
        if on_wait is not None:
            on_wait(waited)
        time.sleep(0.5)
    return True


def prefect_failure(exc: BaseException) -> str | None:
    """One clear line for a Prefect API that stopped answering during a run (or a
    temporary server that did not start), naming what to check; None for anything else."""
    import httpx

    text = str(exc)
    if isinstance(exc, RuntimeError) and "ephemeral Prefect API server" in text:
        limit = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20")
        return (
            f"Prefect's temporary API server did not start within {limit} s. Raise "
            "TIDEGATE_SERVER_TIMEOUT, or unset TIDEGATE_PREFECT_SERVER so that tidegate "
            "starts its own server once and reuses it (`tidegate server start`)"
        )
    status_error = type(exc).__name__ == "PrefectHTTPStatusError"
    if isinstance(exc, httpx.TransportError) or status_error:
        url = os.environ.get("PREFECT_API_URL", "the Prefect API")
        why = text or type(exc).__name__
        return (
            f"the Prefect API ({url}) stopped answering during the run: {why}. "
            "Batches committed before it stopped stay committed, the batch under way was not "
            "written. Check it with `tidegate server status` (or your server's health), then "
            "run again: committed files are skipped"
        )
    return None
