"""`tidegate review` (the command function) and the tokens it reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from store_backends import STORE_BACKENDS, make_store, store_arg
from tidegate.cli._review_web import review
from tidegate.review.web import TokenFileError, User, load_tokens
from tidegate.review.web._masking import mask_value

runner = CliRunner()
GOOD = {"reviewer-token-0123456789": {"user": "alice", "role": "reviewer"}}


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("review")(review)
    app.command("other")(lambda: None)  # keep `review` a subcommand
    return app


def test_review_refuses_to_start_without_tokens(tmp_path: Path) -> None:
    result = runner.invoke(
        cli(), ["review", "--project", str(tmp_path)], env={"TIDEGATE_REVIEW_TOKENS": ""}
    )
    assert result.exit_code == 2
    assert "no review tokens configured" in result.output
    assert "--tokens tokens.yaml" in result.output


def test_review_refuses_a_bad_tokens_file(tmp_path: Path) -> None:
    bad = tmp_path / "tokens.yaml"
    bad.write_text("short: {user: alice, role: reviewer}\n")
    result = runner.invoke(cli(), ["review", "--tokens", str(bad)])
    assert result.exit_code == 2
    assert "shorter than 16 characters" in result.output


@pytest.mark.parametrize("kind", STORE_BACKENDS)
def test_review_serves_the_app(tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    store = make_store(kind, tmp_path)  # a file or a URL; serving it opens nothing yet
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps(GOOD))
    result = runner.invoke(
        cli(),
        [
            "review",
            "--project",
            str(tmp_path),
            "--store",
            store_arg(store),
            "--tokens",
            str(tokens),
        ],
        env={"TIDEGATE_STORE": ""},
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/" in result.output
    (call,) = calls
    assert (call["host"], call["port"]) == ("127.0.0.1", 8765)
    assert call["app"].state.review.store == store


def test_the_command_module_does_not_import_the_web_stack() -> None:
    code = (
        "import sys, tidegate.cli._review_web; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'jinja2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tokens_from_yaml_json_and_env(tmp_path: Path) -> None:
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text("admin-token-0123456789abc: {user: bob, role: admin}\n")
    assert load_tokens(yaml_file) == {"admin-token-0123456789abc": User("bob", "admin")}
    json_file = tmp_path / "t.json"
    json_file.write_text(json.dumps(GOOD))
    assert load_tokens(json_file)["reviewer-token-0123456789"] == User("alice", "reviewer")
    assert load_tokens(env={"TIDEGATE_REVIEW_TOKENS": str(json_file)}) == load_tokens(json_file)
    assert load_tokens(env={"TIDEGATE_REVIEW_TOKENS": json.dumps(GOOD)}) == load_tokens(json_file)
    assert load_tokens(env={}) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "expected a mapping"),
        ("reviewer-token-0123456789: {user: alice, role: owner}", "role 'owner' is not valid"),
        ("reviewer-token-0123456789: alice", "expected {user: NAME, role: ROLE}"),
        ("{: [", "not valid YAML or JSON"),
    ],
)
def test_bad_tokens_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(content)
    with pytest.raises(TokenFileError, match=message.replace("{", r"\{").replace("}", r"\}")):
        load_tokens(path)
    with pytest.raises(TokenFileError, match="no tokens file"):
        load_tokens(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("bob@example.com", "b***@e***.com"),
        ("bob@", "b***@"),
        ("hank@example", "h***@e***"),
        ("Heidi Klum", "••••"),
        (None, None),
    ],
)
def test_mask_value(value: str | None, masked: str | None) -> None:
    assert mask_value(value) == masked
