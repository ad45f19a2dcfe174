"""Sign-in sessions kept on the server, and the throttle on failed sign-ins.

The session cookie only carries a random session id; :class:`Sessions` knows which
ids are live, so signing out ends a session for good (a copy of the cookie taken
before no longer works) and every session ends :data:`SESSION_MAX_AGE_S` after its
sign-in. :class:`SignInThrottle` counts failed sign-ins per client address: after
:data:`FREE_FAILURES` in a row, that client is refused (HTTP 429) for a delay that
doubles with each further failure, up to :data:`MAX_DELAY_S`; a good sign-in clears
the count. Both live in the app's process (a restart signs everyone out).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_HOURS = 12
SESSION_MAX_AGE_S = SESSION_HOURS * 3600
FREE_FAILURES = 5  # failed sign-ins allowed in a row before the delays start
FIRST_DELAY_S = 30.0
MAX_DELAY_S = 15 * 60.0

Clock = Callable[[], float]


@dataclass
class Sessions:
    """Live sessions: id -> (the user's token fingerprint, when it was signed in)."""

    clock: Clock = time.time
    max_age_s: float = SESSION_MAX_AGE_S
    _live: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, user_key: str) -> str:
        """A new session for the user with token fingerprint ``user_key``; its id."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            self._live = {k: v for k, v in self._live.items() if now - v[1] < self.max_age_s}
            self._live[sid] = (user_key, now)
        return sid

    def user_key(self, sid: object) -> str | None:
        """The fingerprint of the user of live session ``sid``; None when it was signed
        out, has expired or never existed."""
        if not isinstance(sid, str):
            return None
        with self._lock:
            found = self._live.get(sid)
            if found is None:
                return None
            if self.clock() - found[1] >= self.max_age_s:
                del self._live[sid]
                return None
            return found[0]

    def end(self, sid: object) -> None:
        """Sign session ``sid`` out (nothing if it is not live)."""
        if isinstance(sid, str):
            with self._lock:
                self._live.pop(sid, None)


@dataclass
class SignInThrottle:
    """Failed sign-ins per client: (failures in a row, when the last one was)."""

    clock: Clock = time.time
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self, client: str) -> float:
        """Seconds ``client`` must wait before it may try again (0: it may now)."""
        with self._lock:
            count, last = self._failures.get(client, (0, 0.0))
        if count < FREE_FAILURES:
            return 0.0
        delay = min(FIRST_DELAY_S * 2 ** (count - FREE_FAILURES), MAX_DELAY_S)
        return max(0.0, last + delay - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            count, _ = self._failures.get(client, (0, 0.0))
            self._failures[client] = (count + 1, self.clock())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
