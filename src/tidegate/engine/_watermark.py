"""The watermark an incremental source reads after, read from the store by its caller.

A source never reads the store (see :mod:`tidegate.sources`): the flow or a Pipeline
reads the last committed cursor value here, under the source's lock, and hands it to
``source_from_config(..., watermark=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.normalize._headers import row_names
from tidegate.sources import Source, cursor_column, source_from_config
from tidegate.store._cursors import last_cursor

if TYPE_CHECKING:
    from tidegate.contracts import Contract
    from tidegate.store import Store


def committed_watermark(
    store: Store, source: str, config: Mapping[str, Any], reprocess: bool = False
) -> str | None:
    """The last committed cursor value of ``source`` in ``store``, for the incremental
    source declared by ``config``; None to read from the first row: with ``reprocess``
    (`tidegate run --reprocess`), for a source that is not incremental (the store is not
    read), or before the first commit."""
    column = cursor_column(config)
    if reprocess or column is None:
        return None
    return last_cursor(store, source, column)


def open_declared_source(
    store: Store,
    name: str,
    config: Mapping[str, Any],
    base_dir: Path,
    reprocess: bool,
    contract: Contract | None = None,
) -> Source:
    """The source a pipeline file declares, handed its committed watermark (call it
    under the source's lock, so the watermark is current) and, from ``contract``, the
    names its columns are read by (a CSV file with a malformed header is read by them)."""
    watermark = committed_watermark(store, name, config, reprocess)
    expected = None if contract is None else row_names(contract)
    return source_from_config(
        name, config, base_dir, watermark=watermark, expected_columns=expected
    )
