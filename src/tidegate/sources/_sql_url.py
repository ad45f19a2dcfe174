"""Connection URLs for SQL sources: ``${ENV}`` interpolation, redaction, dialects, reachability."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tidegate._env import expand_env
from tidegate._redact import password_of as _password
from tidegate._redact import redact, scrub
from tidegate.errors import SourceConfigError, SourceUnavailableError

DIALECTS = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}
CONNECT_TIMEOUT_S = 5.0


def interpolate_env(text: str, source: str) -> str:
    """Replace every ``${NAME}`` with the environment variable NAME; a missing one is refused."""

    def missing(name: str) -> SourceConfigError:
        return SourceConfigError(
            f"source {source!r}: the connection URL uses ${{{name}}} but the environment "
            f"variable {name} is not set; export it before running the pipeline"
        )

    return expand_env(text, missing)[0]


@dataclass(frozen=True)
class SqlUrl:
    """A parsed connection URL; ``url`` is what the reader gets, ``shown`` is safe to print."""

    url: str
    dialect: str  # postgres | mysql | sqlite
    shown: str
    host: str | None = None
    port: int | None = None
    path: Path | None = None  # sqlite only


def parse_url(raw: str, source: str, base_dir: Path | None, *, block: str | None = None) -> SqlUrl:
    """Check and normalize a URL; relative SQLite paths start at ``base_dir``.

    ``raw`` is the pipeline file's ``url:`` (``${ENV}`` is interpolated), or with ``block``
    the value of that Prefect Secret block (taken as is). Errors never show the password.
    """
    if block is None:
        url = interpolate_env(raw, source)
        origin = repr(raw) if url == raw else f"{raw!r} (its value is not shown)"
        return _parse(url, source, base_dir, origin)
    try:
        return _parse(raw, source, base_dir, "held by the block (its value is not shown)")
    except SourceConfigError as exc:
        raise SourceConfigError(
            f"{exc}. The URL is the value of the Prefect Secret block {block!r} (`url_block:`); "
            f"fix it with Secret(value=...).save({block!r}, overwrite=True)"
        ) from None


def _parse(url: str, source: str, base_dir: Path | None, origin: str) -> SqlUrl:
    """``origin`` names where ``url`` came from, for a value that is not shown at all."""
    if "://" not in url:  # not a URL: maybe a bare password, so it is never echoed
        raise SourceConfigError(
            f"source {source!r}: the connection URL {origin} has no scheme://; valid: "
            "postgresql://user:pass@host:5432/db, mysql://user@host:3306/db "
            "(or mariadb://), sqlite:///absolute/path.db or sqlite://relative/path.db"
        )
    shown = redact(url)
    scheme = url.split("://", 1)[0].lower()
    base_scheme = scheme.split("+", 1)[0]
    if base_scheme not in DIALECTS:
        raise SourceConfigError(
            f"source {source!r}: connection URL {shown!r} has scheme {scheme or 'none'!r}; "
            "valid: postgresql://user:pass@host:5432/db, mysql://user@host:3306/db "
            "(or mariadb://), sqlite:///absolute/path.db or sqlite://relative/path.db"
        )
    dialect = DIALECTS[base_scheme]
    if dialect == "sqlite":
        rest = url.split("://", 1)[1]
        if not rest:
            raise SourceConfigError(f"source {source!r}: {shown!r} names no SQLite file")
        path = Path(rest).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise SourceConfigError(
                f"source {source!r}: SQLite file {str(path)!r} does not exist "
                f"(from {shown!r}; relative paths start at the project dir)"
            )
        return SqlUrl(f"sqlite://{path.resolve()}", dialect, shown, path=path)
    try:
        parts = urlsplit(url)
        if parts.password != _password(url):  # urlsplit took part of it for the host
            raise SourceConfigError(
                f"source {source!r}: connection URL {shown!r} is malformed: its password "
                "holds a character URLs reserve; percent-encode it (/ as %2F, ? as %3F, "
                "# as %23)"
            )
        port = parts.port or DEFAULT_PORTS[dialect]
    except ValueError as exc:
        raise SourceConfigError(
            f"source {source!r}: connection URL {shown!r} is malformed ({scrub(str(exc), url)}); "
            "e.g. postgresql://user:pass@host:5432/db"
        ) from None
    if not parts.hostname or not parts.path.strip("/"):
        raise SourceConfigError(
            f"source {source!r}: connection URL {shown!r} needs a host and a database, "
            "e.g. postgresql://user:pass@host:5432/db"
        )
    if base_scheme != scheme or scheme == "mariadb" or scheme == "postgres":
        url = f"{'postgresql' if dialect == 'postgres' else 'mysql'}://" + url.split("://", 1)[1]
    return SqlUrl(url, dialect, redact(url), host=parts.hostname, port=port)


def check_reachable(target: SqlUrl, source: str) -> None:
    """Fail fast (transient) when the server does not accept TCP connections."""
    if target.host is None or target.port is None:
        return
    try:
        with socket.create_connection((target.host, target.port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SourceUnavailableError(
            f"source {source!r}: cannot connect to {target.shown} ({reason}); "
            "check that the database server is running and the host/port are right"
        ) from None
