"""The source options a batch was read under: what a re-read of the same bytes depends on.

A file's batch key is its content, so the same bytes read again are skipped as
committed. Whether they would read the same way depends on the contract and on the
options that change what is read (``encoding``, ``delimiter``, ``quote``, ``format``,
``has_header`` and the CSV dialect: ``skip_rows``, ``header_rows``, ``escape``,
``columns``, ``comment``), never on where the file is (path, glob) or how much is read at once
(``chunk_size``). A run declares them for its batches with :func:`reading_with`; the
store records them (and their hash) with each checkpoint and compares them when it
skips committed content, so a skip can say "the options changed since".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# The options of the file source that change what its bytes read as.
FILE_READ_OPTIONS = (
    "format",
    "delimiter",
    "quote",
    "encoding",
    "has_header",
    "skip_rows",
    "header_rows",
    "escape",
    "columns",
    "comment",
)
# Read options added later, and their defaults: at the default they are left out of
# the recorded options, so that a batch committed before they existed compares equal.
LATER_READ_OPTIONS: dict[str, Any] = {
    "skip_rows": 0,
    "header_rows": None,
    "escape": None,
    "columns": None,
    "comment": None,
}

_CURRENT: ContextVar[dict[str, Any] | None] = ContextVar("tidegate_read_options", default=None)


def options_json(options: Mapping[str, Any] | None) -> str | None:
    return None if options is None else json.dumps(dict(options), sort_keys=True, default=str)


def options_hash(options: Mapping[str, Any] | None) -> str | None:
    text = options_json(options)
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def current_read_options() -> dict[str, Any] | None:
    """The read options of the run in progress (:func:`reading_with`), or None."""
    return _CURRENT.get()


@contextmanager
def reading_with(options: Mapping[str, Any] | None) -> Iterator[None]:
    """Declare the read options of the batches committed inside this block."""
    token = _CURRENT.set(None if options is None else dict(options))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def options_changes(earlier: str | None, now: Mapping[str, Any] | None) -> list[str]:
    """``name old -> new`` for each read option that differs between the options a
    batch was committed under (their JSON, None when not recorded) and ``now``."""
    if earlier is None or now is None:
        return []
    before = json.loads(earlier)
    return [
        f"{name} {_shown(before.get(name))} -> {_shown(now.get(name))}"
        for name in sorted(set(before) | set(now))
        if before.get(name) != now.get(name)
    ]


def _shown(value: Any) -> str:
    return "(default)" if value is None else str(value) if isinstance(value, str) else repr(value)
