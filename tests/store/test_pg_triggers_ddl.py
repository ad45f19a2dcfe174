"""The audit guard's DDL, read as text (no server): every function it creates pins its
search_path with the one helper, and names what it uses by schema."""

from __future__ import annotations

import re

from tidegate.store._pg_triggers import (
    GUARD_FUNCTIONS,
    append_only_ddl,
    guard_function_bodies,
    pinned_search_path,
)


def test_the_pinned_path_puts_pg_catalog_first_and_pg_temp_last() -> None:
    assert pinned_search_path("tidegate") == 'SET search_path = pg_catalog, "tidegate", pg_temp'
    assert pinned_search_path('a"b') == 'SET search_path = pg_catalog, "a""b", pg_temp'


def test_every_function_the_guard_creates_pins_its_path() -> None:
    ddl = append_only_ddl("tg x")
    made = re.findall(r'CREATE OR REPLACE FUNCTION "tg x"\.(\w+)\(\)[^$]*', ddl)
    assert sorted(made) == sorted(GUARD_FUNCTIONS)
    headers = re.findall(r"CREATE OR REPLACE FUNCTION [^$]*", ddl)
    assert len(headers) == len(GUARD_FUNCTIONS)
    for header in headers:
        assert pinned_search_path("tg x") in header and "SECURITY INVOKER" in header
    assert ddl.count('ON "tg x".audit') == 3  # the three triggers, on the qualified table


def test_the_chain_check_names_its_table_functions_and_operators_by_schema() -> None:
    body = guard_function_bodies("s")["tidegate_audit_chain_link"]
    assert 'FROM "s".audit AS a' in body and "pg_catalog.repeat(" in body
    code = re.sub(r"'[^']*'|:=|(ERRCODE|HINT) =", "", body)  # text, assignments, RAISE
    bare = re.findall(r"(?<!OPERATOR\(pg_catalog\.)(<>|\+|=|<|>)(?!\))", code)
    assert bare == []  # no operator left to the search_path
    assert code.count("OPERATOR(pg_catalog.") == 3
