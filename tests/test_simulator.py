"""Tests of the Sophos Central SIEM simulator over a real socket."""

import base64
import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from alienapps.sophos.simulator import Simulator
from alienapps.sophos.simulator.catalogue import NOISY_TYPES
from alienapps.sophos.simulator.store import Position, encode_cursor
from alienapps.sophos.simulator.times import iso_ms, parse_time, to_ms

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS = "/gateway/siem/v1/events"
ALERTS = "/gateway/siem/v1/alerts"
SAMPLES = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "sophos-samples" / "raw"
)
ISO_MS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TOKEN_BLOCK = re.compile(
    r"url: (?P<url>http://127\.0\.0\.1:\d+/gateway), "
    r"x-api-key: (?P<key>[A-Za-z0-9]{40}), "
    r"Authorization: Basic (?P<basic>[A-Za-z0-9+/]+=*)"
)


@pytest.fixture
def sim():
    simulator = Simulator(seed=7, backlog_events=3000, events_per_minute=0).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def empty_sim():
    simulator = Simulator(seed=7, backlog_events=0, events_per_minute=0).start()
    yield simulator
    simulator.stop()


def auth(sim: Simulator) -> dict:
    return {"x-api-key": sim.api_key, "Authorization": sim.authorization}


def get(sim: Simulator, path: str, params=None, headers=None, **kwargs):
    headers = auth(sim) if headers is None else headers
    return requests.get(
        sim.url + path, params=params, headers=headers, timeout=10, **kwargs
    )


def decode(cursor: str) -> str:
    return base64.b64decode(cursor).decode()


def collect(sim: Simulator, path: str, params=None, max_pages: int = 1000) -> list:
    """Page from the given start to the end and return the pages' JSON bodies."""
    params = dict(params or {})
    pages = []
    for _ in range(max_pages):
        page = get(sim, path, params).json()
        pages.append(page)
        if not page["has_more"]:
            break
        params.pop("from_date", None)
        params["cursor"] = page["next_cursor"]
    return pages


def served_ids(pages: list) -> list[str]:
    return [item.get("id") for page in pages for item in page["items"]]


def event_at(moment_ms: int, **fields) -> dict:
    item = {
        "id": str(uuid.uuid4()),
        "type": "Event::Endpoint::UpdateSuccess",
        "name": "Update succeeded",
        "severity": "low",
        "when": iso_ms(moment_ms),
        "created_at": iso_ms(moment_ms),
    }
    item.update(fields)
    return item


# Authentication


def test_auth_missing_headers(sim):
    response = get(sim, EVENTS, headers={})

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error", "correlationId", "requestId"}
    assert body["error"] == "Unauthorized"
    assert uuid.UUID(body["correlationId"])
    assert uuid.UUID(body["requestId"])


def test_auth_wrong_key(sim):
    headers = {"x-api-key": "A" * 40, "Authorization": sim.authorization}

    assert get(sim, EVENTS, headers=headers).status_code == 401


def test_auth_wrong_basic(sim):
    headers = {"x-api-key": sim.api_key, "Authorization": "Basic Zm9vOmJhcg=="}

    assert get(sim, EVENTS, headers=headers).status_code == 401


def test_auth_only_one_header(sim):
    assert get(sim, EVENTS, headers={"x-api-key": sim.api_key}).status_code == 401
    assert (
        get(sim, ALERTS, headers={"Authorization": sim.authorization}).status_code
        == 401
    )


def test_auth_header_names_any_case(sim):
    headers = {"X-API-KEY": sim.api_key, "AUTHORIZATION": sim.authorization}

    assert get(sim, EVENTS, headers=headers).status_code == 200
    assert get(sim, ALERTS, headers=headers).status_code == 200


def test_token_block_format(sim):
    match = TOKEN_BLOCK.fullmatch(sim.token_block)

    assert match is not None
    assert match["url"] == sim.url + "/gateway"
    assert match["key"] == sim.api_key
    assert "Basic " + match["basic"] == sim.authorization
    user, _, secret = base64.b64decode(match["basic"]).decode().partition(":")
    assert uuid.UUID(user)
    assert secret


def test_token_rotation(sim):
    old = auth(sim)
    block = sim.issue_token()

    assert get(sim, EVENTS, headers=old).status_code == 401
    assert get(sim, EVENTS).status_code == 200
    assert block == sim.token_block
    assert sim.api_key != old["x-api-key"]


def test_token_revoked(sim):
    sim.revoke_token()

    assert get(sim, EVENTS).status_code == 401


# Query parameters


def test_limit_default_200(sim):
    body = get(sim, EVENTS).json()

    assert len(body["items"]) == 200
    assert body["has_more"] is True


@pytest.mark.parametrize("limit", ["199", "1001", "0", "-5", "abc", "", "2.5", "1e3"])
def test_limit_invalid(sim, limit):
    response = get(sim, EVENTS, {"limit": limit})

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "badRequest"
    assert "limit" in body["message"]
    assert set(body) == {"error", "correlationId", "requestId", "message", "createdAt"}
    assert ISO_MS_Z.fullmatch(body["createdAt"])


@pytest.mark.parametrize("limit", [200, 555, 1000])
def test_limit_valid(sim, limit):
    response = get(sim, EVENTS, {"limit": limit})

    assert response.status_code == 200
    assert len(response.json()["items"]) == limit


