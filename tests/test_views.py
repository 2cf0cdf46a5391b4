"""The portal pages: navigation per role, AlienApps, Events, Alarms, Scheduler,
Sensors and the admin."""

import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qsl

import pytest
from django.contrib.auth.models import Permission
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activity.filters import PRIORITY_BANDS
from activity.models import Alarm, Event, Severity, priority_label
from alienapps.models import CollectionRun, Connection, ConnectionChange, Health
from sensors.models import Sensor
from tests.browser import browser_page, sign_in  # noqa: F401  (fixture)
from tests.fixtures_web import *  # noqa: F403
from tests.fixtures_web import client_for, make_alarm, make_event, make_user
from usm_portal import roles

pytestmark = pytest.mark.django_db

APP_URL = "/alienapps/sophos-central/"


def page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content.decode()


def row_ids(html: str, attribute: str) -> list[int]:
    return [int(value) for value in re.findall(rf'{attribute}="(\d+)"', html)]


# Navigation


def nav_links(html: str) -> list[str]:
    nav = html[html.index('<nav class="sidebar"') : html.index("</nav>")]
    return re.findall(r'<a href="[^"]*"[^>]*>([^<]+)</a>', nav)


@pytest.mark.parametrize("role", ["readonly", "analyst"])
def test_navigation_non_staff_roles(role_users, portal, role):
    links = nav_links(page(client_for(role_users[role]), "/events/"))
    assert links == ["Events", "Alarms", "AlienApps", "Sensors", "Scheduler"]


def test_navigation_manager_adds_admin(role_users, portal):
    links = nav_links(page(client_for(role_users["manager"]), "/events/"))
    assert links == [
        "Events",
        "Alarms",
        "AlienApps",
        "Sensors",
        "Scheduler",
        "Admin site",
    ]


def test_navigation_shows_only_permitted_pages(portal):
    user = make_user("events-only")
    user.user_permissions.add(Permission.objects.get(codename="view_event"))
    html = page(client_for(user), "/events/")
    assert nav_links(html) == ["Events"]
    assert "Data Sources" not in html


def test_navigation_marks_current_page(role_users, portal):
    html = page(client_for(role_users["readonly"]), "/alarms/")
    assert re.search(r'<a href="/alarms/" aria-current="page"', html)


def test_home_redirects_to_first_permitted_page(role_users):
    response = client_for(role_users["readonly"]).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/events/"


def test_home_without_role_is_403(db):
    response = client_for(make_user("no-role")).get("/")
    assert response.status_code == 403
    assert "Access denied" in response.content.decode()


def test_header_shows_user_and_sign_out(role_users, portal):
    html = page(client_for(role_users["analyst"]), "/events/")
    assert "Signed in as <strong>analyst</strong>" in html
    assert re.search(r'<form method="post" action="/logout/"', html)


