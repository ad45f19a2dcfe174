"""``tidegate.Pipeline``: a source, a contract and a store, run from Python.

    pipeline = tidegate.Pipeline(source="data/*.csv", contract="schemas/orders.yaml")
    result = pipeline.run()

Prefect-free: the batches go through the same engine as the ``ingest`` flow (the
same skips, commits, audit entries and monitor), in this process. To run it as a
Prefect flow (retries, states, events), use :func:`tidegate.ingest_flow` or the tasks
in :mod:`tidegate.tasks`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.batches import ChunkSize
from tidegate.contracts import Contract, load_contract
from tidegate.engine._outcome import RunVerdict, verdict
from tidegate.engine._run import read_options_of, run_items
from tidegate.engine._shadow import ShadowCandidate
from tidegate.engine._watermark import open_declared_source
from tidegate.errors import PipelineError
from tidegate.normalize._headers import row_names
from tidegate.sources import FileSource, MemorySource, Source

if TYPE_CHECKING:
    from tidegate.monitor import MonitorConfig
    from tidegate.store import BatchOutcome, Store


@dataclass(frozen=True)
class RunResult:
    """What one run did: one outcome per item read, in read order, and their verdict."""

    source: str
    outcomes: tuple[BatchOutcome, ...]
    busy: bool = False  # another run of this source held it and on_busy is "skip"

    @property
    def verdict(self) -> RunVerdict:
        return verdict(o.as_dict() for o in self.outcomes)

    @property
    def data_held(self) -> bool:
        """A batch held, a file rejected, or a batch over the monitor's threshold."""
        return self.verdict.data_held

    @property
    def exit_code(self) -> int:
        """0 when every batch loaded or was already committed, 3 when data was held."""
        return self.verdict.exit_code

    @property
    def message(self) -> str:
        return self.verdict.message

    def _total(self, name: str) -> int:
        return sum(int(getattr(o, name)) for o in self.outcomes)

    @property
    def rows_in(self) -> int:
        return self._total("rows_in")

    @property
    def loaded(self) -> int:
        return self._total("loaded")

    @property
    def quarantined(self) -> int:
        return self._total("quarantined")

    @property
    def duplicates(self) -> int:
        return self._total("duplicates")

    @property
    def shadow_lines(self) -> tuple[str, ...]:
        """One line per batch judged under the pipeline's ``shadow:`` candidate
        (``location: shadow PATH (vN): +3 would pass, −5 would fail ...``); each
        outcome's ``shadow`` holds the figures (the audit entry's ``detail["shadow"]``)."""
        from tidegate._shadow_line import shadow_line

        return tuple(f"{o.location}: {shadow_line(o.shadow)}" for o in self.outcomes if o.shadow)

    def __repr__(self) -> str:
        return (
            f"RunResult(source={self.source!r}, batches={len(self.outcomes)}, "
            f"rows_in={self.rows_in}, loaded={self.loaded}, quarantined={self.quarantined}, "
            f"duplicates={self.duplicates}, exit_code={self.exit_code})"
        )


