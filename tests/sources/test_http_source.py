"""HttpSource against a local HTTP server that injects 500s, 429s, timeouts and slow pages."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tidegate.errors import SourceConfigError, SourceUnavailableError
from tidegate.sources import HttpGaveUpError, HttpSource, RawBatch, source_from_config
from tidegate.sources._breaker import breaker_for, reset_breakers
from tidegate.sources._retry import RetryPolicy, parse_retry_after

TOKEN = "tok-s3cr3t-VALUE-123"
API_KEY = "key-s3cr3t-QUERY-456"

# a route answers (status, headers, body, delay_seconds) for the query of a request
Reply = tuple[int, dict[str, str], Any, float]
Route = Callable[[dict[str, str], int], Reply]


class Api:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self.auth: list[str | None] = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                api.hits[parts.path] = api.hits.get(parts.path, 0) + 1
                api.auth.append(self.headers.get("Authorization"))
                status, headers, body, delay = api.routes[parts.path](query, api.hits[parts.path])
                if delay:
                    time.sleep(delay)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def api() -> Iterator[Api]:
    reset_breakers()
    server = Api()
    yield server
    server.server.shutdown()
    server.server.server_close()
    reset_breakers()


def ok(body: Any, headers: dict[str, str] | None = None, delay: float = 0.0) -> Reply:
    return 200, headers or {}, body, delay


FAST = RetryPolicy(max_attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)


def batch_of(source: HttpSource) -> RawBatch:
    items = list(source.read())
    assert len(items) == 1 and isinstance(items[0], RawBatch)
    return items[0]


# ---------------------------------------------------------------- pagination


def test_page_number_pagination_until_an_empty_page(api: Api) -> None:
    pages = {
        "1": [{"id": 1, "amount": 12.50, "tags": {"a": [1, 2]}}, {"id": 2, "amount": None}],
        "2": [{"id": 3, "ok": True}],
    }
    api.routes["/orders"] = lambda q, n: ok({"data": pages.get(q["page"], [])})
    source = HttpSource("orders", api.url + "/orders", pagination="page", retry=FAST)
    batch = batch_of(source)
    frame = batch.frame
    assert frame["id"].to_list() == ["1", "2", "3"]
    assert frame["amount"].to_list() == ["12.5", None, None]
    assert frame["tags"].to_list() == ['{"a":[1,2]}', None, None]
    assert frame["ok"].to_list() == [None, None, "true"]
    assert frame["_tidegate_record"].to_list() == [0, 1, 2]
    assert source.stats == {"requests": 3, "retries": 0, "pages": 3}
    assert batch.fmt == "http" and batch.location == api.url + "/orders"
    # same content, same key; different content, different key
    assert batch_of(source).content_sha256 == batch.content_sha256
    pages["2"] = [{"id": 4}]
    assert batch_of(source).content_sha256 != batch.content_sha256


def test_cursor_pagination_from_a_json_field(api: Api) -> None:
    def route(q: dict[str, str], n: int) -> Reply:
        if "cursor" not in q:
            return ok({"items": [{"id": "a"}], "meta": {"next": "c2"}})
        assert q["cursor"] == "c2" and q["limit"] == "1"
        return ok({"items": [{"id": "b"}], "meta": {"next": None}})

    api.routes["/c"] = route
    source = HttpSource(
        "c",
        api.url + "/c",
        records="items",
        pagination="cursor",
        cursor_field="meta.next",
        params={"limit": "1"},
    )
    assert batch_of(source).frame["id"].to_list() == ["a", "b"]


def test_link_header_pagination(api: Api) -> None:
    def route(q: dict[str, str], n: int) -> Reply:
        page = int(q.get("p", "1"))
        link = {"Link": f'</l?p={page + 1}>; rel="next"'} if page < 3 else {}
        return ok([{"page": page}], link)

    api.routes["/l"] = route
    source = HttpSource("l", api.url + "/l", records="", pagination="link")
    assert batch_of(source).frame["page"].to_list() == ["1", "2", "3"]


def test_records_path_missing_names_the_keys(api: Api) -> None:
    api.routes["/x"] = lambda q, n: ok({"results": []})
    with pytest.raises(SourceConfigError, match=r"`records: data`.*top-level keys: results"):
        list(HttpSource("x", api.url + "/x").read())


# ---------------------------------------------------------------- retries


def test_500s_then_success_is_retried(api: Api) -> None:
    api.routes["/f"] = lambda q, n: (500, {}, {"e": 1}, 0) if n <= 2 else ok({"data": [{"a": 1}]})
    source = HttpSource("f", api.url + "/f", retry=FAST)
    assert batch_of(source).frame["a"].to_list() == ["1"]
    assert api.hits["/f"] == 3 and source.stats["retries"] == 2


def test_429_retry_after_is_honoured(api: Api) -> None:
    api.routes["/r"] = lambda q, n: (
        (429, {"Retry-After": "1"}, {}, 0) if n == 1 else ok({"data": [{"a": 1}]})
    )
    source = HttpSource("r", api.url + "/r", retry=FAST)
    started = time.monotonic()
    batch_of(source)
    assert time.monotonic() - started >= 1.0
    assert source.stats["retries"] == 1


def test_retry_after_forms_and_cap() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    policy = RetryPolicy(retry_after_max_seconds=5, backoff_seconds=1, max_backoff_seconds=4)
    assert policy.wait(1, "3600") == 5  # capped
    assert 2 <= policy.wait(10, None) <= 4  # exponential, capped, jittered 50-100%


def test_timeout_then_slow_page(api: Api) -> None:
    api.routes["/t"] = lambda q, n: ok({"data": [{"a": 1}]}, delay=1.0 if n == 1 else 0.3)
    source = HttpSource("t", api.url + "/t", timeout=0.6, retry=FAST)
    assert batch_of(source).frame["a"].to_list() == ["1"]  # the slow page is still in time
    assert source.stats == {"requests": 2, "retries": 1, "pages": 1}


def test_giving_up_raises_with_reason_and_no_secret(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("API_TOKEN", TOKEN)
    monkeypatch.setenv("API_KEY", API_KEY)
    api.routes["/down"] = lambda q, n: (503, {}, {"error": "down"}, 0)
    config = {
        "kind": "http",
        "url": api.url + "/down?api_key=${API_KEY}&region=eu",
        "auth": {"bearer_env": "API_TOKEN"},
        "max_attempts": 3,
        "backoff_seconds": 0.01,
    }
    source = source_from_config("down", config, Path("."))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceUnavailableError) as info:
        list(source.read())
    error = info.value
    message = str(error)
    assert isinstance(error, HttpGaveUpError) and error.status == 503 and error.attempts == 3
    assert "after 3 attempts" in message and "503" in message
    assert "/down?api_key=%2A%2A%2A&region=eu" in message or "api_key=***" in message
    assert api.auth == [f"Bearer {TOKEN}"] * 3  # the token was sent...
    shown = [message, repr(source), caplog.text, str(getattr(source, "location", ""))]
    for text in shown:  # ...but never shown
        assert TOKEN not in text and API_KEY not in text
    assert "retrying" in caplog.text


def test_a_failed_read_can_be_retried_by_the_flow(api: Api) -> None:
    api.routes["/g"] = lambda q, n: (500, {}, {}, 0) if n <= 2 else ok({"data": [{"a": 1}]})
    source = HttpSource("g", api.url + "/g", retry=RetryPolicy(max_attempts=2, backoff_seconds=0))
    items = source.read()
    with pytest.raises(SourceUnavailableError):
        next(items)
    assert isinstance(next(items), RawBatch)  # what the flow's read task retry does
    assert next(items, None) is None


# ---------------------------------------------------------------- circuit breaker


def test_breaker_opens_after_n_failures_and_fails_fast(api: Api) -> None:
    healthy = {"on": False}
    api.routes["/b"] = lambda q, n: ok({"data": [{"a": 1}]}) if healthy["on"] else (500, {}, {}, 0)
    source = HttpSource(
        "b",
        api.url + "/b",
        retry=RetryPolicy(max_attempts=10, backoff_seconds=0.01),
        breaker_failures=3,
        breaker_cooldown_seconds=600,  # longer than any stall of a busy machine
    )
    with pytest.raises(SourceUnavailableError, match=r"circuit open for host 127\.0\.0\.1"):
        list(source.read())
    assert api.hits["/b"] == 3  # stopped at the breaker, not at max_attempts
    with pytest.raises(SourceUnavailableError, match=r"3 consecutive failures.*cool-down"):
        list(source.read())
    assert api.hits["/b"] == 3  # failed fast: no request sent
    breaker = breaker_for(source.host, 3, 600)
    assert breaker.state == "open" and breaker.opened_at is not None
    breaker.opened_at -= 601  # the cool-down is over (no sleeping on the wall clock)
    assert breaker.state == "half-open"
    healthy["on"] = True
    assert batch_of(source).frame["a"].to_list() == ["1"]  # half-open trial closes it
    assert api.hits["/b"] == 4 and breaker.state == "closed"


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("config", "pattern"),
    [
        ({"url": "http://h/x", "colour": "red"}, r"unknown option 'colour'.*valid options"),
        ({"url": "ftp://h/x"}, r"not an http\(s\) URL"),
        ({"url": "h/x"}, r"not an http\(s\) URL"),
        ({}, r"`url` is missing"),
        ({"url": "http://h/x", "pagination": "pages"}, r"pagination 'pages'.*page, cursor"),
        ({"url": "http://h/x", "timeout": "10"}, r"'timeout' is '10'.*expected an integer"),
        ({"url": "http://h/x", "timeout": 0}, r"'timeout' is 0"),
        ({"url": "${NO_SUCH_BASE_XYZ}/x"}, r"variable NO_SUCH_BASE_XYZ is not set"),
        ({"url": "http://h/x", "auth": {}}, r"exactly one of bearer_env"),
        ({"url": "http://h/x", "auth": {"bearer_env": "NO_SUCH_TOKEN_XYZ"}}, "NO_SUCH_TOKEN_XYZ"),
    ],
)
def test_config_errors(config: dict[str, Any], pattern: str) -> None:
    with pytest.raises(SourceConfigError, match=pattern):
        source_from_config("api", {"kind": "http", **config}, Path("."))


def test_config_interpolates_env_and_hides_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_BASE", "https://api.example.com/v1")
    source = source_from_config(
        "api", {"kind": "http", "url": "${API_BASE}/orders", "pagination": "page"}, Path(".")
    )
    assert isinstance(source, HttpSource) and source.url == "https://api.example.com/v1/orders"
    with pytest.raises(SourceConfigError) as info:
        source_from_config("api", {"kind": "http", "url": "ftp://u:hunter2@h/x"}, Path("."))
    assert "hunter2" not in str(info.value)


# ---------------------------------------------------------------- end to end


CONTRACT = """\
source: widgets
version: 1
primary_key: [widget_id]
columns:
  widget_id: {type: int64, nullable: false, unique: true}
  name: {type: string}
  price: {type: "decimal(10,2)", checks: [{ge: 0}]}
