"""Connection URLs for SQL sources: ``${ENV}`` interpolation, redaction, dialects, reachability."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tidegate.errors import SourceConfigError, SourceUnavailableError

_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
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

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourceConfigError(
                f"source {source!r}: the connection URL uses ${{{name}}} but the environment "
                f"variable {name} is not set; export it before running the pipeline"
            )
        return os.environ[name]

    return _ENV_RE.sub(value, text)


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (``postgresql://user:***@host/db``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def scrub(text: str, url: str) -> str:
    """``text`` with the URL and its password removed (for error messages from drivers)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    text = text.replace(url, redact(url))
    if password:
        text = text.replace(password, "***")
    return text


@dataclass(frozen=True)
class SqlUrl:
    """A parsed connection URL; ``url`` is what the reader gets, ``shown`` is safe to print."""

    url: str
    dialect: str  # postgres | mysql | sqlite
    shown: str
    host: str | None = None
    port: int | None = None
    path: Path | None = None  # sqlite only


def parse_url(raw: str, source: str, base_dir: Path | None) -> SqlUrl:
    """Check and normalize a URL; relative SQLite paths start at ``base_dir``."""
    url = interpolate_env(raw, source)
    shown = redact(url)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
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
