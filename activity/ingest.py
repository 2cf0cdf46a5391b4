"""Store normalised records as events and alarms, once per connection and id.

The unique constraints on (connection, external_id) enforce this; the lookups here
only skip the rows that are already stored.
"""

import re
from datetime import datetime

from activity.models import Alarm, Event
from activity.records import AlarmRecord, EventRecord

# PostgreSQL cannot store NUL in text, and no database stores a lone surrogate as UTF-8.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
TEXT_FIELDS = (
    "event_name",
    "event_category",
    "event_subcategory",
    "source_username",
    "source_name",
    "source_address",
    "file_path",
    "malware_family",
)
SHORT_FIELDS = {"event_category": 100, "event_subcategory": 200, "source_address": 100}


def clean_text(value: str, notes: list[str], field: str) -> str:
    """Return ``value`` with unstorable characters replaced, noting what changed."""
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    if UNSTORABLE.search(value):
        value = UNSTORABLE.sub("\ufffd", value)
        notes.append(f"{field}: replaced NUL or lone surrogate characters")
    limit = SHORT_FIELDS.get(field)
    if limit and len(value) > limit:
        value = value[:limit]
        notes.append(f"{field}: cut to {limit} characters")
    return value


def record_fields(record: EventRecord, received_at: datetime) -> dict:
    notes = list(record.parse_notes)
    fields = {
        name: clean_text(getattr(record, name), notes, name) for name in TEXT_FIELDS
    }
    occurred = record.timestamp_occured
    if occurred is None:
        occurred = received_at
        notes.append("timestamp_occured: unknown, the time received is used")
    fields.update(
        external_id=clean_text(record.external_id, notes, "external_id")[:64],
        event_severity=record.event_severity,
        timestamp_occured=occurred,
        timestamp_received=received_at,
        log=UNSTORABLE.sub("\ufffd", record.log),
    )
    fields["parse_note"] = clean_text("; ".join(notes), [], "parse_note")
    return fields


def unique_by_id(records: list) -> list:
    """Keep the first record of each external id; a page may repeat an item."""
    seen: dict[str, object] = {}
    for record in records:
        seen.setdefault(record.external_id, record)
    return list(seen.values())


def store_events(connection, records: list[EventRecord], received_at: datetime) -> int:
    """Insert the events not stored yet; return how many were new."""
    rows = [
        Event(
            connection=connection,
            sensor_id=connection.sensor_id,
            plugin=connection.alienapp.plugin,
            **record_fields(record, received_at),
        )
        for record in records
    ]
    new_rows = _new_only(Event, connection, unique_by_id(rows))
    Event.objects.bulk_create(new_rows, batch_size=500)
    _link_alarms_to_events(connection, [row.external_id for row in new_rows])
    return len(new_rows)


def store_alarms(connection, records: list[AlarmRecord], received_at: datetime) -> int:
    """Insert the alarms not stored yet, linked to their events; return how many were new."""
    rows = []
    for record in records:
        fields = record_fields(record, received_at)
        rows.append(
            Alarm(
                connection=connection,
                sensor_id=connection.sensor_id,
                plugin=connection.alienapp.plugin,
                priority=max(0, min(100, record.priority)),
                rule_intent=record.rule_intent[:100],
                rule_strategy=record.rule_strategy[:100],
                rule_method=UNSTORABLE.sub("\ufffd", record.rule_method),
                **fields,
            )
        )
    new_rows = _new_only(Alarm, connection, unique_by_id(rows))
    events = _events_by_id(connection, [row.external_id for row in new_rows])
    for row in new_rows:
        row.event_id = events.get(row.external_id)
    Alarm.objects.bulk_create(new_rows, batch_size=500)
    return len(new_rows)


def _new_only(model, connection, rows: list) -> list:
    ids = [row.external_id for row in rows]
    stored = set(
        model.objects.filter(connection=connection, external_id__in=ids).values_list(
            "external_id", flat=True
        )
    )
    return [row for row in rows if row.external_id not in stored]


def _events_by_id(connection, ids: list[str]) -> dict[str, int]:
    pairs = Event.objects.filter(
        connection=connection, external_id__in=ids
    ).values_list("external_id", "id")
    return dict(pairs)


def _link_alarms_to_events(connection, ids: list[str]) -> None:
    """Link alarms that arrived before the event sharing their id."""
    waiting = Alarm.objects.filter(
        connection=connection, event__isnull=True, external_id__in=ids
    )
    if not waiting.exists():
        return
    events = _events_by_id(connection, ids)
    for alarm in waiting:
        alarm.event_id = events.get(alarm.external_id)
    Alarm.objects.bulk_update([a for a in waiting if a.event_id], ["event"])
