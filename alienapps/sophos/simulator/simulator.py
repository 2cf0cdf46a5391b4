"""The Sophos Central SIEM simulator: data, clock, token, faults and HTTP server."""

import logging
import socket
import threading
from datetime import datetime
from pathlib import Path

from .api import SiemApi
from .credentials import Credentials
from .faults import FaultQueue
from .generator import Generator, LiveStream
from .loader import load_records, shift_into_window
from .server import SimulatorServer
from .store import ALERTS, EVENTS, Stream
from .times import Clock, to_ms

logger = logging.getLogger(__name__)

ORDERINGS = ("when", "created_at")


class RequestLog:
    """Method, path, query, status and time of each request outside `/_sim/`.

    Headers, and so the token, are never recorded.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict] = []

    def begin(self, method: str, path: str, query: dict, moment: datetime) -> dict:
        entry = {
            "method": method,
            "path": path,
            "query": dict(query),
            "status": None,
            "time": moment,
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def finish(self, entry: dict, status: int | None) -> None:
        with self._lock:
            entry["status"] = status

    def entries(self) -> list[dict]:
        with self._lock:
            return [{**entry, "query": dict(entry["query"])} for entry in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Simulator:
    """A local stand-in for the Sophos Central legacy SIEM API.

    The backlog is generated on construction, and `start()` serves it over HTTP from
    a daemon thread. `now` fixes the clock's start, and the clock then runs in real
    time.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | str = 1,
        backlog_events: int = 5000,
        backlog_alerts: int | None = None,
        events_per_minute: float = 6.0,
        ordering: str = "when",
        now: datetime | None = None,
    ) -> None:
        _check_settings(backlog_events, events_per_minute, ordering)
        self.host = host
        self.port = port
        self.clock = Clock(now)
        self.generator = Generator(seed)
        self.streams = {
            EVENTS: Stream(EVENTS, ordering),
            ALERTS: Stream(ALERTS, ordering),
        }

        # A fixed `now` starts the backlog exactly there, so a seed gives the same
        # items however long construction takes.
        start_ms = to_ms(now) if now is not None else self.clock.now_ms()
        self._add(self.generator.backlog(backlog_events, backlog_alerts, start_ms))
        self.live = LiveStream(self.generator, events_per_minute, start_ms)

        self.faults = FaultQueue()
        self.log = RequestLog()
        self.credentials = Credentials()
        self.api = SiemApi(self)
        self.connections: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None

    # Serving

    def start(self) -> "Simulator":
        """Bind the port, serve from a daemon thread and return self."""
        if self._server is not None:
            return self

        self._stopping.clear()
        self._server = SimulatorServer(self, (self.host, self.port))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sophos-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("Sophos Central simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and free the port."""
        if self._server is None:
            return

        self._stopping.set()
        self._server.shutdown()
        self._close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        logger.info("Sophos Central simulator on port %s stopped", self.port)

    def _close_connections(self) -> None:
        for connection in list(self.connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def wait_until_stopped(self) -> None:
        """Block until `stop()` is called from another thread or a signal handler."""
        self._stopping.wait()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, returning True early when the simulator stops."""
        return self._stopping.wait(seconds)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # Token

    @property
    def token_block(self) -> str:
        """The one-line "API Access URL + Headers" block for the current token."""
        return (
            f"url: {self.url}/gateway, x-api-key: {self.credentials.api_key}, "
            f"Authorization: {self.credentials.authorization}"
        )

    @property
    def api_key(self) -> str:
        return self.credentials.api_key

    @property
    def authorization(self) -> str:
        return self.credentials.authorization

    def revoke_token(self) -> None:
        """Reject the current token from now on, so every request gets 401."""
        self.credentials.revoke()

    def issue_token(self) -> str:
        """Replace the token with a new one and return its block."""
        self.credentials.issue()
        return self.token_block

    # Requests and faults

    @property
    def requests(self) -> list[dict]:
        return self.log.entries()

    def clear_requests(self) -> None:
        self.log.clear()

    def add_faults(self, specs: list[dict]) -> int:
        return self.faults.add(specs)

    def clear_faults(self) -> None:
        self.faults.clear()

    # Data

    def inject_events(self, items: list[dict]) -> int:
        """Store raw-api events unchanged. Their own times order and release them."""
        return self.streams[EVENTS].add(list(items), self.clock.now_ms())

    def inject_alerts(self, items: list[dict]) -> int:
        return self.streams[ALERTS].add(list(items), self.clock.now_ms())

    def load_file(self, path: str | Path) -> int:
        """Load the event and alert records of a file and return how many were stored.

        Loaded records keep their ids and content, but their times are shifted into the
        last 24 hours (see `shift_into_window`) so that they are served.
        """
        records = load_records(path)
        now_ms = self.clock.now_ms()
        shift_into_window(records.events + records.alerts, now_ms)

        added = self.streams[EVENTS].add(records.events, now_ms)
        added += self.streams[ALERTS].add(records.alerts, now_ms)
        return added

    def events(self) -> list[dict]:
        """Return the stored events in stream order, including ones not yet served.

        The dicts are the stored ones, so callers must not modify them.
        """
        self.refresh()
        return self.streams[EVENTS].items()

    def alerts(self) -> list[dict]:
        self.refresh()
        return self.streams[ALERTS].items()

    def _add(self, batch) -> None:
        now_ms = self.clock.now_ms()
        self.streams[EVENTS].add(batch.events, now_ms)
        self.streams[ALERTS].add(batch.alerts, now_ms)

    # Clock

    def now(self) -> datetime:
        return self.clock.now()

    def set_now(self, moment: datetime) -> None:
        self.clock.set(moment)
        self.refresh()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.refresh()

    def refresh(self) -> int:
        """Add the live events due by now and return the current time in epoch ms."""
        with self._live_lock:
            now_ms = self.clock.now_ms()
            self._add(self.live.until(now_ms))
        return now_ms


def _check_settings(
    backlog_events: int, events_per_minute: float, ordering: str
) -> None:
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering {ordering!r} must be one of {ORDERINGS}")
    if backlog_events < 0:
        raise ValueError(f"backlog_events {backlog_events} must not be negative")
    if events_per_minute < 0:
        raise ValueError(f"events_per_minute {events_per_minute} must not be negative")
