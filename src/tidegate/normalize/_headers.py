"""Header drift: map the headers found in a file onto the contract's columns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tidegate.contracts._model import Contract
from tidegate.errors import ContractError

# Lower-cased, then every whitespace character (NBSP included), "_", "-" and a
# byte-order mark removed: " Order ID ", "order_id", "ORDER-ID" and "OrderID" all
# fold to "orderid".
_FOLD_DROP = re.compile(r"[\s_\-\ufeff\u200b]+")


def fold_header(name: str) -> str:
    """The folded form two headers are compared by."""
    return _FOLD_DROP.sub("", name.lower())


@dataclass(frozen=True)
class HeaderMatch:
    """How the headers of one file map onto one contract's columns."""

    header_map: dict[str, str]  # header as found -> contract column it feeds
    unknown_columns: tuple[str, ...]  # headers that feed no column, in file order
    missing_columns: tuple[str, ...]  # contract columns no header feeds, in contract order

    @property
    def renamed(self) -> int:
        """How many feeding headers differ from their column's name."""
        return sum(1 for header, column in self.header_map.items() if header != column)


def _lookup_tables(contract: Contract) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(exact, folded) lookup tables in priority order: rename, aliases, names."""
    names = set(contract.column_names)
    for header, column in contract.normalize.rename.items():
        if column not in names:
            raise ContractError(
                contract.path,
                f"normalize.rename.{header}",
                column,
                "one of the contract's columns: " + ", ".join(contract.column_names),
            )
    tiers: list[list[tuple[str, str]]] = [
        list(contract.normalize.rename.items()),
        [(alias, c.name) for c in contract.columns for alias in c.aliases],
        [(c.name, c.name) for c in contract.columns],
    ]
    tables = []
    for pairs in tiers:
        exact: dict[str, str] = {}
        folded: dict[str, str] = {}
        for key, column in pairs:
            exact.setdefault(key, column)  # first declared wins
            folded.setdefault(fold_header(key), column)
        tables.append((exact, folded))
    return tables


def match_headers(headers: Iterable[str], contract: Contract) -> HeaderMatch:
    """Map each header onto a column: rename keys, then aliases, then column names.

    Each tier is tried exactly first, then folded (:func:`fold_header`). When two
    headers feed the same column the first one wins and the second is unknown.
    """
    tables = _lookup_tables(contract)
    header_map: dict[str, str] = {}
    fed: set[str] = set()
    unknown: list[str] = []
    for header in headers:
        column = _find(header, tables)
        if column is None or column in fed:
            unknown.append(header)
            continue
        header_map[header] = column
        fed.add(column)
    missing = tuple(name for name in contract.column_names if name not in fed)
    return HeaderMatch(header_map, tuple(unknown), missing)


def row_names(contract: Contract) -> list[str]:
    """For each of the contract's columns, in order, a header name that
    :func:`match_headers` maps onto it: what a file's rows must carry to be normalized
    as if their header had named every column (its name, or else a rename key or an
    alias of it when a rename or alias takes the name for another column)."""
    tables = _lookup_tables(contract)
    names: list[str] = []
    for column in contract.columns:
        renames = [h for h, c in contract.normalize.rename.items() if c == column.name]
        candidates = [column.name, *renames, *column.aliases]
        names.append(next((h for h in candidates if _find(h, tables) == column.name), column.name))
    return names


def _find(header: str, tables: list[tuple[dict[str, str], dict[str, str]]]) -> str | None:
    folded = fold_header(header)
    for exact, folded_table in tables:
        if header in exact:
            return exact[header]
        if folded in folded_table:
            return folded_table[folded]
    return None


# Folded names at least this alike are offered as a rename (difflib's ratio).
RENAME_SIMILARITY = 0.5


def suggest_renames(unknown: Iterable[str], missing: Iterable[str]) -> dict[str, str]:
    """Unknown header -> missing column it most likely is, by folded-name similarity
    (:mod:`difflib`), best pairs first; one unknown header and one missing column left
    over are paired too (a file with one renamed column)."""
    import difflib

    headers, columns = list(unknown), list(missing)
    scored = sorted(
        (
            (difflib.SequenceMatcher(None, fold_header(h), fold_header(c)).ratio(), i, j)
            for i, h in enumerate(headers)
            for j, c in enumerate(columns)
        ),
        key=lambda s: (-s[0], s[1], s[2]),
    )
    pairs: dict[int, int] = {}
    for score, i, j in scored:
        if score >= RENAME_SIMILARITY and i not in pairs and j not in pairs.values():
            pairs[i] = j
    left_h = [i for i in range(len(headers)) if i not in pairs]
    left_c = [j for j in range(len(columns)) if j not in pairs.values()]
    if len(left_h) == 1 and len(left_c) == 1:
        pairs[left_h[0]] = left_c[0]
    return {headers[i]: columns[j] for i, j in sorted(pairs.items())}


def header_finding(unknown: tuple[str, ...], missing: tuple[str, ...]) -> str | None:
    """What is wrong with a file's header, for a person, with the contract change that
    would fix it; None when every column is fed and no header is left over. E.g.
    ``missing columns invoice_no, amount; unknown headers "Invoice Number", "Total";
    add to the contract: normalize: {rename: {"Invoice Number": invoice_no, "Total": amount}}``.
    """
    import json

    if not unknown and not missing:
        return None
    parts = []
    if missing:
        parts.append("missing columns " + ", ".join(missing))
    if unknown:
        parts.append("unknown headers " + ", ".join(json.dumps(h) for h in unknown))
    renames = suggest_renames(unknown, missing)
    if renames:
        pairs = ", ".join(f"{json.dumps(h)}: {c}" for h, c in renames.items())
        parts.append(f"add to the contract: normalize: {{rename: {{{pairs}}}}}")
    elif missing:
        parts.append("no header in the file looks like them")
    else:
        parts.append("kept in the raw record only (add them to the contract to load them)")
    return "; ".join(parts)