def test_from_date_too_old(sim):
    too_old = int(sim.now().timestamp()) - 24 * 3600 - 60

    response = get(sim, EVENTS, {"from_date": too_old})

    assert response.status_code == 400
    assert "from_date" in response.json()["message"]


def test_from_date_future(sim):
    future = int(sim.now().timestamp()) + 600

    response = get(sim, ALERTS, {"from_date": future})

    assert response.status_code == 400
    assert "from_date" in response.json()["message"]


def test_from_date_not_integer(sim):
    response = get(sim, EVENTS, {"from_date": "yesterday"})

    assert response.status_code == 400
    assert "from_date" in response.json()["message"]


def test_from_date_starts_window(sim):
    start = int(sim.now().timestamp()) - 3 * 3600

    pages = collect(sim, EVENTS, {"limit": 1000, "from_date": start})
    whens = [parse_time(item["when"]) for page in pages for item in page["items"]]

    assert whens
    assert min(whens) >= start * 1000
    expected = [e for e in sim.events() if parse_time(e["when"]) >= start * 1000]
    assert len(whens) == len(expected)


def test_from_date_ignored_with_cursor(sim):
    first = get(sim, EVENTS).json()
    params = {"cursor": first["next_cursor"], "from_date": "not-a-number"}

    response = get(sim, EVENTS, params)

    assert response.status_code == 200
    assert response.json()["items"][0]["id"] != first["items"][0]["id"]


def test_unknown_parameters_ignored(sim):
    response = get(sim, EVENTS, {"limit": 300, "page": "2", "X-Timestamp": "now"})

    assert response.status_code == 200
    assert len(response.json()["items"]) == 300


def test_no_start_means_window_start(sim):
    body = get(sim, EVENTS, {"limit": 1000}).json()
    oldest = min(parse_time(e["when"]) for e in sim.events())

    assert parse_time(body["items"][0]["when"]) == oldest


# Paging and cursors


def test_paging_complete(sim):
    pages = collect(sim, EVENTS, {"limit": 200})
    ids = served_ids(pages)

    assert len(ids) == len(set(ids))
    assert set(ids) == {event["id"] for event in sim.events()}
    assert all(page["has_more"] for page in pages[:-1])
    assert pages[-1]["has_more"] is False
    assert all(page["next_cursor"] for page in pages)


def test_paging_order(sim):
    pages = collect(sim, EVENTS, {"limit": 1000})
    keys = [(parse_time(i["when"]), i["id"]) for page in pages for i in page["items"]]

    assert keys == sorted(keys)


def test_paging_across_ties(empty_sim):
    moment = empty_sim.clock.now_ms() - 3_600_000
    empty_sim.inject_events([event_at(moment) for _ in range(450)])

    pages = collect(empty_sim, EVENTS, {"limit": 200})
    ids = served_ids(pages)

    assert [len(page["items"]) for page in pages] == [200, 200, 50]
    assert len(set(ids)) == 450


def test_backlog_has_ties_across_pages(sim):
    pages = collect(sim, EVENTS, {"limit": 200})
    whens = [item["when"] for page in pages for item in page["items"]]

    assert len(whens) > len(set(whens))


def test_last_cursor_resumes_empty(sim):
    pages = collect(sim, EVENTS, {"limit": 1000})
    last = pages[-1]["next_cursor"]

    again = get(sim, EVENTS, {"cursor": last}).json()

    assert again["items"] == []
    assert again["has_more"] is False
    assert again["next_cursor"] == last


def test_empty_page_has_cursor(empty_sim):
    body = get(empty_sim, EVENTS).json()

    assert body["items"] == []
    assert body["has_more"] is False
    assert decode(body["next_cursor"]).startswith("V2_CURSOR|")


def test_cursor_shapes(sim):
    events = get(sim, EVENTS).json()
    alerts = get(sim, ALERTS).json()

    event_parts = decode(events["next_cursor"]).split("|")
    alert_parts = decode(alerts["next_cursor"]).split("|")
    assert event_parts[0] == "V2_CURSOR"
    assert ISO_MS_Z.fullmatch(event_parts[1])
    assert event_parts[2] == events["items"][-1]["id"]
    assert alert_parts[0] == "0"
    assert ISO_MS_Z.fullmatch(alert_parts[1])


def test_cursor_time_is_last_key(sim):
    body = get(sim, EVENTS).json()

    assert decode(body["next_cursor"]).split("|")[1] == body["items"][-1]["when"]


def test_created_at_ordering():
    with Simulator(
        seed=3, backlog_events=500, events_per_minute=0, ordering="created_at"
    ) as simulator:
        body = get(simulator, EVENTS).json()
        keys = [parse_time(item["created_at"]) for item in body["items"]]

        assert keys == sorted(keys)
        assert (
            decode(body["next_cursor"]).split("|")[1] == body["items"][-1]["created_at"]
        )


def plus_cursor(sim: Simulator) -> str:
    """Return an events cursor whose base64 contains `+`, 20 hours back.

    Base64 of ASCII text has `+` only where `~` or `>` sits at certain offsets, so the
    cursor's tie-break id is made of `~`.
    """
    moment = sim.clock.now_ms() - 20 * 3600 * 1000
    for length in range(1, 4):
        cursor = encode_cursor("events", Position(moment, "~" * length))
        if "+" in cursor:
            return cursor
    raise AssertionError("no cursor with '+' found")


