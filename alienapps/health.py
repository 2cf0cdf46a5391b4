"""A connection's Health and Message, computed from the latest runs of its jobs.

Health never depends on whether rows happened to arrive: a quiet tenant whose runs
succeed is OK, and a broken one is Warning or Error even if old rows are still there.
"""

from datetime import date, timedelta

from django.utils import timezone

from alienapps.models import HEALTH_RANK, CollectionRun, Connection, Health

# Outcomes that tell the state of the connection. Skipped and queued runs do not.
DECISIVE = [
    CollectionRun.Outcome.OK,
    CollectionRun.Outcome.WARNING,
    CollectionRun.Outcome.ERROR,
]
EXPIRY_WARNING_DAYS = 30
# How long a run may wait in its sensor's queue before Health reports the worker.
STALE_QUEUE = timedelta(minutes=3)


def latest_decisive_run(job) -> CollectionRun | None:
    return job.runs.filter(outcome__in=DECISIVE).order_by("-finished_at", "-id").first()


def compute_health(connection: Connection) -> tuple[str, str]:
    """Return (health, message) for ``connection`` from its jobs' latest runs."""
    jobs = [job for job in connection.jobs.all() if job.enabled]
    if not jobs:
        return Health.DISABLED, "Collection jobs are disabled in the Scheduler."

    stale = stale_queue_message(connection, jobs)
    if stale:
        return _with_expiry(connection, Health.WARNING, stale)
    runs = {job.stream: latest_decisive_run(job) for job in jobs}
    if all(run is None for run in runs.values()):
        health, message = Health.PENDING, "Awaiting the first collection."
    else:
        health, message = _worst_run(connection, runs)
    return _with_expiry(connection, health, message)


def stale_queue_message(connection: Connection, jobs: list) -> str:
    """Name the sensor's queue when runs have waited in it longer than STALE_QUEUE."""
    oldest = (
        CollectionRun.objects.filter(
            job__in=jobs,
            outcome=CollectionRun.Outcome.QUEUED,
            queued_at__lt=timezone.now() - STALE_QUEUE,
        )
        .order_by("queued_at")
        .first()
    )
    if oldest is None:
        return ""
    minutes = int((timezone.now() - oldest.queued_at).total_seconds() // 60)
    sensor = connection.sensor
    return (
        f"Runs have waited {minutes} minutes in queue {sensor.queue} without a worker "
        f"taking them; check that the worker next to sensor {sensor} is running."
    )


def note_stale_queue(connection: Connection) -> None:
    """Store Warning when runs wait in the sensor's queue with no worker taking them."""
    jobs = [job for job in connection.jobs.all() if job.enabled]
    if jobs and stale_queue_message(connection, jobs):
        refresh_health(connection)


def _worst_run(connection: Connection, runs: dict) -> tuple[str, str]:
    problems = [
        run for run in runs.values() if run and run.outcome != CollectionRun.Outcome.OK
    ]
    if problems:
        worst = max(problems, key=lambda run: HEALTH_RANK[Health(run.outcome)])
        return Health(worst.outcome), worst.message
    if any(run is None for run in runs.values()):
        return Health.PENDING, "Awaiting the first collection of every enabled job."
    return Health.OK, ok_message(connection, runs)


def ok_message(connection: Connection, runs: dict) -> str:
    """Return "Connected; 0 new events, 3 new alarms in the last collection"."""
    parts = []
    for stream in connection.alienapp.streams:
        run = runs.get(stream.slug)
        if run is None:
            continue
        noun = "alarm" if stream.record == "alarm" else "event"
        count = run.new_items
        parts.append(f"{count} new {noun}{'' if count == 1 else 's'}")
    checked = all(
        run.trigger == CollectionRun.Trigger.CHECK for run in runs.values() if run
    )
    if checked:
        return "Connected; the connection check succeeded and collection is queued."
    return f"Connected; {', '.join(parts)} in the last collection"


def _with_expiry(connection: Connection, health: str, message: str) -> tuple[str, str]:
    expires = connection.token_expires_on
    if expires is None:
        return health, message
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    if today > expires:
        return Health.ERROR, expiry_message(expires, today, connection.alienapp.name)
    if (
        expires - today <= timedelta(days=EXPIRY_WARNING_DAYS)
        and HEALTH_RANK[health] < 3
    ):
        return (
            Health.WARNING,
            f"{expiry_message(expires, today, connection.alienapp.name)} {message}",
        )
    return health, message


def expiry_message(expires: date, today: date, app_name: str) -> str:
    if today > expires:
        return (
            f"The API token expired on {expires:%Y-%m-%d} (tokens are valid for one "
            f"year). Renew it in {app_name} and paste the new block."
        )
    days = (expires - today).days
    return (
        f"The API token expires in {days} day{'' if days == 1 else 's'} "
        f"({expires:%Y-%m-%d}); renew it in {app_name} and paste the new block."
    )


def refresh_health(connection: Connection) -> Connection:
    """Recompute and store ``connection``'s Health and Message."""
    health, message = compute_health(connection)
    Connection.objects.filter(pk=connection.pk).update(
        health=health, message=message[:1000], health_checked_at=timezone.now()
    )
    connection.health, connection.message = health, message[:1000]
    return connection