def test_anonymous_redirected_to_login(portal):
    response = client_for(None).get("/events/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/events/"


def test_not_found_page(role_users):
    response = client_for(role_users["readonly"]).get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_post_without_csrf_token_refused(role_users, portal):
    client = client_for(role_users["analyst"], enforce_csrf_checks=True)
    url = reverse("activity:alarm-status", args=[portal["alarm"].pk])
    response = client.post(url, {"status": "closed"})
    assert response.status_code == 403
    portal["alarm"].refresh_from_db()
    assert portal["alarm"].status == Alarm.Status.OPEN


def test_footer_names_viewer_time_zone(role_users, portal):
    client = client_for(role_users["readonly"])
    client.cookies["viewer_tz"] = "Asia/Kolkata"
    html = page(client, f"/events/{portal['event'].pk}/")
    assert "Times are shown in <span data-time-zone>Asia/Kolkata</span>" in html
    local = timezone.localtime(
        portal["event"].timestamp_occured, timezone.get_fixed_timezone(330)
    )
    assert f"{local:%Y-%m-%d %H:%M:%S}" in html


def test_unknown_time_zone_cookie_falls_back(role_users, portal, settings):
    client = client_for(role_users["readonly"])
    client.cookies["viewer_tz"] = "Mars/Olympus_Mons"
    html = page(client, "/events/")
    assert f"<span data-time-zone>{settings.DISPLAY_TIME_ZONE}</span>" in html


# AlienApps catalogue


def test_catalogue_tabs(role_users, portal):
    html = page(client_for(role_users["readonly"]), "/alienapps/")
    for label in ("Available Apps", "Custom Apps", "Custom Templates"):
        assert label in html
    assert '<label for="app-search">' in html


@pytest.mark.parametrize("query", ["sophos", "SOPHOS central", "endpoint security"])
def test_catalogue_search_finds_sophos(role_users, portal, query):
    html = page(client_for(role_users["readonly"]), "/alienapps/", q=query)
    assert 'href="/alienapps/sophos-central/"' in html


def test_catalogue_search_without_match(role_users, portal):
    html = page(client_for(role_users["readonly"]), "/alienapps/", q="okta")
    assert 'href="/alienapps/sophos-central/"' not in html
    assert "No app matches" in html


@pytest.mark.parametrize(
    ("tab", "text"),
    [
        ("custom-apps", "There are no custom apps yet."),
        ("custom-templates", "There are no custom templates yet."),
    ],
)
def test_catalogue_empty_tabs(role_users, tab, text):
    assert text in page(client_for(role_users["readonly"]), "/alienapps/", tab=tab)


def tile_status(client) -> str:
    html = page(client, "/alienapps/")
    return re.search(r'<span class="status status-[\w-]+">([^<]+)</span>', html)[1]


@pytest.mark.parametrize(
    ("health", "label"),
    [
        (Health.OK, "Collecting"),
        (Health.WARNING, "Problem"),
        (Health.ERROR, "Problem"),
        (Health.PENDING, "Configured"),
        (Health.DISABLED, "Configured"),
    ],
)
def test_tile_status_from_health(role_users, portal, health, label):
    Connection.objects.update(health=health)
    assert tile_status(client_for(role_users["readonly"])) == label


def test_tile_status_not_configured(role_users, db):
    assert tile_status(client_for(role_users["readonly"])) == "Not configured"


def test_tile_shows_capabilities_and_category(role_users):
    html = page(client_for(role_users["readonly"]), "/alienapps/")
    assert '<span class="badge">Log collection</span>' in html
    assert "Endpoint Security" in html


# The app page


def test_app_page_ports_table(role_users, portal):
    html = page(client_for(role_users["readonly"]), APP_URL)
    assert html.count("<td>443</td>") == 2
    assert "/siem/v1/events" in html
    assert "/siem/v1/alerts" in html


def test_app_page_connection_columns(role_users, portal):
    html = page(client_for(role_users["readonly"]), APP_URL)
    for column in (
        "Sensor",
        "Health",
        "Message",
        "Last collection",
        "Events collected",
        "Last attempt",
        "Last success",
        "Last error",
    ):
        assert f'<th scope="col">{column}</th>' in html
    assert 'aria-label="Health: OK"' in html
    assert portal["connection"].message in html


@pytest.mark.parametrize(
    ("health", "label"),
    [
        (Health.OK, "OK"),
        (Health.WARNING, "Warning"),
        (Health.ERROR, "Error"),
        (Health.DISABLED, "Disabled"),
        (Health.PENDING, "Pending"),
    ],
)
def test_app_page_health_icon(role_users, portal, health, label):
    Connection.objects.update(health=health)
    html = page(client_for(role_users["readonly"]), APP_URL)
    assert (
        f'class="health health-{health}" role="img" aria-label="Health: {label}"'
        in html
    )


def test_app_page_pending_shows_dash(role_users, portal):
    Connection.objects.update(health=Health.PENDING)
    html = page(client_for(role_users["readonly"]), APP_URL)
    assert 'aria-label="Health: Pending" title="Pending">–</span>' in html


def test_app_page_refreshes_while_pending(role_users, portal):
    client = client_for(role_users["readonly"])
    assert 'data-pending="false"' in page(client, APP_URL)
    Connection.objects.update(health=Health.PENDING)
    html = page(client, APP_URL)
    assert 'data-pending="true"' in html
    assert '<meta http-equiv="refresh" content="15">' in html


def test_app_page_fragment_is_only_the_table(role_users, portal):
    html = page(client_for(role_users["readonly"]), APP_URL, fragment="connections")
    assert html.lstrip().startswith('<div id="connections"')
    assert "<html" not in html
    assert f'data-connection-id="{portal["connection"].pk}"' in html


def test_app_page_token_state(role_users, portal):
    html = page(client_for(role_users["readonly"]), APP_URL)
    expires = portal["connection"].token_expires_on
    assert "A token is set, saved" in html
    assert f"expires {expires:%Y-%m-%d}" in html
    assert "The token expires in" not in html


def test_app_page_token_expiry_warning(role_users, portal):
    Connection.objects.update(
        token_expires_on=timezone.localdate() + timedelta(days=12)
    )
    html = page(client_for(role_users["readonly"]), APP_URL)
    assert "The token expires in 12 days." in html


def test_app_page_token_expired(role_users, portal):
    Connection.objects.update(token_expires_on=timezone.localdate() - timedelta(days=1))
    html = page(client_for(role_users["readonly"]), APP_URL)
    assert "The token has expired." in html


def test_app_page_never_shows_secret(role_users, portal):
    html = page(client_for(role_users["manager"]), APP_URL)
    assert portal["connection"].secret not in html
    assert "KEYKEYKEY" not in html


def test_app_page_links_scheduler(role_users, portal):
    html = page(client_for(role_users["readonly"]), APP_URL)
    assert 'href="/scheduler/?app=sophos-central"' in html


def test_app_page_summary_counts(role_users, portal):
    make_event(2, timezone.now(), connection=portal["connection"])
    html = page(client_for(role_users["readonly"]), APP_URL)
    assert "<td>2<br>" in html
    assert "1 alarm</span>" in html


@pytest.mark.parametrize(
    ("role", "shown"),
    [("readonly", False), ("analyst", False), ("manager", True), ("superuser", True)],
)
def test_app_page_manager_controls(role_users, portal, role, shown):
    html = page(client_for(role_users[role]), APP_URL)
    assert ("Configure API</a>" in html) is shown
    assert ("Test connection</button>" in html) is shown
    assert ("Change history" in html) is shown


def test_app_page_change_history(role_users, portal):
    ConnectionChange.objects.create(
        connection=portal["connection"],
        changed_by=role_users["manager"],
        summary="Collect Sophos Central alerts: off",
    )
    html = page(client_for(role_users["manager"]), APP_URL)
    assert "Collect Sophos Central alerts: off" in html
    assert "<td>manager</td>" in html


def test_app_page_unknown_app(role_users):
    response = client_for(role_users["readonly"]).get("/alienapps/okta/")
    assert response.status_code == 404


def test_remove_connection(role_users, portal):
    client = client_for(role_users["manager"])
    pk = portal["connection"].pk
    assert "Remove configuration" in page(client, f"{APP_URL}connections/{pk}/remove/")
    response = client.post(f"{APP_URL}connections/{pk}/remove/")
    assert response.status_code == 302
    assert not Connection.objects.filter(pk=pk).exists()
    assert Event.objects.filter(pk=portal["event"].pk).exists()


# Events


def event_ids(client, **params) -> list[int]:
    return row_ids(page(client, "/events/", **params), "data-event-id")


def test_events_columns(role_users, portal):
    html = page(client_for(role_users["readonly"]), "/events/")
    for column in (
        "Event Name",
        "Time Created",
        "Time Received",
        "Data Source",
        "Sensor",
        "Source",
        "Username",
        "Severity",
    ):
        assert f'<th scope="col">{column}</th>' in html


def test_events_newest_first(role_users, db):
    now = timezone.now()
    old = make_event(1, now - timedelta(hours=2))
    new = make_event(2, now - timedelta(minutes=1))
    middle = make_event(3, now - timedelta(hours=1))
    ids = event_ids(client_for(role_users["readonly"]))
    assert ids == [new.pk, middle.pk, old.pk]


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("1h", {"now"}),
        ("24h", {"now", "hours"}),
        ("48h", {"now", "hours", "day"}),
        ("7d", {"now", "hours", "day", "days"}),
        ("30d", {"now", "hours", "day", "days", "weeks"}),
        ("all", {"now", "hours", "day", "days", "weeks", "year"}),
    ],
)
def test_events_time_presets(role_users, db, preset, expected):
    now = timezone.now()
    ages = {
        "now": timedelta(minutes=5),
        "hours": timedelta(hours=5),
        "day": timedelta(hours=30),
        "days": timedelta(days=5),
        "weeks": timedelta(days=20),
        "year": timedelta(days=365),
    }
    events = {
        name: make_event(i, now - age) for i, (name, age) in enumerate(ages.items())
    }
    ids = set(event_ids(client_for(role_users["readonly"]), range=preset))
    assert ids == {events[name].pk for name in expected}