def test_cursor_raw_and_encoded(sim):
    cursor = plus_cursor(sim)
    raw = requests.get(
        f"{sim.url}{EVENTS}?limit=200&cursor={cursor}", headers=auth(sim), timeout=10
    )
    encoded = get(sim, EVENTS, {"limit": 200, "cursor": cursor})
    spaced = requests.get(
        f"{sim.url}{EVENTS}?cursor={cursor.replace('+', '%20')}",
        headers=auth(sim),
        timeout=10,
    )

    assert "+" in raw.request.url
    assert raw.status_code == 200
    assert encoded.status_code == 200
    assert spaced.status_code == 200
    assert raw.json()["items"] == encoded.json()["items"]
    assert spaced.json()["items"] == encoded.json()["items"]


def test_cursor_sophos_form_accepted(sim):
    moment = sim.clock.now_ms() - 6 * 3600 * 1000
    text = f"V2_CURSOR|{iso_ms(moment)}"
    cursor = base64.b64encode(text.encode()).decode()

    body = get(sim, EVENTS, {"cursor": cursor}).json()

    assert body["items"]
    assert all(parse_time(item["when"]) > moment for item in body["items"])


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (EVENTS, "garbage"),
        (EVENTS, "V2_CURSOR|yesterday"),
        (EVENTS, "V2_CURSOR|2024-13-14T16:45:12.309Z"),
        (EVENTS, "0|2024-03-14T16:41:02.117Z"),
        (ALERTS, "V2_CURSOR|2024-03-14T16:45:12.309Z"),
        (ALERTS, "x|2024-03-14T16:41:02.117Z"),
    ],
)
def test_cursor_wrong_shape(sim, path, text):
    cursor = base64.b64encode(text.encode()).decode()

    response = get(sim, path, {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["error"] == "badRequest"
    assert "cursor" in response.json()["message"]


def test_cursor_not_base64(sim):
    response = get(sim, EVENTS, {"cursor": "%%%not base64!!"})

    assert response.status_code == 400
    assert "cursor" in response.json()["message"]


def test_old_cursor_clamped(sim):
    old = sim.clock.now_ms() - 48 * 3600 * 1000
    cursor = encode_cursor("events", Position.at_or_after(old))

    clamped = get(sim, EVENTS, {"cursor": cursor})
    fresh = get(sim, EVENTS)

    assert clamped.status_code == 200
    assert clamped.json()["items"] == fresh.json()["items"]


def test_old_alerts_cursor_clamped(sim):
    text = f"0|{iso_ms(sim.clock.now_ms() - 30 * 3600 * 1000)}"
    cursor = base64.b64encode(text.encode()).decode()

    response = get(sim, ALERTS, {"cursor": cursor})

    assert response.status_code == 200
    assert response.json()["items"] == get(sim, ALERTS).json()["items"]


def test_window_drops_old_data(sim):
    before = served_ids(collect(sim, EVENTS, {"limit": 1000}))
    sim.advance(12 * 3600)

    after = served_ids(collect(sim, EVENTS, {"limit": 1000}))
    floor = sim.clock.now_ms() - 24 * 3600 * 1000

    assert 0 < len(after) < len(before)
    assert all(parse_time(e["when"]) >= floor for e in sim.events() if e["id"] in after)


def test_old_injected_event_not_served(empty_sim):
    old = empty_sim.clock.now_ms() - 25 * 3600 * 1000
    empty_sim.inject_events([event_at(old)])

    assert get(empty_sim, EVENTS).json()["items"] == []


def test_unstored_event_not_served(empty_sim):
    now = empty_sim.clock.now_ms()
    item = event_at(now - 5000, created_at=iso_ms(now + 3_600_000))
    empty_sim.inject_events([item])

    assert get(empty_sim, EVENTS).json()["items"] == []
    empty_sim.advance(3601)
    assert served_ids([get(empty_sim, EVENTS).json()]) == [item["id"]]


# exclude_types and from_date_offset_minutes


def test_exclude_types_noisy(sim):
    params = {"limit": 1000, "exclude_types": ",".join(NOISY_TYPES)}
    types = {i["type"] for page in collect(sim, EVENTS, params) for i in page["items"]}

    assert types
    for name in NOISY_TYPES:
        assert name not in types
        assert not any(t.startswith(name + "::") for t in types)


def test_exclude_types_suffixed(sim):
    params = {"limit": 1000, "exclude_types": "Event::Endpoint::UpdateFailure"}
    types = Counter(i["type"] for p in collect(sim, EVENTS, params) for i in p["items"])
    stored = Counter(e["type"] for e in sim.events())

    assert stored["Event::Endpoint::UpdateFailure::DOWNLOAD_FAILED"] > 0
    assert types["Event::Endpoint::UpdateFailure::DOWNLOAD_FAILED"] == 0
    assert types["Event::Endpoint::UpdateFailure"] == 0
    assert (
        types["Event::Endpoint::UpdateSuccess"]
        == stored["Event::Endpoint::UpdateSuccess"]
    )


def test_exclude_types_needs_full_segment(sim):
    params = {"limit": 1000, "exclude_types": "Event::Endpoint::Update"}
    types = Counter(i["type"] for p in collect(sim, EVENTS, params) for i in p["items"])

    assert types["Event::Endpoint::UpdateSuccess"] > 0


def test_offset_holds_back_recent(empty_sim):
    now = empty_sim.clock.now_ms()
    old, recent = event_at(now - 30 * 60_000), event_at(now - 2 * 60_000)
    empty_sim.inject_events([old, recent])

    body = get(empty_sim, EVENTS, {"from_date_offset_minutes": 10}).json()
    later = get(empty_sim, EVENTS, {"cursor": body["next_cursor"]}).json()

    assert served_ids([body]) == [old["id"]]
    assert parse_time(decode(body["next_cursor"]).split("|")[1]) <= now - 10 * 60_000
    assert served_ids([later]) == [recent["id"]]


def test_offset_negative_rejected(sim):
    response = get(sim, EVENTS, {"from_date_offset_minutes": -1})

    assert response.status_code == 400
    assert "from_date_offset_minutes" in response.json()["message"]


def test_future_when_becomes_checkpoint(empty_sim):
    now = empty_sim.clock.now_ms()
    ahead = event_at(now + 20 * 60_000, created_at=iso_ms(now - 1000))
    empty_sim.inject_events([ahead])

    body = get(empty_sim, EVENTS).json()

    assert served_ids([body]) == [ahead["id"]]
    assert decode(body["next_cursor"]).split("|")[1] == ahead["when"]


def test_offset_avoids_ahead_clock_loss(empty_sim):
    now = empty_sim.clock.now_ms()
    normal = event_at(now - 30 * 60_000)
    ahead = event_at(now + 10 * 60_000, created_at=iso_ms(now - 1000))
    late = event_at(now - 20 * 60_000, created_at=iso_ms(now + 500))
    empty_sim.inject_events([normal, ahead, late])

    plain = get(empty_sim, EVENTS).json()
    delayed = get(empty_sim, EVENTS, {"from_date_offset_minutes": 15}).json()
    empty_sim.advance(1)
    plain_next = get(empty_sim, EVENTS, {"cursor": plain["next_cursor"]}).json()
    delayed_next = get(
        empty_sim,
        EVENTS,
        {"cursor": delayed["next_cursor"], "from_date_offset_minutes": 15},
    ).json()

    assert served_ids([plain]) == [normal["id"], ahead["id"]]
    assert served_ids([plain_next]) == []
    assert served_ids([delayed]) == [normal["id"]]
    assert served_ids([delayed_next]) == [late["id"]]


# Generated data


def test_alerts_share_event_ids(sim):
    events = {event["id"]: event for event in sim.events()}
    alerts = [
        i for page in collect(sim, ALERTS, {"limit": 1000}) for i in page["items"]
    ]

    assert alerts
    for alert in alerts:
        event = events[alert["id"]]
        assert alert["event_service_event_id"] == alert["id"]
        assert alert["data"]["event_service_id"] == alert["id"]
        assert alert["type"] == event["type"]
        assert alert["description"] == event["name"]
        assert alert["data"]["endpoint_id"] == event["endpoint_id"]
        assert alert["customer_id"] == event["customer_id"]


def test_alert_data_epoch_ms(sim):
    alert = get(sim, ALERTS).json()["items"][0]

    for key in ("created_at", "inserted_at", "make_actionable_at"):
        assert isinstance(alert["data"][key], int)
    assert alert["data"]["created_at"] == parse_time(alert["created_at"])
    assert alert["info"] is None
    assert "threat_cleanable" in alert


def test_backlog_alerts_count():
    with Simulator(
        seed=5, backlog_events=800, backlog_alerts=25, events_per_minute=0
    ) as simulator:
        alerts = simulator.alerts()

        assert len(alerts) == 25
        assert {a["id"] for a in alerts} <= {e["id"] for e in simulator.events()}


def test_backlog_alerts_too_many():
    with pytest.raises(ValueError, match="backlog_alerts"):
        Simulator(backlog_events=10, backlog_alerts=11)


def test_event_fields(sim):
    events = sim.events()

    for event in events:
        assert ISO_MS_Z.fullmatch(event["when"])
        assert ISO_MS_Z.fullmatch(event["created_at"])
        assert parse_time(event["created_at"]) >= parse_time(event["when"])
        assert event["severity"] in ("low", "medium", "high")
        assert event["group"] == event["group"].upper()
        assert "origin" in event
        assert "threat" in event
        assert "ip" in event["source_info"]


def test_event_mix(sim):
    types = Counter(event["type"] for event in sim.events())

    assert len(types) > 40
    assert sum(types[name] for name in NOISY_TYPES) > len(sim.events()) / 3
    assert types["Event::Endpoint::Threat::IpsInboundDetection"] > 0
    assert types["Event::Endpoint::CoreAmsiBlocked::1"] > 0
    assert types["Event::Endpoint::DataLossPreventionUserAllowed"] > 0
    assert types["Event::Endpoint::WebControlViolation::BLOCKED"] > 0


def test_event_templates(sim):
    events = sim.events()
    by_type = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)

    assert all(
        e["name"] == "Update succeeded"
        for e in by_type["Event::Endpoint::UpdateSuccess"]
    )
    assert all(
        re.fullmatch(r"Malware detected: '.+' at '.+'", e["name"])
        for e in by_type["Event::Endpoint::CoreDetection"]
    )
    assert all(
        re.fullmatch(r"Scan '.+' completed", e["name"])
        for e in by_type["Event::Endpoint::SavScanComplete"]
    )
    assert all("{" not in e["name"] for e in events)


def test_ips_and_amsi_data(sim):
    events = sim.events()
    ips = [e for e in events if e["type"].endswith("IpsInboundDetection")]
    amsi = [e for e in events if e["type"] == "Event::Endpoint::CoreAmsiBlocked::1"]

    assert "Remote IP:" in ips[0]["ips_threat_data"]["rawData"]
    assert ips[0]["ips_threat_data"]["detectionType"] == 0
    assert ips[0]["threat"].startswith("IPS/Inbound/")
    assert amsi[0]["amsi_threat_data"]["processName"] == "powershell.exe"


def test_dlp_primes(sim):
    dlp = [e for e in sim.events() if e["type"].startswith("Event::Endpoint::DataLoss")]

    assert "\u2033" in dlp[0]["name"]
    assert "\u2032" in dlp[0]["name"]
    assert "  Username: " in dlp[0]["name"]


def test_devices_and_users(sim):
    events = [e for e in sim.events() if e["endpoint_id"]]
    hosts = {}
    for event in events:
        hosts.setdefault(event["endpoint_id"], set()).add(event["location"])

    assert len(hosts) >= 8
    assert all(len(names) == 1 for names in hosts.values())
    assert any(re.fullmatch(r"CORP\\[a-z]+", e["source"]) for e in events)


def test_seed_deterministic():
    moment = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    first = Simulator(seed=11, backlog_events=300, events_per_minute=0, now=moment)
    second = Simulator(seed=11, backlog_events=300, events_per_minute=0, now=moment)
    other = Simulator(seed=12, backlog_events=300, events_per_minute=0, now=moment)

    assert first.events() == second.events()
    assert first.alerts() == second.alerts()
    assert first.events() != other.events()


def test_fixed_start_time():
    moment = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    simulator = Simulator(backlog_events=100, events_per_minute=0, now=moment)
    newest = max(parse_time(e["when"]) for e in simulator.events())

    assert abs(simulator.now() - moment) < timedelta(seconds=5)
    assert to_ms(moment) - 24 * 3600 * 1000 < newest <= to_ms(moment)


def test_naive_time_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        Simulator(backlog_events=0, now=datetime(2025, 5, 1, 12, 0))


# Live stream and clock


def test_live_stream_follows_clock():
    simulator = Simulator(seed=2, backlog_events=0, events_per_minute=60).start()
    try:
        simulator.advance(600)
        pages = collect(simulator, EVENTS, {"limit": 1000})
        count = len(served_ids(pages))

        assert 400 < count < 900
        assert len(simulator.alerts()) > 0
    finally:
        simulator.stop()


def test_live_paging_misses_nothing():
    simulator = Simulator(seed=4, backlog_events=0, events_per_minute=600).start()
    try:
        seen, cursor = [], None
        for _ in range(20):
            simulator.advance(7)
            params = {"cursor": cursor} if cursor else {}
            for page in collect(simulator, EVENTS, params):
                seen += served_ids([page])
                cursor = page["next_cursor"]
        simulator.advance(10)
        seen += served_ids(collect(simulator, EVENTS, {"cursor": cursor}))
        stored = [
            e["id"]
            for e in simulator.events()
            if parse_time(e["created_at"]) <= simulator.clock.now_ms()
        ]

        assert len(seen) == len(set(seen))
        assert set(stored) <= set(seen)
    finally:
        simulator.stop()


def test_set_now(sim):
    target = datetime.now(UTC) + timedelta(hours=30)
    sim.set_now(target)

    assert abs(sim.now() - target) < timedelta(seconds=5)
    assert get(sim, EVENTS).json()["items"] == []


# Loading sample files


def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*")) if SAMPLES.is_dir() else []


COMMON_API_ONLY = ("demisto_content", "rapid7_insightconnect")


@pytest.mark.skipif(not sample_files(), reason="sample records are not available")
@pytest.mark.parametrize("path", sample_files(), ids=lambda path: path.name[:60])
def test_sample_file_loads(empty_sim, path):
    count = empty_sim.load_file(path)

    if path.name.startswith(COMMON_API_ONLY):
        assert count == 0
    else:
        assert count > 0
    served = served_ids(collect(empty_sim, EVENTS, {"limit": 1000}))
    served += served_ids(collect(empty_sim, ALERTS, {"limit": 1000}))
    assert len(served) == count


@pytest.mark.skipif(not sample_files(), reason="sample records are not available")
def test_sample_files_totals(empty_sim):
    for path in sample_files():
        empty_sim.load_file(path)

    assert len(empty_sim.events()) == 30
    assert len(empty_sim.alerts()) == 6


@pytest.mark.skipif(not sample_files(), reason="sample records are not available")
def test_sample_script_output_mapped(empty_sim):
    empty_sim.load_file(next(SAMPLES.glob("*event_registered.json")))
    event = get(empty_sim, EVENTS).json()["items"][0]

    assert event["id"] == "11111111-1111-1111-1111-111111111111"
    assert event["location"] == "HOSTNAME"
    assert event["type"] == "Event::Endpoint::Registered"
    assert ISO_MS_Z.fullmatch(event["when"])
    assert "end" not in event
    assert "datastream" not in event


@pytest.mark.skipif(not sample_files(), reason="sample records are not available")
def test_sample_times_shifted(empty_sim):
    path = next(SAMPLES.glob("elastic*alert*test-pipeline-activity.log"))
    original = json.loads(path.read_text())
    empty_sim.load_file(path)

    alert = get(empty_sim, ALERTS).json()["items"][0]
    shift = parse_time(alert["when"]) - parse_time(original["when"])

    assert alert["id"] == original["id"]
    assert alert["description"] == original["description"]
    assert parse_time(alert["created_at"]) - parse_time(original["created_at"]) == shift
    assert alert["data"]["created_at"] - original["data"]["created_at"] == shift


def test_load_ndjson_and_envelope(empty_sim, tmp_path):
    now = empty_sim.clock.now_ms()
    ndjson = tmp_path / "events.ndjson"
    ndjson.write_text("\n".join(json.dumps(event_at(now - i)) for i in range(3)))
    envelope = tmp_path / "alerts.json"
    alert = {
        "id": str(uuid.uuid4()),
        "description": "x",
        "data": {},
        "when": iso_ms(now - 10**10),
        "created_at": iso_ms(now - 10**10),
    }
    envelope.write_text(json.dumps({"has_more": False, "items": [alert]}))

    assert empty_sim.load_file(ndjson) == 3
    assert empty_sim.load_file(envelope) == 1
    assert served_ids([get(empty_sim, ALERTS).json()]) == [alert["id"]]


def test_load_invalid_file(empty_sim, tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text("this is { not json")

    with pytest.raises(ValueError, match="not JSON"):
        empty_sim.load_file(path)


def test_injected_items_served_as_is(empty_sim):
    now = empty_sim.clock.now_ms()
    item = event_at(now - 1000, extra={"nested": [1, None]}, origin=None)
    empty_sim.inject_events([item])

    assert get(empty_sim, EVENTS).json()["items"] == [item]


# Faults


def test_fault_status_with_retry_after(sim):
    sim.add_faults(
        [
            {
                "route": "events",
                "kind": "status",
                "status": 429,
                "headers": {"Retry-After": "2"},
            }
        ]
    )

    response = get(sim, EVENTS)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"] == "tooManyRequests"
    assert get(sim, EVENTS).status_code == 200


def test_fault_status_http_date(sim):
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    sim.add_faults(
        [{"kind": "status", "status": 503, "headers": {"Retry-After": date}}]
    )

    response = get(sim, ALERTS)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == date


def test_fault_status_documented_bodies(sim):
    sim.add_faults(
        [{"kind": "status", "status": 403}, {"kind": "status", "status": 500}]
    )

    forbidden = get(sim, EVENTS).json()
    server_error = get(sim, EVENTS).json()

    assert forbidden["error"] == "forbidden"
    assert forbidden["message"] == "Forbidden"
    assert ISO_MS_Z.fullmatch(forbidden["createdAt"])
    assert server_error["error"] == "internalServerError"
    assert server_error["message"] == "Internal Server Error."


def test_fault_status_custom_body(sim):
    sim.add_faults(
        [
            {"kind": "status", "status": 502, "body": "upstream down"},
            {"kind": "status", "status": 400, "body": {"odd": True}},
        ]
    )

    text = get(sim, EVENTS)
    custom = get(sim, EVENTS)

    assert text.status_code == 502
    assert text.text == "upstream down"
    assert custom.json() == {"odd": True}


def test_fault_route_scoping(sim):
    sim.add_faults([{"route": "alerts", "kind": "status", "status": 500}])

    assert get(sim, EVENTS).status_code == 200
    assert get(sim, ALERTS).status_code == 500
    assert get(sim, ALERTS).status_code == 200


def test_fault_order_and_times(sim):
    sim.add_faults(
        [
            {"route": "*", "kind": "status", "status": 502, "times": 2},
            {"route": "events", "kind": "status", "status": 504},
        ]
    )

    statuses = [get(sim, EVENTS).status_code for _ in range(4)]

    assert statuses == [502, 502, 504, 200]


def test_fault_until_cleared(sim):
    sim.add_faults([{"kind": "status", "status": 503, "times": None}])

    assert [get(sim, EVENTS).status_code for _ in range(3)] == [503, 503, 503]
    sim.clear_faults()
    assert get(sim, EVENTS).status_code == 200


def test_fault_delay(sim):
    sim.add_faults([{"kind": "delay", "seconds": 0.6}])
    started = time.monotonic()

    response = get(sim, EVENTS)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.6


def test_fault_hang_client_timeout(sim):
    sim.add_faults([{"kind": "hang", "seconds": 5}])

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(sim.url + EVENTS, headers=auth(sim), timeout=0.5)


def test_fault_hang_ends_closed(sim):
    sim.add_faults([{"kind": "hang", "seconds": 0.3}])

    with pytest.raises(requests.exceptions.ConnectionError):
        get(sim, EVENTS)
    assert sim.requests[-1]["status"] is None


def test_fault_trickle(empty_sim):
    empty_sim.add_faults([{"kind": "trickle", "interval": 0.01}])
    started = time.monotonic()

    response = get(empty_sim, EVENTS)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["items"] == []
    assert elapsed >= len(response.content) * 0.01 * 0.8


def test_fault_trickle_read_timeout(sim):
    sim.add_faults([{"kind": "trickle", "interval": 1.0}])

    with pytest.raises(requests.exceptions.ConnectionError):
        response = requests.get(sim.url + EVENTS, headers=auth(sim), timeout=0.5)
        response.content  # noqa: B018


def test_fault_html(sim):
    sim.add_faults([{"kind": "html"}])

    response = get(sim, EVENTS)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_fault_empty(sim):
    sim.add_faults([{"kind": "empty"}])

    response = get(sim, EVENTS)

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("field", ["next_cursor", "has_more", "items"])
def test_fault_missing_field(sim, field):
    sim.add_faults([{"kind": "missing_field", "field": field}])

    body = get(sim, EVENTS).json()

    assert field not in body
    assert len(body) == 2


def test_fault_stuck_cursor(sim):
    first = get(sim, EVENTS).json()
    sim.add_faults([{"kind": "stuck_cursor"}])

    stuck = get(sim, EVENTS, {"cursor": first["next_cursor"]}).json()

    assert stuck["next_cursor"] == first["next_cursor"]
    assert stuck["has_more"] is True


def test_fault_duplicate(sim):
    first = get(sim, EVENTS).json()
    sim.add_faults([{"kind": "duplicate"}])

    second = get(sim, EVENTS, {"cursor": first["next_cursor"]}).json()
    ids = served_ids([second])

    assert ids[: len(first["items"])] == served_ids([first])
    assert len(ids) == 2 * len(first["items"])


def test_fault_reject_cursor(sim):
    first = get(sim, EVENTS).json()
    sim.add_faults([{"kind": "reject_cursor", "times": None}])

    rejected = get(sim, EVENTS, {"cursor": first["next_cursor"]})
    from_date = get(sim, EVENTS, {"from_date": int(sim.now().timestamp()) - 3600})

    assert rejected.status_code == 400
    assert "cursor" in rejected.json()["message"]
    assert from_date.status_code == 200


def test_fault_reset(sim):
    sim.add_faults([{"kind": "reset"}])

    with pytest.raises(requests.exceptions.ConnectionError):
        get(sim, EVENTS)
    assert get(sim, EVENTS).status_code == 200


def test_fault_oversized(sim):
    sim.add_faults([{"kind": "oversized", "count": 1500}])

    body = get(sim, EVENTS, {"limit": 200}).json()

    assert len(body["items"]) == 1500
    assert len(set(served_ids([body]))) == 1500


def test_fault_oversized_alerts(empty_sim):
    empty_sim.add_faults([{"route": "alerts", "kind": "oversized", "count": 300}])

    items = get(empty_sim, ALERTS).json()["items"]

    assert len(items) == 300
    assert all(item["event_service_event_id"] == item["id"] for item in items)


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "explode"},
        {"kind": "status", "route": "tenants"},
        {"kind": "status", "times": 0},
        {"kind": "status", "status": 42},
        {"kind": "delay", "seconds": -1},
        {"kind": "missing_field", "field": "pages"},
        {"kind": "delay", "secs": 1},
        {"kind": "status", "status": 503, "headers": ["Retry-After"]},
        {"kind": "oversized", "count": True},
        "status",
    ],
)
def test_fault_invalid_spec(sim, spec):
    with pytest.raises(ValueError):
        sim.add_faults([spec])


