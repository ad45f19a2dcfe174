"""Recheck: what a candidate contract would do to the pending quarantine, writing nothing.

Each pending record of the candidate's source is judged exactly as a replay under the
candidate would judge it (:mod:`tidegate.review._judge`: its current content, edits
applied, through the engine's stages, in the pages a replay commits together), and,
beside it, under the current contract. A record that would pass but whose key the target
holds already is refused when the candidate's ``on_existing_key`` is ``quarantine``, as
replay refuses it; with ``update`` it would be accepted (and update the row). Nothing is
written: not the target, not the quarantine, not the audit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.batches import RECORD_COLUMN
from tidegate.contracts import Contract, load_contract
from tidegate.engine import PreparedBatch
from tidegate.errors import ReviewError
from tidegate.review._judge import REPLAY_CHUNK, judge_records, replay_verdicts
from tidegate.rules import EXISTING_KEY_RULE
from tidegate.rules import UNREADABLE_FILE_RULE as FILE_RULE
from tidegate.store._connect import read_if_made
from tidegate.store._location import open_store
from tidegate.store._lookups import keys_in_target
from tidegate.store._quarantine import QuarantineFilter, QuarantineRecord, list_records

if TYPE_CHECKING:
    from tidegate.store import Store
    from tidegate.store._protocol import StoreLike

SAMPLES = 10  # quarantine ids shown for "would be accepted" and for "still failing"


@dataclass(frozen=True)
class RecheckResult:
    """What a replay under ``candidate`` would do to the pending records of ``source``.

    ``records`` counts the records judged (file-level entries apart, in ``file_level``);
    ``accepted`` would load under the candidate, ``accepted_now`` under the current
    contract (None without one). ``passed_by_rule``: of the records the candidate would
    accept, how many fail each rule now (current rule id -> count; a record failing two
    rules counts under both). ``failing_by_rule``: the candidate's rules the others
    would still fail. ``refused_existing_key``: records that would pass but whose key is
    loaded already while ``on_existing_key`` is ``quarantine`` (replay stops at them:
    edit the key or reject them first). ``accepted_ids``/``failing_ids`` hold every id.
    """

    source: str
    version: int | None
    content_hash: str
    records: int
    file_level: int
    accepted: int
    accepted_now: int | None
    passed_by_rule: dict[str, int]
    failing_by_rule: dict[str, int]
    refused_existing_key: tuple[int, ...] = ()
    accepted_ids: tuple[int, ...] = field(default=(), repr=False)
    failing_ids: tuple[int, ...] = field(default=(), repr=False)

    @property
    def still_failing(self) -> int:
        return self.records - self.accepted

    def as_dict(self) -> dict[str, Any]:
        """The figures, with at most :data:`SAMPLES` ids of each kind (``--format json``)."""
        return {
            "source": self.source,
            "version": self.version,
            "content_hash": self.content_hash,
            "records": self.records,
            "file_level": self.file_level,
            "accepted": self.accepted,
            "still_failing": self.still_failing,
            "accepted_now": self.accepted_now,
            "passed_by_rule": self.passed_by_rule,
            "failing_by_rule": self.failing_by_rule,
            "refused_existing_key": list(self.refused_existing_key),
            "samples": {
                "accepted": list(self.accepted_ids[:SAMPLES]),
                "still_failing": list(self.failing_ids[:SAMPLES]),
            },
        }


class _Judge:
    """One contract's verdicts, page after page, remembering the keys it accepted (a
    later page of the same replay finds them in the target)."""

    def __init__(self, store: Store, contract: Contract) -> None:
        self.store, self.contract = store, contract
        self.accepted_keys: set[tuple[Any, ...]] = set()
        self.refused: list[int] = []

    def page(self, records: list[QuarantineRecord]) -> dict[int, tuple[str, ...]]:
        """Quarantine id -> the rules it would fail (empty: it would be accepted)."""
        return judge_records(records, self.contract, self._verdicts)

    def _verdicts(self, prepared: PreparedBatch) -> dict[int, tuple[str, ...]]:
        routed = prepared.routed
        out = {
            record_id: tuple(sorted(v["rules"].split(",")))
            for record_id, v in replay_verdicts(routed).items()
        }
        key = self.contract.primary_key
        load = routed.load
        ids = [int(i) for i in load[RECORD_COLUMN].to_list()]
        keys = [tuple(k) for k in load.select(*key).rows()] if key else [() for _ in ids]
        # with on_existing_key: update a loaded key is updated, so only quarantine looks
        refuses = bool(key) and self.contract.policy.on_existing_key == "quarantine"
        held = self._held_keys(keys) if refuses else set()
        for record_id, k in zip(ids, keys, strict=True):
            if k in held:
                out[record_id] = (EXISTING_KEY_RULE,)
                self.refused.append(record_id)
            else:
                out[record_id] = ()
                self.accepted_keys.add(k)
        return out

    def _held_keys(self, keys: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        with read_if_made(self.store) as con:
            loaded = (
                keys_in_target(con, self.contract.target_table, self.contract.primary_key, keys)
                if con is not None
                else set()
            )
        return loaded | (set(keys) & self.accepted_keys)


def recheck(
    store: StoreLike,
    candidate: Contract | str | Path,
    *,
    current: Contract | None = None,
    rule: str | None = None,
    batch: str | None = None,
    page_size: int = REPLAY_CHUNK,
    on_progress: Callable[[int, int], None] | None = None,
) -> RecheckResult:
    """Judge the pending records of ``candidate.source`` (those failing ``rule``, of
    ``batch``, when given) as a replay under ``candidate`` would, beside ``current``
    (the source's contract now; without it, the rules each record was quarantined with
    stand for the current verdict). Reads the quarantine a page at a time, in the pages
    a replay commits together; ``on_progress(done, total)`` after each page.

    ``store`` may be a path or a ``postgresql://`` URL, ``candidate`` a contract file."""
    store = open_store(store)
    if not isinstance(candidate, Contract):
        candidate = load_contract(candidate)
    if current is not None and current.source != candidate.source:
        raise ReviewError(
            f"the current contract is for {current.source!r}, the candidate for "
            f"{candidate.source!r}; recheck a candidate of the same source"
        )
    flt = QuarantineFilter(source=candidate.source, rule=rule, batch=batch, status="pending")
    new, now = _Judge(store, candidate), _Judge(store, current) if current else None
    accepted: list[int] = []
    failing: list[int] = []
    passed_by_rule: Counter[str] = Counter()
    failing_by_rule: Counter[str] = Counter()
    file_level = records = accepted_now = 0
    done, total = 0, None
    while total is None or done < total:
        page, total = list_records(store, flt, limit=page_size, offset=done)
        if not page:
            break
        done += len(page)
        judged = [r for r in page if FILE_RULE not in r.rules]
        file_level += len(page) - len(judged)
        records += len(judged)
        if judged:
            verdicts = new.page(judged)
            before = now.page(judged) if now else {r.id: r.rules for r in judged}
            for r in judged:
                rules_now = before[r.id]
                accepted_now += not rules_now
                if verdicts[r.id]:
                    failing.append(r.id)
                    failing_by_rule.update(verdicts[r.id])
                else:
                    accepted.append(r.id)
                    passed_by_rule.update(rules_now)
        if on_progress:
            on_progress(done, total)
    return RecheckResult(
        source=candidate.source,
        version=candidate.version,
        content_hash=candidate.content_hash,
        records=records,
        file_level=file_level,
        accepted=len(accepted),
        accepted_now=accepted_now if now else None,
        passed_by_rule=dict(sorted(passed_by_rule.items())),
        failing_by_rule=dict(sorted(failing_by_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        refused_existing_key=tuple(new.refused),
        accepted_ids=tuple(accepted),
        failing_ids=tuple(failing),
    )
