"""Collection through real worker processes: a kill mid-page, expired queue messages."""

import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import Event
from alienapps.collector import run_job
from alienapps.models import CollectionRun, LogCollectionJob
from alienapps.tasks import run_collection_job
from tests.collection_helpers import api_requests, served_ids
from tests.processes import start_worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_broker(settings):
    from usm_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


@pytest.fixture
def big_simulator(settings):
    from alienapps.sophos.simulator import Simulator

    sim = Simulator(port=0, seed=11, backlog_events=5000, events_per_minute=0).start()
    settings.SOPHOS_EXTRA_API_HOSTS = [sim.url]
    yield sim
    sim.stop()


def test_killed_worker_loses_and_doubles_nothing(
    big_simulator, sensor, real_broker, tmp_path, settings
):
    from tests.conftest import make_connection

    connection = make_connection(big_simulator.token_block, sensor, streams=("events",))
    job = LogCollectionJob.objects.get(connection=connection, stream="events")
    # The third page trickles, so the worker is inside that page when it is killed.
    big_simulator.add_faults(
        [
            {"route": "events", "kind": "delay", "seconds": 0, "times": 2},
            {"route": "events", "kind": "trickle", "interval": 0.5, "times": 1},
        ]
    )
    worker = start_worker(
        sensor.queue, tmp_path / "worker.log", COLLECTION_CLAIM_SECONDS="3"
    )
    try:
        run_collection_job.apply_async(args=[job.pk], queue=sensor.queue)
        wait_until(
            lambda: len(api_requests(big_simulator, "events")) >= 3,
            60,
            f"the worker never requested the third page; log: {(tmp_path / 'worker.log').read_text()[-2000:]}",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()

    job.refresh_from_db()
    assert Event.objects.filter(connection=connection).count() == 2000
    assert job.claimed_until is not None

    wait_until(
        lambda: job.claimed_until < timezone.now(), 10, "the claim never expired"
    )
    run = run_job(job.pk)
    assert run.outcome == CollectionRun.Outcome.OK
    ids = list(
        Event.objects.filter(connection=connection).values_list(
            "external_id", flat=True
        )
    )
    assert len(ids) == len(set(ids))
    assert set(ids) == served_ids(big_simulator, "events")


def test_expired_messages_never_call_the_api(simulator, sensor, real_broker, tmp_path):
    from tests.conftest import make_connection

    connection = make_connection(simulator.token_block, sensor, streams=("events",))
    job = LogCollectionJob.objects.get(connection=connection, stream="events")
    for _ in range(3):
        run_collection_job.apply_async(args=[job.pk], queue=sensor.queue, expires=1)
    run_collection_job.apply_async(args=[job.pk], queue=sensor.queue, expires=600)
    import time

    time.sleep(2)
    worker = start_worker(sensor.queue, tmp_path / "worker.log")
    try:
        wait_until(
            lambda: job.runs.filter(finished_at__isnull=False).exists(),
            60,
            "no run finished",
        )
        time.sleep(2)
    finally:
        worker.terminate()
        worker.wait(10)
    assert job.runs.count() == 1
    assert (
        len([r for r in api_requests(simulator, "events") if "from_date" in r["query"]])
        == 1
    )
