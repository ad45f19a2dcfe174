"""The quarantine review web app (``tidegate review``).

Server-rendered pages (FastAPI and Jinja2) over the review lifecycle: a queue
with counts and filters, a record page to edit, replay and reject, bulk
actions, sign-in with role-carrying tokens, CSRF on every form, and PII masked
until a reveal, which is audited. ``create_app`` imports the web framework;
``load_tokens`` and ``User`` do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tidegate.errors import TokenFileError
from tidegate.review.web._auth import TOKENS_HELP, User, load_tokens

if TYPE_CHECKING:
    from tidegate.review.web._app import create_app

__all__ = ["TOKENS_HELP", "TokenFileError", "User", "create_app", "load_tokens"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from tidegate.review.web._app import create_app

        return create_app
    raise AttributeError(name)
