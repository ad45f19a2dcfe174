"""`tidegate review`: serve the quarantine review web app."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from tidegate._safe_text import assemble
from tidegate.cli._common import ProjectOpt, StoreOpt, console, err_console, fail, resolve_store
from tidegate.errors import TidegateError

HostOpt = Annotated[
    str,
    typer.Option("--host", help="Address to listen on. Keep the default unless behind HTTPS."),
]
PortOpt = Annotated[int, typer.Option("--port", help="Port to listen on.")]
TokensOpt = Annotated[
    Path | None,
    typer.Option(
        "--tokens",
        help=(
            "YAML or JSON file of sign-in tokens: {TOKEN: {user: NAME, role: reviewer|admin}}. "
            "Default: $TIDEGATE_REVIEW_TOKENS."
        ),
        dir_okay=False,
    ),
]


def review(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8765,
    tokens: TokensOpt = None,
) -> None:
    """Serve the quarantine review web app."""
    from tidegate.review.web import TOKENS_HELP, load_tokens

    try:
        users = load_tokens(tokens)
    except TidegateError as exc:
        raise fail(exc) from None
    if not users:
        raise fail(f"no review tokens configured: nobody could sign in.\n{TOKENS_HELP}")
    try:
        import uvicorn

        from tidegate.review.web import create_app
    except ImportError as exc:  # pragma: no cover - the web packages are dependencies
        raise fail(
            f"the review app needs {exc.name}: pip install 'tidegate' "
            "(fastapi, uvicorn, jinja2, python-multipart, itsdangerous)"
        ) from None
    project_dir = project.resolve()
    store_path = resolve_store(project_dir, store)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        err_console.print(
            assemble(
                ("warning:", "yellow"),
                f" listening on {host}: tokens and cookies travel in clear text "
                "unless a HTTPS proxy is in front",
            )
        )
    app = create_app(store_path, project_dir, users)
    console.print(
        assemble(
            "tidegate review on ",
            (f"http://{host}:{port}/", "bold"),
            f" (store {store_path}, {len(users)} token(s)); Ctrl+C to stop",
        ),
        highlight=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
