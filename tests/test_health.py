"""Health and Message from the latest runs and the token's validity."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alienapps.health import compute_health
from alienapps.models import CollectionRun, Health
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
BLOCK = (
    "url: https://api1.central.sophos.com/gateway, x-api-key: "
    "Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc4Vb6Nm8Q, Authorization: Basic "
    "MTExMTExMTEtMjIyMi0zMzMzLTQ0NDQtNTU1NTU1NTU1NTU1OnNlY3JldA=="
)
Outcome = CollectionRun.Outcome


@pytest.fixture
def connection(sensor):
    return make_connection(BLOCK, sensor)


def finish(connection, stream, outcome, message="", new_items=0, trigger="schedule"):
    job = connection.jobs.get(stream=stream)
    return CollectionRun.objects.create(
        job=job,
        trigger=trigger,
        outcome=outcome,
        message=message,
        new_items=new_items,
        finished_at=timezone.now(),
    )


def test_pending_before_any_run(connection):
    assert compute_health(connection) == (
        Health.PENDING,
        "Awaiting the first collection.",
    )


def test_ok_message_names_counts(connection):
    finish(connection, "events", Outcome.OK, new_items=0)
    finish(connection, "alerts", Outcome.OK, new_items=3)
    health, message = compute_health(connection)
    assert health == Health.OK
    assert message == "Connected; 0 new events, 3 new alarms in the last collection"


def test_worst_job_wins(connection):
    finish(connection, "events", Outcome.OK)
    finish(connection, "alerts", Outcome.ERROR, "Sophos Central rejected the API token")
    assert compute_health(connection) == (
        Health.ERROR,
        "Sophos Central rejected the API token",
    )


def test_skipped_runs_do_not_count(connection):
    finish(connection, "events", Outcome.OK)
    finish(connection, "alerts", Outcome.OK)
    finish(
        connection, "events", Outcome.SKIPPED, "Another run of this job is in progress"
    )
    assert compute_health(connection)[0] == Health.OK


def test_quiet_tenant_is_ok(connection):
    finish(connection, "events", Outcome.OK, new_items=0)
    finish(connection, "alerts", Outcome.OK, new_items=0)
    assert compute_health(connection)[0] == Health.OK


def test_disabled_jobs(connection):
    connection.jobs.update(enabled=False)
    assert compute_health(connection)[0] == Health.DISABLED


def test_expiry_within_30_days_warns(connection):
    finish(connection, "events", Outcome.OK)
    finish(connection, "alerts", Outcome.OK)
    connection.token_expires_on = (timezone.now() + timedelta(days=10)).date()
    health, message = compute_health(connection)
    assert health == Health.WARNING
    assert "expires in 10 days" in message


def test_expired_token_is_error(connection):
    finish(connection, "events", Outcome.OK)
    connection.token_expires_on = (timezone.now() - timedelta(days=1)).date()
    health, message = compute_health(connection)
    assert health == Health.ERROR
    assert "expired on" in message
    assert "paste the new block" in message


def test_expiry_far_away_is_ok(connection):
    finish(connection, "events", Outcome.OK)
    finish(connection, "alerts", Outcome.OK)
    connection.token_expires_on = (timezone.now() + timedelta(days=31)).date()
    assert compute_health(connection)[0] == Health.OK


def test_runs_no_worker_took_warn(connection):
    finish(connection, "events", Outcome.OK)
    finish(connection, "alerts", Outcome.OK)
    job = connection.jobs.get(stream="events")
    CollectionRun.objects.create(
        job=job, trigger="schedule", queued_at=timezone.now() - timedelta(minutes=10)
    )
    health, message = compute_health(connection)
    assert health == Health.WARNING
    assert connection.sensor.queue in message
    assert "waited 10 minutes" in message


def test_cleared_expiry_is_removed(connection, sensor):
    from alienapps.services import CLEAR_EXPIRY, save_connection

    save_connection(
        app=connection.alienapp,
        sensor=sensor,
        token_block=None,
        streams={"events", "alerts"},
        token_expires_on=CLEAR_EXPIRY,
        no_data_minutes=None,
        user=None,
        connection=connection,
    )
    connection.refresh_from_db()
    assert connection.token_expires_on is None
    assert connection.changes.filter(summary__startswith="token expiry:").exists()
