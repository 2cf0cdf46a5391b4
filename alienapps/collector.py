"""Run log collection jobs: claim, page from the saved cursor, store, record, rate.

A page's items and the cursor after it commit in one transaction, and the cursor is
written only while the run still has its claim, so a killed or overtaken run can
neither lose nor double a page. Every run leaves a CollectionRun row.
"""

import logging
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from activity.ingest import store_alarms, store_events
from alienapps.errors import CollectionError, CursorRejected, TransientError
from alienapps.health import refresh_health
from alienapps.models import CollectionRun, Connection, LogCollectionJob
from alienapps.secrets import SecretUnreadable
from sensors.models import Sensor

logger = logging.getLogger(__name__)
Outcome = CollectionRun.Outcome


class ClaimLost(TransientError):
    pass


# Claims


def claim_job(job: LogCollectionJob, token: str) -> bool:
    """Claim ``job`` for one run; False when another run's claim on it is still live."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    until = now + timedelta(seconds=settings.COLLECTION_CLAIM_SECONDS)
    claimed = LogCollectionJob.objects.filter(free, pk=job.pk).update(
        claim_token=token, claimed_until=until
    )
    return claimed == 1


def release_claim(job: LogCollectionJob, token: str) -> None:
    LogCollectionJob.objects.filter(pk=job.pk, claim_token=token).update(
        claim_token="", claimed_until=None
    )


# Runs


def run_job(
    job_id: int, run_id: int | None = None, trigger: str = "schedule"
) -> CollectionRun | None:
    """Run one collection of a job; returns its run row, or None if the job is gone."""
    job = (
        LogCollectionJob.objects.select_related("connection__sensor")
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        return None
    run = _run_row(job, run_id, trigger)
    token = uuid.uuid4().hex
    if not claim_job(job, token):
        return finish(
            run,
            Outcome.SKIPPED,
            "Another run of this job is in progress; this one was skipped.",
        )
    try:
        return _run_claimed(job, run, token)
    finally:
        release_claim(job, token)


def _run_row(job: LogCollectionJob, run_id: int | None, trigger: str) -> CollectionRun:
    run = CollectionRun.objects.filter(pk=run_id, job=job).first() if run_id else None
    return run or CollectionRun.objects.create(job=job, trigger=trigger)


def _run_claimed(
    job: LogCollectionJob, run: CollectionRun, token: str
) -> CollectionRun:
    job.refresh_from_db()
    now = timezone.now()
    if job.rate_limited_until and job.rate_limited_until > now:
        return finish(
            run,
            Outcome.SKIPPED,
            f"Rate limited until {job.rate_limited_until:%Y-%m-%d %H:%M:%S} UTC; no "
            "request was sent.",
        )

    run.started_at, run.outcome = now, Outcome.RUNNING
    run.save(update_fields=["started_at", "outcome"])
    mark_sensor_seen(job)
    outcome, message = _collect_safely(job, run, token)
    if outcome in (Outcome.OK, Outcome.WARNING):
        LogCollectionJob.objects.filter(pk=job.pk).update(
            last_success_at=timezone.now()
        )
    finish(run, outcome, message)
    refresh_health(job.connection)
    return run


def _collect_safely(job, run, token) -> tuple[str, str]:
    try:
        return collect(job, run, token)
    except CollectionError as error:
        run.http_status = error.http_status or run.http_status
        _remember_rate_limit(job, error)
        logger.warning("Run %s of job %s failed: %s", run.pk, job.pk, error.message)
        return Outcome(error.health), error.message
    except SecretUnreadable as error:
        return Outcome.ERROR, str(error)
    except ValueError as error:
        # A stored credential that no longer passes validation, for example after
        # SOPHOS_EXTRA_API_HOSTS changed.
        message = getattr(error, "message", None) or str(error)
        return Outcome.ERROR, f"The stored credential is no longer accepted: {message}"
    except Exception:
        logger.exception("Run %s of job %s failed unexpectedly", run.pk, job.pk)
        return (
            Outcome.ERROR,
            "The run failed unexpectedly; the worker log has the details.",
        )


def _remember_rate_limit(job: LogCollectionJob, error: CollectionError) -> None:
    until = getattr(error, "until", None)
    if until is not None:
        LogCollectionJob.objects.filter(pk=job.pk).update(
            rate_limited_until=until, next_run_at=until
        )


def mark_sensor_seen(job: LogCollectionJob) -> None:
    """Record that a worker serving the job's sensor queue is alive."""
    Sensor.objects.filter(pk=job.connection.sensor_id).update(last_seen=timezone.now())


def finish(run: CollectionRun, outcome: str, message: str) -> CollectionRun:
    run.outcome, run.message = outcome, message[:1000]
    run.finished_at = timezone.now()
    run.save()
    return run


# Paging


def collect(job: LogCollectionJob, run: CollectionRun, token: str) -> tuple[str, str]:
    """Page from the saved cursor to the end; return (outcome, message)."""
    connection = job.connection
    app = connection.alienapp
    deadline = time.monotonic() + settings.COLLECTION_RUN_TIME_LIMIT
    session = app.open_session(connection, connection.sensor)
    session.run_deadline = deadline
    try:
        notes = _page_through(job, run, token, session, app, deadline)
    finally:
        session.close()
    if notes:
        return Outcome.WARNING, " ".join(notes)
    return (
        Outcome.OK,
        f"Collected {run.new_items} new of {run.items} items in {run.pages} pages.",
    )


