"""Errors raised by tidegate.

Bad data is never an exception: it is a verdict that ends in quarantine.
Exceptions are for bad configuration and for failures of the machinery.
Every message names the bad value, what would be valid, and what to do next.
Every exception tidegate raises on purpose is defined here, and drawn here:

    TidegateError
    ├── ConfigError                     bad configuration, terminal (never retried)
    │   ├── ContractError               a contract file is wrong (file, key, value, valid)
    │   ├── PipelineError               a pipeline file is wrong or names a missing source
    │   ├── SourceConfigError           a source is declared wrongly (bad path, bad option)
    │   ├── TokenFileError              the review app's tokens are missing or malformed
    │   └── AuditKeyError               no usable audit signing key, or not the store's
    ├── TransientError                  worth retrying (Prefect retries only these)
    │   ├── StoreLockedError            another process holds the store
    │   ├── TransientWriteConflictError a concurrent transaction wrote the same rows first
    │   ├── StoreUnavailableError       the PostgreSQL store does not answer
    │   └── SourceUnavailableError      a source timed out or is down
    │       ├── HttpGaveUpError         an HTTP source gave up after its retries
    │       └── CircuitOpenError        the host's circuit breaker is open: no request sent
    ├── FileUnreadableError             a file is unreadable part-way: quarantined whole
    ├── FileChangedError                a file changed while it was read: left for a later run
    ├── PrefectUnavailableError         no Prefect API answers, or tidegate's server did not start
    ├── StoreError                      the store refused an operation (terminal)
    │   ├── ConservationError           rows_in != loaded + quarantined + duplicates
    │   ├── AuditChainError             the audit chain does not verify
    │   ├── ReadQueryError              the database refused a read-only query (its words)
    │   └── ReviewConflictError         another reviewer changed the record: reload (not retried)
    ├── AuditQueryError                 a bad filter, SQL, key or checkpoint for an audit command
    │   └── SignedNoteError             a signed note (checkpoint) that is malformed
    ├── BatchIdError                    a batch id or prefix that names no batch, or several
    └── ReviewError                     a review action that cannot apply (unknown id or column)
        └── SelectionChanged            the records a filter matches changed before the action
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class TidegateError(Exception):
    """Root of every error tidegate raises on purpose."""


class TidegateWarning(UserWarning):
    """Warnings tidegate emits (tests turn these into errors)."""


class ConfigError(TidegateError):
    """Bad configuration. Terminal: retrying cannot help."""


class ContractError(ConfigError):
    """A contract is wrong. Carries the file, the key, the bad value and what is valid."""

    def __init__(
        self,
        file: str,
        key: str,
        value: object,
        valid: str,
        *,
        hint: str = "fix the contract, then run `tidegate schema check`",
    ) -> None:
        self.file = file
        self.key = key
        self.value = value
        self.valid = valid
        self.hint = hint
        # every problem found in the file; file, key, value and valid are the first one's
        self.problems: tuple[ContractError, ...] = (self,)
        super().__init__(f"{file}: {self.problem} ({hint})")

    @property
    def problem(self) -> str:
        """This problem without the file and the hint: ``key: value is not valid; ...``."""
        return f"{self.key}: {self.value!r} is not valid; expected {self.valid}"

    @classmethod
    def of_problems(cls, problems: Sequence[ContractError]) -> ContractError:
        """One error for every problem of a file: the first one's attributes, a message
        listing them all (one line) and ``problems`` holding each."""
        first = problems[0]
        if len(problems) == 1:
            return first
        error = cls(first.file, first.key, first.value, first.valid, hint=first.hint)
        error.problems = tuple(problems)
        listed = "; ".join(f"({i}) {p.problem}" for i, p in enumerate(problems, 1))
        error.args = (f"{first.file}: {len(problems)} problems: {listed} ({first.hint})",)
        return error


class PipelineError(ConfigError):
    """A pipeline file is wrong, or names something that does not exist."""


class SourceConfigError(ConfigError):
    """A source is declared wrongly (a path that matches nothing, an unknown option)."""


class TokenFileError(ConfigError):
    """The review tokens are missing or malformed."""


class AuditKeyError(ConfigError):
    """The audit signing key is missing, unreadable, too open, or not the key that signs
    this store's chain (names the file or block and the key ids)."""


