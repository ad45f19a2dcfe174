"""The review app's sessions and links: a back link stays on the site, signing out kills
the session on the server (a captured cookie is dead), sessions expire, and failed
sign-ins from one client are throttled (429). Time is a fake clock, never a sleep."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from helpers import scalar
from tidegate.review.web import create_app
from tidegate.review.web._sessions import FREE_FAILURES, SESSION_MAX_AGE_S
from tidegate.store import Store, open_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.e2e


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _record_id(store: Store) -> int:
    return int(scalar(store, "SELECT min(id) FROM quarantine WHERE status = 'pending'"))


@pytest.mark.parametrize(
    "back",
    [
        "/\\evil.example",
        "/\\/evil.example",
        "//evil.example",
        "/\t/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_a_back_link_to_another_site_becomes_the_queue(
    client: Any, store: Store, web: Any, back: str
) -> None:
    web.sign_in(client)
    page = client.get(f"/records/{_record_id(store)}", params={"back": back})
    assert page.status_code == 200
    assert '<a href="/">← Queue</a>' in page.text
    assert "evil.example" not in page.text


def test_a_same_site_back_link_is_kept(client: Any, store: Store, web: Any) -> None:
    web.sign_in(client)
    page = client.get(f"/records/{_record_id(store)}", params={"back": "/?source=orders"})
    assert '<a href="/?source=orders">← Queue</a>' in page.text


def test_a_cookie_captured_before_sign_out_no_longer_works(
    client: Any, store: Store, project_root: Path, web: Any
) -> None:
    csrf = web.sign_in(client)
    captured = dict(client.cookies)
    assert client.get("/", follow_redirects=False).status_code == 200
    client.post("/signout", data={"csrf_token": csrf})
    with TestClient(create_app(store, project_root, web.tokens), cookies=captured) as thief:
        thief.app.state.review.sessions = client.app.state.review.sessions  # the same server
        response = thief.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def test_the_same_cookie_replayed_after_sign_out_is_refused(client: Any, web: Any) -> None:
    csrf = web.sign_in(client)
    captured = dict(client.cookies)
    client.post("/signout", data={"csrf_token": csrf})
    client.cookies.clear()
    for name, value in captured.items():
        client.cookies.set(name, value)
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.fixture
def clocked(duckdb_store: Path, project_root: Path, web: Any) -> Any:
    clock = FakeClock()
    with TestClient(
        create_app(open_store(duckdb_store), project_root, web.tokens, clock=clock)
    ) as c:
        c.clock = clock
        yield c


def test_a_session_expires_after_its_max_age(clocked: Any, web: Any) -> None:
    web.sign_in(clocked)
    clocked.clock.now += SESSION_MAX_AGE_S - 60
    assert clocked.get("/", follow_redirects=False).status_code == 200
    clocked.clock.now += 120
    response = clocked.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def _try(client: Any, web: Any, token: str) -> Any:
    form = client.get("/signin")
    return client.post(
        "/signin",
        data={"csrf_token": web.csrf_of(form.text), "token": token, "next": "/"},
        follow_redirects=False,
    )


def test_failed_sign_ins_are_throttled_with_an_increasing_delay(clocked: Any, web: Any) -> None:
    for _ in range(FREE_FAILURES):
        assert _try(clocked, web, "wrong-token-0123456789").status_code == 401
    refused = _try(clocked, web, "wrong-token-0123456789")
    assert refused.status_code == 429 and "too many failed sign-ins" in refused.text
    # even the right token waits: guessing must not go on at full speed
    assert _try(clocked, web, web.reviewer_token).status_code == 429
    clocked.clock.now += 31  # the first delay is over: one more try
    assert _try(clocked, web, "wrong-token-0123456789").status_code == 401
    clocked.clock.now += 31  # the next delay is longer
    assert _try(clocked, web, web.reviewer_token).status_code == 429
    clocked.clock.now += 60
    assert _try(clocked, web, web.reviewer_token).status_code == 303  # signed in
    assert _try(clocked, web, "wrong-token-0123456789").status_code == 401  # count reset
