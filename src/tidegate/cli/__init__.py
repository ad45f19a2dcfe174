"""The ``tidegate`` command. Heavy packages (Prefect, pandera) are imported lazily,
inside the commands that need them, so read-only commands start fast."""

from tidegate.cli._app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
