"""Operations on connections and jobs that the views call."""

import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from activity.models import Alarm, Event
from alienapps import secrets
from alienapps.health import refresh_health
from alienapps.models import (
    NO_DATA_CHOICES,
    CollectionRun,
    Connection,
    ConnectionChange,
    Health,
    LogCollectionJob,
)
from alienapps.tasks import enqueue_check, enqueue_run

Outcome = CollectionRun.Outcome
POLL_SECONDS = 0.2
# Passed as token_expires_on to remove the expiry date on file.
CLEAR_EXPIRY = "clear"


def save_connection(
    *,
    app,
    sensor,
    token_block,
    streams: set[str],
    token_expires_on,
    no_data_minutes,
    user,
    connection: Connection | None = None,
) -> Connection:
    """Create or update a connection and its jobs, verify it, queue its first collection.

    ``token_block`` is None to keep the stored credential. Returns the connection
    with the Health and Message of the verification from its sensor.
    """
    with transaction.atomic():
        connection = connection or _find_or_new(app, sensor)
        creating = connection.pk is None
        changes = _apply_settings(
            connection, app, sensor, token_block, token_expires_on, no_data_minutes
        )
        connection.save()
        if creating:
            adopt_orphans(connection, app)
        changes += _apply_streams(connection, app, streams)
        _record(connection, user, changes)
        checks = _queue_verification(connection, user)
    _wait_for(checks, connection)
    return refresh_health(connection)


def adopt_orphans(connection: Connection, app) -> None:
    """Link the events and alarms a removed connection on this sensor left behind.

    Items are unique per connection, so without this a connection configured again
    would store every item it collects a second time. Where earlier removals left
    the same id more than once, the oldest row is adopted.
    """
    for model in (Event, Alarm):
        orphans = model.objects.filter(
            connection__isnull=True, sensor=connection.sensor, plugin=app.plugin
        )
        first_rows = orphans.values("external_id").annotate(first=Min("id"))
        model.objects.filter(id__in=first_rows.values("first")).update(
            connection=connection
        )


def _find_or_new(app, sensor) -> Connection:
    found = Connection.objects.filter(app=app.slug, sensor=sensor).first()
    return found or Connection(app=app.slug, sensor=sensor)


def _apply_settings(
    connection, app, sensor, token_block, expires_on, no_data
) -> list[str]:
    changes = []
    if connection.pk and connection.sensor_id != sensor.pk:
        changes.append(f"sensor: {connection.sensor} → {sensor}")
    connection.sensor = sensor
    if token_block is not None:
        changes.append("token replaced" if connection.has_secret else "token set")
        _store_token(connection, app, token_block, expires_on)
    elif expires_on == CLEAR_EXPIRY and connection.token_expires_on:
        changes.append(f"token expiry: {connection.token_expires_on} → none")
        connection.token_expires_on = None
    elif (
        expires_on
        and expires_on != CLEAR_EXPIRY
        and expires_on != connection.token_expires_on
    ):
        changes.append(f"token expiry: {connection.token_expires_on} → {expires_on}")
        connection.token_expires_on = expires_on
    if connection.pk and no_data != connection.no_data_minutes:
        labels = dict(NO_DATA_CHOICES)
        changes.append(
            f"Create events if the app stops consuming data: "
            f"{labels.get(connection.no_data_minutes)} → {labels.get(no_data)}"
        )
    connection.no_data_minutes = no_data
    if not connection.pk:
        changes.insert(0, "connection created")
    return changes


def _store_token(connection, app, token_block, expires_on) -> None:
    now = timezone.now()
    connection.secret = secrets.encrypt(token_block.canonical())
    connection.api_host = token_block.url.split("//", 1)[-1].split("/", 1)[0]
    connection.token_saved_at = now
    lifetime = app.credential_lifetime_days
    default_expiry = (now + timedelta(days=lifetime)).date() if lifetime else None
    # A new token with no date given gets the default lifetime.
    chosen = expires_on if expires_on != CLEAR_EXPIRY else None
    connection.token_expires_on = chosen or default_expiry


