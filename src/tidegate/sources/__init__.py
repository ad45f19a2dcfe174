"""Sources: read a source system into batches of raw records.

A source has one method, ``read()``, yielding a :class:`RawBatch` per cursor window or
page, a :class:`FileBatch` per file (:class:`LocalFileBatch`: the file read as a
stream of RawBatch chunks in bounded memory, or whole with ``collect()``), and a
:class:`FileReject` per file that could not be read at all.
Every value in a batch is the string read from the source; bad records come back as
:class:`RecordReject` entries on their batch, never as exceptions. A source never reads
the store: an incremental one is handed its watermark (the last committed cursor value
of the column :func:`cursor_column` names) by its caller.
"""

from tidegate.batches import (
    RECORD_COLUMN,
    ChunkSize,
    FileBatch,
    FileChangedError,
    FileReject,
    FileUnreadableError,
    RawBatch,
    RecordReject,
)
from tidegate.errors import HttpGaveUpError
from tidegate.sources._base import MemorySource, Source, SourceItem
from tidegate.sources._config import cursor_column, source_from_config
from tidegate.sources._file_batch import LocalFileBatch
from tidegate.sources._files import FileSource
from tidegate.sources._http import HttpSource
from tidegate.sources._http_auth import HttpAuth
from tidegate.sources._landing import LandingFolderSource
from tidegate.sources._sql import SqlSource

__all__ = [
    "RECORD_COLUMN",
    "ChunkSize",
    "FileBatch",
    "FileChangedError",
    "FileReject",
    "FileSource",
    "FileUnreadableError",
    "HttpAuth",
    "HttpGaveUpError",
    "HttpSource",
    "LandingFolderSource",
    "LocalFileBatch",
    "MemorySource",
    "RawBatch",
    "RecordReject",
    "Source",
    "SourceItem",
    "SqlSource",
    "cursor_column",
    "source_from_config",
]
