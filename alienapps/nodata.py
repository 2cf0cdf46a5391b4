"""System events for connections that stopped receiving data.

When a connection's "Create events if the app stops consuming data" threshold passes
with no new item, the portal raises an "Event from AlienApp Not Received" system
event, and raises it again each time another threshold period passes in silence.
"""

from datetime import datetime, timedelta

from activity.models import Event, Severity
from alienapps.models import Connection

EVENT_NAME = "Event from AlienApp Not Received"


def raise_no_data_events(now: datetime) -> int:
    raised = 0
    # A connection whose jobs are all disabled is expected to be silent.
    watched = (
        Connection.objects.filter(no_data_minutes__isnull=False, jobs__enabled=True)
        .distinct()
        .select_related("sensor")
    )
    for connection in watched:
        if is_silent(connection, now):
            raise_event(connection, now)
            raised += 1
    return raised


def is_silent(connection: Connection, now: datetime) -> bool:
    threshold = timedelta(minutes=connection.no_data_minutes)
    last_data = connection.last_item_at or connection.created_at
    last_event = connection.last_no_data_event_at
    if now - last_data < threshold:
        return False
    return last_event is None or now - last_event >= threshold


def raise_event(connection: Connection, now: datetime) -> Event:
    last = connection.last_item_at
    since = f"since {last:%Y-%m-%d %H:%M} UTC" if last else "since it was configured"
    name = (
        f"{EVENT_NAME}: {connection.alienapp.name} on sensor {connection.sensor} has "
        f"received no data {since}."
    )
    event = Event.objects.create(
        connection=connection,
        sensor=connection.sensor,
        kind=Event.Kind.SYSTEM,
        external_id=f"no-data-{now:%Y%m%dT%H%M%S%f}",
        plugin="USM Portal",
        event_name=name,
        event_category="System",
        event_subcategory=EVENT_NAME,
        event_severity=Severity.MEDIUM,
        timestamp_occured=now,
        timestamp_received=now,
        log="{}",
    )
    Connection.objects.filter(pk=connection.pk).update(last_no_data_event_at=now)
    return event
