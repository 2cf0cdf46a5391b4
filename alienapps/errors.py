"""Failures of a collection run, each with a message a Manager can act on.

Clients raise these; the collector turns them into a run's outcome and the
connection's Health. None of the messages may contain a credential.
"""

from datetime import datetime


class CollectionError(Exception):
    """A failure that ends the run; ``health`` is "error" or "warning"."""

    health = "error"

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


class TransientError(CollectionError):
    """Worth retrying later: 5xx after retries, timeouts, resets."""


class PermanentError(CollectionError):
    """Needs a person: a rejected token, a forbidden tenant, a wrong address."""


class RateLimited(CollectionError):
    health = "warning"

    def __init__(self, until: datetime, *, http_status: int | None = 429) -> None:
        super().__init__(
            f"Sophos Central is rate limiting requests; rate limited until "
            f"{until:%Y-%m-%d %H:%M:%S} UTC. Collection resumes after that time.",
            http_status=http_status,
        )
        self.until = until


class CursorRejected(CollectionError):
    """The server rejected the saved cursor (HTTP 400)."""
