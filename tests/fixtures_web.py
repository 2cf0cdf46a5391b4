"""Fixtures for the web tests: one user per role, and a small portal to browse.

Import them with ``from tests.fixtures_web import *`` in a test module.
"""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from activity.models import Alarm, Event, Severity
from alienapps import secrets
from alienapps.models import (
    CollectionRun,
    Connection,
    ConnectionChange,
    Health,
    LogCollectionJob,
)
from sensors.models import Sensor
from usm_portal import roles

__all__ = [
    "ROLE_NAMES",
    "client_for",
    "make_alarm",
    "make_event",
    "make_user",
    "portal",
    "role_users",
]

# Roles in the order of the permission grid. The "anonymous" role has no user.
ROLE_NAMES = ("anonymous", "readonly", "analyst", "manager", "superuser")
FAKE_TOKEN_BLOCK = (
    "url: https://api-eu01.central.sophos.com/gateway, x-api-key: "
    "KEYKEYKEYKEYKEYKEYKEYKEYKEYKEYKEYKEY0000, Authorization: Basic c2VjcmV0"
)


def make_user(username: str, role: str | None = None, **fields) -> User:
    # A transactional test before this one may have flushed the migration's groups.
    roles.ensure_groups()
    user = User.objects.create(username=username, **fields)
    user.set_unusable_password()
    user.save()
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def role_users(db) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "readonly": make_user("readonly", roles.READ_ONLY),
        "analyst": make_user("analyst", roles.ANALYST),
        "manager": make_user("manager", roles.MANAGER, is_staff=True),
        "superuser": make_user("root", is_staff=True, is_superuser=True),
    }


def client_for(user: User | None, **kwargs) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


def make_event(number: int, when, **fields) -> Event:
    defaults = {
        "external_id": f"event-{number}",
        "plugin": "Sophos Central",
        "event_name": f"Event number {number}",
        "event_severity": Severity.LOW,
        "timestamp_occured": when,
        "timestamp_received": when + timedelta(minutes=5),
        "log": json.dumps({"id": f"event-{number}"}),
    }
    return Event.objects.create(**{**defaults, **fields})


def make_alarm(number: int, when, **fields) -> Alarm:
    defaults = {
        "external_id": f"alarm-{number}",
        "plugin": "Sophos Central",
        "event_name": f"Alarm number {number}",
        "priority": 60,
        "timestamp_occured": when,
        "timestamp_received": when + timedelta(minutes=5),
        "log": json.dumps({"id": f"alarm-{number}"}),
    }
    return Alarm.objects.create(**{**defaults, **fields})


@pytest.fixture
def portal(db) -> dict:
    """Two sensors, a Sophos Central connection with two jobs and a run each, an
    event with an alarm, and a change history entry."""
    now = timezone.now()

    sensor = Sensor.objects.create(name="sensor-hq", address="10.0.10.5")
    other = Sensor.objects.create(name="sensor-aws", type=Sensor.Type.AWS)
    connection = Connection.objects.create(
        app="sophos-central",
        sensor=sensor,
        secret=secrets.encrypt(FAKE_TOKEN_BLOCK),
        api_host="api-eu01.central.sophos.com",
        token_saved_at=now,
        token_expires_on=(now + timedelta(days=365)).date(),
        health=Health.OK,
        message="Connected; 3 new events, 1 new alarm in the last collection",
    )

    jobs = [
        LogCollectionJob.objects.create(connection=connection, stream=stream)
        for stream in ("events", "alerts")
    ]
    runs = [
        CollectionRun.objects.create(
            job=job,
            trigger=CollectionRun.Trigger.SCHEDULE,
            started_at=now,
            finished_at=now,
            outcome=CollectionRun.Outcome.OK,
            items=3,
            new_items=3,
            http_status=200,
        )
        for job in jobs
    ]

    event = make_event(1, now, connection=connection, sensor=sensor)
    alarm = make_alarm(1, now, connection=connection, sensor=sensor, event=event)
    change = ConnectionChange.objects.create(connection=connection, summary="token set")

    return {
        "sensor": sensor,
        "other_sensor": other,
        "connection": connection,
        "job": jobs[0],
        "run": runs[0],
        "event": event,
        "alarm": alarm,
        "change": change,
    }