class Pipeline:
    """A source read into a store under a contract.

    - ``source``: a :class:`tidegate.sources.Source`, a file path or glob (the format
      from the extension), a source declaration as in a pipeline file
      (``{"kind": "sql", "url": ..., "table": ...}``), or a frame (polars, pandas, a
      list of dicts) to ingest as one batch;
    - ``contract``: a :class:`tidegate.Contract` or the path of a contract file;
    - ``store``: a store (:func:`tidegate.open_store`), a DuckDB file path or a
      ``postgresql://`` URL; by default ``$TIDEGATE_STORE``, else
      ``.tidegate/tidegate.duckdb`` under ``base_dir``.

    Relative paths of the source and the contract are taken from ``base_dir`` (default:
    the current directory); a relative store path, as any Python path, from the current
    directory. Paths given here are not confined to a project folder (the caller chose
    them); :meth:`from_project` confines them as `tidegate run` does (``allowed_paths:``).

    ``chunk_size``: how much of a file is read, checked and staged at a time (rows, e.g.
    ``100_000``, or bytes, e.g. ``"64MB"``; default 32 MiB), for a source given as a
    path or a file/landing declaration. Memory stays bounded by it whatever the size of
    the file; each file is still one batch, published in one transaction.

    ``shadow``: a candidate contract (a :class:`tidegate.Contract` or a path) for the
    same source; each batch is also judged under it, nothing loaded under it, and its
    outcome's ``shadow`` (and the audit entry's) says what it would have changed.
    """

    def __init__(
        self,
        source: Any,
        contract: Contract | str | Path,
        store: Store | str | Path | None = None,
        *,
        monitor: MonitorConfig | None = None,
        on_busy: str = "wait",
        actor: str | None = None,
        base_dir: str | Path | None = None,
        chunk_size: ChunkSize | int | str | None = None,
        shadow: Contract | str | Path | None = None,
    ) -> None:
        from tidegate.store import default_store_path, open_store

        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        if isinstance(contract, Contract):
            self.contract = contract
        else:
            path = Path(contract)
            self.contract = load_contract(path if path.is_absolute() else self.base_dir / path)
        self.shadow = None if shadow is None else self._candidate(shadow)
        self.source = source
        self.store: Store = (
            default_store_path(self.base_dir) if store is None else open_store(store)
        )
        if on_busy not in ("wait", "skip"):
            raise PipelineError(f"on_busy: {on_busy!r} is not valid; expected wait or skip")
        self.monitor = monitor
        self.on_busy = on_busy
        self.actor = actor
        self.chunk_size = None if chunk_size is None else ChunkSize.parse(chunk_size)
        self._confine_to: tuple[Path, ...] = ()  # from_project: the pipeline's allowed folders
        if self.chunk_size is not None and not isinstance(source, str | os.PathLike | Mapping):
            raise PipelineError(
                f"chunk_size applies to a source given as a file path or glob or as a "
                f"file/landing declaration, not to a {type(source).__name__}; pass it to "
                "the source itself, e.g. FileSource(name, path, chunk_size=...)"
            )

    def _candidate(self, shadow: Contract | str | Path) -> ShadowCandidate:
        if isinstance(shadow, Contract):
            candidate, name = shadow, shadow.path
        else:
            path = Path(shadow)
            candidate = load_contract(path if path.is_absolute() else self.base_dir / path)
            name = str(shadow)
        if candidate.source != self.contract.source:
            raise PipelineError(
                f"shadow: {name!r} is a contract for source {candidate.source!r}, not "
                f"{self.contract.source!r}; a shadow must be a candidate for the same source"
            )
        return ShadowCandidate(name, candidate)

    def __repr__(self) -> str:
        return (
            f"Pipeline(source={self.contract.source!r}, "
            f"contract=v{self.contract.version}, store={str(self.store)!r})"
        )

    @classmethod
    def from_project(
        cls,
        name: str,
        project_dir: str | Path = ".",
        store: Store | str | Path | None = None,
        *,
        actor: str | None = None,
    ) -> Pipeline:
        """The pipeline that ``pipelines/NAME.yaml`` of a project declares: its source,
        its contract, its monitor and its ``concurrency.on_busy``, as `tidegate run NAME`
        would run it (without Prefect)."""
        from tidegate.pipelines import find_pipeline

        project = Path(project_dir).resolve()
        spec = find_pipeline(project, name)
        pipeline = cls(
            spec.source,
            spec.contract_path,
            store,
            monitor=spec.monitor,
            on_busy=spec.concurrency.on_busy,
            actor=actor,
            base_dir=project,
            shadow=spec.shadow,
        )
        pipeline._confine_to = spec.allowed_paths  # its files stay inside, as for `run`
        return pipeline

    def _open_source(self, reprocess: bool) -> Source:
        name = self.contract.source
        given = self.source
        if isinstance(given, Source):
            return given
        if isinstance(given, str | os.PathLike):
            return FileSource(
                name,
                os.fspath(given),
                base_dir=self.base_dir,
                chunk_size=self.chunk_size,
                expected_columns=row_names(self.contract),
            )
        if isinstance(given, Mapping):
            if self.chunk_size is not None and "chunk_size" not in given:
                if given.get("kind", "file") not in ("file", "landing"):
                    raise PipelineError(
                        f"chunk_size applies to file and landing sources, not to kind "
                        f"{given.get('kind')!r} (a SQL declaration's own `chunk_size` is the "
                        "rows of each window, each window its own batch)"
                    )
                given = {**given, "chunk_size": self.chunk_size.as_setting()}
            from tidegate.pipelines._confine import confine_files

            declared = open_declared_source(
                self.store, name, given, self.base_dir, reprocess, self.contract
            )
            confine_files(declared, self._confine_to)
            return declared
        try:
            return MemorySource.from_frame(name, given)
        except (TypeError, ValueError) as exc:
            raise PipelineError(
                f"source: {type(given).__name__} is not a source; pass a Source, a file path "
                f"or glob, a source declaration (a mapping with `kind:`), or a frame ({exc})"
            ) from exc

    def run(self, *, reprocess: bool = False) -> RunResult:
        """Ingest every new batch of the source; already committed content is skipped
        (audited). With ``reprocess``, committed content is replaced under this contract.

        One run per source at a time, as with the flow: a second run waits for this one,
        or returns at once with ``busy=True`` when ``on_busy="skip"``."""
        with self.store.source_lock(self.contract.source, self.on_busy) as held:
            if not held:
                return RunResult(self.contract.source, (), busy=True)
            source = self._open_source(reprocess)  # an incremental source's watermark: now
            outcomes = run_items(
                self.store,
                source.read(),
                self.contract,
                reprocess=reprocess,
                actor=self.actor,
                monitor=self.monitor,
                read_options=read_options_of(source),
                shadow=self.shadow,
            )
        return RunResult(self.contract.source, tuple(outcomes))