def test_events_default_range_is_24_hours(role_users, db):
    now = timezone.now()
    recent = make_event(1, now - timedelta(hours=23))
    make_event(2, now - timedelta(hours=25))
    html = page(client_for(role_users["readonly"]), "/events/")
    assert row_ids(html, "data-event-id") == [recent.pk]
    assert '<option value="24h" selected>' in html


def test_events_custom_range(role_users, db):
    now = timezone.now().replace(microsecond=0)
    inside = make_event(1, now - timedelta(days=3))
    make_event(2, now - timedelta(days=6))
    make_event(3, now - timedelta(hours=1))
    client = client_for(role_users["readonly"])
    start = timezone.localtime(now - timedelta(days=4))
    end = timezone.localtime(now - timedelta(days=2))
    ids = event_ids(
        client,
        range="custom",
        **{"from": f"{start:%Y-%m-%dT%H:%M}", "to": f"{end:%Y-%m-%dT%H:%M}"},
    )
    assert ids == [inside.pk]


def test_events_custom_range_in_viewer_zone(role_users, db):
    when = timezone.now().replace(second=0, microsecond=0) - timedelta(days=1)
    event = make_event(1, when)
    client = client_for(role_users["readonly"])
    client.cookies["viewer_tz"] = "Asia/Tokyo"
    local = when.astimezone(timezone.get_fixed_timezone(540))
    ids = event_ids(client, **{"from": f"{local:%Y-%m-%dT%H:%M}"})
    assert ids == [event.pk]
    later = local + timedelta(minutes=1)
    assert event_ids(client, **{"from": f"{later:%Y-%m-%dT%H:%M}"}) == []


