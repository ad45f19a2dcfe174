"""The batch types every stage and the store share (no stage logic here).

``sources`` make :class:`RawBatch` and :class:`FileReject`; ``validate`` and ``route``
make failure and quarantine frames; ``route`` makes a :class:`RoutedBatch`, which the
store writes. Both sides import this package, so the store imports no stage.
"""

from tidegate.batches._duplicates import DUPLICATE_SCHEMA, duplicate_rows, no_duplicates
from tidegate.batches._lines import LineCounts
from tidegate.batches._quarantine import (
    FAILURE_SCHEMA,
    QUARANTINE_SCHEMA,
    concat_failures,
    errors_by_row,
    quarantine_rows,
    reject_rows,
    reject_rule,
)
from tidegate.batches._raw import RECORD_COLUMN, FileReject, RawBatch, RecordReject
from tidegate.batches._routed import RoutedBatch
from tidegate.batches._stream import (
    DEFAULT_CHUNK_SIZE,
    ChunkSize,
    FileBatch,
    FileChangedError,
    FileUnreadableError,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DUPLICATE_SCHEMA",
    "FAILURE_SCHEMA",
    "QUARANTINE_SCHEMA",
    "RECORD_COLUMN",
    "ChunkSize",
    "FileBatch",
    "FileChangedError",
    "FileReject",
    "FileUnreadableError",
    "LineCounts",
    "RawBatch",
    "RecordReject",
    "RoutedBatch",
    "concat_failures",
    "duplicate_rows",
    "errors_by_row",
    "no_duplicates",
    "quarantine_rows",
    "reject_rows",
    "reject_rule",
]
