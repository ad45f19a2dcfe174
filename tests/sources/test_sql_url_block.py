"""A SQL source whose connection URL is the value of a Prefect Secret block (`url_block:`),
against a real Prefect API (the session's ``prefect_api``) and the ``backend`` databases."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sql_backends import ROWS, Backend, write_contract
from tidegate.errors import SourceConfigError, SourceUnavailableError
from tidegate.sources import RECORD_COLUMN, HttpAuth, RawBatch, SqlSource, source_from_config
from tidegate.sources._sql_url import redact, scrub

PASSWORD = "s3cr3t-pw"


def save_secret(value: Any) -> str:
    """A new Prefect Secret block holding ``value``; returns its name."""
    from prefect.blocks.system import Secret

    name = f"tg-test-{uuid.uuid4().hex[:12]}"
    Secret(value=value).save(name)
    return name


def url_with_password(backend: Backend) -> str:
    """The backend's URL, with a password where the server ignores it (PostgreSQL trust)."""
    if backend.kind == "postgres":
        return backend.url.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    return backend.url


def test_url_block_reads_the_rows(backend: Backend, tmp_path: Path, prefect_api: str) -> None:
    backend.create_items()
    backend.insert(*ROWS)
    url = url_with_password(backend)
    block = save_secret(url)
    config = {"kind": "sql", "url_block": block, "table": backend.table, "cursor": "id"}
    source = source_from_config("items", config, tmp_path)
    assert isinstance(source, SqlSource)
    assert source.url_block == block and source.target.url.startswith(url.split("://")[0])
    assert PASSWORD not in repr(source)
    batches = [b for b in source.read() if isinstance(b, RawBatch)]
    rows = [row for b in batches for row in b.frame.drop(RECORD_COLUMN).to_dicts()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r["name"] for r in rows] == ["ann", "bob", "cy", None, "eve"]
    assert batches[-1].cursor_value == "5"
    assert all(PASSWORD not in b.location for b in batches)
    if backend.kind == "postgres":
        assert ":***@127.0.0.1:5432" in batches[0].location


def test_url_block_through_the_flow_keeps_the_password_out(
    backend: Backend,
    tmp_path: Path,
    prefect_api: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from tidegate.flows import ingest_flow

    monkeypatch.delenv("TIDEGATE_STORE", raising=False)
    backend.create_items()
    backend.insert(*ROWS)
    block = save_secret(url_with_password(backend))
    project = tmp_path / "project"
    write_contract(project)
    (project / "pipelines").mkdir()
    (project / "pipelines" / "items.yaml").write_text(
        "name: items\n"
        f"source: {{kind: sql, url_block: {block}, table: {backend.table}, cursor: updated_at}}\n"
        "contract: schemas/items.yaml\n"
    )
    store = project / "s.duckdb"
    outcomes = ingest_flow()(pipeline="items", project_dir=str(project), store=str(store))
    assert [o["event"] for o in outcomes] == ["batch_committed"]
    assert outcomes[0]["loaded"] == 5

    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM items").fetchone() == (5,)
        audit = con.execute("SELECT * FROM audit").fetchall()
        checkpoints = con.execute("SELECT * FROM checkpoints").fetchall()
    assert audit and checkpoints
    assert PASSWORD not in repr(audit) + repr(checkpoints)
    if backend.kind == "postgres":  # the location is recorded, with the password masked
        assert ":***@127.0.0.1" in repr(audit) + repr(checkpoints)

    async def artifacts() -> list[Any]:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["tidegate-items"]))
            )

    published = asyncio.run(artifacts())
    assert published, "the flow published no tidegate-items artifact"
    assert all(PASSWORD not in json.dumps(a.data, default=str) for a in published)
    out, err = capfd.readouterr()
    assert PASSWORD not in out + err


