"""Load a contract from YAML (or a dict) into the checked in-memory :class:`Contract`.

Every mistake is refused with a :class:`~tidegate.errors.ContractError` naming the
file, the dotted key (``columns.amount.checks[1].between``), the bad value and what
would be valid. YAML is read with YAML 1.2 booleans: only ``true``/``false`` are
booleans, so ``yes``, ``no``, ``on``, ``off`` stay strings (``true_values: [yes]``
means what it says) and duplicate keys are refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tidegate.contracts._columns import check_exprs, read_column
from tidegate.contracts._fields import Reader
from tidegate.contracts._model import (
    RESERVED_SOURCES,
    ColumnSpec,
    Contract,
    ContractNormalize,
    Policy,
)
from tidegate.contracts._store_names import source_name_refusal
from tidegate.contracts._yaml import parse_yaml
from tidegate.errors import ContractError

TOP_KEYS = (
    "source",
    "version",
    "description",
    "primary_key",
    "model",
    "normalize",
    "columns",
    "policy",
    "expectations",
)
NORMALIZE_KEYS = ("rename", "null_values", "trim")
POLICY_KEYS = ("on_row_failure", "on_existing_key", "max_quarantine_ratio")
MODEL_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def content_hash(data: Any) -> str:
    """sha256 hex of the canonical JSON of the parsed YAML."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_contract(path: str | Path) -> Contract:
    """Read, parse and check one contract file."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(file, "<file>", file, "an existing contract file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(file, "<file>", str(exc), "a readable UTF-8 text file") from None
    return contract_from_text(text, file)


def contract_from_text(
    text: str, path: str = "<memory>", *, suite_text: str | None = None
) -> Contract:
    """Parse and check a contract's YAML text (a file's, or a version the store recorded);
    ``contract.text`` is ``text`` exactly. ``suite_text`` stands for the file its
    ``expectations.suite`` names (a recorded version's suite), which is then not read."""
    return _checked(parse_yaml(text, path), path, text, suite_text)


def contract_from_dict(data: dict[str, Any], path: str = "<memory>") -> Contract:
    """Check parsed contract data and build the :class:`Contract` (its ``text`` is the
    data written as YAML).

    Parts that do not depend on each other (each top-level key, each column, each
    check) are all read, so the ContractError raised lists every problem found
    (``error.problems``); its ``key``, ``value`` and ``valid`` are the first one's.
    """
    return _checked(data, path, None, None)


def _checked(data: Any, path: str, text: str | None, suite_text: str | None) -> Contract:
    r = Reader(path)
    contract: Contract | None = None
    try:
        contract = _read_contract(r, data, path, suite_text)
    except ContractError as exc:
        r.note(exc)
    r.raise_problems()
    assert contract is not None
    if text is None:
        try:
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        except yaml.YAMLError:  # a value YAML cannot write (a tuple): JSON is YAML too
            text = json.dumps(data, default=str, indent=2) + "\n"
    return dataclasses.replace(contract, text=text)


CONTRACT_MARKS = ("source", "version", "columns")  # a contract has at least one of these


class _Withheld:
    """What a file that is not a contract holds, described without its contents (which
    may be anything: a password file named by mistake), for an error message."""

    def __init__(self, data: object) -> None:
        if isinstance(data, Mapping):
            self.what = f"a mapping of {len(data)} key(s), none of them source, version or columns"
        elif isinstance(data, str | list):
            self.what = f"a {type(data).__name__} of length {len(data)}"
        else:
            self.what = f"a {type(data).__name__}"

    def __repr__(self) -> str:
        return f"<{self.what}; its contents are not shown: this is not a contract file>"


def _read_contract(r: Reader, data: object, path: str, suite_text: str | None) -> Contract:
    if not isinstance(data, Mapping) or not any(k in data for k in CONTRACT_MARKS):
        shown = None if data is None else _Withheld(data)  # None: an empty file
        raise r.refuse("<top>", shown, "a mapping with source, version and columns")
    top = r.mapping(data, "<top>", "a mapping with source, version and columns")
    r.known_keys(top, TOP_KEYS, "", keep_going=True)
    source = r.attempt(_source, r, top, default="")
    version = r.attempt(_version, r, top, default=0)
    raw_columns = r.attempt(_raw_columns, r, top, default=None)
    columns: list[ColumnSpec] = []
    primary_key: tuple[str, ...] = ()
    normalize = ContractNormalize()
    if raw_columns is not None:  # primary key, renames and exprs name the columns
        columns, primary_key, normalize = _read_columns(r, top, raw_columns)
    model = top.get("model")
    if model is not None:
        r.attempt(lambda: import_model(r.text(model, "model"), path), default=None)
    policy = r.attempt(_policy, r, top.get("policy", {}), default=Policy())
    description = r.attempt(r.text, top.get("description", ""), "description", default="")
    suite = None
    if top.get("expectations") is not None:
        from tidegate.contracts._suite import read_suite

        names = [c.name for c in columns]
        suite = r.attempt(read_suite, top["expectations"], path, names, suite_text, default=None)
    if r.problems:
        raise r.problems[0]
    return Contract(
        source=source,
        version=version,
        # the suite's own bytes are part of the contract: a changed suite is a new text
        content_hash=content_hash(
            top if suite is None else {**top, "_expectations_suite": suite.content_hash}
        ),
        path=path,
        columns=tuple(columns),
        primary_key=primary_key,
        normalize=normalize,
        policy=policy,
        model=model,
        description=description,
        expectations=suite,
    )


def _source(r: Reader, top: Mapping[str, Any]) -> str:
    source = r.identifier(r.required(top, "source", "", "the source name"), "source")
    if source in RESERVED_SOURCES:
        raise r.refuse(
            "source",
            source,
            f"a name other than tidegate's own tables ({', '.join(sorted(RESERVED_SOURCES))})",
        )
    unstorable = source_name_refusal(source)
    if unstorable:
        raise r.refuse("source", source, unstorable)
    return source


def _read_columns(
    r: Reader, top: Mapping[str, Any], raw_columns: Mapping[str, Any]
) -> tuple[list[ColumnSpec], tuple[str, ...], ContractNormalize]:
    read = [
        r.attempt(read_column, r, name, spec, default=None) for name, spec in raw_columns.items()
    ]
    columns = [c for c in read if c is not None]
    names = [str(name) for name in raw_columns]  # a column refused is still declared
    primary_key = r.attempt(_primary_key, r, top.get("primary_key", []), names, default=())
    for i, c in enumerate(columns):
        if c.name in primary_key:
            if raw_columns[c.name] is not None and _explicit_nullable(raw_columns[c.name]):
                r.note(
                    r.refuse(
                        f"columns.{c.name}.nullable",
                        True,
                        "false (or left out) for a primary key column",
                    )
                )
            columns[i] = _replace(c, nullable=False)
    normalize = r.attempt(
        _normalize, r, top.get("normalize", {}), columns, names, default=ContractNormalize()
    )
    if not r.problems:  # expr checks need every column read and typed
        check_exprs(r, columns)
    return columns, primary_key, normalize


def _raw_columns(r: Reader, top: Mapping[str, Any]) -> Mapping[str, Any]:
    raw_columns = r.mapping(
        r.required(top, "columns", "", "a mapping of column name -> spec"),
        "columns",
        "a mapping of column name -> {type: ...}",
    )
    if not raw_columns:
        raise r.refuse("columns", {}, "at least one column")
    return raw_columns


def _version(r: Reader, top: Mapping[str, Any]) -> int:
    version = r.required(top, "version", "", "a positive integer")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise r.refuse("version", version, "a positive integer (bump it on purpose)")
    return version


def _explicit_nullable(raw: object) -> bool:
    return isinstance(raw, Mapping) and raw.get("nullable") is True


def _replace(column: ColumnSpec, **changes: Any) -> ColumnSpec:
    return dataclasses.replace(column, **changes)


def _primary_key(r: Reader, raw: object, names: list[str]) -> tuple[str, ...]:
    keys = (raw,) if isinstance(raw, str) else r.str_list(raw, "primary_key")
    for i, k in enumerate(keys):
        if k not in names:
            raise r.refuse(f"primary_key[{i}]", k, f"a declared column: {', '.join(names)}")
        if keys.index(k) != i:
            raise r.refuse(f"primary_key[{i}]", k, "each column at most once")
    return tuple(keys)


def _normalize(
    r: Reader, raw: object, columns: list[ColumnSpec], names: list[str]
) -> ContractNormalize:
    data = r.mapping(raw, "normalize")
    r.known_keys(data, NORMALIZE_KEYS, "normalize", keep_going=True)
    rename = r.mapping(data.get("rename", {}), "normalize.rename", "a mapping of header -> column")
    for header, target in rename.items():
        if target not in names:
            raise r.refuse(
                f"normalize.rename.{header}", target, f"a declared column: {', '.join(names)}"
            )
    # Every header name (column, alias, rename source) must mean exactly one column.
    owner: dict[str, tuple[str, str]] = {n: (n, f"columns.{n}") for n in names}
    for c in columns:
        for j, alias in enumerate(c.aliases):
            key = f"columns.{c.name}.aliases[{j}]"
            _claim(r, owner, alias, c.name, key)
    for header, target in rename.items():
        _claim(r, owner, header, target, f"normalize.rename.{header}")
    return ContractNormalize(
        rename=dict(rename),
        null_values=r.str_list(data.get("null_values", [""]), "normalize.null_values"),
        trim=r.boolean(data.get("trim", True), "normalize.trim"),
    )


def _claim(
    r: Reader, owner: dict[str, tuple[str, str]], header: str, column: str, key: str
) -> None:
    if header in owner and owner[header][0] != column:
        raise r.refuse(
            key,
            header,
            f"a header not already meaning column {owner[header][0]!r} ({owner[header][1]})",
        )
    owner.setdefault(header, (column, key))


def _policy(r: Reader, raw: object) -> Policy:
    data = r.mapping(raw, "policy")
    r.known_keys(data, POLICY_KEYS, "policy", keep_going=True)
    defaults = Policy()
    ratio = r.attempt(
        _ratio, r, data.get("max_quarantine_ratio", defaults.max_quarantine_ratio), default=1.0
    )
    row = r.attempt(
        r.choice,
        data.get("on_row_failure", defaults.on_row_failure),
        "policy.on_row_failure",
        ("quarantine", "fail_batch"),
        default=defaults.on_row_failure,
    )
    key = r.attempt(
        r.choice,
        data.get("on_existing_key", defaults.on_existing_key),
        "policy.on_existing_key",
        ("update", "quarantine"),
        default=defaults.on_existing_key,
    )
    return Policy(on_row_failure=row, on_existing_key=key, max_quarantine_ratio=float(ratio))  # type: ignore[arg-type]


def _ratio(r: Reader, value: object) -> float:
    ratio = r.number(value, "policy.max_quarantine_ratio")
    if not 0 <= ratio <= 1:
        raise r.refuse("policy.max_quarantine_ratio", ratio, "a number between 0 and 1")
    return float(ratio)


def import_model(ref: str, file: str = "<memory>") -> type:
    """Import ``package.module:ClassName`` and check it is a pandera (polars) DataFrameModel."""
    valid = "'package.module:ClassName' naming a pandera.polars.DataFrameModel subclass"
    if not MODEL_RE.match(ref):
        raise ContractError(file, "model", ref, valid)
    module_name, _, class_name = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ContractError(file, "model", ref, f"{valid}; import failed: {exc!r}") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ContractError(
            file, "model", ref, f"{valid}; module {module_name!r} has no {class_name!r}"
        )
    import pandera.polars as pa

    if not (isinstance(cls, type) and issubclass(cls, pa.DataFrameModel)):
        raise ContractError(file, "model", ref, f"{valid}; {class_name!r} is {cls!r}")
    return cls
