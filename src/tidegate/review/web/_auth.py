"""Who may use the review app: tokens that carry a user and a role.

Tokens come from a file (YAML or JSON) or from ``$TIDEGATE_REVIEW_TOKENS`` (a path
to such a file, or the mapping itself)::

    # tokens.yaml
    3q9Xk...a long random string...: {user: alice, role: reviewer}
    Zr81p...another one...:          {user: bob, role: admin}

This module imports no web framework, so the CLI can check the tokens before it
loads one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidegate.errors import TokenFileError

ROLES = ("reviewer", "admin")
MIN_TOKEN_LENGTH = 16
TOKENS_ENV = "TIDEGATE_REVIEW_TOKENS"
TOKENS_HELP = (
    "create a tokens file (YAML or JSON) with one long random token per person, e.g.\n"
    '  python -c "import secrets; print(secrets.token_urlsafe(24))"  # prints a token\n'
    "  # tokens.yaml\n"
    "  <token>: {user: alice, role: reviewer}\n"
    "  <another token>: {user: bob, role: admin}\n"
    f"then run `tidegate review --tokens tokens.yaml` (or set {TOKENS_ENV}=tokens.yaml)"
)


@dataclass(frozen=True)
class User:
    """A signed-in person: the name recorded as the audit actor, and a role."""

    name: str
    role: str = "reviewer"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def fingerprint(token: str) -> str:
    """A short, non-reversible name for a token (safe to show and to keep in a cookie)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def parse_tokens(data: Any, where: str) -> dict[str, User]:
    """Check ``{token: {user, role}}`` and build the users, naming the bad entry."""
    if not isinstance(data, Mapping) or not data:
        raise TokenFileError(
            f"{where}: expected a mapping of token -> {{user, role}}, got {type(data).__name__}"
            f"\n{TOKENS_HELP}"
        )
    users: dict[str, User] = {}
    for token, entry in data.items():
        shown = f"{str(token)[:4]}…"
        if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
            raise TokenFileError(
                f"{where}: token {shown} is shorter than {MIN_TOKEN_LENGTH} characters; "
                'use a long random one (python -c "import secrets; '
                'print(secrets.token_urlsafe(24))")'
            )
        if not isinstance(entry, Mapping) or not isinstance(entry.get("user"), str):
            raise TokenFileError(f"{where}: token {shown}: expected {{user: NAME, role: ROLE}}")
        role = entry.get("role", "reviewer")
        if role not in ROLES:
            raise TokenFileError(
                f"{where}: token {shown} (user {entry['user']}): role {role!r} is not valid; "
                f"expected one of {', '.join(ROLES)}"
            )
        users[token] = User(name=entry["user"].strip(), role=role)
    return users


def _parse_text(text: str, where: str) -> dict[str, User]:
    import yaml  # YAML is a superset of JSON

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TokenFileError(f"{where}: not valid YAML or JSON: {exc}") from None
    return parse_tokens(data, where)


def load_tokens(path: Path | None = None, env: Mapping[str, str] | None = None) -> dict[str, User]:
    """Tokens from ``path``, else from ``$TIDEGATE_REVIEW_TOKENS``; ``{}`` when neither is set."""
    environ = os.environ if env is None else env
    if path is None:
        value = environ.get(TOKENS_ENV, "").strip()
        if not value:
            return {}
        if not value.startswith("{") and Path(value).expanduser().is_file():
            path = Path(value).expanduser()
        elif value.startswith("{"):
            return _parse_text(value, f"${TOKENS_ENV}")
        else:
            raise TokenFileError(f"${TOKENS_ENV}: no tokens file at {value}\n{TOKENS_HELP}")
    if not path.is_file():
        raise TokenFileError(f"no tokens file at {path}\n{TOKENS_HELP}")
    return _parse_text(path.read_text(encoding="utf-8"), str(path))


def find_user(tokens: Mapping[str, User], offered: str) -> User | None:
    """The user whose token is ``offered``, comparing every token in constant time."""
    found: User | None = None
    for token, user in tokens.items():
        if hmac.compare_digest(token.encode(), offered.encode()):
            found = user
    return found
