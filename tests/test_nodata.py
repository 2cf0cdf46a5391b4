"""System events when a connection stops receiving data."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import Event
from alienapps.models import Connection
from alienapps.nodata import EVENT_NAME, raise_no_data_events
from tests.conftest import make_connection
from tests.test_health import BLOCK

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(sensor):
    connection = make_connection(BLOCK, sensor)
    connection.no_data_minutes = 60
    connection.save()
    return connection


def system_events():
    return Event.objects.filter(kind=Event.Kind.SYSTEM)


def test_recent_data_raises_nothing(connection):
    Connection.objects.filter(pk=connection.pk).update(last_item_at=timezone.now())
    assert raise_no_data_events(timezone.now()) == 0


def test_silence_raises_event(connection):
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        last_item_at=now - timedelta(minutes=61)
    )
    assert raise_no_data_events(now) == 1
    event = system_events().get()
    assert event.event_name.startswith(EVENT_NAME)
    assert "sensor-hq" in event.event_name


def test_event_repeats_each_period(connection):
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        last_item_at=now - timedelta(hours=3)
    )
    raise_no_data_events(now)
    raise_no_data_events(now + timedelta(minutes=30))
    assert system_events().count() == 1
    raise_no_data_events(now + timedelta(minutes=61))
    assert system_events().count() == 2


def test_none_threshold_never_raises(connection):
    Connection.objects.filter(pk=connection.pk).update(
        no_data_minutes=None, last_item_at=timezone.now() - timedelta(days=5)
    )
    assert raise_no_data_events(timezone.now()) == 0


def test_disabled_jobs_raise_nothing(connection):
    connection.jobs.update(enabled=False)
    Connection.objects.filter(pk=connection.pk).update(
        last_item_at=timezone.now() - timedelta(days=1)
    )
    assert raise_no_data_events(timezone.now()) == 0
