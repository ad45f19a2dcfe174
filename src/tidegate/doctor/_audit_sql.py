"""The doctor's item for `tidegate audit sql`: the role a person's query runs as."""

from __future__ import annotations

from tidegate.doctor._model import CheckResult
from tidegate.doctor._store import STORE_WAIT_SECONDS
from tidegate.store import StoreLike, open_store

CHECK = "audit sql"


def audit_sql_check(store: StoreLike, readable: bool) -> CheckResult | None:
    """Fails when `audit sql` would run as a superuser (it could read the server's files);
    None for a store without roles (DuckDB: a read-only file connection of its own)."""
    opened = open_store(store)
    if not opened.has_roles:
        return None
    if not readable:
        return CheckResult(CHECK, "", "warn", "not checked: the store cannot be read")
    protection = opened.audit_protection(wait_seconds=STORE_WAIT_SECONDS)
    if protection is None:
        return None
    role = protection.query_role
    if protection.query_superuser:
        return CheckResult(
            CHECK,
            "",
            "fail",
            f"`tidegate audit sql` would run as {role}, a superuser: a query could read "
            "the server's files or stop other sessions",
            "as the store's owner run `tidegate store init` (it makes the reader role "
            "<schema>_reader, SELECT only, that audit sql takes), or connect as a role "
            "that is not a superuser",
        )
    return CheckResult(
        CHECK,
        "",
        "pass",
        f"`tidegate audit sql` runs as {role}, read-only, with a statement timeout",
    )
