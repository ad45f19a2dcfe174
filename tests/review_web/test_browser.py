"""The review app in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Skipped when chromium or playwright is missing on a developer machine; under
CI=true a missing browser fails instead, so the browser tests never silently vanish.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import browser_support
from browser_support import CHROMIUM_ARGS, require_browser
from helpers import query, scalar
from tidegate.review.web import create_app

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def store(duckdb_store: Path) -> Path:
    """The browser tests stay on DuckDB: the app's store code runs on both backends in
    test_app.py; what a browser adds (forms, scripts, navigation) does not depend on it."""
    return duckdb_store


@pytest.fixture
def base_url(store: Path, project_root: Path, web: Any) -> Iterator[str]:
    """The app served by uvicorn in a background thread on a free localhost port."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(store, project_root, web.tokens), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(browser_support.CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                base_url=base_url, viewport={"width": 1280, "height": 900}
            )
            tab = context.new_page()
            tab.set_default_timeout(15_000)
            yield tab
            context.close()
        finally:
            browser.close()


def sign_in(page: Any, token: str) -> None:
    page.goto("/")
    assert "/signin" in page.url
    page.fill("#token", token)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url("**/")


def test_reviewer_filters_fixes_replays_and_the_record_leaves_the_queue(
    page: Any, store: Path, web: Any, tmp_path: Path
) -> None:
    record_id = int(
        scalar(
            store,
            "SELECT id FROM quarantine WHERE source = 'orders' "
            "AND json_extract_string(raw, '$.email') = 'bob@'",
        )
    )
    pending_emails = scalar(
        store,
        "SELECT count(*) FROM quarantine WHERE status = 'pending' AND rules LIKE '%email.regex%'",
    )
    sign_in(page, web.reviewer_token)
    assert page.locator(".flash").first.inner_text() == "signed in as alice (reviewer)"

    page.fill("#f-rule", "email.regex")
    page.click("#apply-filters")
    page.wait_for_url("**rule=email.regex*")
    assert page.locator("#records tbody tr").count() == pending_emails
    assert page.locator("#total").inner_text().startswith(f"{pending_emails} record(s) match")

    page.click(f'tr[data-id="{record_id}"] a')
    page.wait_for_url(re.compile(rf"/records/{record_id}(\?|$)"))
    email_row = page.locator('#values tr[data-column="email"]')
    assert "b***@" in email_row.inner_text()
    assert "fail" in (email_row.locator("td").first.get_attribute("class") or "")

    page.click("#reveal")  # audited; shows the value to fix
    assert "bob@" in page.locator('#values tr[data-column="email"]').inner_text()
    page.fill("#col-email", "bob@example.com")
    page.click("#save")
    page.wait_for_selector(f"text=record {record_id} saved")
    page.screenshot(path=str(tmp_path / "record-after-edit.png"), full_page=True)

    page.click("#replay")
    page.wait_for_selector(f"text=record {record_id} loaded")
    assert "rule=email.regex" in page.url  # back to the filtered queue
    assert page.locator(f'tr[data-id="{record_id}"]').count() == 0
    assert page.locator("#records tbody tr").count() == pending_emails - 1
    shot = tmp_path / "queue-after-replay.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
    print(f"screenshots in {tmp_path}")

    assert scalar(store, "SELECT count(*) FROM orders WHERE order_id = 1009") == 1
    assert scalar(store, "SELECT status FROM quarantine WHERE id = ?", [record_id]) == "replayed"
    actors = scalar(
        store,
        "SELECT list(DISTINCT actor) FROM audit WHERE event IN "
        "('record_edited', 'record_replayed', 'pii_revealed') "
        "AND json_extract(detail, '$.id')::INT = ?",
        [record_id],
    )
    assert actors == ["alice"]


def test_a_reviewer_cannot_reach_the_admin_page(page: Any, web: Any, tmp_path: Path) -> None:
    sign_in(page, web.reviewer_token)
    assert page.locator("header a[href='/admin']").count() == 0
    response = page.goto("/admin")
    assert response is not None and response.status == 403
    assert "Forbidden" in page.locator("h1").inner_text()
    assert "forbidden" in page.locator(".flash").inner_text()
    assert page.locator("#users").count() == 0
    assert page.locator("#contracts").count() == 0
    page.screenshot(path=str(tmp_path / "reviewer-admin-403.png"))


@pytest.mark.parametrize(("in_ci", "outcome"), [(True, "fail"), (False, "skip")])
def test_missing_chromium_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, in_ci: bool, outcome: str
) -> None:
    monkeypatch.setattr(browser_support, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(browser_support, "IN_CI", in_ci)
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="no-chromium"):
        require_browser()


# Measured in the page: nothing wider than the screen, a location on one line, each
# dot-separated part of a rule name on one line (a rule breaks only after its dots).
NARROW_SCREEN_PROBE = r"""() => {
  const oneLine = (node) => { const r = document.createRange(); r.selectNodeContents(node);
    return Array.from(r.getClientRects()).filter((b) => b.width > 0).length === 1; };
  const texts = (el) => Array.from(el.childNodes).filter((n) => n.nodeType === 3 && n.data.trim());
  const where = Array.from(document.querySelectorAll('#records span.where'));
  const rules = Array.from(document.querySelectorAll('code.rule'));
  return {
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    locations: where.length,
    multiDigitLines: where.filter((s) => /:\d{2,}$/.test(s.textContent)).length,
    wider: Array.from(document.querySelectorAll('body *'))
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 8).map((e) => e.tagName + '#' + e.id + '.' + e.className),
    brokenLocations: where.filter((s) => !oneLine(s)).map((s) => s.textContent),
    rules: rules.length,
    brokenRules: rules.filter((c) => !texts(c).every(oneLine)).map((c) => c.textContent),
  };
}"""


@pytest.mark.parametrize("width", [390, 1400])
def test_queue_and_record_page_fit_a_phone_and_a_wide_screen(
    page: Any, store: Path, web: Any, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, web.reviewer_token)
    page.goto("/?status=any")
    probe = page.evaluate(NARROW_SCREEN_PROBE)
    assert probe["locations"] >= 10 and probe["rules"] >= 10, probe
    assert probe["multiDigitLines"] >= 1, probe  # lines like orders.csv:13 are on the page
    assert probe["overflow"] <= 0, probe
    assert probe["brokenLocations"] == [], probe
    assert probe["brokenRules"] == [], probe

    ((record_id, batch_id),) = query(
        store, "SELECT id, batch_id FROM quarantine WHERE source = 'orders' ORDER BY id LIMIT 1"
    )
    page.goto(f"/records/{record_id}")
    assert page.locator("#batch-id").inner_text() == batch_id and len(batch_id) > 12
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
