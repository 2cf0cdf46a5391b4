"""Log collection through the real client and collector against the simulator."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import Alarm, Event
from alienapps.collector import run_job
from alienapps.models import CollectionRun, Health
from alienapps.tasks import dispatch_due_jobs
from tests import leaks
from tests.collection_helpers import api_requests, job_of, served_ids
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)
Outcome = CollectionRun.Outcome


def collect(connection, stream="events"):
    job = job_of(connection, stream)
    run = run_job(job.pk)
    job.refresh_from_db()
    connection.refresh_from_db()
    return job, run


def test_first_run_starts_from_clamped_window(connection, simulator):
    before = timezone.now()
    collect(connection)
    first = api_requests(simulator, "events")[0]["query"]
    assert first["limit"] == "1000"
    assert "cursor" not in first
    start = int(first["from_date"])
    assert start >= (before - timedelta(hours=23, minutes=59)).timestamp() - 1
    assert start <= before.timestamp()


def test_first_run_stores_every_event(connection, simulator):
    job, run = collect(connection)
    stored = set(
        Event.objects.filter(connection=connection).values_list(
            "external_id", flat=True
        )
    )
    assert stored == served_ids(simulator, "events")
    assert run.outcome == Outcome.OK
    assert run.new_items == len(stored)
    assert job.cursor


def test_pages_follow_next_cursor(connection, simulator, settings):
    settings.SOPHOS_PAGE_LIMIT = 200
    job, run = collect(connection)
    sent = api_requests(simulator, "events")
    assert run.pages == len(sent) >= 2
    assert all(
        "cursor" in r["query"] and "from_date" not in r["query"] for r in sent[1:]
    )
    assert Event.objects.filter(connection=connection).count() == len(
        served_ids(simulator, "events")
    )


def test_later_run_uses_saved_cursor(connection, simulator):
    job, _ = collect(connection)
    saved = job.cursor
    simulator.clear_requests()
    collect(connection)
    query = api_requests(simulator, "events")[0]["query"]
    assert query["cursor"] == saved
    assert "from_date" not in query


def test_replayed_run_adds_nothing(connection, simulator):
    collect(connection)
    count = Event.objects.count()
    job = job_of(connection, "events")
    job.cursor = ""
    job.save()
    _, run = collect(connection)
    assert Event.objects.count() == count
    assert run.new_items == 0
    assert run.items == count


def test_duplicate_items_across_pages(connection, simulator, settings):
    settings.SOPHOS_PAGE_LIMIT = 200
    simulator.add_faults([{"route": "events", "kind": "duplicate", "times": 1}])
    collect(connection)
    ids = list(Event.objects.values_list("external_id", flat=True))
    assert len(ids) == len(set(ids))
    assert set(ids) == served_ids(simulator, "events")


def test_event_and_alert_cursors_are_separate(connection, simulator):
    events_job, _ = collect(connection, "events")
    alerts_job, _ = collect(connection, "alerts")
    assert events_job.cursor != alerts_job.cursor
    assert Alarm.objects.filter(connection=connection).count() == len(
        served_ids(simulator, "alerts")
    )


def test_alarms_link_to_their_events(connection, simulator):
    collect(connection, "events")
    collect(connection, "alerts")
    alarms = Alarm.objects.filter(connection=connection)
    assert alarms.exists()
    assert all(
        alarm.event and alarm.event.external_id == alarm.external_id for alarm in alarms
    )


def test_ok_message_counts_new_items(connection, simulator):
    collect(connection, "events")
    collect(connection, "alerts")
    events = Event.objects.count()
    alarms = Alarm.objects.count()
    assert connection.health == Health.OK
    assert connection.message == (
        f"Connected; {events} new events, {alarms} new alarms in the last collection"
    )


def test_gap_older_than_window_is_reported(connection, simulator):
    job, _ = collect(connection)
    old = timezone.now() - timedelta(hours=30)
    type(job).objects.filter(pk=job.pk).update(last_success_at=old, cursor_saved_at=old)
    _, run = collect(connection)
    assert run.outcome == Outcome.WARNING
    assert "Data gap" in run.message
    assert old.strftime("%Y-%m-%d %H:%M") in run.message
    assert connection.health == Health.WARNING


def test_rejected_cursor_falls_back_once(connection, simulator):
    collect(connection)
    simulator.add_faults([{"route": "events", "kind": "reject_cursor", "times": 1}])
    simulator.clear_requests()
    job, run = collect(connection)
    sent = api_requests(simulator, "events")
    assert run.outcome == Outcome.WARNING
    assert "rejected the saved cursor" in run.message
    assert "from_date" in sent[1]["query"]
    assert job.cursor


def test_rejected_cursor_falls_back_only_once(connection, simulator, settings):
    settings.SOPHOS_PAGE_LIMIT = 200
    collect(connection)
    simulator.add_faults([{"route": "events", "kind": "reject_cursor", "times": None}])
    simulator.clear_requests()
    _, run = collect(connection)
    sent = api_requests(simulator, "events")
    assert run.outcome == Outcome.ERROR
    assert "rejected the saved cursor" in run.message
    assert len([r for r in sent if "from_date" in r["query"]]) == 1
    assert len(sent) == 3


def test_stuck_cursor_ends_with_warning(connection, simulator):
    collect(connection)
    simulator.add_faults([{"route": "events", "kind": "stuck_cursor", "times": None}])
    simulator.clear_requests()
    _, run = collect(connection)
    assert run.outcome == Outcome.WARNING
    assert "instead of asking for the same page again" in run.message
    assert len(api_requests(simulator, "events")) == 1


def test_page_budget_continues_next_run(connection, simulator, settings):
    settings.SOPHOS_PAGE_LIMIT = 200
    settings.COLLECTION_MAX_PAGES = 1
    job, run = collect(connection)
    assert run.pages == 1
    assert "Stopped after 1 page to stay" in run.message
    assert job.next_run_at <= timezone.now()
    settings.COLLECTION_MAX_PAGES = 50
    collect(connection)
    assert Event.objects.count() == len(served_ids(simulator, "events"))


def test_second_copy_is_skipped(connection, simulator):
    job = job_of(connection, "events")
    type(job).objects.filter(pk=job.pk).update(
        claim_token="other", claimed_until=timezone.now() + timedelta(minutes=3)
    )
    connection.refresh_from_db()
    health_before = connection.health
    _, run = collect(connection)
    assert run.outcome == Outcome.SKIPPED
    assert api_requests(simulator, "events") == []
    assert connection.health == health_before


def test_expired_claim_is_taken_over(connection, simulator):
    job = job_of(connection, "events")
    type(job).objects.filter(pk=job.pk).update(
        claim_token="dead", claimed_until=timezone.now() - timedelta(seconds=1)
    )
    _, run = collect(connection)
    assert run.outcome == Outcome.OK


@pytest.mark.parametrize("kind", ["hang", "trickle"])
def test_stalled_server_times_out(connection, simulator, kind):
    simulator.add_faults(
        [{"route": "events", "kind": kind, "seconds": 20, "interval": 1, "times": None}]
    )
    job, run = collect(connection)
    assert run.outcome == Outcome.ERROR
    assert "timed out" in run.message
    assert job.claim_token == ""
    assert connection.health == Health.ERROR


def test_retry_after_seconds_is_honoured(connection, simulator):
    simulator.add_faults(
        [
            {
                "route": "events",
                "kind": "status",
                "status": 429,
                "headers": {"Retry-After": "1"},
                "times": 1,
            }
        ]
    )
    _, run = collect(connection)
    assert run.outcome == Outcome.OK
    assert len(api_requests(simulator, "events")) == 2


def test_retry_after_http_date_is_honoured(connection, simulator):
    from email.utils import format_datetime

    when = format_datetime(timezone.now() + timedelta(seconds=2), usegmt=True)
    simulator.add_faults(
        [
            {
                "route": "events",
                "kind": "status",
                "status": 429,
                "headers": {"Retry-After": when},
                "times": 1,
            }
        ]
    )
    _, run = collect(connection)
    assert run.outcome == Outcome.OK


def test_rate_limit_past_cap_waits(connection, simulator):
    simulator.add_faults(
        [
            {
                "route": "events",
                "kind": "status",
                "status": 429,
                "headers": {"Retry-After": "600"},
                "times": 1,
            }
        ]
    )
    job, run = collect(connection)
    assert run.outcome == Outcome.WARNING
    assert "rate limited until" in run.message
    assert job.cursor == ""
    assert job.rate_limited_until > timezone.now() + timedelta(minutes=9)
    simulator.clear_requests()
    _, again = collect(connection)
    assert again.outcome == Outcome.SKIPPED
    assert api_requests(simulator, "events") == []
    type(job).objects.filter(pk=job.pk).update(next_run_at=timezone.now())
    dispatch_due_jobs()
    assert api_requests(simulator, "events") == []


def test_server_errors_retry_with_backoff(connection, simulator):
    simulator.add_faults(
        [{"route": "events", "kind": "status", "status": 503, "times": 2}]
    )
    _, run = collect(connection)
    assert run.outcome == Outcome.OK
    assert len(api_requests(simulator, "events")) == 3


def test_server_errors_exhaust_retries(connection, simulator, settings):
    simulator.add_faults(
        [{"route": "events", "kind": "status", "status": 502, "times": None}]
    )
    job, run = collect(connection)
    assert run.outcome == Outcome.ERROR
    assert "HTTP 502" in run.message
    assert len(api_requests(simulator, "events")) == settings.SOPHOS_MAX_ATTEMPTS
    assert job.cursor == ""
    assert Event.objects.count() == 0


def test_connection_reset_is_retried(connection, simulator):
    simulator.add_faults([{"route": "events", "kind": "reset", "times": 1}])
    _, run = collect(connection)
    assert run.outcome == Outcome.OK


@pytest.mark.parametrize(
    "fault, expected",
    [
        ({"kind": "status", "status": 401}, "rejected the API token"),
        ({"kind": "status", "status": 403}, "correlation id"),
        ({"kind": "status", "status": 404}, "did not recognise the address"),
        ({"kind": "status", "status": 418}, "HTTP 418"),
        ({"kind": "html"}, "not JSON (an HTML page)"),
        ({"kind": "empty"}, "not JSON (an empty body)"),
        ({"kind": "missing_field", "field": "next_cursor"}, "without next_cursor"),
        ({"kind": "oversized", "count": 1500}, "in a page of at most 1000"),
    ],
)
def test_failures_are_named(connection, simulator, fault, expected):
    simulator.add_faults([{"route": "events", "times": None, **fault}])
    job, run = collect(connection)
    assert run.outcome == Outcome.ERROR
    assert expected in run.message
    assert job.cursor == ""
    assert Event.objects.count() == 0
    assert connection.health == Health.ERROR


def test_wrong_token_is_rejected(simulator, sensor):
    connection = make_connection(simulator.token_block, sensor)
    simulator.revoke_token()
    _, run = collect(connection)
    assert run.http_status == 401
    assert "Renew it in Sophos Central" in connection.message
    assert simulator.api_key not in connection.message


def test_refused_connection_names_host(sensor, settings):
    settings.SOPHOS_EXTRA_API_HOSTS = ["http://127.0.0.1:9"]
    block = (
        "url: http://127.0.0.1:9/gateway, x-api-key: "
        + "a" * 40
        + ", Authorization: Basic dXNlcjpzZWNyZXQ="
    )
    connection = make_connection(block, sensor)
    _, run = collect(connection)
    assert run.outcome == Outcome.ERROR
    assert "127.0.0.1:9 was refused" in run.message


def test_dns_failure_names_host(sensor):
    block = (
        "url: https://api9.central.sophos.com/gateway, x-api-key: "
        + "a" * 40
        + ", Authorization: Basic dXNlcjpzZWNyZXQ="
    )
    connection = make_connection(block, sensor)
    # The no_outside_lookups fixture makes every lookup but loopback fail, as a
    # sensor with broken DNS would see it.
    _, run = collect(connection)
    assert run.outcome == Outcome.ERROR
    assert "Could not resolve api9.central.sophos.com" in run.message


def test_one_failure_does_not_stop_others(simulator, sensor, other_sensor):
    good = make_connection(simulator.token_block, sensor, streams=("events",))
    bad_block = simulator.token_block.replace(simulator.api_key, "b" * 40)
    bad = make_connection(bad_block, other_sensor, streams=("events",))
    dispatch_due_jobs()
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.health == Health.OK
    assert bad.health == Health.ERROR
    assert Event.objects.filter(connection=good).exists()


def test_bad_items_do_not_sink_page(connection, simulator):
    simulator.inject_events(
        [
            {
                "id": "bad-time",
                "type": "Event::Endpoint::UpdateSuccess",
                "when": "yesterday",
                "name": "x",
            },
            {
                "id": "bad-type",
                "type": 12,
                "severity": "apocalyptic",
                "when": timezone.now().isoformat(),
                "name": ["odd"],
            },
        ]
    )
    collect(connection)
    assert Event.objects.filter(external_id="bad-time").get().parse_note
    assert "severity" in Event.objects.get(external_id="bad-type").parse_note
    assert Event.objects.count() == len(served_ids(simulator, "events"))


def test_lookback_is_configurable(connection, simulator, settings):
    settings.SOPHOS_INITIAL_LOOKBACK_HOURS = 2
    before = timezone.now()
    collect(connection)
    start = int(api_requests(simulator, "events")[0]["query"]["from_date"])
    assert abs(start - (before - timedelta(hours=2)).timestamp()) < 5


def test_lookback_never_passes_window(connection, simulator, settings):
    settings.SOPHOS_INITIAL_LOOKBACK_HOURS = 48
    before = timezone.now()
    _, run = collect(connection)
    start = int(api_requests(simulator, "events")[0]["query"]["from_date"])
    assert start >= (before - timedelta(hours=23, minutes=59)).timestamp() - 1
    assert run.outcome == Outcome.OK


def test_renewed_token_keeps_cursors(connection, simulator, sensor):
    from alienapps.services import save_connection
    from alienapps.sophos.tokenblock import parse_token_block

    events_job, _ = collect(connection, "events")
    alerts_job, _ = collect(connection, "alerts")
    simulator.issue_token()
    leaks.register(simulator.api_key, simulator.authorization)
    save_connection(
        app=connection.alienapp,
        sensor=sensor,
        token_block=parse_token_block(simulator.token_block),
        streams={"events", "alerts"},
        token_expires_on=None,
        no_data_minutes=None,
        user=None,
        connection=connection,
    )
    assert job_of(connection, "events").cursor == events_job.cursor
    assert job_of(connection, "alerts").cursor == alerts_job.cursor
    assert connection.changes.filter(summary="token replaced").exists()


def test_second_dispatcher_queues_nothing(connection, simulator):
    assert dispatch_due_jobs() == 2
    assert dispatch_due_jobs() == 0
    assert CollectionRun.objects.filter(trigger="schedule").count() == 2


@pytest.mark.parametrize("echo", ["key", "authorization", "decoded"])
def test_echoed_token_is_redacted(connection, simulator, echo):
    import base64

    credential = simulator.authorization.removeprefix("Basic ")
    values = {
        "key": f"header x-api-key={simulator.api_key} not valid",
        "authorization": f"Authorization: {simulator.authorization} rejected",
        "decoded": f"user {base64.b64decode(credential).decode()} unknown",
    }
    simulator.add_faults(
        [
            {
                "route": "events",
                "kind": "status",
                "status": 422,
                "times": None,
                "body": json.dumps({"message": values[echo]}),
            }
        ]
    )
    _, run = collect(connection)
    assert run.outcome == Outcome.ERROR
    assert "<redacted>" in run.message
    assert simulator.api_key not in run.message
    assert credential not in run.message
    assert simulator.api_key not in connection.message


def test_configured_again_doubles_nothing(connection, simulator, sensor):
    from alienapps.services import remove_connection, save_connection
    from alienapps.sophos.tokenblock import parse_token_block

    collect(connection, "events")
    collect(connection, "alerts")
    alarm = Alarm.objects.first()
    alarm.status = Alarm.Status.CLOSED
    alarm.save()
    counts = (Event.objects.count(), Alarm.objects.count())
    remove_connection(connection, None)
    again = save_connection(
        app=connection.alienapp,
        sensor=sensor,
        token_block=parse_token_block(simulator.token_block),
        streams={"events", "alerts"},
        token_expires_on=None,
        no_data_minutes=None,
        user=None,
    )
    collect(again, "events")
    collect(again, "alerts")
    assert (Event.objects.count(), Alarm.objects.count()) == counts
    assert Alarm.objects.get(pk=alarm.pk).status == Alarm.Status.CLOSED
    assert not Event.objects.filter(connection__isnull=True).exists()


def test_check_makes_one_short_request(connection, simulator, settings):
    from alienapps.collector import check_job

    settings.SOPHOS_READ_TIMEOUT = 30
    simulator.add_faults(
        [{"route": "events", "kind": "status", "status": 503, "times": None}]
    )
    job = job_of(connection, "events")
    run = CollectionRun.objects.create(job=job, trigger="check")
    check_job(job.pk, run.pk)
    run.refresh_from_db()
    assert run.outcome == Outcome.ERROR
    assert len(api_requests(simulator, "events")) == 1
    job.refresh_from_db()
    assert job.cursor == ""


def test_fallback_note_names_real_gap(connection, simulator):
    job, _ = collect(connection)
    old = timezone.now() - timedelta(hours=30)
    type(job).objects.filter(pk=job.pk).update(cursor_saved_at=old, last_success_at=old)
    simulator.add_faults([{"route": "events", "kind": "reject_cursor", "times": 1}])
    _, run = collect(connection)
    assert "may be missing" in run.message
    assert old.strftime("%Y-%m-%d %H:%M") in run.message


def test_fallback_note_without_gap(connection, simulator):
    collect(connection)
    simulator.add_faults([{"route": "events", "kind": "reject_cursor", "times": 1}])
    _, run = collect(connection)
    assert "nothing is missing" in run.message
    assert "may be missing" not in run.message


def test_run_marks_sensor_seen(connection, simulator, sensor):
    assert sensor.last_seen is None
    collect(connection)
    sensor.refresh_from_db()
    assert sensor.last_seen is not None