def test_fault_other_kind_option_ignored(sim):
    sim.add_faults([{"kind": "delay", "seconds": 0, "interval": 1, "count": 3}])

    assert get(sim, EVENTS).status_code == 200


def test_faulted_requests_logged(sim):
    sim.add_faults([{"kind": "status", "status": 503}, {"kind": "reset"}])
    sim.clear_requests()

    get(sim, EVENTS, {"limit": 300})
    with pytest.raises(requests.exceptions.ConnectionError):
        get(sim, ALERTS)

    log = sim.requests
    assert [entry["status"] for entry in log] == [503, None]
    assert log[0]["query"] == {"limit": "300"}
    assert log[1]["path"] == ALERTS


# Request log, controls and server lifecycle


def test_request_log_fields(sim):
    sim.clear_requests()
    get(sim, EVENTS, {"limit": 200, "exclude_types": "A,B"})

    entry = sim.requests[0]
    assert entry["method"] == "GET"
    assert entry["path"] == EVENTS
    assert entry["query"] == {"limit": "200", "exclude_types": "A,B"}
    assert entry["status"] == 200
    assert entry["time"].tzinfo is not None


def test_request_log_no_secrets(sim):
    get(sim, EVENTS)
    get(sim, EVENTS, headers={"x-api-key": "wrong", "Authorization": "Basic d3Jvbmc="})

    text = repr(sim.requests)
    assert sim.api_key not in text
    assert sim.authorization.split()[1] not in text
    assert "d3Jvbmc=" not in text