def _apply_streams(connection, app, streams: set[str]) -> list[str]:
    """Create the app's jobs once, and switch each on or off as the form requests."""
    changes = []
    for stream in app.streams:
        selected = stream.slug in streams
        job, created = LogCollectionJob.objects.get_or_create(
            connection=connection,
            stream=stream.slug,
            defaults={
                "enabled": selected,
                "interval_minutes": settings.COLLECTION_INTERVAL_MINUTES,
            },
        )
        if created and selected:
            changes.append(f"{stream.collect_label}: on")
        elif not created and job.enabled != selected:
            job.enabled = selected
            job.save(update_fields=["enabled"])
            changes.append(f"{stream.collect_label}: {'on' if selected else 'off'}")
    return changes


def _record(connection, user, changes: list[str]) -> None:
    ConnectionChange.objects.bulk_create(
        ConnectionChange(connection=connection, changed_by=user, summary=summary)
        for summary in changes
    )


def _queue_verification(connection, user) -> list[CollectionRun]:
    """Queue one check per enabled job, then the first collection of each."""
    jobs = list(
        connection.jobs.filter(enabled=True).select_related("connection__sensor")
    )
    Connection.objects.filter(pk=connection.pk).update(
        health=Health.PENDING,
        message=f"Checking the connection from sensor {connection.sensor}.",
    )
    checks = [enqueue_check(job, user) for job in jobs]
    for job in jobs:
        enqueue_run(job, CollectionRun.Trigger.SAVE, user)
        job.schedule_next()
        job.save(update_fields=["next_run_at"])
    return checks


def _wait_for(runs: list[CollectionRun], connection: Connection) -> None:
    deadline = time.monotonic() + settings.CONNECTION_CHECK_WAIT_SECONDS
    ids = [run.pk for run in runs]
    while ids and time.monotonic() < deadline:
        if not CollectionRun.objects.filter(
            pk__in=ids, finished_at__isnull=True
        ).exists():
            return
        time.sleep(POLL_SECONDS)
    if (
        ids
        and CollectionRun.objects.filter(pk__in=ids, finished_at__isnull=True).exists()
    ):
        sensor = connection.sensor
        Connection.objects.filter(pk=connection.pk).update(
            health=Health.WARNING,
            message=(
                f"The worker of sensor {sensor} (queue {sensor.queue}) has not verified "
                "the connection yet; check that it is running."
            ),
        )


def check_connection(connection: Connection, user) -> Connection:
    """Test connection: verify every enabled stream from the sensor, store the result."""
    with transaction.atomic():
        jobs = connection.jobs.filter(enabled=True).select_related("connection__sensor")
        checks = [enqueue_check(job, user) for job in jobs]
    _wait_for(checks, connection)
    connection.refresh_from_db()
    if any(
        not run.is_finished
        for run in CollectionRun.objects.filter(pk__in=[r.pk for r in checks])
    ):
        return connection
    return refresh_health(connection)


def run_job_now(job: LogCollectionJob, user) -> CollectionRun:
    with transaction.atomic():
        return enqueue_run(job, CollectionRun.Trigger.MANUAL, user)


def set_job_enabled(job: LogCollectionJob, enabled: bool, user) -> None:
    with transaction.atomic():
        job.enabled = enabled
        if enabled:
            job.next_run_at = timezone.now()
        job.save(update_fields=["enabled", "next_run_at"])
        state = "enabled" if enabled else "disabled"
        _record(job.connection, user, [f"{job.name} job {state} in the Scheduler"])
    refresh_health(job.connection)


def remove_connection(connection: Connection, user) -> None:
    """Delete a connection and its jobs; its events and alarms stay, unlinked."""
    connection.delete()


def connection_summary(connection: Connection) -> dict:
    runs = CollectionRun.objects.filter(job__connection=connection).exclude(
        outcome__in=[Outcome.QUEUED, Outcome.RUNNING, Outcome.SKIPPED]
    )
    collections = runs.exclude(trigger=CollectionRun.Trigger.CHECK)
    return {
        "last_attempt": runs.order_by("-finished_at").first(),
        "last_success": runs.filter(outcome=Outcome.OK)
        .order_by("-finished_at")
        .first(),
        "last_error": runs.filter(outcome=Outcome.ERROR)
        .order_by("-finished_at")
        .first(),
        "last_collection": collections.order_by("-finished_at").first(),
        "events_collected": Event.objects.filter(connection=connection).count(),
        "alarms_raised": Alarm.objects.filter(connection=connection).count(),
    }