policy:
  on_row_failure: quarantine
  on_existing_key: update
  max_quarantine_ratio: 1.0
"""


def test_ingest_flow_loads_api_records_then_skips_same_content(
    api: Api, tmp_path: Path, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    from tidegate.flows import ingest_flow

    pages = {
        "1": [{"widget_id": 1, "name": "bolt", "price": "1.50"}, {"widget_id": 2, "name": "nut"}],
        "2": [{"widget_id": 3, "name": "gear", "price": "-4"}],
    }
    api.routes["/widgets"] = lambda q, n: ok({"data": pages.get(q["page"], [])})
    monkeypatch.setenv("WIDGETS_API", api.url)
    monkeypatch.setenv("WIDGETS_TOKEN", TOKEN)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "schemas" / "widgets.yaml").write_text(CONTRACT)
    (tmp_path / "pipelines" / "widgets.yaml").write_text(
        "name: widgets\n"
        "source:\n"
        "  kind: http\n"
        "  url: ${WIDGETS_API}/widgets\n"
        "  pagination: page\n"
        "  auth: {bearer_env: WIDGETS_TOKEN}\n"
        "contract: schemas/widgets.yaml\n"
    )
    store = tmp_path / "s.duckdb"
    first = ingest_flow()(pipeline="widgets", project_dir=str(tmp_path), store=str(store))
    assert [o["event"] for o in first] == ["batch_committed"]
    second = ingest_flow()(pipeline="widgets", project_dir=str(tmp_path), store=str(store))
    assert [o["event"] for o in second] == ["batch_skipped"]
    with duckdb.connect(str(store), read_only=True) as con:
        loaded = con.execute("SELECT widget_id FROM widgets ORDER BY 1").fetchall()
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()
        audit = con.execute("SELECT detail, batch_id FROM audit").fetchall()
    assert loaded == [(1,), (2,)] and quarantined == (1,)  # price -4 is held for review
    assert all(TOKEN not in str(row) for row in audit)
