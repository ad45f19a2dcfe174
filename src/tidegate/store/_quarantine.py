"""Reading the quarantine: filters, paging, counts. (Writes are in ``_review.py``.)"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tidegate.store._connect import connect, fetch_one
from tidegate.store._quarantine_counts import COUNTS_TABLE, has_counts
from tidegate.store._quarantine_pages import count_matches, page_ids
from tidegate.store._quarantine_rules import RULES_TABLE, column_rules
from tidegate.store._tables import column_names, dialect_of

if TYPE_CHECKING:
    from tidegate.store._protocol import Store

QUARANTINE_COLUMNS = (
    "id, source, batch_id, location, record, raw, normalized, errors, rules, status, version, "
    "contract_version, created_at, updated_at, updated_by, edited, reason"
)
STATUSES = ("pending", "replayed", "rejected")


@dataclass(frozen=True)
class QuarantineRecord:
    id: int
    source: str
    batch_id: str
    location: str | None
    record: int | None
    raw: dict[str, Any]
    normalized: dict[str, Any] | None
    errors: list[dict[str, Any]]
    rules: tuple[str, ...]
    status: str
    version: int
    contract_version: int | None
    created_at: datetime
    updated_at: datetime
    updated_by: str
    edited: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> QuarantineRecord:
        (
            id_,
            source,
            batch_id,
            location,
            record,
            raw,
            normalized,
            errors,
            rules,
            status,
            version,
            contract_version,
            created_at,
            updated_at,
            updated_by,
            edited,
            reason,
        ) = row
        return cls(
            id=id_,
            source=source,
            batch_id=batch_id,
            location=location,
            record=record,
            raw=json.loads(raw),
            normalized=json.loads(normalized) if normalized else None,
            errors=json.loads(errors),
            rules=tuple(r for r in rules.split(",") if r),
            status=status,
            version=version,
            contract_version=contract_version,
            created_at=created_at,
            updated_at=updated_at,
            updated_by=updated_by,
            edited=json.loads(edited) if edited else {},
            reason=reason,
        )

    @property
    def failing_columns(self) -> set[str]:
        return {e["column"] for e in self.errors if e.get("column")}

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["rules"] = list(self.rules)
        out["created_at"] = self.created_at.isoformat()
        out["updated_at"] = self.updated_at.isoformat()
        return out


@dataclass(frozen=True)
class QuarantineFilter:
    """Which records to show. Every field is optional; they combine with AND."""

    source: str | None = None
    rule: str | None = None
    column: str | None = None
    status: str | None = None
    batch: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: tuple[int, ...] = ()

    def where(
        self,
        dialect: str = "duckdb",
        *,
        indexed: bool = True,
        above: int | None = None,
        upto: int | None = None,
        scan_rules: bool = False,
    ) -> tuple[str, list[Any]]:
        """The WHERE clause and its parameters; ``indexed``: the rule and column filters
        look in the rules side table (:mod:`tidegate.store._quarantine_rules`), else
        (a store made before it, opened read-only) inside each record's JSON.

        ``above``/``upto``: only ids above / up to these (a keyset page, a window of
        ids), said again inside each side-table lookup: neither store carries a bound
        on ``id`` into the subquery by itself, so without it a page at id 500,000 reads
        the side table from its start (PostgreSQL) or whole (DuckDB). ``scan_rules``: the
        rule filter reads the ``rules`` text on PostgreSQL too (an aggregate over every
        match reads an index of it faster than it joins the side table)."""
        bounds = [(op, v) for op, v in ((">", above), ("<=", upto)) if v is not None]
        clauses: list[str] = []
        params: list[Any] = []

        def side(condition: str, value: str) -> None:
            within = "".join(f" AND quarantine_id {op} ?" for op, _ in bounds)
            clauses.append(
                f"id IN (SELECT quarantine_id FROM {RULES_TABLE} WHERE {condition}{within})"
            )
            params.extend([value, *(v for _, v in bounds)])

        if self.source:
            clauses.append("source = ?")
            params.append(self.source)
        if self.rule and indexed and dialect == "postgres" and not scan_rules:
            side("rule = ?", self.rule)
        elif self.rule:  # DuckDB scans the short rules column faster than it joins it
            clauses.append("strpos(',' || rules || ',', ?) > 0")
            params.append(f",{self.rule},")
        if self.column:
            if indexed:
                side('"column" = ?', self.column)
            elif dialect == "postgres":
                clauses.append(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements(errors::jsonb) e "
                    "WHERE e->>'column' = ?)"
                )
                params.append(self.column)
            else:
                clauses.append("list_contains(json_extract_string(errors, '$[*].column'), ?)")
                params.append(self.column)
        if self.status:
            clauses.append("status = ?")
            params.append(self.status)
        if self.batch:
            clauses.append("batch_id = ?")
            params.append(self.batch)
        if self.since:
            clauses.append("created_at >= ?")
            params.append(self.since)
        if self.until:
            clauses.append("created_at < ?")
            params.append(self.until)
        if self.ids:
            clauses.append(f"id IN ({', '.join('?' for _ in self.ids)})")
            params.extend(self.ids)
        for op, v in bounds:
            clauses.append(f"id {op} ?")
            params.append(v)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _has_quarantine(con: Any) -> bool:
    row = fetch_one(
        con,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'quarantine' "
        "AND table_schema = current_schema()",
    )
    return bool(row and row[0])


def _columns(con: Any) -> str:
    """The select list; a store written before the review columns reads them as NULL."""
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'quarantine' "
            "AND table_schema = current_schema()"
        ).fetchall()
    }
    return ", ".join(
        c if c in have else f"NULL AS {c}" for c in QUARANTINE_COLUMNS.replace(" ", "").split(",")
    )


def _where(con: Any, flt: QuarantineFilter) -> tuple[str, list[Any]]:
    return flt.where(dialect_of(con), indexed=bool(column_names(con, RULES_TABLE)))


def list_records(
    store: Store,
    flt: QuarantineFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    after: int | None = None,
    count: bool = True,
    count_cap: int | None = None,
) -> tuple[list[QuarantineRecord], int]:
    """One page of records (newest id last) and the total that match the filter (-1
    when ``count`` is False: a later page that does not need it again).

    ``after``: keyset paging, the records with ids above it (the last id of the page
    before); it reads only what the page shows, at any depth. ``offset`` skips that many
    matching records first, so a deep offset walks every id before it (the ids only).
    ``count_cap``: count at most one more than that many (a total above it reads "more
    than ``count_cap``"), so a page's count stops early in a large queue; an offset page
    counts only past itself. (How each store reads: :mod:`._quarantine_pages`.)"""
    with connect(store, read_only=True) as con:
        if not _has_quarantine(con):
            return [], 0
        dialect, indexed = dialect_of(con), bool(column_names(con, RULES_TABLE))
        ids = page_ids(con, flt, dialect, indexed, limit=limit, offset=offset, after=after)
        total = -1
        if count and count_cap is not None and ids and after is None:
            # the page's position is known (``offset`` matches before it): count only past
            # its last id (at least one further, to tell whether a next page exists), so a
            # deep page costs no more than the first
            before = offset + len(ids)
            cap = max(count_cap - before, 0)
            total = before + count_matches(con, flt, dialect, indexed, cap=cap, after=ids[-1])
        elif count:
            total = count_matches(con, flt, dialect, indexed, cap=count_cap)
        rows = (
            con.execute(
                f"SELECT {_columns(con)} FROM quarantine "
                f"WHERE id IN ({', '.join('?' for _ in ids)}) ORDER BY id",
                ids,
            ).fetchall()
            if ids
            else []
        )
    return [QuarantineRecord.from_row(r) for r in rows], total


def get_records(store: Store, ids: list[int]) -> list[QuarantineRecord]:
    records, _ = list_records(store, QuarantineFilter(ids=tuple(ids)), limit=max(len(ids), 1))
    return records


def count_by_rule_and_status(
    store: Store, flt: QuarantineFilter
) -> list[tuple[str, str, str, int]]:
    """(source, rule, status, records) for the queue page's summary: counted by the whole
    rules text first (a few distinct values), then split into rules, so no rule list is
    made per record. Any filter but ``ids`` reads the counts table
    (:mod:`tidegate.store._quarantine_counts`: a few rows, whatever the queue's size; see
    :func:`_from_counts`); a store without it counts the matching records (the
    quarantine's short columns)."""
    with connect(store, read_only=True) as con:
        if not _has_quarantine(con):
            return []
        dialect = dialect_of(con)
        where, params = flt.where(
            dialect, indexed=bool(column_names(con, RULES_TABLE)), scan_rules=True
        )
        counted = _from_counts(con, flt, dialect, where, params) if has_counts(con) else None
        if counted is not None:
            by_rules, params = counted
        else:
            by_rules = (
                "SELECT source, status, rules, count(*) AS n FROM quarantine "
                f"{where} GROUP BY 1, 2, 3"
            )
        return [
            (s, r, st, int(n))
            for s, r, st, n in con.execute(
                "SELECT source, rule, status, sum(n) FROM (SELECT source, status, "
                f"unnest(string_to_array(rules, ',')) AS rule, n FROM ({by_rules}) g) r "
                "GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC, 2, 3",
                params,
            ).fetchall()
        ]


def _from_counts(
    con: Any, flt: QuarantineFilter, dialect: str, where: str, params: list[Any]
) -> tuple[str, list[Any]] | None:
    """The summary's (source, status, rules, n) rows from the counts table, as a SELECT
    and its parameters; None when the table cannot answer ``flt`` exactly (ids, or a
    column that a rule names beside another column).

    Source, batch, status and rule are in the key. A column filter is the rules whose side
    rows all name that column (:func:`~tidegate.store._quarantine_rules.column_rules`): a
    record fails on the column exactly when its rules hold one of them. A time window
    takes the batches whose keys' ``first_at``..``last_at`` lie inside it from the table,
    skips those outside it, and counts the records of a batch that straddles a bound from
    the quarantine (``where``, ``params``: the whole filter on the quarantine)."""
    if flt.ids:
        return None
    keys, key_params = replace(flt, column=None, since=None, until=None).where(
        dialect, scan_rules=True
    )
    clauses = [keys.removeprefix("WHERE "), "n > 0"] if keys else ["n > 0"]
    if flt.column:
        rules = column_rules(con, flt.column)
        if rules is None:
            return None
        clauses.append(
            "(" + " OR ".join("strpos(',' || rules || ',', ?) > 0" for _ in rules) + ")"
            if rules
            else "false"  # no record fails on the column
        )
        key_params = [*key_params, *(f",{r}," for r in rules)]
    kept = " AND ".join(clauses)

    def table_sql(condition: str) -> str:
        return (
            f"SELECT source, status, rules, sum(n) AS n FROM {COUNTS_TABLE} WHERE {condition} "
            "GROUP BY 1, 2, 3"
        )

    if flt.since is None and flt.until is None:
        return table_sql(kept), key_params
    inside = [("min(first_at) >= ?", flt.since), ("max(last_at) < ?", flt.until)]
    meets = [("max(last_at) >= ?", flt.since), ("min(first_at) < ?", flt.until)]
    inside = [(c, v) for c, v in inside if v is not None]
    meets = [(c, v) for c, v in meets if v is not None]

    spans = f"SELECT batch_id FROM {COUNTS_TABLE} WHERE n > 0 GROUP BY batch_id HAVING "
    held = " AND ".join(c for c, _ in inside)
    straddling = [
        r[0]
        for r in con.execute(
            spans + " AND ".join(c for c, _ in meets) + f" AND NOT ({held})",
            [*(v for _, v in meets), *(v for _, v in inside)],
        ).fetchall()
    ]
    sql = table_sql(f"{kept} AND batch_id IN ({spans}{held})")
    out = [*key_params, *(v for _, v in inside)]
    if straddling:  # (known first: a quarantine scan for no batch still reads its side rows)
        sql += (
            " UNION ALL SELECT source, status, rules, count(*) AS n FROM quarantine "
            f"{where} AND batch_id IN ({', '.join('?' for _ in straddling)}) GROUP BY 1, 2, 3"
        )
        out += [*params, *straddling]
    return sql, out


def matching_ids(store: Store, flt: QuarantineFilter) -> list[int]:
    """Every id that matches the filter, in id order (for bulk actions)."""
    with connect(store, read_only=True) as con:
        if not _has_quarantine(con):
            return []
        where, params = _where(con, flt)
        return [
            int(r[0])
            for r in con.execute(
                f"SELECT id FROM quarantine {where} ORDER BY id", params
            ).fetchall()
        ]


def count_by_batch_and_status(store: Store) -> list[tuple[str, str, str, int]]:
    """(source, batch_id, status, records): the quarantine as it is now (after every
    review), for the report beside the batch history."""
    with connect(store, read_only=True) as con:
        if not _has_quarantine(con):
            return []
        return [
            (str(s), str(b), str(st), int(n))
            for s, b, st, n in con.execute(
                "SELECT source, batch_id, status, count(*) FROM quarantine "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            ).fetchall()
        ]
