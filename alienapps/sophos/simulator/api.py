"""The legacy SIEM routes: authentication, query parameters, paging and faults."""

import json
import logging
import re
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .faults import HTML_PAGE, Fault
from .responses import Response, envelope, error_response
from .store import (
    ALERTS,
    EVENTS,
    CursorError,
    Page,
    Position,
    Query,
    decode_cursor,
    encode_cursor,
)
from .times import DAY_MS

if TYPE_CHECKING:
    from .simulator import Simulator

logger = logging.getLogger(__name__)

LIMIT_DEFAULT = 200
LIMIT_MIN = 200
LIMIT_MAX = 1000
INTEGER = re.compile(r"[+-]?\d+")


class BadRequest(ValueError):
    """A query parameter with an invalid value. The message names the parameter."""


@dataclass(frozen=True, slots=True)
class Params:
    limit: int
    cursor: str | None
    from_date: int | None
    excluded: tuple[str, ...]
    offset_minutes: int


def parse_params(stream: str, query: dict[str, str], now_ms: int) -> Params:
    """Validate the query parameters and ignore unknown ones."""
    limit = _integer(query, "limit", LIMIT_DEFAULT)
    if not LIMIT_MIN <= limit <= LIMIT_MAX:
        raise BadRequest(
            f"Invalid value {limit} for parameter 'limit': "
            f"must be between {LIMIT_MIN} and {LIMIT_MAX}."
        )

    cursor = query.get("cursor")
    from_date = None if cursor is not None else _from_date(query, now_ms)
    offset = _integer(query, "from_date_offset_minutes", 0)
    if offset < 0:
        raise BadRequest(
            f"Invalid value {offset} for parameter 'from_date_offset_minutes': "
            "must not be negative."
        )

    excluded = _excluded_types(query) if stream == EVENTS else ()
    return Params(limit, cursor, from_date, excluded, offset)