def _page_through(job, run, token, session, app, deadline) -> list[str]:
    now = timezone.now()
    notes = []
    cursor = job.cursor or None
    start = None if cursor else app.initial_start(now, lookback())
    gap = gap_note(job, now, app.history_window())
    if gap:
        notes.append(gap)
    fell_back = False

    while True:
        if run.pages >= settings.COLLECTION_MAX_PAGES or time.monotonic() > deadline:
            _continue_soon(job)
            notes.append(
                f"Stopped after {run.pages} page{'' if run.pages == 1 else 's'} to stay "
                "within the run's limits; the "
                "next run continues from the saved cursor."
            )
            return notes
        try:
            page = session.fetch(job.stream, cursor, start)
        except CursorRejected as error:
            if fell_back:
                raise
            fell_back = True
            cursor, start = None, app.initial_start(now, app.history_window())
            notes.append(cursor_fallback_note(job, start, error))
            continue

        stuck = page.has_more and cursor is not None and page.next_cursor == cursor
        store_page(job, run, page, token)
        if stuck:
            notes.append(
                "Sophos Central returned the cursor it was sent with more items "
                "announced; the run stopped instead of asking for the same page again. "
                "The next run retries from the saved cursor."
            )
            return notes
        if not page.has_more:
            return notes
        cursor, start = page.next_cursor, None


def lookback() -> timedelta:
    return timedelta(hours=settings.SOPHOS_INITIAL_LOOKBACK_HOURS)


def gap_note(job: LogCollectionJob, now: datetime, window: timedelta | None) -> str:
    """Describe the interval lost when the last success is older than the API's window."""
    last = max(filter(None, [job.last_success_at, job.cursor_saved_at]), default=None)
    if not job.cursor or window is None or last is None or last >= now - window:
        return ""
    lost_until = now - window
    return (
        f"Data gap: no collection succeeded between {fmt(last)} and {fmt(lost_until)} "
        f"UTC, and the API keeps only {window_label(window)}, so items from that "
        "interval could not be collected."
    )


def cursor_fallback_note(
    job: LogCollectionJob, start: datetime, error: Exception
) -> str:
    """Describe the restart after a rejected cursor, and any interval it may miss."""
    since = job.cursor_saved_at or job.last_success_at
    restarted = f"{error} Collection restarted from {fmt(start)} UTC"
    if since is None or start <= since:
        return (
            f"{restarted}, before the last saved cursor, so nothing is missing; items "
            "already stored were skipped."
        )
    return (
        f"{restarted}; items between {fmt(since)} UTC and {fmt(start)} UTC may be "
        "missing."
    )


def fmt(moment: datetime) -> str:
    return moment.astimezone(timezone.get_fixed_timezone(0)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def window_label(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"the last {hours:g} hours"


def _continue_soon(job: LogCollectionJob) -> None:
    LogCollectionJob.objects.filter(pk=job.pk).update(next_run_at=timezone.now())


def store_page(job: LogCollectionJob, run: CollectionRun, page, token: str) -> None:
    """Store a page's items and the cursor after it in one transaction."""
    app = job.connection.alienapp
    records = [app.normalise(job.stream, item) for item in page.items]
    received = timezone.now()
    store = store_alarms if app.stream(job.stream).record == "alarm" else store_events
    claim_until = received + timedelta(seconds=settings.COLLECTION_CLAIM_SECONDS)

    with transaction.atomic():
        new = store(job.connection, records, received)
        saved = LogCollectionJob.objects.filter(pk=job.pk, claim_token=token).update(
            cursor=page.next_cursor, cursor_saved_at=received, claimed_until=claim_until
        )
        if saved != 1:
            raise ClaimLost(
                "Another run took over this job while it was running; this run's last "
                "page was not stored and the other run continues."
            )

    job.cursor = page.next_cursor
    run.pages += 1
    run.items += len(page.items)
    run.new_items += new
    run.http_status = page.http_status
    run.save(update_fields=["pages", "items", "new_items", "http_status"])
    if new:
        Connection.objects.filter(pk=job.connection_id).update(last_item_at=received)


# Connection checks


def check_job(job_id: int, run_id: int) -> CollectionRun | None:
    """Make one small request for the job's stream; stores nothing but the run row."""
    job = (
        LogCollectionJob.objects.select_related("connection__sensor")
        .filter(pk=job_id)
        .first()
    )
    run = CollectionRun.objects.filter(pk=run_id).first()
    if job is None or run is None:
        return None
    run.started_at, run.outcome = timezone.now(), Outcome.RUNNING
    run.save(update_fields=["started_at", "outcome"])
    mark_sensor_seen(job)
    outcome, message = _check_safely(job, run)
    finish(run, outcome, message)
    refresh_health(job.connection)
    return run


def _check_safely(job, run) -> tuple[str, str]:
    connection = job.connection
    stream = connection.alienapp.stream(job.stream)
    try:
        session = connection.alienapp.open_session(connection, connection.sensor)
        try:
            page = session.check(job.stream)
        finally:
            session.close()
    except CollectionError as error:
        run.http_status = error.http_status
        return Outcome(error.health), error.message
    except (SecretUnreadable, ValueError) as error:
        return Outcome.ERROR, getattr(error, "message", None) or str(error)
    run.http_status = page.http_status
    return (
        Outcome.OK,
        f"Connected; {stream.job_name} can be read from {connection.sensor}.",
    )
