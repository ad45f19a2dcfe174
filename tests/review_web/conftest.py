"""Fixtures for the review web app: a demo store built once, a copy per test (on each store
backend; the browser tests use a DuckDB copy), signed-in clients."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tidegate.review.web import User, create_app
from tidegate.store import Store

with warnings.catch_warnings():  # starlette's TestClient deprecates httpx in favour of httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REVIEWER_TOKEN = "reviewer-token-alice-0123456789"
ADMIN_TOKEN = "admin-token-bob-0123456789"
TOKENS = {
    REVIEWER_TOKEN: User(name="alice", role="reviewer"),
    ADMIN_TOKEN: User(name="bob", role="admin"),
}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
INPUT_RE = re.compile(r'<input type="text" name="(col__[^"]+)" id="[^"]*" value="([^"]*)"')


@pytest.fixture
def store(demo_copy: Store) -> Store:
    """A private copy of the demo's store (built by the real CLI and flow), on each backend."""
    return demo_copy


@pytest.fixture
def duckdb_store(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo's DuckDB store, for the browser tests (DuckDB only)."""
    copy = tmp_path / "review.duckdb"
    copy.write_bytes(demo_template.read_bytes())
    return copy


@pytest.fixture
def client(store: Store, project_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store, project_root, TOKENS)) as test_client:
        yield test_client


class Web:
    """Helpers for the tests (a fixture, since test modules cannot import this conftest)."""

    reviewer_token = REVIEWER_TOKEN
    admin_token = ADMIN_TOKEN
    tokens = TOKENS

    @staticmethod
    def csrf_of(page: str) -> str:
        match = CSRF_RE.search(page)
        assert match, "the page has no CSRF field"
        return match.group(1)

    @classmethod
    def sign_in(cls, client: TestClient, token: str = REVIEWER_TOKEN) -> str:
        """Sign in through the form; returns the session's CSRF token."""
        form = client.get("/signin")
        response = client.post(
            "/signin", data={"csrf_token": cls.csrf_of(form.text), "token": token, "next": "/"}
        )
        assert response.status_code == 200, response.text
        return cls.csrf_of(response.text)

    @staticmethod
    def edit_form(page: str) -> dict[str, str]:
        """The edit form's inputs as a browser would send them, untouched."""
        return {name: html.unescape(value) for name, value in INPUT_RE.findall(page)}

    @staticmethod
    def text_of(page: str) -> str:
        page = page.replace("<wbr>", "")  # a line-break chance, no text (rule names)
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def web() -> type[Web]:
    return Web