def _integer(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default

    if not INTEGER.fullmatch(value.strip()):
        raise BadRequest(
            f"Invalid value {value!r} for parameter '{name}': not an integer."
        )
    return int(value)


def _from_date(query: dict[str, str], now_ms: int) -> int | None:
    if "from_date" not in query:
        return None

    from_date = _integer(query, "from_date", 0)
    if from_date * 1000 < now_ms - DAY_MS:
        raise BadRequest(
            f"Invalid value {from_date} for parameter 'from_date': "
            "must be within the last 24 hours."
        )
    if from_date * 1000 > now_ms:
        raise BadRequest(
            f"Invalid value {from_date} for parameter 'from_date': "
            "must not be in the future."
        )
    return from_date


def _excluded_types(query: dict[str, str]) -> tuple[str, ...]:
    names = query.get("exclude_types", "").split(",")
    return tuple(name.strip() for name in names if name.strip())


@dataclass(slots=True)
class PageResult:
    """A page ready to send, before page-level faults change it."""

    items: list[bytes]
    has_more: bool
    next_cursor: str
    start_cursor: str


class SiemApi:
    """Request handling of `GET /gateway/siem/v1/events` and `/alerts`."""

    def __init__(self, simulator: "Simulator") -> None:
        self.sim = simulator
        self._lock = threading.Lock()
        self._previous: dict[str, list[bytes]] = {EVENTS: [], ALERTS: []}

    def handle(self, stream: str, query: dict[str, str], headers) -> Response:
        """Build the response to one request. `headers` matches names in any case."""
        fault = self.sim.faults.take(stream, "cursor" in query)
        if fault is not None:
            logger.info("Applying %s fault to a %s request", fault.kind, stream)

        early = self._fault_response(fault)
        if early is not None:
            return early

        if fault is not None and fault.kind == "delay":
            self.sim.wait(float(fault.option("seconds")))

        response = self._respond(stream, query, headers, fault)
        if fault is not None and fault.kind == "trickle":
            response.delivery = "trickle"
            response.interval = float(fault.option("interval"))
        return response

    def _fault_response(self, fault: Fault | None) -> Response | None:
        """Build the response of a fault that replaces the normal response entirely."""
        if fault is None:
            return None

        if fault.kind == "status":
            return self._status_response(fault)
        if fault.kind == "html":
            return Response(200, HTML_PAGE, "text/html; charset=utf-8")
        if fault.kind == "empty":
            return Response(200, b"")
        if fault.kind == "hang":
            return Response(0, delivery="hang", seconds=float(fault.option("seconds")))
        if fault.kind == "reset":
            return Response(0, delivery="reset")
        return None

    def _status_response(self, fault: Fault) -> Response:
        status = int(fault.option("status"))
        body = fault.option("body")
        headers = {str(k): str(v) for k, v in (fault.option("headers") or {}).items()}

        if body is None:
            response = error_response(status, self.sim.clock.now_ms())
        elif isinstance(body, str):
            response = Response(status, body.encode(), "text/plain; charset=utf-8")
        else:
            response = Response(status, _json_bytes(body))
        response.headers.update(headers)
        return response

    def _respond(
        self, stream: str, query: dict[str, str], headers, fault: Fault | None
    ) -> Response:
        now_ms = self.sim.refresh()
        if not self.sim.credentials.accepts(
            headers.get("x-api-key"), headers.get("authorization")
        ):
            return error_response(401, now_ms)

        try:
            params = parse_params(stream, query, now_ms)
            if fault is not None and fault.kind == "reject_cursor":
                raise BadRequest("Invalid value for parameter 'cursor'.")
            result = self._page(stream, params, now_ms)
        except (BadRequest, CursorError) as error:
            return error_response(400, now_ms, _bad_request_message(error))

        return self._page_response(stream, result, params, fault)

    def _page(self, stream: str, params: Params, now_ms: int) -> PageResult:
        start = self._checkpoint(stream, params, now_ms)
        query = Query(
            start=start,
            end_ms=_window_end(params, now_ms),
            now_ms=now_ms,
            limit=params.limit,
            excluded=params.excluded,
        )
        page = self.sim.streams[stream].page(query)
        return _page_result(stream, page, start)

    def _checkpoint(self, stream: str, params: Params, now_ms: int) -> Position:
        """Pick the start from the cursor, else from_date, else the window start.

        A start older than 24 hours is moved to the window start without error.
        """
        window_start = Position.at_or_after(now_ms - DAY_MS)

        if params.cursor is not None:
            start = decode_cursor(stream, params.cursor)
        elif params.from_date is not None:
            start = Position.at_or_after(params.from_date * 1000)
        else:
            start = window_start
        return max(start, window_start)

    def _page_response(
        self, stream: str, result: PageResult, params: Params, fault: Fault | None
    ) -> Response:
        kind = fault.kind if fault is not None else None
        items = result.items

        with self._lock:
            previous = self._previous[stream]
            self._previous[stream] = result.items

        if kind == "stuck_cursor":
            result.next_cursor = _sent_cursor(params) or result.start_cursor
            result.has_more = True
        elif kind == "duplicate":
            items = previous + items
        elif kind == "oversized":
            items = self._oversized(stream, items, int(fault.option("count")))

        omit = fault.option("field") if kind == "missing_field" else None
        body = envelope(result.has_more, result.next_cursor, items, omit)
        return Response(200, body)

    def _oversized(self, stream: str, items: list[bytes], count: int) -> list[bytes]:
        """Fill the page up to `count` items with unstored generated ones."""
        missing = count - len(items)
        if missing <= 0:
            return items

        extra = self.sim.generator.unstored_items(
            missing, self.sim.clock.now_ms(), as_alerts=stream == ALERTS
        )
        return items + [_json_bytes(item) for item in extra]


def _window_end(params: Params, now_ms: int) -> int:
    """Return the newest ordering key a page may contain.

    NOTE: Sophos does not document this. Without an offset nothing is held back, so an
    item whose `when` runs ahead of the clock is served and becomes the checkpoint.
    The official script's offset setting exists to avoid that. With an offset of N
    minutes, items with keys newer than now minus N are held back.
    """
    if params.offset_minutes == 0:
        return sys.maxsize
    return now_ms - params.offset_minutes * 60_000


def _page_result(stream: str, page: Page, start: Position) -> PageResult:
    start_cursor = encode_cursor(stream, start)
    last_cursor = encode_cursor(stream, page.last) if page.last else start_cursor
    return PageResult(page.items, page.has_more, last_cursor, start_cursor)


def _sent_cursor(params: Params) -> str | None:
    return params.cursor.replace(" ", "+") if params.cursor is not None else None


def _bad_request_message(error: Exception) -> str:
    if isinstance(error, CursorError):
        return f"Invalid value for parameter 'cursor': {error}."
    return str(error)


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
