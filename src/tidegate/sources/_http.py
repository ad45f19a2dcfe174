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
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from tidegate.batches import FileReject, RawBatch
from tidegate.errors import CircuitOpenError, HttpGaveUpError, SourceConfigError
from tidegate.sources._breaker import breaker_for
from tidegate.sources._http_auth import (
    HttpAuth,
    redact,
    redact_url,
    refusal_hint,
    secrets_masked,
)
from tidegate.sources._http_pages import PageWalk, check_pagination, records_of
from tidegate.sources._jsonl import RawNumber, _Collector, _loads, _raw_json
from tidegate.sources._options import positive
from tidegate.sources._retry import RETRY_STATUSES, RetryPolicy

logger = logging.getLogger("tidegate.sources.http")


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
        self.records = records
        self.pagination = check_pagination(name, pagination)
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
        with secrets_masked(id(self), secrets):
            return self._fetch(token, secrets)

    def _fetch(self, token: str | None, secrets: tuple[str, ...]) -> RawBatch | None:
        breaker = breaker_for(self.host, self.breaker_failures, self.breaker_cooldown_seconds)
        headers = dict(self.headers)
        if token and self.auth:
            headers[self.auth.header] = self.auth.header_value(token)
        items: list[Any] = []
        escapes = False
        pages = PageWalk(
            self.url,
            self.params,
            pagination=self.pagination,
            page_param=self.page_param,
            page_start=self.page_start,
            cursor_field=self.cursor_field,
            cursor_param=self.cursor_param,
        )
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
                params = pages.params()
                same_host = urlsplit(pages.url).netloc.rsplit("@", 1)[-1] == self.host
                request_headers = headers if same_host else dict(self.headers)
                response, text = self._get(
                    client, breaker, pages.url, params, request_headers, secrets
                )
                body = _parse(text, self, response, secrets)
                page_items = records_of(self.name, body, self.records, str(response.url), secrets)
                self.stats["pages"] += 1
                items.extend(page_items)
                escapes = escapes or "\\u" in text
                if not pages.advance(body, response, page_items):
                    break
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
                        + refusal_hint(response.status_code, self.auth)
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


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceConfigError(
            f"source {name!r}: url {redact_url(url)!r} is not an http(s) URL with a host; "
            "expected e.g. https://api.example.com/v1/orders (fix `url:` in the pipeline file)"
        )
    return url
