"""The PostgreSQL audit guard: the trigger functions and triggers that keep ``audit``
append-only, made so that the role that writes cannot talk them out of it.

A trigger function runs with the search_path of the session that fires it, unless its
definition pins one. A writer's session is the writer's to shape: a ``CREATE TEMP TABLE
audit`` (the temporary schema is searched first for relations) or an operator such as
``<>(varchar, varchar)`` made in the store's schema (writers may CREATE there, for a new
source's target table; an exact match of argument types beats pg_catalog's ``text <>
text`` wherever it sits in the path) would be what the chain check reads or calls. So
every function tidegate creates

- pins its path with :func:`pinned_search_path` (pg_catalog first, pg_temp last, as the
  PostgreSQL manual advises for functions that guard something), and
- names everything it uses by schema: ``"<schema>".audit``, ``pg_catalog.repeat``,
  ``OPERATOR(pg_catalog.<>)``, ``pg_catalog.text``.

The functions are SECURITY INVOKER: the chain check only reads ``audit``, which the writer
may. Stores made by an older tidegate get the current functions when their owner opens
the store for writing or runs ``tidegate store init``; a writer cannot replace them
(only the owner can), and ``tidegate doctor`` reports a function whose path is not pinned,
and any function, operator, trigger or rule in the store's schema that tidegate did not
make (a writer's look-alike there would run in other roles' sessions, the owner's too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tidegate.errors import StoreError
from tidegate.store._tables import quote_ident

if TYPE_CHECKING:
    from tidegate.store._postgres import PgConnection

APPEND_ONLY_TRIGGERS = ("audit_append_only", "audit_no_truncate", "audit_chain_link")
GUARD_FUNCTIONS = ("tidegate_audit_append_only", "tidegate_audit_chain_link")
# The guard of ``audit_keys`` (store/_audit_keys.py): its function and its triggers.
KEYS_GUARD_FUNCTION = "tidegate_audit_keys_append_only"
KEYS_GUARD_TRIGGERS = ("audit_keys_append_only", "audit_keys_no_truncate")

# An entry of pg_proc.proconfig that pins the path with pg_catalog first (PostgreSQL keeps
# ``SET search_path = a, b`` as ``search_path=a, b``).
PINNED_CONFIG_SQL = (
    "EXISTS (SELECT 1 FROM pg_catalog.unnest(p.proconfig) AS c(setting) "
    "WHERE c.setting OPERATOR(pg_catalog.=) 'search_path=pg_catalog' "
    "OR pg_catalog.starts_with(c.setting, 'search_path=pg_catalog,'))"
)

_APPEND_ONLY_BODY = """
BEGIN
    RAISE EXCEPTION 'the tidegate audit log is append-only: % on audit is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the audit trail is never changed; append a new entry instead';
END
"""

# OPERATOR(...) binds like any other operator, whatever it names: each comparison and the
# sum are parenthesized so that they parse as written.
_CHAIN_LINK_BODY = """
DECLARE
    head_seq BIGINT;
    head_hash pg_catalog.text;
