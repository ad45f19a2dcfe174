"""What every page shares: templates, the signed-in user, CSRF, flash messages, the store."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tidegate.review.web._auth import User, fingerprint
from tidegate.review.web._sessions import Sessions, SignInThrottle

if TYPE_CHECKING:
    from tidegate.store import Store

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
CSRF_FIELD = "csrf_token"
T = TypeVar("T")


@dataclass
class AppState:
    """The app's configuration, on ``app.state.review``."""

    store: Store
    project_dir: Path
    tokens: dict[str, User]
    # DuckDB refuses a read-only and a read-write connection to one file in one
    # process at the same time: the app takes turns on the store.
    store_lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: Sessions = field(default_factory=Sessions)  # live sign-ins, server-side
    throttle: SignInThrottle = field(default_factory=SignInThrottle)

    @property
    def users_by_fingerprint(self) -> dict[str, User]:
        return {fingerprint(t): u for t, u in self.tokens.items()}


class SignInRequired(Exception):
    """No signed-in user: pages redirect to the sign-in form, writes are refused."""


class Forbidden(Exception):
    """Signed in, but the role does not allow it."""


class CsrfFailed(Exception):
    """A POST without the session's CSRF token."""


def state(request: Request) -> AppState:
    review: AppState = request.app.state.review
    return review


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


async def csrf_guard(request: Request) -> None:
    """Every POST carries the session's CSRF token in a hidden field, or it is refused."""
    if request.method != "POST":
        return
    expected = request.session.get("csrf")
    form = await request.form()
    offered = form.get(CSRF_FIELD)
    if not expected or not isinstance(offered, str):
        raise CsrfFailed()
    if not secrets.compare_digest(str(expected), offered):
        raise CsrfFailed()


def optional_user(request: Request) -> User | None:
    """The user of the request's session, if it is live (not signed out, not expired)."""
    key = state(request).sessions.user_key(request.session.get("sid"))
    if not key:
        return None
    return state(request).users_by_fingerprint.get(key)


def current_user(request: Request) -> User:
    user = optional_user(request)
    if user is None:
        raise SignInRequired()
    return user


def admin_user(request: Request) -> User:
    user = current_user(request)
    if not user.is_admin:
        raise Forbidden()
    return user


def flash(request: Request, level: str, text: str) -> None:
    messages = list(request.session.get("flash", []))
    messages.append([level, text])
    request.session["flash"] = messages[-10:]


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> Response:
    ctx = dict(context or {})
    ctx.setdefault("user", optional_user(request))
    ctx["csrf_field"] = CSRF_FIELD
    ctx["csrf_token"] = csrf_token(request)
    ctx["messages"] = [tuple(m) for m in request.session.pop("flash", [])] + list(messages or [])
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status_code)


def safe_back(url: str | None, default: str = "/") -> str:
    """A same-site relative path to go back to: it starts with a single ``/`` and holds
    no backslash, no control character or space and no scheme (a browser reads
    ``/\\evil.example`` or ``/\t/evil.example`` as ``//evil.example``, another site);
    anything else becomes ``default``."""
    if not url:
        return default
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return default
    return url


async def with_store(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store operation in a worker thread, one at a time."""
    lock = state(request).store_lock

    def call() -> T:
        with lock:
            return fn(*args, **kwargs)

    return await run_in_threadpool(call)
