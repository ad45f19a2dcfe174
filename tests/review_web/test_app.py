"""The review web app over HTTP: sign-in, roles, CSRF, the queue, the record lifecycle, PII."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from helpers import open_pii, query, scalar
from tidegate.store import Store, transaction
from tidegate.store._quarantine_counts import recount
from tidegate.store._review_audit import record_details

pytestmark = pytest.mark.e2e  # the store comes from the real demo flow; on each backend


def record_where(store: Store, column: str, value: str, where: str = "true") -> int:
    """The one quarantined record whose raw ``column`` is ``value`` (read in Python: the
    engines' JSON functions differ)."""
    found = [
        int(i)
        for i, raw in query(store, f"SELECT id, raw FROM quarantine WHERE {where}")
        if json.loads(raw).get(column) == value
    ]
    assert len(found) == 1, found
    return found[0]


def bob_record(store: Store) -> int:
    """The orders record whose email is 'bob@' (rule email.regex)."""
    return record_where(store, "email", "bob@", "source = 'orders'")


def audit(store: Store, event: str, record_id: int) -> list[tuple[str, dict[str, Any]]]:
    rows = query(store, "SELECT actor, detail FROM audit WHERE event = ? ORDER BY seq", [event])
    details = [(a, record_details(json.loads(d))) for a, d in rows]
    return [(a, d[record_id]) for a, d in details if record_id in d]


# --- sign-in and roles -------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client: Any) -> None:
    for path in ("/", "/records/1", "/admin", "/?rule=email.regex"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/signin?next=")
    assert client.get("/signin").status_code == 200


def test_anonymous_write_is_refused_even_with_a_csrf_token(
    client: Any, store: Store, web: Any
) -> None:
    record_id = bob_record(store)
    csrf = web.csrf_of(client.get("/signin").text)  # an anonymous session has one
    response = client.post(
        f"/records/{record_id}/reject",
        data={"csrf_token": csrf, "version": "1", "reason": "spam"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert scalar(store, "SELECT status FROM quarantine WHERE id = ?", [record_id]) == "pending"


def test_bad_token_is_refused(client: Any, web: Any) -> None:
    csrf = web.csrf_of(client.get("/signin").text)
    response = client.post(
        "/signin", data={"csrf_token": csrf, "token": "not-a-real-token-at-all", "next": "/"}
    )
    assert response.status_code == 401
    assert "unknown token" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_sign_in_refuses_an_off_site_next(client: Any, web: Any) -> None:
    csrf = web.csrf_of(client.get("/signin").text)
    response = client.post(
        "/signin",
        data={"csrf_token": csrf, "token": web.reviewer_token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_reviewer_gets_403_on_admin_and_admin_gets_200(client: Any, web: Any) -> None:
    web.sign_in(client, web.reviewer_token)
    response = client.get("/admin")
    assert response.status_code == 403
    assert "forbidden" in response.text.lower()
    assert 'id="users"' not in response.text
    assert 'href="/admin"' not in client.get("/").text  # no admin link for a reviewer

    web.sign_in(client, web.admin_token)
    response = client.get("/admin")
    assert response.status_code == 200
    text = web.text_of(response.text)
    assert "alice" in text and "bob" in text and "orders" in text
    assert web.reviewer_token not in response.text and web.admin_token not in response.text


def test_sign_out_ends_the_session(client: Any, web: Any) -> None:
    csrf = web.sign_in(client)
    client.post("/signout", data={"csrf_token": csrf})
    assert client.get("/", follow_redirects=False).status_code == 303


# --- CSRF --------------------------------------------------------------------------------


def test_post_without_csrf_token_is_403(client: Any, store: Store, web: Any) -> None:
    csrf = web.sign_in(client)
    record_id = bob_record(store)
    for data in (
        {"version": "1", "col__email": "bob@example.com"},
        {"version": "1", "col__email": "bob@example.com", "csrf_token": "forged"},
    ):
        response = client.post(f"/records/{record_id}/edit", data=data)
        assert response.status_code == 403
    assert client.post("/bulk/reject", data={"sel": f"{record_id}:1"}).status_code == 403
    assert client.post("/signout").status_code == 403
    assert scalar(store, "SELECT version FROM quarantine WHERE id = ?", [record_id]) == 1
    # and the real token works
    response = client.post(
        f"/records/{record_id}/edit",
        data={"csrf_token": csrf, "version": "1", "col__email": "bob@example.com"},
    )
    assert response.status_code == 200


# --- the queue ---------------------------------------------------------------------------


def test_reviewer_sees_the_queue_with_counts(client: Any, store: Store, web: Any) -> None:
    web.sign_in(client)
    page = client.get("/")
    assert page.status_code == 200
    pending = scalar(store, "SELECT count(*) FROM quarantine WHERE status = 'pending'")
    text = web.text_of(page.text)
    assert f"{pending} record(s) match" in text
    assert 'id="counts"' in page.text
    emails = scalar(
        store,
        "SELECT count(*) FROM quarantine WHERE source = 'orders' AND rules LIKE '%email.regex%'",
    )
    assert f"orders email.regex {emails} 0 0" in text


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"rule": "email.regex"}, "rules LIKE '%email.regex%' AND status = 'pending'"),
        (
            {"source": "orders", "rule": "email.regex"},
            "source = 'orders' AND rules LIKE '%email.regex%'",
        ),
        ({"column": "quantity"}, "rules LIKE '%quantity.%'"),
        ({"status": "any"}, "true"),
        ({"status": "rejected"}, "status = 'rejected'"),
        ({"since": "2000-01-01"}, "status = 'pending'"),
        ({"until": "2000-01-01"}, "false"),
    ],
)
def test_filters(client: Any, store: Store, web: Any, params: dict[str, str], where: str) -> None:
    web.sign_in(client)
    expected = scalar(store, f"SELECT count(*) FROM quarantine WHERE {where}")
    page = client.get("/", params=params)
    assert page.status_code == 200
    assert f"{expected} record(s) match" in web.text_of(page.text)
    ids = {int(i) for (i,) in query(store, f"SELECT id FROM quarantine WHERE {where}")}
    shown = {int(i) for i in re.findall(r'<tr data-id="(\d+)"', page.text)}
    assert shown == ids


def test_filter_by_batch(client: Any, store: Store, web: Any) -> None:
    web.sign_in(client)
    batch, n = query(
        store, "SELECT batch_id, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )[0]
    page = client.get("/", params={"batch": batch, "status": "any"})
    assert f"{n} record(s) match" in web.text_of(page.text)


def test_bad_date_filter_is_400_with_the_reason(client: Any, web: Any) -> None:
    web.sign_in(client)
    page = client.get("/", params={"since": "last tuesday"})
    assert page.status_code == 400
    assert "not a date or time" in page.text


def test_paging_is_50_a_page(client: Any, store: Store, web: Any) -> None:
    columns = [
        c
        for (c,) in query(
            store,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'quarantine' "
            "AND table_schema = current_schema() ORDER BY ordinal_position",
        )
    ]
    copied = ", ".join("id + ?" if c == "id" else c for c in columns)
    with transaction(store) as con:
        for k in range(1, 5):  # 4 more copies of every record: well over two pages
            con.execute(
                f"INSERT INTO quarantine ({', '.join(columns)}) "
                f"SELECT {copied} FROM quarantine WHERE id < 1000",
                [k * 1000],
            )
        recount(con)  # rows written around the store: its counts table counted again
    total = scalar(store, "SELECT count(*) FROM quarantine WHERE status = 'pending'")
    assert total > 100
    web.sign_in(client)
    pages = (total + 49) // 50
    seen: list[int] = []
    for page_no in range(1, pages + 1):
        page = client.get("/", params={"page": page_no})
        rows = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', page.text)]
        assert len(rows) == (50 if page_no < pages else total - 50 * (pages - 1))
        assert f"page {page_no} of {pages}" in web.text_of(page.text)
        seen += rows
    assert seen == sorted(seen) and len(set(seen)) == total
    assert 'rel="next"' not in client.get("/", params={"page": pages}).text
    keyset: list[int] = []  # the "Next" links: keyset pages, the same records once each
    url = "/"
    while url:
        page = client.get(url)
        keyset += [int(i) for i in re.findall(r'<tr data-id="(\d+)"', page.text)]
        link = re.search(r'<a href="([^"]+)" rel="next"', page.text)
        url = html.unescape(link.group(1)) if link else ""
    assert keyset == seen


# --- the record lifecycle ----------------------------------------------------------------


def test_record_page_shows_raw_normalized_and_failing_cells(
    client: Any, store: Store, web: Any
) -> None:
    web.sign_in(client)
    record_id = record_where(store, "quantity", "-3", "source = 'orders' AND rules = 'quantity.ge'")
    page = client.get(f"/records/{record_id}")
    assert page.status_code == 200
    assert "quantity.ge" in page.text and "must be &gt;= 1" in page.text
    row = page.text.split('data-column="quantity"')[1].split("</tr>")[0]
    assert row.count('class="mono fail"') == 2  # raw and normalized cells highlighted
    assert "-3" in row
    other = page.text.split('data-column="amount"')[1].split("</tr>")[0]
    assert "fail" not in other
    assert 'name="version" value="1"' in page.text


def test_edit_then_replay_loads_the_row_once(client: Any, store: Store, web: Any) -> None:
    csrf = web.sign_in(client)
    record_id = bob_record(store)
    page = client.get(f"/records/{record_id}")
    form = web.edit_form(page.text)
    assert form["col__email"] == ""  # masked PII: not prefilled
    assert form["col__order_id"] == "1009"
    form.update({"col__email": "bob@example.com", "csrf_token": csrf, "version": "1"})
    saved = client.post(f"/records/{record_id}/edit", data=form)
    assert saved.status_code == 200
    assert f"record {record_id} saved (email edited; version 2)" in web.text_of(saved.text)

    replayed = client.post(
        f"/records/{record_id}/replay", data={"csrf_token": csrf, "version": "2", "back": "/"}
    )
    assert replayed.status_code == 200
    assert f"record {record_id} loaded" in web.text_of(replayed.text)
    assert f'data-id="{record_id}"' not in replayed.text  # gone from the pending queue

    assert scalar(store, "SELECT count(*) FROM orders WHERE order_id = 1009") == 1
    assert scalar(store, "SELECT email FROM orders WHERE order_id = 1009") == "bob@example.com"
    assert scalar(store, "SELECT status FROM quarantine WHERE id = ?", [record_id]) == "replayed"
    edited = audit(store, "record_edited", record_id)
    assert [a for a, _ in edited] == ["alice"]
    # only the changed column, encrypted in the audit
    assert open_pii(store, edited[0][1])["after"] == {"email": "bob@example.com"}
    replays = audit(store, "record_replayed", record_id)
    assert [(a, d["outcome"]) for a, d in replays] == [("alice", "loaded")]

    # replaying again (a stale form) loads nothing twice
    again = client.post(f"/records/{record_id}/replay", data={"csrf_token": csrf, "version": "2"})
    assert again.status_code in (200, 400, 409)
    assert scalar(store, "SELECT count(*) FROM orders WHERE order_id = 1009") == 1


def test_replay_still_failing_stays_pending_with_the_reason(
    client: Any, store: Store, web: Any
) -> None:
    csrf = web.sign_in(client)
    record_id = bob_record(store)
    response = client.post(
        f"/records/{record_id}/replay", data={"csrf_token": csrf, "version": "1"}
    )
    assert response.status_code == 200
    assert f"record {record_id} still failing: email.regex" in web.text_of(response.text)
    assert scalar(store, "SELECT status FROM quarantine WHERE id = ?", [record_id]) == "pending"


def test_reject_needs_a_reason(client: Any, store: Store, web: Any) -> None:
    csrf = web.sign_in(client)
    record_id = bob_record(store)
    refused = client.post(
        f"/records/{record_id}/reject", data={"csrf_token": csrf, "version": "1", "reason": "  "}
    )
    assert refused.status_code == 400
    assert "needs a reason" in refused.text
    assert scalar(store, "SELECT status FROM quarantine WHERE id = ?", [record_id]) == "pending"

    done = client.post(
        f"/records/{record_id}/reject",
        data={"csrf_token": csrf, "version": "1", "reason": "test order"},
    )
    assert done.status_code == 200
    assert f"record {record_id} rejected" in web.text_of(done.text)
    assert query(
        store, "SELECT status, reason, updated_by FROM quarantine WHERE id = ?", [record_id]
    ) == [("rejected", "test order", "alice")]
    assert [a for a, _ in audit(store, "record_rejected", record_id)] == ["alice"]


def test_two_edits_on_the_same_version_second_gets_409(
    client: Any, store: Store, project_root: Path, web: Any
) -> None:
    from fastapi.testclient import TestClient

    from tidegate.review.web import create_app

    record_id = bob_record(store)
    csrf_a = web.sign_in(client, web.reviewer_token)
    other = TestClient(create_app(store, project_root, web.tokens))
    csrf_b = web.sign_in(other, web.admin_token)

    first = client.post(
        f"/records/{record_id}/edit",
        data={"csrf_token": csrf_a, "version": "1", "col__email": "bob@example.com"},
    )
    assert first.status_code == 200
    second = other.post(
        f"/records/{record_id}/edit",
        data={"csrf_token": csrf_b, "version": "1", "col__email": "robert@example.org"},
    )
    assert second.status_code == 409
    text = web.text_of(second.text)
    assert "conflict: record" in text and "changed by alice" in text
    assert "your change to email was not saved" in text
    # nothing lost: the first edit stands, one audit entry, version 2
    edited = json.loads(scalar(store, "SELECT edited FROM quarantine WHERE id = ?", [record_id]))
    assert edited == {"email": "bob@example.com"}
    assert scalar(store, "SELECT version FROM quarantine WHERE id = ?", [record_id]) == 2
    assert len(audit(store, "record_edited", record_id)) == 1
    # a replay with the stale version is a conflict too
    stale = other.post(f"/records/{record_id}/replay", data={"csrf_token": csrf_b, "version": "1"})
    assert stale.status_code == 409


def test_bulk_reject_and_replay_of_a_selection(client: Any, store: Store, web: Any) -> None:
    csrf = web.sign_in(client)
    rows = query(
        store,
        "SELECT id, version FROM quarantine "
        "WHERE source = 'inventory' AND rules <> '_file.unreadable' ORDER BY id",
    )
    sel = [f"{i}:{v}" for i, v in rows]
    refused = client.post("/bulk/reject", data={"csrf_token": csrf, "sel": sel[:2], "reason": ""})
    assert refused.status_code == 400
    done = client.post(
        "/bulk/reject", data={"csrf_token": csrf, "sel": sel[:2], "reason": "bad export"}
    )
    assert done.status_code == 200 and "2 record(s) rejected" in done.text
    replayed = client.post("/bulk/replay", data={"csrf_token": csrf, "sel": sel[2:]})
    assert replayed.status_code == 200
    assert f"0 loaded, {len(sel) - 2} still failing" in web.text_of(replayed.text)
    statuses = dict(query(store, "SELECT id, status FROM quarantine WHERE source = 'inventory'"))
    assert [statuses[i] for i, _ in rows] == ["rejected", "rejected"] + ["pending"] * (
        len(rows) - 2
    )


def test_reject_all_matching_needs_confirmation(client: Any, store: Store, web: Any) -> None:
    csrf = web.sign_in(client)
    n = scalar(
        store, "SELECT count(*) FROM quarantine WHERE source = 'orders' AND rules = 'quantity.ge'"
    )
    confirm = client.get("/all/reject", params={"source": "orders", "rule": "quantity.ge"})
    assert confirm.status_code == 200
    assert f"Reject all {n} pending record(s)" in web.text_of(confirm.text)
    form = {"csrf_token": csrf, "source": "orders", "rule": "quantity.ge", "reason": "dup"}
    stale = client.post("/all/reject", data={**form, "confirm_total": str(n + 1)})
    assert stale.status_code == 409
    done = client.post("/all/reject", data={**form, "confirm_total": str(n)})
    assert done.status_code == 200 and f"{n} record(s) rejected" in done.text
    assert (
        scalar(
            store,
            "SELECT count(*) FROM quarantine WHERE rules = 'quantity.ge' AND status = 'rejected'",
        )
        == n
    )


# --- PII -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token_name", ["reviewer_token", "admin_token"])
def test_pii_is_masked_until_revealed_and_the_reveal_is_audited(
    client: Any, store: Store, web: Any, token_name: str
) -> None:
    csrf = web.sign_in(client, getattr(web, token_name))
    record_id = record_where(store, "email", "heidi@example.com")
    page = client.get(f"/records/{record_id}")
    assert "heidi@example.com" not in page.text
    assert "h***@e***.com" in page.text
    assert not audit(store, "pii_revealed", record_id)

    revealed = client.post(f"/records/{record_id}/reveal", data={"csrf_token": csrf})
    assert revealed.status_code == 200
    assert "heidi@example.com" in revealed.text
    entries = audit(store, "pii_revealed", record_id)
    user = web.tokens[getattr(web, token_name)].name
    assert entries == [(user, {"id": record_id, "columns": ["email"]})]
    # the reveal holds for the session; revealing again does not audit twice
    assert "heidi@example.com" in client.get(f"/records/{record_id}").text
    client.post(f"/records/{record_id}/reveal", data={"csrf_token": csrf})
    assert len(audit(store, "pii_revealed", record_id)) == 1


def test_row_text_of_a_source_with_pii_is_masked(client: Any, store: Store, web: Any) -> None:
    web.sign_in(client)
    record_id = int(scalar(store, "SELECT id FROM quarantine WHERE rules = '_row.ragged'"))
    page = client.get(f"/records/{record_id}")
    assert "mallory@example.com" not in page.text


def test_replay_all_matching_reports_a_summary(client: Any, store: Store, web: Any) -> None:
    csrf = web.sign_in(client)
    n = scalar(store, "SELECT count(*) FROM quarantine WHERE source = 'inventory'")
    confirm = client.get("/all/replay", params={"source": "inventory"})
    assert f"Replay all {n} pending record(s)" in web.text_of(confirm.text)
    done = client.post(
        "/all/replay", data={"csrf_token": csrf, "source": "inventory", "confirm_total": str(n)}
    )
    assert done.status_code == 200
    text = web.text_of(done.text)
    assert f"replay: 0 loaded, {n - 1} still failing" in text
    assert "1 file-level entries cannot be replayed" in text
    assert scalar(store, "SELECT count(*) FROM quarantine WHERE status <> 'pending'") == 0


def test_values_are_html_escaped(client: Any, store: Store, web: Any) -> None:
    csrf = web.sign_in(client)
    record_id = int(scalar(store, "SELECT id FROM quarantine WHERE rules = 'status.isin'"))
    response = client.post(
        f"/records/{record_id}/edit",
        data={"csrf_token": csrf, "version": "1", "col__status": "<script>alert(1)</script>"},
    )
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
