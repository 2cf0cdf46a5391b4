"""Time helpers: ISO 8601 formatting in the Sophos shape and a settable clock."""

import threading
import time
from datetime import UTC, datetime, timedelta

DAY_MS = 24 * 60 * 60 * 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_ms(epoch_ms: int) -> str:
    """Format epoch ms as ISO 8601 UTC with exactly three fractional digits and `Z`."""
    seconds, millis = divmod(epoch_ms, 1000)
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{millis:03d}Z"
    )


def to_ms(moment: datetime) -> int:
    """Convert an aware datetime to epoch milliseconds."""
    if moment.tzinfo is None:
        raise ValueError(f"datetime {moment!r} must be timezone-aware (UTC)")

    delta = moment - EPOCH
    return delta.days * DAY_MS + delta.seconds * 1000 + delta.microseconds // 1000


def from_ms(epoch_ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=epoch_ms)


def parse_time(value: object) -> int | None:
    """Parse an ISO 8601 string into epoch milliseconds, or return None.

    A missing zone is read as UTC, as Common API times sometimes lack one.
    """
    if not isinstance(value, str) or not value:
        return None

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_ms(moment)


class Clock:
    """A clock that runs at wall-clock speed from a settable starting point."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._base_ms = to_ms(start) if start else int(time.time() * 1000)
        self._base_monotonic = time.monotonic()

    def now_ms(self) -> int:
        with self._lock:
            elapsed = time.monotonic() - self._base_monotonic
            return self._base_ms + int(elapsed * 1000)

    def now(self) -> datetime:
        return from_ms(self.now_ms())

    def set(self, moment: datetime) -> None:
        base_ms = to_ms(moment)

        with self._lock:
            self._base_ms = base_ms
            self._base_monotonic = time.monotonic()

    def advance(self, seconds: float) -> None:
        now_ms = self.now_ms()

        with self._lock:
            self._base_ms = now_ms + int(seconds * 1000)
            self._base_monotonic = time.monotonic()