def test_unknown_path_404(sim):
    response = get(sim, "/gateway/siem/v2/events")

    assert response.status_code == 404
    assert response.json()["error"] == "notFound"


def test_post_to_siem_route(sim):
    response = requests.post(sim.url + EVENTS, headers=auth(sim), timeout=10)

    assert response.status_code == 405


def control(sim: Simulator, method: str, path: str, body=None):
    return requests.request(method, sim.url + path, json=body, timeout=10)


def test_control_requests(sim):
    get(sim, EVENTS)

    listed = control(sim, "GET", "/_sim/requests").json()
    cleared = control(sim, "DELETE", "/_sim/requests")

    assert listed[-1]["path"] == EVENTS
    assert datetime.fromisoformat(listed[-1]["time"]).tzinfo is not None
    assert cleared.status_code == 200
    assert control(sim, "GET", "/_sim/requests").json() == []


def test_control_faults(sim):
    added = control(
        sim,
        "POST",
        "/_sim/faults",
        [{"route": "events", "kind": "status", "status": 503, "times": None}],
    )

    assert added.status_code == 200
    assert get(sim, EVENTS).status_code == 503
    assert control(sim, "DELETE", "/_sim/faults").status_code == 200
    assert get(sim, EVENTS).status_code == 200


def test_control_faults_invalid(sim):
    response = control(sim, "POST", "/_sim/faults", [{"kind": "explode"}])

    assert response.status_code == 400
    assert "explode" in response.json()["message"]


