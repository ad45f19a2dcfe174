"""One Prefect server for a benchmark: tidegate's own background server
(`tidegate.flows._server`, what `tidegate run` starts) in a temporary TIDEGATE_HOME on a
free port, waited for as the product waits, stopped and removed at the end."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from tidegate.flows._server import ServerInfo, start_server, stop_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def prefect_server(timeout: float, prefix: str) -> Iterator[tuple[ServerInfo, Path]]:
    """The running server and a scratch folder; raises ``PrefectUnavailableError`` (with
    the server log's last lines) when it does not answer within ``timeout`` seconds."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    own = {"TIDEGATE_HOME": str(home / "tidegate"), "TIDEGATE_SERVER_PORT": str(free_port())}
    try:
        with mock.patch.dict(os.environ, own):
            try:
                started = time.perf_counter()
                info = start_server(timeout=timeout)
                took = time.perf_counter() - started
                print(f"prefect server healthy at {info.url} after {took:.1f}s")
                yield info, home
            finally:
                stop_server()
    finally:
        shutil.rmtree(home, ignore_errors=True)
