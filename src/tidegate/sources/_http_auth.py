"""The HTTP source's secrets: where its token comes from, and how secrets are masked.

The token is read from an environment variable or a Prefect ``Secret`` block when a
run starts. While a run is in progress its secrets (the token, and values taken from
the environment into the query or headers) are masked as ``***`` in httpx/httpcore
log lines; :func:`redact_url` masks them, a URL's password and secret-looking query
values in every message and batch location.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tidegate.errors import SourceConfigError
from tidegate.sources._blocks import load_secret_block

logger = logging.getLogger("tidegate.sources.http")

_SENSITIVE_KEY = re.compile(r"token|key|secret|sig|pass|auth|credential|session", re.IGNORECASE)
MASK = "***"


# ---------------------------------------------------------------- secrets and redaction

_ACTIVE_SECRETS: dict[int, tuple[str, ...]] = {}
_ACTIVE_LOCK = threading.Lock()


def redact(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_url(url: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """The URL without a password or secret-looking query values (and no known secret)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}" if ":" in userinfo else netloc
    query = [
        (key, MASK if _SENSITIVE_KEY.search(key) or value in secrets else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    cleaned = urlunsplit(
        (parts.scheme, netloc, parts.path, urlencode(query, safe="*"), parts.fragment)
    )
    return redact(cleaned, secrets)


@contextmanager
def secrets_masked(key: int, secrets: tuple[str, ...]) -> Iterator[None]:
    """Mask ``secrets`` in the HTTP log lines while the block runs (one run: one ``key``)."""
    with _ACTIVE_LOCK:
        _ACTIVE_SECRETS[key] = secrets
    try:
        yield
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE_SECRETS.pop(key, None)


class _RedactSecrets(logging.Filter):
    """Masks the secrets of every HTTP read in progress in httpx/httpcore log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _ACTIVE_LOCK:
            secrets = [s for group in _ACTIVE_SECRETS.values() for s in group]
        if secrets:
            message = record.getMessage()
            cleaned = redact(message, secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_FILTER = _RedactSecrets()
for _name in ("httpx", "httpcore", logger.name):
    logging.getLogger(_name).addFilter(_FILTER)


# ---------------------------------------------------------------- the token


@dataclass(frozen=True)
class HttpAuth:
    """Where the token comes from: an environment variable or a Prefect ``Secret`` block.

    The token is read when a run starts (a block is loaded lazily, never at import).
    It is sent as ``{header}: {scheme} {token}`` (``scheme: ""`` sends the bare token).
    """

    bearer_env: str | None = None
    bearer_block: str | None = None
    header: str = "Authorization"
    scheme: str = "Bearer"

    def __repr__(self) -> str:
        where = f"env {self.bearer_env}" if self.bearer_env else f"block {self.bearer_block}"
        return f"HttpAuth({where}, header={self.header!r})"

    def token(self, source: str) -> str:
        if self.bearer_env:
            value = os.environ.get(self.bearer_env)
            if not value:
                raise SourceConfigError(
                    f"source {source!r}: auth.bearer_env names the environment variable "
                    f"{self.bearer_env}, which is not set; export {self.bearer_env}=... "
                    "before running the pipeline"
                )
            return value
        return load_secret_block(source, str(self.bearer_block), "auth.bearer_block")

    def header_value(self, token: str) -> str:
        return f"{self.scheme} {token}" if self.scheme else token


def refusal_hint(status: int, auth: HttpAuth | None) -> str:
    """What to check when the API refused a request with ``status`` (never retried)."""
    if status in (401, 403):
        where = (
            f"the token in ${auth.bearer_env}"
            if auth and auth.bearer_env
            else f"the Prefect Secret block {auth.bearer_block!r}"
            if auth
            else "`auth:` (none is set)"
        )
        return f"check {where} (not retried)"
    if status == 404:
        return "check `url:` in the pipeline file (not retried)"
    return "the request is wrong, not the server; fix the pipeline file (not retried)"