def test_events_custom_range_reversed_is_error(role_users, db):
    html = page(
        client_for(role_users["readonly"]),
        "/events/",
        **{"from": "2026-01-02T00:00", "to": "2026-01-01T00:00"},
    )
    assert "The To time must be after the From time." in html


def test_events_filter_severity(role_users, db):
    now = timezone.now()
    high = make_event(1, now, event_severity=Severity.HIGH)
    make_event(2, now, event_severity=Severity.LOW)
    assert event_ids(client_for(role_users["readonly"]), severity="high") == [high.pk]


@pytest.mark.parametrize(
    ("field", "value", "query"),
    [
        ("event_name", "Malware detected: Troj/Agent-BGHJ", "agent-bghj"),
        ("source_name", "LAPTOP-FIN-042", "laptop-fin"),
        ("source_username", "CORP\\jdoe", "jdoe"),
        ("source_address", "10.20.30.40", "10.20.30"),
    ],
)
def test_events_filter_text(role_users, db, field, value, query):
    now = timezone.now()
    match = make_event(1, now, **{field: value})
    make_event(2, now)
    assert event_ids(client_for(role_users["readonly"]), q=query) == [match.pk]


def test_events_filter_sensor(role_users, portal):
    other = make_event(2, timezone.now(), sensor=portal["other_sensor"])
    ids = event_ids(
        client_for(role_users["readonly"]), sensor=portal["other_sensor"].pk
    )
    assert ids == [other.pk]


def older_link(html: str) -> dict | None:
    """Return the query parameters of the page's "Older" link, or None."""
    found = re.search(r'rel="next" href="\?([^"]+)"', html)
    return dict(parse_qsl(unescape(found[1]))) if found else None


def newer_link(html: str) -> dict | None:
    found = re.search(r'rel="prev" href="\?([^"]+)"', html)
    return dict(parse_qsl(unescape(found[1]))) if found else None


def walk_pages(client, url: str, attribute: str, **params) -> list[list[int]]:
    """Follow the "Older" links from the first page and return the ids of each page."""
    params = {"range": "all", **params}
    pages = []
    for _ in range(50):
        html = page(client, url, **params)
        pages.append(row_ids(html, attribute))
        params = older_link(html)
        if params is None:
            return pages
    raise AssertionError("the pages never ended")