class TransientError(TidegateError):
    """A failure worth retrying: the flow's tasks retry these and only these."""


def transient_only(task: object, task_run: object, state: object) -> bool:
    """A Prefect ``retry_condition_fn``: retry a task only when it failed with a
    :class:`TransientError` (bad configuration and bugs fail at once)."""
    return isinstance(getattr(state, "data", None), TransientError)


class StoreLockedError(TransientError):
    """The store is locked by another process for longer than the retry budget."""


class TransientWriteConflictError(TransientError):
    """A concurrent transaction wrote the same rows first. Transient: Prefect retries it."""


class StoreUnavailableError(TransientError):
    """The PostgreSQL store did not answer (down, restarting, or unreachable)."""


class SourceUnavailableError(TransientError):
    """A source system timed out or answered with a transient failure."""


class HttpGaveUpError(SourceUnavailableError):
    """An HTTP source gave up after its retries: carries the redacted URL, status, attempts."""

    def __init__(self, message: str, *, url: str, status: int | None, attempts: int) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


class CircuitOpenError(SourceUnavailableError):
    """The host's circuit is open: the call was not made."""


class FileUnreadableError(TidegateError):
    """A file read in chunks turned out unreadable part-way (bad bytes at byte 2,000,000,000,
    a corrupt Parquet row group): the whole file becomes one file-level quarantine entry,
    ``reject`` (a :class:`tidegate.FileReject`), and nothing of it is published."""

    def __init__(self, reject: Any) -> None:
        super().__init__(reject.reason)
        self.reject = reject


class FileChangedError(TidegateError):
    """A file changed while it was read (its size or modification time moved, or a second
    read did not give the first read's sha256): nothing of it is published; it is left
    for a later run."""

    def __init__(self, location: str, why: str) -> None:
        super().__init__(f"{location} changed while it was read ({why})")
        self.location = location
        self.why = why


class PrefectUnavailableError(TidegateError):
    """No Prefect API answers (``PREFECT_API_URL``), or the server tidegate starts in the
    background did not answer in time. Raised before any data moves."""


class StoreError(TidegateError):
    """The store refused an operation."""


class ConservationError(StoreError):
    """A batch's counts do not add up: rows_in != loaded + quarantined + duplicates."""


class ReadQueryError(StoreError):
    """The database refused or failed a read-only query itself (its message says why)."""


class AuditChainError(StoreError):
    """The audit chain does not verify; carries the first bad sequence number."""

    def __init__(self, seq: int, reason: str) -> None:
        self.seq = seq
        self.reason = reason
        super().__init__(f"audit chain broken at seq {seq}: {reason}")


class ReviewConflictError(StoreError):
    """Another reviewer changed the record since it was read (optimistic version check).

    Not retried: retrying would write over the other reviewer's change; the reviewer
    reloads the record and decides again."""

    def __init__(self, record_id: int, expected: int, current: int, status: str, by: str) -> None:
        self.record_id = record_id
        self.expected = expected
        self.current = current
        super().__init__(
            f"record {record_id} was changed by {by} (now version {current}, {status}; "
            f"you had version {expected}); reload it with `tidegate quarantine show "
            f"{record_id}` and try again"
        )


class AuditQueryError(TidegateError):
    """A bad filter, SQL text, key or checkpoint file given to an audit command."""


class SignedNoteError(AuditQueryError):
    """A C2SP signed note or checkpoint body that is malformed (says what is wrong)."""


class BatchIdError(TidegateError):
    """A batch id (or the prefix of one) given to a command names no batch of the store,
    or is the prefix of several: the message names it and, if several, the matches."""


class ReviewError(TidegateError):
    """A review action that cannot apply: an unknown id or column, a record not pending."""


class SelectionChanged(ReviewError):
    """Records matching the filter changed between the confirmation and the action."""
