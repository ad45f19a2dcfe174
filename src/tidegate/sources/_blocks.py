"""Prefect blocks that hold a source's secrets (an HTTP token, a SQL connection URL)."""

from __future__ import annotations

from tidegate.errors import SourceConfigError


def load_secret_block(source: str, block: str, key: str) -> str:
    """The string value of the Prefect ``Secret`` block named ``block``.

    Loaded when called, never at import. ``key`` is the pipeline file's option that names
    the block (``url_block``, ``auth.bearer_block``). Every failure is a SourceConfigError
    naming the block and how to create it; neither the value nor Prefect's error text
    (which could echo it) is ever part of the message.
    """
    create = (
        f'create it with `python -c "from prefect.blocks.system import Secret; '
        f"Secret(value='...').save('{block}')\"` or `prefect block create secret` (in the UI)"
    )
    if not block.strip():
        raise SourceConfigError(f"source {source!r}: `{key}:` is empty; name a Secret block")
    try:
        from prefect.blocks.system import Secret

        loaded = Secret.load(block)
        # the stored value as saved (``.get()`` would json-decode a token like "12345")
        value = loaded.value.get_secret_value()  # type: ignore[union-attr]
    except ValueError as exc:
        if "Unable to find block document" not in str(exc):
            raise SourceConfigError(
                f"source {source!r}: cannot load the Prefect Secret block {block!r} from "
                f"`{key}:` ({type(exc).__name__}); check that it is a Secret block, or "
                f"{create}"
            ) from None
        raise SourceConfigError(
            f"source {source!r}: there is no Prefect Secret block {block!r} (`{key}:` in "
            f"the pipeline file, on the Prefect API of this run); {create}"
        ) from None
    except Exception as exc:  # the Prefect API is down, unreachable, or refuses us
        raise SourceConfigError(
            f"source {source!r}: cannot load the Prefect Secret block {block!r} from "
            f"`{key}:` ({type(exc).__name__}); check that the Prefect API answers "
            "(PREFECT_API_URL, `prefect server start`) and that the block exists"
        ) from None
    if not isinstance(value, str):
        raise SourceConfigError(
            f"source {source!r}: the Prefect Secret block {block!r} (`{key}:`) holds a "
            f"{type(value).__name__}, not a string; save the value as a string, e.g. "
            f"Secret(value='...').save('{block}', overwrite=True)"
        )
    return value