@pytest.fixture
def many_events(db) -> list[Event]:
    """130 events where runs of ten share one timestamp, as one page of a vendor
    API often does."""
    base = timezone.now() - timedelta(hours=1)
    return [make_event(i, base - timedelta(seconds=i // 10)) for i in range(130)]


def test_events_keyset_pages_have_no_gaps(role_users, many_events):
    pages = walk_pages(client_for(role_users["readonly"]), "/events/", "data-event-id")
    seen = [pk for ids in pages for pk in ids]
    expected = list(
        Event.objects.order_by("-timestamp_occured", "-id").values_list("pk", flat=True)
    )
    assert [len(ids) for ids in pages] == [50, 50, 30]
    assert len(seen) == len(set(seen))
    assert seen == expected


def test_events_keyset_stable_when_new_arrive(role_users, many_events):
    client = client_for(role_users["readonly"])
    first = page(client, "/events/", range="all")
    make_event(999, timezone.now())
    second = page(client, "/events/", **older_link(first))
    expected = list(
        Event.objects.exclude(external_id="event-999")
        .order_by("-timestamp_occured", "-id")
        .values_list("pk", flat=True)[50:100]
    )
    assert row_ids(second, "data-event-id") == expected


def test_events_newer_link_returns_previous_page(role_users, many_events):
    client = client_for(role_users["readonly"])
    first = page(client, "/events/", range="all")
    second = page(client, "/events/", **older_link(first))
    back = page(client, "/events/", **newer_link(second))
    assert row_ids(back, "data-event-id") == row_ids(first, "data-event-id")
    assert 'rel="prev"' not in back


def test_events_cursor_keeps_filters(role_users, many_events):
    Event.objects.filter(pk__in=[e.pk for e in many_events[:70]]).update(
        event_severity=Severity.HIGH
    )
    pages = walk_pages(
        client_for(role_users["readonly"]), "/events/", "data-event-id", severity="high"
    )
    assert [len(ids) for ids in pages] == [50, 20]


def test_events_bad_cursor_shows_first_page(role_users, many_events):
    client = client_for(role_users["readonly"])
    first = event_ids(client, range="all")
    for cursor in ("garbage", "2026-01-01T00:00:00|x", "|", "2026-01-01T00:00:00|1"):
        assert event_ids(client, range="all", before=cursor) == first


def test_keyset_page_queries_use_index(role_users, many_events):
    if db_connection.vendor != "sqlite":
        pytest.skip("the plan text checked here is SQLite's")
    client = client_for(role_users["readonly"])
    first = page(client, "/events/", range="all")
    with CaptureQueriesContext(db_connection) as captured:
        page(client, "/events/", **older_link(first))
    selects = [q["sql"] for q in captured if 'FROM "activity_event"' in q["sql"]]
    assert len(selects) == 1
    assert "OFFSET" not in selects[0]
    with db_connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + selects[0])
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "event_newest_first" in plan


# Event and alarm detail


def test_event_detail_fields_and_raw(role_users, portal):
    event = make_event(
        5,
        timezone.now(),
        source_name="LAPTOP-7",
        source_username="CORP\\asmith",
        malware_family="EICAR-AV-Test",
        file_path="C:\\Users\\asmith\\Downloads\\eicar.com",
        log=json.dumps({"id": "x", "name": "Café ☕", "nested": {"a": [1, 2]}}),
        parse_note="unknown severity 'bogus'",
    )
    html = page(client_for(role_users["readonly"]), f"/events/{event.pk}/")
    for label in (
        "Event Name",
        "Severity",
        "Data Source",
        "Time Created",
        "Time Received",
    ):
        assert f"<dt>{label}</dt>" in html
    assert "LAPTOP-7" in html
    assert "EICAR-AV-Test" in html
    assert "Café ☕" in html
    assert "  &quot;nested&quot;: {\n    &quot;a&quot;: [\n      1," in html
    assert "unknown severity &#x27;bogus&#x27;" in html


def test_event_detail_lone_surrogate(role_users, db):
    event = make_event(1, timezone.now(), log='{"name": "bad \\ud800 value"}')
    html = page(client_for(role_users["readonly"]), f"/events/{event.pk}/")
    assert "bad \\ud800 value" in html


def test_event_detail_log_not_json(role_users, db):
    event = make_event(1, timezone.now(), log="not json <b>")
    html = page(client_for(role_users["readonly"]), f"/events/{event.pk}/")
    assert "not json &lt;b&gt;" in html


def test_event_detail_links_alarms(role_users, portal):
    html = page(client_for(role_users["readonly"]), f"/events/{portal['event'].pk}/")
    assert f'href="/alarms/{portal["alarm"].pk}/"' in html


def test_event_detail_unknown_is_404(role_users, db):
    assert client_for(role_users["readonly"]).get("/events/999999/").status_code == 404


def alarm_ids(client, **params) -> list[int]:
    return row_ids(page(client, "/alarms/", **params), "data-alarm-id")


def test_alarms_columns(role_users, portal):
    html = page(client_for(role_users["readonly"]), "/alarms/")
    for column in (
        "Priority",
        "Status",
        "Intent",
        "Strategy",
        "Method",
        "Name",
        "Source",
    ):
        assert f'<th scope="col">{column}</th>' in html
    assert '<span class="priority priority-medium">Medium</span>' in html


def test_alarms_filter_status(role_users, db):
    now = timezone.now()
    closed = make_alarm(1, now, status=Alarm.Status.CLOSED)
    make_alarm(2, now)
    assert alarm_ids(client_for(role_users["readonly"]), status="closed") == [closed.pk]


@pytest.mark.parametrize(
    ("band", "priority"), [("low", 30), ("medium", 60), ("high", 80), ("critical", 95)]
)
def test_alarms_filter_priority(role_users, db, band, priority):
    now = timezone.now()
    alarms = {p: make_alarm(p, now, priority=p) for p in (30, 60, 80, 95)}
    ids = alarm_ids(client_for(role_users["readonly"]), priority=band)
    assert ids == [alarms[priority].pk]


@pytest.mark.parametrize("band", list(PRIORITY_BANDS))
def test_priority_bands_match_labels(band):
    low, high = PRIORITY_BANDS[band]
    assert priority_label(low) == band.capitalize()
    assert priority_label(high) == band.capitalize()


def test_alarms_keyset_pages(role_users, db):
    base = timezone.now()
    for i in range(75):
        make_alarm(i, base - timedelta(seconds=i // 25))
    pages = walk_pages(client_for(role_users["readonly"]), "/alarms/", "data-alarm-id")
    seen = [pk for ids in pages for pk in ids]
    expected = list(
        Alarm.objects.order_by("-timestamp_occured", "-id").values_list("pk", flat=True)
    )
    assert [len(ids) for ids in pages] == [50, 25]
    assert seen == expected


def test_alarm_detail_links_event(role_users, portal):
    html = page(client_for(role_users["readonly"]), f"/alarms/{portal['alarm'].pk}/")
    assert f'href="/events/{portal["event"].pk}/"' in html


@pytest.mark.parametrize(
    ("role", "shown"), [("readonly", False), ("analyst", True), ("manager", True)]
)
def test_alarm_status_form_by_role(role_users, portal, role, shown):
    html = page(client_for(role_users[role]), f"/alarms/{portal['alarm'].pk}/")
    assert ("Set status</button>" in html) is shown


def test_alarm_status_change_records_user(role_users, portal):
    alarm = portal["alarm"]
    client = client_for(role_users["analyst"])
    response = client.post(f"/alarms/{alarm.pk}/status/", {"status": "in review"})
    alarm.refresh_from_db()
    assert response.status_code == 302
    assert alarm.status == Alarm.Status.IN_REVIEW
    assert alarm.status_changed_by == role_users["analyst"]
    assert timezone.now() - alarm.status_changed_at < timedelta(seconds=10)
    assert "Alarm status set to In Review." in page(client, response["Location"])


def test_alarm_status_invalid_is_400(role_users, portal):
    client = client_for(role_users["analyst"])
    response = client.post(f"/alarms/{portal['alarm'].pk}/status/", {"status": "done"})
    assert response.status_code == 400


def test_alarm_status_readonly_refused(role_users, portal):
    client = client_for(role_users["readonly"])
    response = client.post(
        f"/alarms/{portal['alarm'].pk}/status/", {"status": "closed"}
    )
    portal["alarm"].refresh_from_db()
    assert response.status_code == 403
    assert portal["alarm"].status == Alarm.Status.OPEN


def test_alarm_status_unknown_alarm_is_404(role_users, db):
    client = client_for(role_users["analyst"])
    assert (
        client.post("/alarms/999999/status/", {"status": "closed"}).status_code == 404
    )


# Scheduler


def test_scheduler_columns(role_users, portal):
    html = page(client_for(role_users["readonly"]), "/scheduler/")
    for column in (
        "Name",
        "App",
        "Sensor",
        "Frequency",
        "Enabled",
        "Last run",
        "Next run",
    ):
        assert f'<th scope="col">{column}</th>' in html
    assert "Sophos Central events" in html
    assert "Every 20 minutes" in html


@pytest.mark.parametrize(
    ("role", "shown"), [("readonly", False), ("analyst", True), ("manager", True)]
)
def test_scheduler_controls_by_role(role_users, portal, role, shown):
    html = page(client_for(role_users[role]), "/scheduler/")
    assert ("Run now</button>" in html) is shown
    assert ('aria-pressed="true"' in html) is shown


def test_scheduler_filters(role_users, portal):
    client = client_for(role_users["readonly"])
    assert (
        len(row_ids(page(client, "/scheduler/", app="sophos-central"), "data-job-id"))
        == 2
    )
    assert row_ids(page(client, "/scheduler/", app="okta"), "data-job-id") == []
    assert len(row_ids(page(client, "/scheduler/", q="alerts hq"), "data-job-id")) == 1
    assert row_ids(page(client, "/scheduler/", q="sensor-aws"), "data-job-id") == []


def test_scheduler_toggle_disables_job(role_users, portal):
    job = portal["job"]
    client = client_for(role_users["analyst"])
    response = client.post(
        f"/scheduler/jobs/{job.pk}/enabled/",
        {"enabled": "false", "next": "/scheduler/?q=hq"},
    )
    job.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == "/scheduler/?q=hq"
    assert job.enabled is False


def test_scheduler_toggle_ignores_foreign_next(role_users, portal):
    client = client_for(role_users["analyst"])
    response = client.post(
        f"/scheduler/jobs/{portal['job'].pk}/enabled/",
        {"enabled": "true", "next": "https://example.com/"},
    )
    assert response["Location"] == "/scheduler/"


def test_scheduler_toggle_bad_value_is_400(role_users, portal):
    client = client_for(role_users["analyst"])
    response = client.post(
        f"/scheduler/jobs/{portal['job'].pk}/enabled/", {"enabled": "1"}
    )
    assert response.status_code == 400


def test_scheduler_run_now_queues_run(role_users, portal):
    job = portal["job"]
    client = client_for(role_users["analyst"])
    response = client.post(f"/scheduler/jobs/{job.pk}/run/")
    run = job.runs.order_by("-id").first()
    assert response.status_code == 302
    assert run.trigger == CollectionRun.Trigger.MANUAL
    assert run.requested_by == role_users["analyst"]


def test_job_page_lists_runs(role_users, portal):
    run = portal["run"]
    CollectionRun.objects.filter(pk=run.pk).update(
        pages=2, items=1500, new_items=1400, http_status=200, message="Collected."
    )
    html = page(
        client_for(role_users["readonly"]), f"/scheduler/jobs/{portal['job'].pk}/"
    )
    for column in (
        "Start",
        "End",
        "Pages",
        "Items",
        "New items",
        "HTTP status",
        "Outcome",
        "Message",
    ):
        assert f'<th scope="col">{column}</th>' in html
    assert f'data-run-id="{run.pk}"' in html
    assert "<td>1500</td>" in html
    assert "<td>1400</td>" in html


def test_job_page_unknown_is_404(role_users, db):
    assert (
        client_for(role_users["readonly"]).get("/scheduler/jobs/999999/").status_code
        == 404
    )


# Sensors


def test_sensors_list_columns(role_users, portal):
    Sensor.objects.filter(pk=portal["sensor"].pk).update(version="2026.11.0")
    html = page(client_for(role_users["readonly"]), "/sensors/")
    for column in (
        "Name",
        "Type",
        "Status",
        "Version",
        "Address",
        "Last seen",
        "Queue",
    ):
        assert f'<th scope="col">{column}</th>' in html
    assert "2026.11.0" in html
    assert "10.0.10.5" in html
    assert portal["sensor"].queue in html


@pytest.mark.parametrize(
    ("role", "shown"),
    [("readonly", False), ("analyst", False), ("manager", True), ("superuser", True)],
)
def test_sensors_admin_link_by_role(role_users, portal, role, shown):
    html = page(client_for(role_users[role]), "/sensors/")
    assert ("/admin/sensors/sensor/" in html) is shown


# Admin


def test_admin_sensor_list(role_users, portal):
    client = client_for(role_users["manager"])
    html = page(client, "/admin/sensors/sensor/")
    assert "sensor-hq" in html
    assert 'href="?status__exact=' in html
    assert 'href="?type__exact=' in html
    html = page(client, "/admin/sensors/sensor/", q="10.0.10")
    assert "sensor-hq" in html
    assert "sensor-aws" not in html


def test_admin_sensor_queue_read_only(role_users, portal):
    html = page(
        client_for(role_users["manager"]),
        f"/admin/sensors/sensor/{portal['sensor'].pk}/change/",
    )
    assert portal["sensor"].queue in html
    assert 'name="queue"' not in html
    assert 'name="name"' in html


def test_admin_connection_hides_secret(role_users, portal):
    connection = portal["connection"]
    client = client_for(role_users["superuser"])
    for url in (
        "/admin/alienapps/connection/",
        f"/admin/alienapps/connection/{connection.pk}/change/",
        f"/admin/alienapps/connection/{connection.pk}/history/",
    ):
        html = page(client, url)
        assert connection.secret not in html
        assert "KEYKEYKEY" not in html
        assert 'name="secret"' not in html


def test_admin_connection_shows_token_set(role_users, portal):
    client = client_for(role_users["superuser"])
    pk = portal["connection"].pk
    assert "Token set" in page(client, "/admin/alienapps/connection/")
    assert "Token set" in page(client, f"/admin/alienapps/connection/{pk}/change/")


def test_admin_non_staff_redirected_to_admin_login(role_users):
    response = client_for(role_users["analyst"]).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# In a browser: the scripts of portal.js


BROWSER_PASSWORD = "Correct-Horse-9-Battery"


@pytest.fixture
def browser_user(transactional_db, monkeypatch):
    # Playwright's sync API keeps an event loop in this thread, which Django's
    # async-safety check mistakes for async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    user = make_user("reader", roles.READ_ONLY)
    user.set_password(BROWSER_PASSWORD)
    user.save()
    return user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_reports_time_zone(browser_user, live_server, browser_page):  # noqa: F811
    sign_in(browser_page, live_server.url, "reader", BROWSER_PASSWORD)
    browser_page.goto(f"{live_server.url}/sensors/")
    zone = browser_page.locator("[data-time-zone]")
    zone.filter(has_text="Europe/Berlin").wait_for()
    cookies = {c["name"]: c["value"] for c in browser_page.context.cookies()}
    assert cookies["viewer_tz"] == "Europe/Berlin"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_filters_tiles(browser_user, live_server, browser_page):  # noqa: F811
    sign_in(browser_page, live_server.url, "reader", BROWSER_PASSWORD)
    browser_page.goto(f"{live_server.url}/alienapps/")
    search = browser_page.get_by_label("Search apps by name, vendor or category")
    tile = browser_page.get_by_role("link", name=re.compile("Sophos Central"))
    search.fill("okta")
    tile.wait_for(state="hidden")
    assert browser_page.get_by_text("No app matches the search.").is_visible()
    search.fill("endpoint")
    tile.wait_for(state="visible")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_browser_refreshes_pending_health(browser_user, live_server, browser_page):  # noqa: F811
    connection = Connection.objects.create(
        app="sophos-central",
        sensor=Sensor.objects.create(name="sensor-hq"),
        health=Health.PENDING,
        message="Checking the connection from sensor sensor-hq.",
    )
    sign_in(browser_page, live_server.url, "reader", BROWSER_PASSWORD)
    browser_page.goto(f"{live_server.url}{APP_URL}")
    browser_page.get_by_role("img", name="Health: Pending").wait_for()

    Connection.objects.filter(pk=connection.pk).update(
        health=Health.OK, message="Connected; 4 new events in the last collection"
    )
    browser_page.get_by_role("img", name="Health: OK").wait_for(timeout=25_000)
    assert "4 new events" in browser_page.locator("#connections").inner_text()
    assert browser_page.locator("#connections").get_attribute("data-pending") == "false"


@pytest.mark.parametrize(
    "query",
    [
        "before=0001-01-01T00:00:00%2B14:00|1",
        "before=9999-12-31T23:59:59-14:00|1",
        "after=0001-01-01T00:00:00%2B14:00|1",
        "range=custom&from=0001-01-01T00:00",
        "range=custom&to=9999-12-31T23:59",
    ],
)
@pytest.mark.parametrize("path", ["/events/", "/alarms/"])
def test_out_of_range_times_are_not_errors(client, django_user_model, path, query):
    from tests.fixtures_web import make_user

    user = make_user("reader-range", "Read-Only")
    client.force_login(user)
    client.cookies["viewer_tz"] = "Asia/Tokyo"
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200


def test_pages_send_content_security_policy(client):
    response = client.get("/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_run_now_while_rate_limited(client, portal):
    from datetime import timedelta

    from django.utils import timezone

    from alienapps.models import CollectionRun, LogCollectionJob
    from tests.fixtures_web import make_user

    job = LogCollectionJob.objects.first()
    job.rate_limited_until = timezone.now() + timedelta(minutes=30)
    job.save()
    client.force_login(make_user("analyst-rl", "Analyst"))
    runs_before = CollectionRun.objects.count()
    response = client.post(f"/scheduler/jobs/{job.pk}/run/", follow=True)
    assert "rate limited by Sophos Central until" in response.content.decode()
    assert CollectionRun.objects.count() == runs_before


def test_alarms_search_and_sensor_filter(client, portal):
    from activity.models import Alarm
    from tests.fixtures_web import make_user

    client.force_login(make_user("reader-alarms", "Read-Only"))
    alarm = Alarm.objects.first()
    search = alarm.source_name or alarm.event_name
    response = client.get("/alarms/", {"q": search, "sensor": alarm.sensor_id})
    page = response.context["page"]
    assert response.status_code == 200
    assert alarm in page.items
    assert all(a.sensor_id == alarm.sensor_id for a in page.items)
    response = client.get("/alarms/", {"q": "no alarm is named like this"})
    assert list(response.context["page"].items) == []