def test_control_inject(empty_sim):
    now = empty_sim.clock.now_ms()
    event = event_at(now - 1000)
    alert = {**event_at(now - 900), "description": "d", "event_service_event_id": "x"}

    assert control(empty_sim, "POST", "/_sim/events", [event]).json() == {"added": 1}
    assert control(empty_sim, "POST", "/_sim/alerts", [alert]).json() == {"added": 1}
    assert get(empty_sim, EVENTS).json()["items"] == [event]
    assert get(empty_sim, ALERTS).json()["items"] == [alert]


def test_control_inject_invalid(empty_sim):
    response = control(empty_sim, "POST", "/_sim/events", {"id": "1"})

    assert response.status_code == 400


def test_control_clock(sim):
    target = datetime.now(UTC) + timedelta(hours=2)

    set_body = control(sim, "POST", "/_sim/clock", {"now": target.isoformat()}).json()
    advanced = control(sim, "POST", "/_sim/clock", {"advance": 3600}).json()

    assert abs(datetime.fromisoformat(set_body["now"]) - target) < timedelta(seconds=5)
    moved = datetime.fromisoformat(advanced["now"]) - target
    assert timedelta(minutes=59) < moved < timedelta(minutes=61)


def test_control_clock_invalid(sim):
    assert control(sim, "POST", "/_sim/clock", {"later": 1}).status_code == 400
    assert (
        control(sim, "POST", "/_sim/clock", {"now": "2025-01-01T00:00"}).status_code
        == 400
    )


