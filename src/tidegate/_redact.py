"""Passwords out of connection URLs and out of the messages that quote them (SQL sources
and the PostgreSQL store share this)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def _split_password(url: str) -> str | None:
    """The password as ``urlsplit`` reads it."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def password_of(url: str) -> str | None:
    """The password in ``scheme://user:password@host...``, also when it holds ``/ ? #``
    unencoded (where ``urlsplit`` misreads the host and finds no password)."""
    password = _split_password(url)
    if password is not None or "://" not in url:
        return password
    rest = url.split("://", 1)[1]
    if "@" not in rest:
        return None
    user, colon, password = rest.rsplit("@", 1)[0].partition(":")
    return password if colon and "/" not in user else None


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (``postgresql://user:***@host/db``)."""
    password = password_of(url)
    if password is None:
        return url
    try:
        parts = urlsplit(url)
        if parts.password == password:
            user = parts.username or ""
            host = parts.hostname or ""
            if parts.port is not None:
                host = f"{host}:{parts.port}"
            return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:  # a bad port or bracket: mask by position below
        pass
    scheme, rest = url.split("://", 1)
    userinfo, after = rest.rsplit("@", 1)
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{after}"


def scrub(text: str, url: str) -> str:
    """``text`` with the URL and its password removed (for error messages from drivers)."""
    password = password_of(url)
    text = text.replace(url, redact(url))
    if password:
        text = text.replace(password, "***")
    return text
