"""Sources: read a source system into batches of raw records.

A source has one method, ``read()``, yielding a :class:`RawBatch` per file (or chunk,
or cursor window) and a :class:`FileReject` per file that could not be read at all.
Every value in a batch is the string read from the source; bad records come back as
:class:`RecordReject` entries on their batch, never as exceptions. A source never reads
the store: an incremental one is handed its watermark (the last committed cursor value
of the column :func:`cursor_column` names) by its caller.
"""

from tidegate.batches import RECORD_COLUMN, FileReject, RawBatch, RecordReject
from tidegate.errors import HttpGaveUpError
from tidegate.sources._base import MemorySource, Source
from tidegate.sources._config import cursor_column, source_from_config
from tidegate.sources._files import FileSource
from tidegate.sources._http import HttpSource
from tidegate.sources._http_auth import HttpAuth
from tidegate.sources._landing import LandingFolderSource
from tidegate.sources._sql import SqlSource

__all__ = [
    "RECORD_COLUMN",
    "FileReject",
    "FileSource",
    "HttpAuth",
    "HttpGaveUpError",
    "HttpSource",
    "LandingFolderSource",
    "MemorySource",
    "RawBatch",
    "RecordReject",
    "Source",
    "SqlSource",
    "cursor_column",
    "source_from_config",
]
