"""Ordered item streams, checkpoints and cursors.

Each stream (events, alerts) is kept sorted by its ordering key, `when` or `created_at`
in epoch ms, with the item id as tie-breaker. A page contains the items strictly after
a checkpoint. An item is stored, and so can be served, once the simulator clock reaches
its `created_at`.

Cursor format. Sophos' cursors are standard base64 of `V2_CURSOR|<ISO ms Z>` for events
and `0|<ISO ms Z>` for alerts. A time alone cannot mark where a page ended inside a run
of items with the same key, so the simulator appends the id of the last item delivered:
`V2_CURSOR|2024-03-14T16:45:12.309Z|<id>` means "after the item with that key and id".
A cursor without the id part, the form Sophos issues, means "after every item at that
time". Both forms keep the documented prefix, and clients treat cursors as opaque.
"""

import base64
import binascii
import bisect
import json
import re
import sys
import threading
from dataclasses import dataclass

from .catalogue import is_excluded
from .times import iso_ms, parse_time

EVENTS = "events"
ALERTS = "alerts"
CURSOR_PREFIX = {EVENTS: "V2_CURSOR", ALERTS: "0"}
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
AFTER_EVERY_ID = "\U0010ffff"


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A checkpoint: items with a greater (key_ms, id) come after it."""

    key_ms: int
    id: str

    @classmethod
    def at_or_after(cls, key_ms: int) -> "Position":
        """Return the checkpoint that lets through every item at `key_ms` or later."""
        return cls(key_ms - 1, AFTER_EVERY_ID)


class CursorError(ValueError):
    """A cursor that does not decode to its endpoint's shape."""


def encode_cursor(stream: str, position: Position) -> str:
    text = f"{CURSOR_PREFIX[stream]}|{iso_ms(position.key_ms)}"
    if position.id != AFTER_EVERY_ID:
        text += f"|{position.id}"
    return base64.b64encode(text.encode()).decode()


def decode_cursor(stream: str, cursor: str) -> Position:
    """Decode a cursor sent raw or URL-decoded, reading a space back as `+`."""
    text = _base64_text(cursor.replace(" ", "+"))
    parts = text.split("|", 2)

    if len(parts) < 2 or not _prefix_matches(stream, parts[0]):
        raise CursorError(f"cursor does not decode to a {stream} cursor")
    if not ISO_MS.fullmatch(parts[1]) or parse_time(parts[1]) is None:
        raise CursorError("cursor does not contain an ISO 8601 millisecond time")

    key_ms = parse_time(parts[1])
    item_id = parts[2] if len(parts) == 3 else AFTER_EVERY_ID
    return Position(key_ms, item_id)


def _base64_text(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        return base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise CursorError("cursor is not base64 of UTF-8 text") from error


def _prefix_matches(stream: str, prefix: str) -> bool:
    if stream == EVENTS:
        return prefix == CURSOR_PREFIX[EVENTS]
    return prefix.isascii() and prefix.isdigit()


class Entry:
    """One stored item with its sort key and its JSON text, made once on demand."""

    __slots__ = ("created_ms", "item", "json", "key", "type")

    def __init__(self, key: tuple, created_ms: int, item: dict) -> None:
        self.key = key
        self.created_ms = created_ms
        self.item = item
        self.type = item.get("type") if isinstance(item.get("type"), str) else ""
        self.json: bytes | None = None

    def serialised(self) -> bytes:
        if self.json is None:
            text = json.dumps(self.item, ensure_ascii=False, separators=(",", ":"))
            # A lone surrogate cannot be UTF-8; JSON escapes keep it as \udxxx.
            self.json = text.encode("utf-8", errors="backslashreplace")
        return self.json


@dataclass(slots=True)
class Page:
    items: list[bytes]
    last: Position | None
    has_more: bool


@dataclass(frozen=True, slots=True)
class Query:
    """Page bounds: items after `start`, stored by `now_ms`, with keys to `end_ms`."""

    start: Position
    end_ms: int
    now_ms: int
    limit: int
    excluded: tuple[str, ...] = ()


class Stream:
    """The items of one endpoint, sorted by (key_ms, id, insertion number)."""

    def __init__(self, name: str, ordering: str) -> None:
        self.name = name
        self.ordering = ordering
        self._lock = threading.Lock()
        self._keys: list[tuple[int, str, int]] = []
        self._entries: list[Entry] = []
        self._sequence = 0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, items: list[dict], fallback_ms: int) -> int:
        """Store items. One without a usable time counts as stored at `fallback_ms`."""
        with self._lock:
            for item in items:
                self._insert(self._entry(item, fallback_ms))
        return len(items)

    def _entry(self, item: dict, fallback_ms: int) -> Entry:
        created_ms = parse_time(item.get("created_at"))
        when_ms = parse_time(item.get("when"))
        created_ms = created_ms if created_ms is not None else fallback_ms
        if self.ordering == "created_at" or when_ms is None:
            key_ms = created_ms
        else:
            key_ms = when_ms

        self._sequence += 1
        key = (key_ms, str(item.get("id") or ""), self._sequence)
        return Entry(key, created_ms, item)

    def _insert(self, entry: Entry) -> None:
        if not self._keys or entry.key >= self._keys[-1]:
            self._keys.append(entry.key)
            self._entries.append(entry)
            return

        index = bisect.bisect_right(self._keys, entry.key)
        self._keys.insert(index, entry.key)
        self._entries.insert(index, entry)

    def page(self, query: Query) -> Page:
        """Collect up to `limit` items after the start, and whether more are ready."""
        with self._lock:
            index = bisect.bisect_right(
                self._keys, (query.start.key_ms, query.start.id, sys.maxsize)
            )
            items, last, index = self._collect(query, index)
            has_more = self._next_ready(query, index) is not None
        return Page(items, last, has_more)

    def _collect(
        self, query: Query, index: int
    ) -> tuple[list[bytes], Position | None, int]:
        items: list[bytes] = []
        last = None

        while len(items) < query.limit:
            entry_index = self._next_ready(query, index)
            if entry_index is None:
                break
            entry = self._entries[entry_index]
            items.append(entry.serialised())
            last = Position(entry.key[0], entry.key[1])
            index = entry_index + 1
        return items, last, index

    def _next_ready(self, query: Query, index: int) -> int | None:
        """Return the index of the next servable entry from `index`, or None."""
        entries = self._entries
        for position in range(index, len(entries)):
            entry = entries[position]
            if entry.key[0] > query.end_ms:
                return None
            if entry.created_ms > query.now_ms:
                continue
            if query.excluded and is_excluded(entry.type, query.excluded):
                continue
            return position
        return None

    def items(self) -> list[dict]:
        """Return the stored item dicts in stream order, served or not.

        The dicts are the stored ones, so callers must not modify them.
        """
        with self._lock:
            return [entry.item for entry in self._entries]
