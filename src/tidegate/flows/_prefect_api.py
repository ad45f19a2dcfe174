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
always used as it is; it only has to answer. The background server itself (start,
stop, health, its state file and lock) is :mod:`tidegate.flows._server`.
"""

from __future__ import annotations

import contextlib
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

from tidegate.errors import ConfigError, PrefectUnavailableError
from tidegate.flows._server import Waiting, healthy, read_info, start_server, startup_timeout

MODES = ("background", "ephemeral")
# a server somebody set up (PREFECT_API_URL) may be restarting; it gets this long at most
CONFIGURED_WAIT_S = 30.0


def mode() -> str:
    value = os.environ.get("TIDEGATE_PREFECT_SERVER", "background").strip().lower()
    if value not in MODES:
        raise ConfigError(
            f"TIDEGATE_PREFECT_SERVER={value!r} is not valid; expected one of "
            f"{', '.join(MODES)} (or unset it for `background`)"
        )
    return value


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