def test_a_missing_block_fails_fast_naming_it_and_how_to_create_it(
    tmp_path: Path, prefect_api: str
) -> None:
    config = {"kind": "sql", "url_block": "tg-no-such-block", "table": "t"}
    with pytest.raises(SourceConfigError) as info:
        source_from_config("items", config, tmp_path)
    text = str(info.value)
    assert "no Prefect Secret block 'tg-no-such-block'" in text
    assert "Secret(value='...').save('tg-no-such-block')" in text
    assert "`url_block:`" in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("oracle://scott:s3cr3t-pw@db.example:1521/orcl", "has scheme 'oracle'"),
        (PASSWORD, "has no scheme://"),  # a bare password saved as the block's value
        ("postgresql://app:s3cr3t-pw/x@db.example:5432/shop", "percent-encode it"),
        ("postgresql://app:s3cr3t-pw#x@db.example:5432/shop", "percent-encode it"),
        ("postgresql://app:s3cr3t-pw@db.example:port/shop", "is malformed"),
        ("postgresql://app:s3cr3t-pw@db.example:5432", "needs a host and a database"),
        ("sqlite:///tg/no/such/file.db", "does not exist"),
    ],
)
def test_a_bad_url_in_a_block_fails_fast_without_the_password(
    value: str, expected: str, tmp_path: Path, prefect_api: str
) -> None:
    block = save_secret(value)
    config = {"kind": "sql", "url_block": block, "table": "t"}
    with pytest.raises(SourceConfigError) as info:
        source_from_config("items", config, tmp_path)
    text = str(info.value)
    assert expected in text
    assert "s3cr3t" not in text
    assert f"Prefect Secret block {block!r}" in text
    assert f"Secret(value=...).save({block!r}, overwrite=True)" in text
    if "@db.example" in value and expected != "has no scheme://":
        assert ":***@db.example" in text  # the rest of the URL is shown, to fix it
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_an_unreachable_server_from_a_block_hides_the_password(
    tmp_path: Path, prefect_api: str
) -> None:
    block = save_secret(f"postgresql://app:{PASSWORD}@127.0.0.1:5999/shop")
    source = source_from_config(
        "items", {"kind": "sql", "url_block": block, "table": "t"}, tmp_path
    )
    with pytest.raises(SourceUnavailableError) as info:
        list(source.read())
    assert "cannot connect to postgresql://app:***@127.0.0.1:5999/shop" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_a_block_that_holds_no_string_is_refused(tmp_path: Path, prefect_api: str) -> None:
    block = save_secret({"url": f"postgresql://app:{PASSWORD}@db/shop"})
    with pytest.raises(SourceConfigError, match="holds a dict, not a string") as info:
        source_from_config("items", {"kind": "sql", "url_block": block, "table": "t"}, tmp_path)
    assert PASSWORD not in str(info.value)


def test_exactly_one_of_url_and_url_block(tmp_path: Path) -> None:
    db = tmp_path / "src.sqlite"
    db.touch()
    both = {"kind": "sql", "url": f"sqlite://{db}", "url_block": "warehouse", "table": "t"}
    with pytest.raises(SourceConfigError, match="exactly one of `url:` or `url_block:`"):
        source_from_config("items", both, tmp_path)
    with pytest.raises(SourceConfigError, match=r"`url` is missing.*`url_block: NAME`"):
        source_from_config("items", {"kind": "sql", "table": "t"}, tmp_path)
    with pytest.raises(SourceConfigError, match="option 'url_block' is int"):
        source_from_config("items", {"kind": "sql", "url_block": 3, "table": "t"}, tmp_path)
    with pytest.raises(SourceConfigError, match="`url_block:` is empty"):
        source_from_config("items", {"kind": "sql", "url_block": " ", "table": "t"}, tmp_path)


def test_env_urls_with_unencoded_password_characters_stay_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same redaction serves `url: ${ENV}`: a password with / # ? is masked whole."""
    monkeypatch.setenv("TG_TEST_PW", "s3cr3t/pw")
    config = {"kind": "sql", "url": "postgresql://app:${TG_TEST_PW}@db:5432/shop", "table": "t"}
    with pytest.raises(SourceConfigError, match="percent-encode") as info:
        source_from_config("items", config, tmp_path)
    assert "s3cr3t" not in str(info.value) and "app:***@db:5432/shop" in str(info.value)
    monkeypatch.setenv("TG_TEST_PW", PASSWORD)
    bare = {"kind": "sql", "url": "${TG_TEST_PW}", "table": "t"}
    with pytest.raises(SourceConfigError, match=r"'\$\{TG_TEST_PW\}' \(its value is not shown\)"):
        source_from_config("items", bare, tmp_path)
    # redaction itself: urlsplit would read `app:s3cr3t` as host:port and find no password
    for url, password in (
        ("postgresql://app:s3cr3t/pw@db/shop", "s3cr3t/pw"),
        ("postgresql://app:s3cr3t?pw@db/shop", "s3cr3t?pw"),
        ("postgresql://app:s3cr3t@db:notaport/shop", "s3cr3t"),
        ("postgresql://app:s3cr3t@[::1/shop", "s3cr3t"),
    ):
        assert "s3cr3t" not in redact(url), url
        assert "s3cr3t" not in scrub(f"driver said: {url}; bad password {password}", url), url
    assert redact("postgresql://app:s3cr3t@DB.example:5432/shop") == (
        "postgresql://app:***@db.example:5432/shop"  # unchanged for well-formed URLs
    )
    assert redact("sqlite:///data/a:b@c.db") == "sqlite:///data/a:b@c.db"


def test_http_bearer_block_uses_the_same_loader(prefect_api: str) -> None:
    block = save_secret("1.50")  # a token that is valid JSON keeps its exact text
    assert HttpAuth(bearer_block=block).token("api") == "1.50"
    with pytest.raises(SourceConfigError) as info:
        HttpAuth(bearer_block="tg-no-such-token").token("api")
    assert "no Prefect Secret block 'tg-no-such-token' (`auth.bearer_block:`" in str(info.value)