def test_control_token(sim):
    block = control(sim, "GET", "/_sim/token").json()["token_block"]
    old = auth(sim)

    rotated = control(sim, "POST", "/_sim/token/rotate").json()["token_block"]

    assert block != rotated
    assert rotated == sim.token_block
    assert get(sim, EVENTS, headers=old).status_code == 401
    assert get(sim, EVENTS).status_code == 200


def test_control_unknown_route(sim):
    assert control(sim, "GET", "/_sim/nothing").status_code == 404


def test_stop_frees_port():
    simulator = Simulator(backlog_events=0, events_per_minute=0).start()
    port = simulator.port
    get(simulator, EVENTS)
    simulator.stop()

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}{EVENTS}", timeout=2)


def test_stop_ends_hanging_request(sim):
    sim.add_faults([{"kind": "hang", "seconds": 60}])
    errors = []

    def call() -> None:
        try:
            get(sim, EVENTS)
        except requests.exceptions.RequestException as error:
            errors.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    sim.stop()
    thread.join(timeout=10)

    assert not thread.is_alive()
    assert time.monotonic() - started < 5
    assert errors


def test_concurrent_clients(sim):
    results = []

    def page_through() -> None:
        results.append(len(served_ids(collect(sim, EVENTS, {"limit": 500}))))

    threads = [threading.Thread(target=page_through) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert results == [len(sim.events())] * 8


def test_large_backlog_throughput():
    started = time.monotonic()
    simulator = Simulator(seed=9, backlog_events=100_000, events_per_minute=0).start()
    generated = time.monotonic() - started
    try:
        session = requests.Session()
        params = {"limit": 1000}
        started = time.monotonic()
        for _ in range(20):
            page = session.get(
                simulator.url + EVENTS,
                params=params,
                headers=auth(simulator),
                timeout=10,
            ).json()
            params = {"limit": 1000, "cursor": page["next_cursor"]}
        rate = 20 / (time.monotonic() - started)

        assert generated < 10
        assert rate > 10
    finally:
        simulator.stop()


# Management command


def start_command(*args: str) -> tuple[subprocess.Popen, queue.Queue]:
    """Start the command and return it with the queue its output lines arrive on."""
    command = [sys.executable, "manage.py", "sophos_simulator", *args]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in process.stdout])
    reader.daemon = True
    reader.start()
    return process, lines


