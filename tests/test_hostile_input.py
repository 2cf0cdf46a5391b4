"""Malformed and hostile items are stored safely or rejected cleanly, losing nothing.

These run on SQLite and on PostgreSQL (make test runs the suite on both); PostgreSQL
cannot store NUL in text, so the replacement of NUL characters matters there.
"""

import json

import pytest

from activity.models import Event
from alienapps.collector import run_job
from alienapps.models import CollectionRun
from tests.collection_helpers import job_of

pytestmark = pytest.mark.django_db(transaction=True)
Outcome = CollectionRun.Outcome
WHEN = "2026-12-04T10:00:00.000Z"


def page_body(items, cursor="VjJfQ1VSU09SfDIwMjYtMTItMDRUMTA6MDA6MDAuMDAwWg==") -> str:
    return json.dumps({"has_more": False, "next_cursor": cursor, "items": items})


def serve(simulator, body: str) -> None:
    simulator.add_faults(
        [{"route": "events", "kind": "status", "status": 200, "body": body, "times": 1}]
    )


def collect_events(connection):
    job = job_of(connection, "events")
    run = run_job(job.pk)
    job.refresh_from_db()
    return job, run


def test_nul_characters_are_replaced(connection, simulator):
    item = {
        "id": "nul-1",
        "type": "Event::Endpoint::Threat::Detected",
        "when": WHEN,
        "name": "Malware detected: 'bad\u0000name' at 'C:\\x\u0000y'",
        "location": "PC\u0000-1",
    }
    serve(simulator, page_body([item]))
    _, run = collect_events(connection)
    event = Event.objects.get(external_id="nul-1")
    assert run.outcome == Outcome.OK
    assert "\x00" not in event.event_name
    assert event.source_name == "PC\ufffd-1"
    assert "NUL" in event.parse_note
    assert json.loads(event.log)["location"] == "PC\u0000-1"


def test_lone_surrogates_are_replaced(connection, simulator):
    body = page_body([]).replace(
        '"items": []',
        '"items": [{"id": "sur-1", "when": "%s", "name": "broken \\ud800 text"}]'
        % WHEN,
    )
    serve(simulator, body)
    _, run = collect_events(connection)
    event = Event.objects.get(external_id="sur-1")
    assert run.outcome == Outcome.OK
    assert event.event_name == "broken \ufffd text"
    assert "\\ud800" in event.log


def test_huge_numbers_do_not_sink_page(connection, simulator):
    body = page_body([]).replace(
        '"items": []',
        '"items": [{"id": "num-1", "when": 1%s, "name": "big", "severity": 1e999},'
        ' {"id": "num-2", "when": "%s", "name": "fine"}]' % ("0" * 5000, WHEN),
    )
    serve(simulator, body)
    _, run = collect_events(connection)
    assert run.outcome == Outcome.OK
    assert Event.objects.filter(external_id__in=["num-1", "num-2"]).count() == 2
    assert Event.objects.get(external_id="num-1").parse_note


def test_deep_nesting_is_stored(connection, simulator):
    nested = {"id": "deep-1", "when": WHEN, "name": "deep"}
    node = nested
    for _ in range(200):
        node["details"] = {"child": {}}
        node = node["details"]["child"]
    serve(simulator, page_body([nested]))
    _, run = collect_events(connection)
    assert run.outcome == Outcome.OK
    assert Event.objects.filter(external_id="deep-1").exists()


def test_too_deep_nesting_rejects_page(connection, simulator):
    collect_events(connection)
    stored = Event.objects.count()
    job = job_of(connection, "events")
    body = page_body([]).replace(
        '"items": []', '"items": [' + "[" * 100_000 + "]" * 100_000 + "]"
    )
    serve(simulator, body)
    after, run = collect_events(connection)
    assert run.outcome == Outcome.ERROR
    assert "nested too deeply" in run.message
    assert after.cursor == job.cursor
    assert Event.objects.count() == stored


def test_non_object_items_are_kept(connection, simulator):
    serve(simulator, page_body(["a string", 42, None, ["list"]]))
    _, run = collect_events(connection)
    assert run.outcome == Outcome.OK
    assert run.items == 4
    assert all(e.parse_note for e in Event.objects.all())


def test_long_and_typographic_strings_survive(connection, simulator):
    name = "“Quoted” ‘name’ with emoji 🛡️🔥 and ″primes′ " + "x" * 100_000
    serve(simulator, page_body([{"id": "long-1", "when": WHEN, "name": name}]))
    collect_events(connection)
    assert Event.objects.get(external_id="long-1").event_name == name
