"""``kind: http`` in a pipeline file: validated options, ``${ENV}`` taken from the environment.

A value interpolated from the environment into the query or a header is a secret:
it is masked wherever the source shows its URL (see :mod:`tidegate.sources._http_auth`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tidegate.errors import SourceConfigError
from tidegate.sources._http import HttpSource
from tidegate.sources._http_auth import HttpAuth
from tidegate.sources._options import check_options, interpolate_env, positive
from tidegate.sources._retry import RetryPolicy

_NUMBER = (int, float)
HTTP_OPTIONS: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "url": (str,),
    "records": (str,),
    "pagination": (str,),
    "page_param": (str,),
    "page_start": (int,),
    "cursor_field": (str,),
    "cursor_param": (str,),
    "params": (Mapping,),
    "headers": (Mapping,),
    "auth": (Mapping,),
    "timeout": _NUMBER,
    "max_attempts": (int,),
    "backoff_seconds": _NUMBER,
    "max_backoff_seconds": _NUMBER,
    "retry_after_max_seconds": _NUMBER,
    "breaker_failures": (int,),
    "breaker_cooldown_seconds": _NUMBER,
    "max_pages": (int,),
}
AUTH_OPTIONS: dict[str, tuple[type, ...]] = {
    "bearer_env": (str,),
    "bearer_block": (str,),
    "header": (str,),
    "scheme": (str,),
}


def http_source_from_config(name: str, config: Mapping[str, Any], base_dir: Path) -> HttpSource:
    """``kind: http``: validated options, ``${ENV}`` in url, params and header values."""
    check_options(name, "http", config, HTTP_OPTIONS)
    if "url" not in config:
        raise SourceConfigError(
            f"source {name!r}: `url` is missing; e.g. `url: https://api.example.com/orders` "
            "(`${VAR}` takes a value from the environment)"
        )
    secrets: list[str] = []
    url = _interpolate_url(name, config["url"], secrets)
    params = _string_map(name, "params", config.get("params", {}), secrets)
    headers = _string_map(name, "headers", config.get("headers", {}), secrets)
    auth = _auth(name, config["auth"]) if "auth" in config else None
    retry = RetryPolicy(
        max_attempts=config.get("max_attempts", 4),
        backoff_seconds=positive(
            name, "backoff_seconds", config.get("backoff_seconds", 0.5), allow_zero=True
        ),
        max_backoff_seconds=positive(
            name, "max_backoff_seconds", config.get("max_backoff_seconds", 30.0), allow_zero=True
        ),
        retry_after_max_seconds=positive(
            name,
            "retry_after_max_seconds",
            config.get("retry_after_max_seconds", 60.0),
            allow_zero=True,
        ),
    )
    return HttpSource(
        name,
        url,
        records=config.get("records", "data"),
        pagination=config.get("pagination", "none"),
        page_param=config.get("page_param", "page"),
        page_start=config.get("page_start", 1),
        cursor_field=config.get("cursor_field", "next_cursor"),
        cursor_param=config.get("cursor_param", "cursor"),
        params=params,
        headers=headers,
        auth=auth,
        timeout=float(config.get("timeout", 30.0)),
        retry=retry,
        breaker_failures=int(positive(name, "breaker_failures", config.get("breaker_failures", 5))),
        breaker_cooldown_seconds=positive(
            name,
            "breaker_cooldown_seconds",
            config.get("breaker_cooldown_seconds", 60.0),
            allow_zero=True,
        ),
        max_pages=int(positive(name, "max_pages", config.get("max_pages", 10_000))),
        secrets=tuple(secrets),
    )


def _interpolate_url(name: str, template: str, secrets: list[str]) -> str:
    base, sep, query = template.partition("?")
    url, _ = interpolate_env(name, "url", base)
    if not sep:
        return url
    pairs = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        filled, used = interpolate_env(name, "url", value)
        if used:  # a query value taken from the environment is treated as a secret
            secrets.append(filled)
        pairs.append((key, filled))
    return url + "?" + urlencode(pairs)


def _string_map(
    name: str, key: str, value: Mapping[str, Any], secrets: list[str]
) -> dict[str, str]:
    result: dict[str, str] = {}
    for item_key, item in value.items():
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise SourceConfigError(
                f"source {name!r}: {key}.{item_key} must be a string or a number "
                "(fix the pipeline file)"
            )
        filled, used = interpolate_env(name, f"{key}.{item_key}", str(item))
        if used:
            secrets.append(filled)
        result[str(item_key)] = filled
    return result


def _auth(name: str, config: Mapping[str, Any]) -> HttpAuth:
    check_options(name, "http auth", config, AUTH_OPTIONS)
    given = [key for key in ("bearer_env", "bearer_block") if key in config]
    if len(given) != 1:
        raise SourceConfigError(
            f"source {name!r}: auth needs exactly one of bearer_env (an environment "
            "variable) or bearer_block (a Prefect Secret block name); got "
            f"{', '.join(given) or 'neither'}"
        )
    auth = HttpAuth(
        bearer_env=config.get("bearer_env"),
        bearer_block=config.get("bearer_block"),
        header=config.get("header", "Authorization"),
        scheme=config.get("scheme", "Bearer"),
    )
    if auth.bearer_env and not os.environ.get(auth.bearer_env):
        auth.token(name)  # raises, naming the variable (never a value)
    return auth
