"""Keyset pagination, newest first, on a (time, id) pair.

A page is found by seeking in an index on (time DESC, id DESC) past the last row of
the page before, never by OFFSET. So a page deep in millions of rows costs about the
same as the first one. Rows with equal times are ordered by id, so no row is shown
twice or skipped. A cursor is ``<UTC time, ISO 8601 with microseconds>|<id>``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q, QuerySet

PAGE_SIZE = 50
CURSOR_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass
class KeysetPage:
    items: list
    # Cursor for the page of older rows ("before=..."), None on the oldest page.
    older: str | None
    # Cursor for the page of newer rows ("after=..."), None on the newest page.
    newer: str | None


def encode_cursor(when: datetime, pk: int) -> str:
    return f"{when.astimezone(UTC).strftime(CURSOR_TIME_FORMAT)}|{pk}"


def decode_cursor(text: str | None) -> tuple[datetime, int] | None:
    """Return (time, id) from a cursor, or None when it is missing or malformed."""
    if not text or text.count("|") != 1 or len(text) > 80:
        return None
    when_text, pk_text = text.split("|")
    try:
        when = datetime.fromisoformat(when_text)
        pk = int(pk_text)
    except ValueError:
        return None
    if when.tzinfo is None or pk < 0:
        return None
    try:
        return when.astimezone(UTC), pk
    except OverflowError:
        # A time near year 1 or 9999 with an offset that UTC cannot hold.
        return None


def keyset_page(
    queryset: QuerySet,
    time_field: str,
    *,
    before: str | None = None,
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> KeysetPage:
    """Return one page of ``queryset``, newest first, older than ``before`` or newer
    than ``after`` (``before`` wins when both are given and valid)."""
    older_than = decode_cursor(before)
    if older_than is not None:
        return _older_page(queryset, time_field, older_than, size)

    newer_than = decode_cursor(after)
    if newer_than is not None:
        return _newer_page(queryset, time_field, newer_than, size)

    rows = list(queryset.order_by(f"-{time_field}", "-pk")[: size + 1])
    return _page(rows[:size], time_field, has_older=len(rows) > size, has_newer=False)


def _older_page(queryset, time_field, cursor, size) -> KeysetPage:
    when, pk = cursor
    # The "<=" bound lets the database seek in the index, and the rest of the
    # condition breaks ties by id.
    seek = Q(**{f"{time_field}__lte": when}) & (
        Q(**{f"{time_field}__lt": when}) | Q(pk__lt=pk)
    )
    rows = list(queryset.filter(seek).order_by(f"-{time_field}", "-pk")[: size + 1])
    return _page(rows[:size], time_field, has_older=len(rows) > size, has_newer=True)


def _newer_page(queryset, time_field, cursor, size) -> KeysetPage:
    when, pk = cursor
    seek = Q(**{f"{time_field}__gte": when}) & (
        Q(**{f"{time_field}__gt": when}) | Q(pk__gt=pk)
    )
    rows = list(queryset.filter(seek).order_by(time_field, "pk")[: size + 1])
    items = list(reversed(rows[:size]))
    return _page(items, time_field, has_older=True, has_newer=len(rows) > size)


def _page(items: list, time_field: str, *, has_older: bool, has_newer: bool):
    if not items:
        return KeysetPage(items=[], older=None, newer=None)
    first, last = items[0], items[-1]
    return KeysetPage(
        items=items,
        older=encode_cursor(getattr(last, time_field), last.pk) if has_older else None,
        newer=encode_cursor(getattr(first, time_field), first.pk)
        if has_newer
        else None,
    )