BEGIN
    SELECT a.seq, a.hash INTO head_seq, head_hash FROM {schema}.audit AS a
        ORDER BY a.seq DESC LIMIT 1;
    IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := pg_catalog.repeat('0', 64);
    END IF;
    IF (NEW.seq OPERATOR(pg_catalog.<>) (head_seq OPERATOR(pg_catalog.+) 1))
        OR (NEW.prev_hash::pg_catalog.text OPERATOR(pg_catalog.<>) head_hash) THEN
        RAISE EXCEPTION 'audit entry % does not extend the chain (head is seq % with hash %)',
            NEW.seq, head_seq, head_hash
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
"""


def pinned_search_path(schema: str) -> str:
    """The ``SET search_path`` clause every function tidegate creates carries in its
    definition: pg_catalog first (its functions and operators before any other of the same
    name), the store's schema, and pg_temp last (never before the store's tables). The
    path is a second line of defence: the function body still names everything by schema."""
    return f"SET search_path = pg_catalog, {quote_ident(schema)}, pg_temp"


def guard_function_bodies(schema: str) -> dict[str, str]:
    """The body (``pg_proc.prosrc``) of each guard function for the store in ``schema``."""
    return {
        "tidegate_audit_append_only": _APPEND_ONLY_BODY,
        "tidegate_audit_chain_link": _CHAIN_LINK_BODY.format(schema=quote_ident(schema)),
    }


def append_only_ddl(schema: str) -> str:
    """The guard functions and the triggers on ``<schema>.audit`` (replacing older ones)."""
    s, path = quote_ident(schema), pinned_search_path(schema)
    functions = "".join(
        f"CREATE OR REPLACE FUNCTION {s}.{name}() RETURNS trigger\n"
        f"LANGUAGE plpgsql SECURITY INVOKER {path} AS $tidegate${body}$tidegate$;\n"
        for name, body in guard_function_bodies(schema).items()
    )
    return functions + (
        f"CREATE OR REPLACE TRIGGER audit_append_only\n"
        f"    BEFORE UPDATE OR DELETE ON {s}.audit\n"
        f"    FOR EACH ROW EXECUTE FUNCTION {s}.tidegate_audit_append_only();\n"
        f"CREATE OR REPLACE TRIGGER audit_no_truncate\n"
        f"    BEFORE TRUNCATE ON {s}.audit\n"
        f"    FOR EACH STATEMENT EXECUTE FUNCTION {s}.tidegate_audit_append_only();\n"
        f"CREATE OR REPLACE TRIGGER audit_chain_link\n"
        f"    BEFORE INSERT ON {s}.audit\n"
        f"    FOR EACH ROW EXECUTE FUNCTION {s}.tidegate_audit_chain_link();\n"
    )


# The store's schema, then per guard function found there: its body, whether its path is
# pinned, whether the connecting role may replace it (owns it, is a member of its owner,
# or is superuser), its owner. One row with NULLs after the schema when there is none.
GUARD_STATE_SQL = f"""
SELECT s.name, p.proname, p.prosrc, {PINNED_CONFIG_SQL},
       pg_catalog.pg_has_role(p.proowner, 'USAGE'), pg_catalog.pg_get_userbyid(p.proowner)
FROM (SELECT pg_catalog.current_schema() AS name) AS s
LEFT JOIN pg_catalog.pg_namespace AS n ON n.nspname OPERATOR(pg_catalog.=) s.name
LEFT JOIN pg_catalog.pg_proc AS p ON p.pronamespace OPERATOR(pg_catalog.=) n.oid
    AND p.proname IN ({", ".join(f"'{f}'" for f in GUARD_FUNCTIONS)})
"""
# Whether the connecting role may put triggers on the store's audit table, and its owner.
AUDIT_OWNER_SQL = (
    "SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE'), pg_catalog.pg_get_userbyid(c.relowner) "
    "FROM pg_catalog.pg_class AS c WHERE c.oid = pg_catalog.to_regclass('audit')"
)
# The append-only triggers present and enabled on the store's audit table.
ENABLED_TRIGGERS_SQL = (
    "SELECT tgname FROM pg_catalog.pg_trigger WHERE tgrelid = pg_catalog.to_regclass('audit') "
    "AND tgenabled <> 'D'"
)


# The functions of the store that run as someone else's guard and do not pin their path:
# those tidegate names ``tidegate_*`` in the store's schema, and any function a trigger on
# one of the store's tables executes (wherever it lives). Read by ``tidegate doctor``.
UNPINNED_FUNCTIONS_SQL = f"""
SELECT DISTINCT p.proname FROM pg_catalog.pg_proc AS p
WHERE NOT {PINNED_CONFIG_SQL}
  AND ((p.pronamespace = (SELECT n.oid FROM pg_catalog.pg_namespace AS n
                          WHERE n.nspname = pg_catalog.current_schema())
        AND pg_catalog.starts_with(p.proname::pg_catalog.text, 'tidegate_'))
    OR p.oid IN (SELECT t.tgfoid FROM pg_catalog.pg_trigger AS t
                 JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid
                 JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                 WHERE NOT t.tgisinternal AND n.nspname = pg_catalog.current_schema()))
ORDER BY 1
"""


# Objects in the store's schema that tidegate does not make: functions and operators other
# than the guard (and than an extension's), triggers other than the guard's, rules on
# tables. Writers may CREATE in the schema and own the target tables they make (a new
# source's), so a look-alike ``=`` on varchar there, or a trigger or rule on such a table,
# would run with the privileges of whoever queries or loads the store, its owner included.
# Read by doctor.
FOREIGN_OBJECTS_SQL = f"""
WITH store AS (SELECT n.oid FROM pg_catalog.pg_namespace AS n
               WHERE n.nspname = pg_catalog.current_schema())
