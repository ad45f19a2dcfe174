"""HttpSource: records from a JSON API, every page of one run in one RawBatch.

Each call is a service call: a timeout, retries with exponential backoff and jitter on
429/5xx/timeouts (honouring ``Retry-After``, capped), and a circuit breaker per host.
A run that gives up raises :class:`SourceUnavailableError` (transient: the flow's read
task retries it) and yields nothing, so nothing is half-loaded. Secrets (the token, and
values interpolated from the environment into the query or headers) are replaced by
``***`` in every message, log line and batch location.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from tidegate.batches import FileReject, RawBatch
from tidegate.errors import SourceConfigError, SourceUnavailableError
from tidegate.sources._blocks import load_secret_block
from tidegate.sources._breaker import CircuitOpenError, breaker_for
from tidegate.sources._jsonl import RawNumber, _Collector, _loads, _raw_json
from tidegate.sources._options import check_options, interpolate_env, positive
from tidegate.sources._retry import RETRY_STATUSES, RetryPolicy

logger = logging.getLogger("tidegate.sources.http")

PAGINATIONS = ("none", "page", "cursor", "link")
_SENSITIVE_KEY = re.compile(r"token|key|secret|sig|pass|auth|credential|session", re.IGNORECASE)
MASK = "***"


class HttpGaveUpError(SourceUnavailableError):
    """An HTTP source gave up after its retries: carries the redacted URL, status, attempts."""

    def __init__(self, message: str, *, url: str, status: int | None, attempts: int) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


# ---------------------------------------------------------------- secrets and redaction

_ACTIVE_SECRETS: dict[int, tuple[str, ...]] = {}
_ACTIVE_LOCK = threading.Lock()


def redact(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_url(url: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """The URL without a password or secret-looking query values (and no known secret)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}" if ":" in userinfo else netloc
    query = [
        (key, MASK if _SENSITIVE_KEY.search(key) or value in secrets else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    cleaned = urlunsplit(
        (parts.scheme, netloc, parts.path, urlencode(query, safe="*"), parts.fragment)
    )
    return redact(cleaned, secrets)


class _RedactSecrets(logging.Filter):
    """Masks the secrets of every HTTP read in progress in httpx/httpcore log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _ACTIVE_LOCK:
            secrets = [s for group in _ACTIVE_SECRETS.values() for s in group]
        if secrets:
            message = record.getMessage()
            cleaned = redact(message, secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_FILTER = _RedactSecrets()
for _name in ("httpx", "httpcore", logger.name):
    logging.getLogger(_name).addFilter(_FILTER)


@dataclass(frozen=True)
class HttpAuth:
    """Where the token comes from: an environment variable or a Prefect ``Secret`` block.

    The token is read when a run starts (a block is loaded lazily, never at import).
    It is sent as ``{header}: {scheme} {token}`` (``scheme: ""`` sends the bare token).
    """

    bearer_env: str | None = None
    bearer_block: str | None = None
    header: str = "Authorization"
    scheme: str = "Bearer"

    def __repr__(self) -> str:
        where = f"env {self.bearer_env}" if self.bearer_env else f"block {self.bearer_block}"
        return f"HttpAuth({where}, header={self.header!r})"

    def token(self, source: str) -> str:
        if self.bearer_env:
            value = os.environ.get(self.bearer_env)
            if not value:
                raise SourceConfigError(
                    f"source {source!r}: auth.bearer_env names the environment variable "
                    f"{self.bearer_env}, which is not set; export {self.bearer_env}=... "
                    "before running the pipeline"
                )
            return value
        return load_secret_block(source, str(self.bearer_block), "auth.bearer_block")

    def header_value(self, token: str) -> str:
        return f"{self.scheme} {token}" if self.scheme else token


# ---------------------------------------------------------------- the source


class HttpSource:
    """A JSON API read page by page into one RawBatch per run.

    ``records`` is the dotted path of the record list in each response (``"data"``,
    ``"result.items"``; ``""`` when the body is the list). ``pagination``:
    ``none``; ``page`` (``?{page_param}=N`` from ``page_start`` until an empty page);
    ``cursor`` (``?{cursor_param}=`` the value at ``cursor_field`` until it is missing or
    empty); ``link`` (the RFC 5988 ``Link: <...>; rel="next"`` header until absent).
    Values become strings (nested values compact JSON, numbers as written);
    ``_tidegate_record`` is the record's offset (0-based, across pages), and the batch
    key is the sha256 of the canonical records, so unchanged content is skipped.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        records: str = "data",
        pagination: str = "none",
        page_param: str = "page",
        page_start: int = 1,
        cursor_field: str = "next_cursor",
        cursor_param: str = "cursor",
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: HttpAuth | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        breaker_failures: int = 5,
        breaker_cooldown_seconds: float = 60.0,
        max_pages: int = 10_000,
        secrets: tuple[str, ...] = (),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.url = _check_url(name, url)
        if pagination not in PAGINATIONS:
            raise SourceConfigError(
                f"source {name!r}: pagination {pagination!r} is not known; valid: "
                f"{', '.join(PAGINATIONS)} (fix the pipeline file)"
            )
        self.records = records
        self.pagination = pagination
        self.page_param = page_param
        self.page_start = page_start
        self.cursor_field = cursor_field
        self.cursor_param = cursor_param
        self.params = dict(params or {})
        self.headers = dict(headers or {})
        self.auth = auth
        self.timeout = positive(name, "timeout", timeout)
        self.retry = retry or RetryPolicy()
        if self.retry.max_attempts < 1:
            raise SourceConfigError(
                f"source {name!r}: max_attempts is {self.retry.max_attempts}; expected >= 1"
            )
        self.breaker_failures = max(1, breaker_failures)
        self.breaker_cooldown_seconds = breaker_cooldown_seconds
        self.max_pages = max_pages
        self.secrets = tuple(s for s in secrets if s)
        self.transport = transport
        self.sleep = sleep
        self.host = urlsplit(self.url).netloc.rsplit("@", 1)[-1]
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "pages": 0}

    def __repr__(self) -> str:
        return (
            f"HttpSource(name={self.name!r}, url={self.location!r}, "
            f"pagination={self.pagination!r}, auth={self.auth!r})"
        )

    @property
    def location(self) -> str:
        return redact_url(self.url, self.secrets)

    def read(self) -> Iterator[RawBatch | FileReject]:
        """One RawBatch of every page, or SourceUnavailableError and nothing.

        The iterator can be asked again after it raised (the flow's read task retries
        ``next()``): each attempt fetches every page afresh.
        """
        return _HttpRun(self)

    # -- one run

    def fetch(self) -> RawBatch | None:
        """Fetch every page; the batch, or None when the API returned no record at all."""
        self.stats = {"requests": 0, "retries": 0, "pages": 0}
        token = self.auth.token(self.name) if self.auth else None
        secrets = self.secrets + ((token,) if token else ())
        key = id(self)
        with _ACTIVE_LOCK:
            _ACTIVE_SECRETS[key] = secrets
        try:
            return self._fetch(token, secrets)
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE_SECRETS.pop(key, None)

    def _fetch(self, token: str | None, secrets: tuple[str, ...]) -> RawBatch | None:
        breaker = breaker_for(self.host, self.breaker_failures, self.breaker_cooldown_seconds)
        headers = dict(self.headers)
        if token and self.auth:
            headers[self.auth.header] = self.auth.header_value(token)
        items: list[Any] = []
        escapes = False
        url = self.url
        page = self.page_start
        cursor: str | None = None
        with httpx.Client(
            timeout=self.timeout, follow_redirects=True, transport=self.transport
        ) as client:
            while True:
                if self.stats["pages"] >= self.max_pages:
                    raise SourceConfigError(
                        f"source {self.name!r}: more than max_pages={self.max_pages} pages "
                        f"from {redact_url(self.url, secrets)}; raise max_pages or check "
                        "the pagination settings"
                    )
                params: dict[str, str] = {}
                if url == self.url:  # a Link URL already carries its own query
                    params.update(self.params)
                if self.pagination == "page":
                    params[self.page_param] = str(page)
                elif self.pagination == "cursor" and cursor is not None:
                    params[self.cursor_param] = cursor
                same_host = urlsplit(url).netloc.rsplit("@", 1)[-1] == self.host
                request_headers = headers if same_host else dict(self.headers)
                response, text = self._get(client, breaker, url, params, request_headers, secrets)
                body = _parse(text, self, response, secrets)
                page_items = self._records_of(body, str(response.url), secrets)
                self.stats["pages"] += 1
                items.extend(page_items)
                escapes = escapes or "\\u" in text
                if self.pagination == "none":
                    break
                if self.pagination == "page":
                    if not page_items:
                        break
                    page += 1
                elif self.pagination == "cursor":
                    found = _at_path(body, self.cursor_field)
                    if found is _MISSING or found in (None, "") or isinstance(found, dict | list):
                        break
                    cursor = str(found)
                else:
                    link = response.links.get("next", {}).get("url")
                    if not link:
                        break
                    url = urljoin(str(response.url), link)
        if not items:
            logger.info("source %s: %s returned no records", self.name, self.location)
            return None
        return self._batch(items, escapes)

    def _get(
        self,
        client: httpx.Client,
        breaker: Any,
        url: str,
        params: dict[str, str],
        headers: dict[str, str],
        secrets: tuple[str, ...],
    ) -> tuple[httpx.Response, str]:
        shown = redact_url(str(httpx.URL(url, params=params) if params else url), secrets)
        last_status: int | None = None
        reason = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                breaker.before_call()
            except CircuitOpenError as exc:
                raise HttpGaveUpError(
                    f"source {self.name!r}: GET {shown} not attempted: {exc}",
                    url=shown,
                    status=last_status,
                    attempts=attempt - 1,
                ) from None
            self.stats["requests"] += 1
            retry_after: str | None = None
            try:
                response = client.get(url, params=params or None, headers=headers)
            except httpx.TimeoutException as exc:
                reason = f"timed out after {self.timeout:g}s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                reason = f"connection failed ({type(exc).__name__}: {redact(str(exc), secrets)})"
            else:
                if response.status_code < 400:
                    breaker.record_success()
                    return response, response.text
                last_status = response.status_code
                if response.status_code not in RETRY_STATUSES:
                    breaker.record_success()  # the host answered; the request is wrong
                    raise SourceConfigError(
                        f"source {self.name!r}: GET {shown} answered HTTP "
                        f"{response.status_code} {response.reason_phrase}; "
                        + _hint(response.status_code, self.auth)
                    )
                reason = f"HTTP {response.status_code} {response.reason_phrase}"
                retry_after = response.headers.get("Retry-After")
            breaker.record_failure()
            if attempt == self.retry.max_attempts:
                break
            wait = self.retry.wait(attempt, retry_after)
            self.stats["retries"] += 1
            logger.warning(
                "source %s: GET %s failed (%s); attempt %d of %d, retrying in %.2fs",
                self.name,
                shown,
                reason,
                attempt,
                self.retry.max_attempts,
                wait,
            )
            self.sleep(wait)
        raise HttpGaveUpError(
            f"source {self.name!r}: gave up on GET {shown} after {self.retry.max_attempts} "
            f"attempts; last: {reason}"
            + (f" (status {last_status})" if last_status and str(last_status) not in reason else "")
            + "; nothing was loaded from this run, it is safe to run again",
            url=shown,
            status=last_status,
            attempts=self.retry.max_attempts,
        )

    def _records_of(self, body: Any, url: str, secrets: tuple[str, ...]) -> list[Any]:
        found = _at_path(body, self.records) if self.records else body
        if isinstance(found, list):
            return found
        where = f"`records: {self.records}`" if self.records else "the response body"
        if found is _MISSING:
            keys = list(body) if isinstance(body, dict) else []
            detail = f"no such key; top-level keys: {', '.join(map(str, keys)) or 'none'}"
        else:
            detail = f"it is a JSON {type(found).__name__}, not a list"
        raise SourceConfigError(
            f"source {self.name!r}: cannot find the record list at {where} in the response "
            f"of {redact_url(url, secrets)} ({detail}); set `records:` to the path of the "
            "list, e.g. `data` or `result.items`, or '' when the body is the list"
        )

    def _batch(self, items: list[Any], escapes: bool) -> RawBatch:
        collector = _Collector()
        for offset, item in enumerate(items):
            collector.add(offset, item, _raw_json(item), escapes=escapes)
        canonical = "[" + ",".join(_canonical(item) for item in items) + "]"
        digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
        return RawBatch(
            source=self.name,
            location=self.location,
            content_sha256=digest,
            frame=collector.frame(),
            rejects=tuple(collector.rejects),
            fmt="http",
        )


class _HttpRun:
    """The iterator of one ``read()``: one batch, re-fetched if ``next()`` is retried."""

    def __init__(self, source: HttpSource) -> None:
        self.source = source
        self.done = False

    def __iter__(self) -> _HttpRun:
        return self

    def __next__(self) -> RawBatch | FileReject:
        if self.done:
            raise StopIteration
        batch = self.source.fetch()  # raises before `done` is set: a retry fetches again
        self.done = True
        if batch is None:
            raise StopIteration
        return batch


# ---------------------------------------------------------------- helpers

_MISSING: Any = object()


def _at_path(body: Any, path: str) -> Any:
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _parse(text: str, source: HttpSource, response: httpx.Response, secrets: Any) -> Any:
    try:
        return _loads(text)
    except (ValueError, RecursionError) as exc:
        raise HttpGaveUpError(
            f"source {source.name!r}: GET {redact_url(str(response.url), secrets)} answered "
            f"HTTP {response.status_code} but the body is not JSON ({type(exc).__name__}: "
            f"{str(exc)[:80]}); check the URL, or whether a proxy answered",
            url=redact_url(str(response.url), secrets),
            status=response.status_code,
            attempts=1,
        ) from None


def _canonical(value: Any) -> str:
    """Canonical JSON: keys sorted, no whitespace, numbers exactly as written."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, dict):
        inner = ",".join(
            json.dumps(key, ensure_ascii=False) + ":" + _canonical(value[key])
            for key in sorted(value)
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _hint(status: int, auth: HttpAuth | None) -> str:
    if status in (401, 403):
        where = (
            f"the token in ${auth.bearer_env}"
            if auth and auth.bearer_env
            else f"the Prefect Secret block {auth.bearer_block!r}"
            if auth
            else "`auth:` (none is set)"
        )
        return f"check {where} (not retried)"
    if status == 404:
        return "check `url:` in the pipeline file (not retried)"
    return "the request is wrong, not the server; fix the pipeline file (not retried)"


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceConfigError(
            f"source {name!r}: url {redact_url(url)!r} is not an http(s) URL with a host; "
            "expected e.g. https://api.example.com/v1/orders (fix `url:` in the pipeline file)"
        )
    return url


# ---------------------------------------------------------------- from a pipeline file

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
