"""The commands that run flows: a Prefect API that answers, a spinner while it starts,
and one message (never a traceback) when Prefect cannot be reached."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tidegate._safe_text import plain
from tidegate.cli._common import console
from tidegate.errors import PrefectUnavailableError


def quiet_prefect() -> None:
    """Keep Prefect's per-task log lines out of the CLI's output unless asked for."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    # The temporary server's telemetry cannot reach the network from a locked-down host.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@contextmanager
def prefect_session(long_lived: str | None = None) -> Iterator[str]:
    """Run the block against a Prefect API (``tidegate.flows._prefect_api``); a Prefect API
    lost on the way becomes :class:`PrefectUnavailableError`. ``long_lived`` names a
    command that needs a server which outlives it (serve, deploy)."""
    quiet_prefect()
    from tidegate.flows._prefect_api import prefect_api, prefect_failure

    with (
        _waiting_status() as (on_wait, on_start),
        prefect_api(on_wait, on_start, long_lived=long_lived) as api,
    ):
        console.print(plain(api, "dim"), highlight=False)
        try:
            yield api
        except Exception as exc:
            message = prefect_failure(exc)
            if message is None:
                raise
            raise PrefectUnavailableError(message) from exc


@contextmanager
def _waiting_status() -> Iterator[tuple[Callable[[float], None], Callable[[], None]]]:
    """A spinner while tidegate waits for a Prefect server to answer."""
    status = console.status("", spinner="dots")
    shown = False

    def on_start() -> None:
        nonlocal shown
        console.print(
            "[dim]Starting tidegate's Prefect server in the background (once; later runs reuse "
            "it). The first start can take a minute on a busy machine.[/]"
        )
        status.start()
        shown = True

    def on_wait(waited: float) -> None:
        nonlocal shown
        if not shown:
            status.start()
            shown = True
        status.update(f"waiting for the Prefect API to answer: {waited:.0f} s")

    try:
        yield on_wait, on_start
    finally:
        status.stop()
