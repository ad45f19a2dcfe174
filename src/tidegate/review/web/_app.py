"""``create_app``: the review web app, its sign-in and its admin page."""

from __future__ import annotations

import math
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response

from tidegate.review import contracts_by_source
from tidegate.review.web import _queue, _record
from tidegate.review.web._auth import User, find_user, fingerprint
from tidegate.review.web._common import (
    AppState,
    CsrfFailed,
    Forbidden,
    SignInRequired,
    admin_user,
    csrf_guard,
    flash,
    optional_user,
    render,
    safe_back,
    state,
)
from tidegate.review.web._sessions import (
    SESSION_HOURS,
    Clock,
    Sessions,
    SignInThrottle,
)

if TYPE_CHECKING:
    from tidegate.store import Store

SECRET_ENV = "TIDEGATE_REVIEW_SECRET"


def create_app(
    store: Store, project_dir: Path, tokens: dict[str, User], *, clock: Clock = time.time
) -> FastAPI:
    """The review app over ``store``, with the contracts of ``project_dir``.

    ``tokens`` maps each sign-in token to its user and role. The session cookie is
    signed with ``$TIDEGATE_REVIEW_SECRET``, else a random secret for this process,
    and carries only a session id the app keeps (see ``_sessions.py``): signing out
    ends the session on the server, a session ends ``SESSION_HOURS`` after sign-in,
    and a restart signs everyone out. ``clock`` (seconds) times sessions and the
    sign-in throttle.
    """
    app = FastAPI(
        title="tidegate review",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.review = AppState(
        store=store,
        project_dir=project_dir,
        tokens=dict(tokens),
        sessions=Sessions(clock),
        throttle=SignInThrottle(clock),
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32),
        session_cookie="tidegate_review",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
    )
    app.include_router(_queue.router)
    app.include_router(_record.router)
    _add_sign_in(app)
    _add_admin(app)
    _add_error_pages(app)
    return app


def _add_sign_in(app: FastAPI) -> None:
    @app.get("/signin")
    async def sign_in_form(request: Request) -> Response:
        return render(request, "signin.html", {"next": safe_back(request.query_params.get("next"))})

    @app.post("/signin")
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        next_url = safe_back(str(form.get("next", "/")))
        review = state(request)
        client = request.client.host if request.client else "unknown"
        wait = review.throttle.wait_s(client)
        if wait > 0:
            return render(
                request,
                "signin.html",
                {"next": next_url},
                status_code=429,
                messages=[
                    (
                        "error",
                        f"too many failed sign-ins from {client}: try again in {math.ceil(wait)} s",
                    )
                ],
            )
        token = str(form.get("token", "")).strip()
        user = find_user(review.tokens, token)
        if user is None:
            review.throttle.failed(client)
            return render(
                request,
                "signin.html",
                {"next": next_url},
                status_code=401,
                messages=[("error", "unknown token: check it, or ask an admin for one")],
            )
        review.throttle.succeeded(client)
        review.sessions.end(request.session.get("sid"))
        request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
        request.session["sid"] = review.sessions.start(fingerprint(token))
        flash(request, "ok", f"signed in as {user.name} ({user.role})")
        return RedirectResponse(next_url, status_code=303)

    @app.post("/signout")
    async def sign_out(request: Request) -> Response:
        state(request).sessions.end(request.session.get("sid"))  # the cookie is dead now
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)


def _add_admin(app: FastAPI) -> None:
    @app.get("/admin")
    async def admin(request: Request, user: User = Depends(admin_user)) -> Response:
        review = state(request)
        users = sorted(
            (
                {"name": u.name, "role": u.role, "token": fingerprint(t)}
                for t, u in review.tokens.items()
            ),
            key=lambda u: (u["name"], u["role"]),
        )
        contracts = sorted(contracts_by_source(review.project_dir).values(), key=lambda c: c.source)
        return render(
            request,
            "admin.html",
            {
                "users": users,
                "contracts": contracts,
                "store": review.store,
                "project": review.project_dir,
            },
        )


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            from urllib.parse import urlencode

            return RedirectResponse("/signin?" + urlencode({"next": target}), status_code=303)
        return render(
            request,
            "error.html",
            {"title": "Sign in required", "back": "/signin"},
            status_code=401,
            messages=[("error", "sign in first: anonymous changes are not accepted")],
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        user = optional_user(request)
        role = user.role if user else "anonymous"
        return render(
            request,
            "error.html",
            {"title": "Forbidden", "back": "/"},
            status_code=403,
            messages=[
                ("error", f"forbidden: this page is for admins; you are signed in as a {role}")
            ],
        )

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return render(
            request,
            "error.html",
            {"title": "Forbidden", "back": "/"},
            status_code=403,
            messages=[
                (
                    "error",
                    "forbidden: the form's CSRF token is missing or stale; "
                    "reload the page and try again",
                )
            ],
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return render(
            request,
            "error.html",
            {"title": str(exc.detail), "back": "/"},
            status_code=exc.status_code,
            messages=[("error", str(exc.detail))],
        )
