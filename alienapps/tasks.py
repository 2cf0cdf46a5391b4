"""Celery tasks: beat's dispatcher, the collection runs it queues, and checks."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alienapps import collector, nodata
from alienapps.health import refresh_health
from alienapps.models import CollectionRun, LogCollectionJob

logger = logging.getLogger(__name__)
Outcome = CollectionRun.Outcome


# A hard limit above the collector's own time limit, for a run stuck outside any
# request. The claim of a run killed this way lapses after COLLECTION_CLAIM_SECONDS.
RUN_HARD_LIMIT = settings.COLLECTION_RUN_TIME_LIMIT + 120


@shared_task(name="alienapps.tasks.run_collection_job", time_limit=RUN_HARD_LIMIT)
def run_collection_job(job_id: int, run_id: int | None = None) -> None:
    collector.run_job(job_id, run_id)


@shared_task(name="alienapps.tasks.check_connection_job")
def check_connection_job(job_id: int, run_id: int) -> None:
    collector.check_job(job_id, run_id)


@shared_task(name="alienapps.tasks.dispatch_due_jobs")
def dispatch_due_jobs() -> int:
    """Queue every enabled job that is due on its sensor's queue; return how many."""
    now = timezone.now()
    expire_stale_runs(now)
    due = LogCollectionJob.objects.filter(
        enabled=True, next_run_at__lte=now
    ).select_related("connection__sensor")
    queued = 0
    for job in due:
        if job.rate_limited_until and job.rate_limited_until > now:
            continue
        # The conditional update makes a second dispatcher (a second beat) a no-op.
        scheduled = LogCollectionJob.objects.filter(
            pk=job.pk, next_run_at=job.next_run_at
        ).update(next_run_at=now + timedelta(minutes=job.interval_minutes))
        if scheduled:
            enqueue_run(job, CollectionRun.Trigger.SCHEDULE)
            queued += 1
    return queued


def enqueue_run(job: LogCollectionJob, trigger: str, user=None) -> CollectionRun:
    """Save a queued run row, then send it to the job's sensor queue after commit.

    The message expires after one collection interval, so a worker that comes back
    after an outage finds at most one run per job still waiting.
    """
    run = CollectionRun.objects.create(job=job, trigger=trigger, requested_by=user)
    queue = job.connection.sensor.queue
    expires = job.interval_minutes * 60
    transaction.on_commit(
        lambda: run_collection_job.apply_async(
            args=[job.pk, run.pk], queue=queue, expires=expires
        )
    )
    return run


def enqueue_check(job: LogCollectionJob, user=None) -> CollectionRun:
    run = CollectionRun.objects.create(
        job=job, trigger=CollectionRun.Trigger.CHECK, requested_by=user
    )
    queue = job.connection.sensor.queue
    transaction.on_commit(
        lambda: check_connection_job.apply_async(
            args=[job.pk, run.pk], queue=queue, expires=job.interval_minutes * 60
        )
    )
    return run


def expire_stale_runs(now) -> int:
    """Mark runs that no worker took within one interval as failed, naming the queue."""
    stale = CollectionRun.objects.filter(
        outcome=Outcome.QUEUED, started_at__isnull=True
    ).select_related("job__connection__sensor")
    expired = 0
    for run in stale:
        if run.queued_at > now - timedelta(minutes=run.job.interval_minutes):
            continue
        sensor = run.job.connection.sensor
        collector.finish(
            run,
            Outcome.ERROR,
            f"No worker took this run from queue {sensor.queue} within "
            f"{run.job.interval_minutes} minutes; check that the worker next to sensor "
            f"{sensor} is running.",
        )
        expired += 1
        refresh_health(run.job.connection)
    return expired


@shared_task(name="alienapps.tasks.raise_no_data_events")
def raise_no_data_events() -> int:
    return nodata.raise_no_data_events(timezone.now())
