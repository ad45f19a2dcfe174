"""The HTTP source's pagination: which page to ask for next, and the records on a page.

``pagination``: ``none`` (one request); ``page`` (``?{page_param}=N`` from
``page_start`` until an empty page); ``cursor`` (``?{cursor_param}=`` the value at
``cursor_field`` until it is missing or empty); ``link`` (the RFC 5988
``Link: <...>; rel="next"`` header until it is absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import httpx

from tidegate.errors import SourceConfigError
from tidegate.sources._http_auth import redact_url

PAGINATIONS = ("none", "page", "cursor", "link")

_MISSING: Any = object()


def check_pagination(name: str, pagination: str) -> str:
    if pagination not in PAGINATIONS:
        raise SourceConfigError(
            f"source {name!r}: pagination {pagination!r} is not known; valid: "
            f"{', '.join(PAGINATIONS)} (fix the pipeline file)"
        )
    return pagination


class PageWalk:
    """The pages of one run: the URL and query of the next request, then, from its
    response, whether another page follows."""

    def __init__(
        self,
        url: str,
        params: Mapping[str, str],
        *,
        pagination: str,
        page_param: str,
        page_start: int,
        cursor_field: str,
        cursor_param: str,
    ) -> None:
        self.first_url = url
        self.base_params = dict(params)
        self.pagination = pagination
        self.page_param = page_param
        self.cursor_field = cursor_field
        self.cursor_param = cursor_param
        self.url = url
        self.page = page_start
        self.cursor: str | None = None

    def params(self) -> dict[str, str]:
        """The query of the next request."""
        params: dict[str, str] = {}
        if self.url == self.first_url:  # a Link URL already carries its own query
            params.update(self.base_params)
        if self.pagination == "page":
            params[self.page_param] = str(self.page)
        elif self.pagination == "cursor" and self.cursor is not None:
            params[self.cursor_param] = self.cursor
        return params

    def advance(self, body: Any, response: httpx.Response, page_items: list[Any]) -> bool:
        """Move on to the page after this one; False when this one was the last."""
        if self.pagination == "none":
            return False
        if self.pagination == "page":
            if not page_items:
                return False
            self.page += 1
            return True
        if self.pagination == "cursor":
            found = at_path(body, self.cursor_field)
            if found is _MISSING or found in (None, "") or isinstance(found, dict | list):
                return False
            self.cursor = str(found)
            return True
        link = response.links.get("next", {}).get("url")
        if not link:
            return False
        self.url = urljoin(str(response.url), link)
        return True


def at_path(body: Any, path: str) -> Any:
    """The value at the dotted ``path`` in ``body`` (list items by index), or ``_MISSING``."""
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def records_of(name: str, body: Any, records: str, url: str, secrets: tuple[str, ...]) -> list[Any]:
    """The record list at the dotted path ``records`` of one page (``""``: the body)."""
    found = at_path(body, records) if records else body
    if isinstance(found, list):
        return found
    where = f"`records: {records}`" if records else "the response body"
    if found is _MISSING:
        keys = list(body) if isinstance(body, dict) else []
        detail = f"no such key; top-level keys: {', '.join(map(str, keys)) or 'none'}"
    else:
        detail = f"it is a JSON {type(found).__name__}, not a list"
    raise SourceConfigError(
        f"source {name!r}: cannot find the record list at {where} in the response "
        f"of {redact_url(url, secrets)} ({detail}); set `records:` to the path of the "
        "list, e.g. `data` or `result.items`, or '' when the body is the list"
    )
