"""Checking a directory of contracts: every file's result, duplicates of a source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tidegate.contracts import Contract, check_contracts, find_contracts
from tidegate.errors import ContractError


def write(path: Path, source: str = "orders") -> Path:
    path.write_text(f"source: {source}\nversion: 1\ncolumns:\n  id: int64\n")
    return path


def test_find_contracts_sorted_yaml_and_yml_only(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yaml", "c.txt", ".hidden.yaml", "z.YAML.bak"):
        (tmp_path / name).write_text("x: 1\n")
    (tmp_path / "sub.yaml").mkdir()
    assert find_contracts(tmp_path) == [tmp_path / "a.yaml", tmp_path / "b.yml"]


def test_find_contracts_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="an existing directory"):
        find_contracts(tmp_path / "nope")


def test_check_contracts_collects_every_result(tmp_path: Path) -> None:
    good = write(tmp_path / "a.yaml", "orders")
    bad_yaml = tmp_path / "b.yaml"
    bad_yaml.write_text("source: [unclosed\n")
    bad_value = tmp_path / "c.yaml"
    bad_value.write_text("source: customers\nversion: -1\ncolumns: {id: int64}\n")
    other = write(tmp_path / "d.yml", "customers")
    missing = tmp_path / "gone.yaml"

    results = check_contracts([*find_contracts(tmp_path), missing])
    assert [p for p, _ in results] == [good, bad_yaml, bad_value, other, missing]
    outcomes = dict(results)
    assert isinstance(outcomes[good], Contract)
    assert isinstance(outcomes[other], Contract)
    for path in (bad_yaml, bad_value, missing):
        err = outcomes[path]
        assert isinstance(err, ContractError)
        assert err.file == str(path)
    assert isinstance(outcomes[bad_value], ContractError)
    assert outcomes[bad_value].key == "version"


def test_two_files_declaring_one_source_are_both_refused(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", "orders")
    b = write(tmp_path / "b.yaml", "orders")
    c = write(tmp_path / "c.yaml", "customers")
    results = dict(check_contracts([a, b, c]))
    for path, other in ((a, b), (b, a)):
        err = results[path]
        assert isinstance(err, ContractError)
        assert (err.file, err.key, err.value) == (str(path), "source", "orders")
        assert str(other) in str(err)
    assert isinstance(results[c], Contract)


def test_import_does_not_pull_in_pandera_or_polars() -> None:
    code = (
        "import sys, tidegate.contracts as c; "
        "print(sorted(m for m in ('pandera', 'polars') if m in sys.modules)); "
        "c.to_pandera_schema; print('pandera' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["[]", "True"]