SELECT p.proname OPERATOR(pg_catalog.||) '('
       OPERATOR(pg_catalog.||) pg_catalog.pg_get_function_identity_arguments(p.oid)
       OPERATOR(pg_catalog.||) ')'
FROM pg_catalog.pg_proc AS p, store
WHERE p.pronamespace = store.oid
  AND p.proname NOT IN ({", ".join(f"'{f}'" for f in (*GUARD_FUNCTIONS, KEYS_GUARD_FUNCTION))})
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d WHERE d.objid = p.oid
                  AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.deptype = 'e')
UNION ALL
SELECT 'operator ' OPERATOR(pg_catalog.||) o.oprname::pg_catalog.text
       OPERATOR(pg_catalog.||) ' (' OPERATOR(pg_catalog.||) pg_catalog.format_type(o.oprleft, NULL)
       OPERATOR(pg_catalog.||) ', ' OPERATOR(pg_catalog.||) pg_catalog.format_type(o.oprright, NULL)
       OPERATOR(pg_catalog.||) ')'
FROM pg_catalog.pg_operator AS o, store
WHERE o.oprnamespace = store.oid
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d WHERE d.objid = o.oid
                  AND d.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass
                  AND d.deptype = 'e')
UNION ALL
SELECT 'trigger ' OPERATOR(pg_catalog.||) t.tgname::pg_catalog.text
       OPERATOR(pg_catalog.||) ' on ' OPERATOR(pg_catalog.||) c.relname::pg_catalog.text
FROM pg_catalog.pg_trigger AS t
JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid
JOIN store ON c.relnamespace = store.oid
WHERE NOT t.tgisinternal
  AND NOT (c.relname OPERATOR(pg_catalog.=) 'audit'
           AND t.tgname IN ({", ".join(f"'{t}'" for t in APPEND_ONLY_TRIGGERS)}))
  AND NOT (c.relname OPERATOR(pg_catalog.=) 'audit_keys'
           AND t.tgname IN ({", ".join(f"'{t}'" for t in KEYS_GUARD_TRIGGERS)}))
UNION ALL
SELECT 'rule ' OPERATOR(pg_catalog.||) r.rulename::pg_catalog.text
       OPERATOR(pg_catalog.||) ' on ' OPERATOR(pg_catalog.||) c.relname::pg_catalog.text
FROM pg_catalog.pg_rewrite AS r
JOIN pg_catalog.pg_class AS c ON c.oid = r.ev_class
JOIN store ON c.relnamespace = store.oid
WHERE c.relkind IN ('r', 'p')
ORDER BY 1
"""


def stale_guard(schema: str, state: list[tuple[Any, ...]]) -> list[str]:
    """The guard functions that are missing, unpinned or not this tidegate's (from
    :data:`GUARD_STATE_SQL` rows, the schema's column dropped)."""
    wanted = guard_function_bodies(schema)
    current = {str(r[0]) for r in state if r[0] and r[1] == wanted.get(str(r[0])) and r[2]}
    return [name for name in GUARD_FUNCTIONS if name not in current]


def ensure_audit_guard(con: PgConnection, *, required: bool) -> bool:
    """Put the current guard functions and the three triggers in place unless they are.

    ``required`` (``tidegate store init``): a stale guard that the connecting role may not
    replace is a :class:`StoreError` naming the owner. Otherwise (a flow's write) such a
    guard is left as it is, for the owner to renew (doctor reports it). True when the DDL
    ran."""
    rows = con.execute(GUARD_STATE_SQL).fetchall()
    schema, state = str(rows[0][0]), [r[1:] for r in rows if r[1] is not None]
    stale = stale_guard(schema, state)
    if required and not stale:
        enabled = {r[0] for r in con.execute(ENABLED_TRIGGERS_SQL).fetchall()}
        stale = [t for t in APPEND_ONLY_TRIGGERS if t not in enabled]
    if not stale:
        return False
    owner = con.execute(AUDIT_OWNER_SQL).fetchall()
    owners = {str(r[4]) for r in state if not r[3]} | {str(r[1]) for r in owner if not r[0]}
    blocked = sorted(owners)
    if blocked:
        if not required:
            return False
        raise StoreError(
            f"the audit guard of PostgreSQL store {con.store} needs renewing "
            f"({', '.join(stale)}) and only the owner of the audit table and its trigger "
            f"functions may do it: run `tidegate store init` as role {', '.join(blocked)}"
        )
    con.execute(append_only_ddl(schema))
    return True