def read_until(lines: queue.Queue, prefix: str, seconds: float = 60) -> str:
    """Return the first output line starting with `prefix`, within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no output line starting with {prefix!r}")


def iter_lines(lines: queue.Queue, seconds: float = 5) -> list[str]:
    """Drain the output queue, waiting up to `seconds` for the reader to finish."""
    output = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            output.append(lines.get(timeout=0.2))
        except queue.Empty:
            if output:
                break
    return output


def test_command_serves_token_block():
    process, lines = start_command(
        "--port", "0", "--backlog-events", "50", "--events-per-minute", "0"
    )
    try:
        url_line = read_until(lines, "Sophos Central simulator listening on")
        block = read_until(lines, "Token block: ").removeprefix("Token block: ")
        match = TOKEN_BLOCK.fullmatch(block)
        headers = {
            "x-api-key": match["key"],
            "Authorization": "Basic " + match["basic"],
        }
        response = requests.get(
            match["url"] + "/siem/v1/events", headers=headers, timeout=10
        )

        assert url_line.endswith(match["url"].removesuffix("/gateway"))
        assert response.status_code == 200
        assert len(response.json()["items"]) == 50
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    assert process.returncode == 0


def test_command_rejects_remote_host():
    process, lines = start_command("--host", "0.0.0.0", "--port", "0")
    process.wait(timeout=60)
    output = "".join(iter_lines(lines))

    assert process.returncode != 0
    assert "not a loopback address" in output
    assert "--allow-remote" in output
