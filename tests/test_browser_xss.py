"""Text from Sophos records never runs as script on any page that shows it."""

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from activity.ingest import store_alarms, store_events
from alienapps.models import CollectionRun, Health
from alienapps.sophos.normalize import normalise_alert, normalise_event
from tests.browser import browser_page, sign_in  # noqa: F401  (fixture)
from tests.conftest import make_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Correct-Horse-9-Battery"
# Pages that show no record text, checked only for script that ran.
QUIET_PAGES = {"/alienapps/", "/scheduler/", "/admin/sensors/sensor/"}
PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload="window.__xss=1">',
    "javascript:window.__xss=1",
    "</textarea><script>window.__xss=1</script>",
    "'-alert(1)-'",
]
BLOCK = (
    "url: https://api1.central.sophos.com/gateway, x-api-key: "
    "Mn4Bv6Cx8Zl1Kj3Hg5Fd7Sa9Po2Iu4Yt6Re8Wq0E, Authorization: Basic "
    "OTk5OTk5OTktODg4OC03Nzc3LTY2NjYtNTU1NTU1NTU1NTU1OnNlY3JldA=="
)


def hostile(payload: str, number: int) -> dict:
    """Return a raw Sophos item with ``payload`` in every string field."""
    return {
        "id": f"xss-{number}",
        "event_service_event_id": f"xss-{number}",
        "type": f"Event::Endpoint::Threat::Detected{payload}",
        "name": f"Malware detected: '{payload}' at 'C:\\{payload}'",
        "description": f"Manual cleanup required: '{payload}' at '{payload}'",
        "severity": "high",
        "group": payload,
        "when": timezone.now().isoformat(),
        "location": payload,
        "source": payload,
        "source_info": {"ip": payload},
        "threat": payload,
        "customer_id": payload,
        "data": {"note": payload},
    }


@pytest.fixture
def hostile_portal(sensor):
    connection = make_connection(BLOCK, sensor)
    now = timezone.now()
    items = [hostile(payload, number) for number, payload in enumerate(PAYLOADS)]
    store_events(connection, [normalise_event(item) for item in items], now)
    store_alarms(connection, [normalise_alert(item) for item in items], now)
    job = connection.jobs.get(stream="events")
    message = "Sophos Central rejected the request (HTTP 418): " + PAYLOADS[1]
    CollectionRun.objects.create(
        job=job, trigger="schedule", outcome="error", message=message, finished_at=now
    )
    connection.health, connection.message = Health.ERROR, message
    connection.save()
    sensor.description = PAYLOADS[0]
    sensor.save()
    from usm_portal.roles import ensure_groups

    ensure_groups()
    user = User.objects.create_user("manager", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Manager"))
    return connection


def pages(connection) -> list[str]:
    from activity.models import Alarm, Event

    urls = [
        "/events/",
        "/alarms/",
        "/alienapps/",
        "/alienapps/sophos-central/",
        "/scheduler/",
        "/sensors/",
        f"/scheduler/jobs/{connection.jobs.get(stream='events').pk}/",
        "/events/?q=%3Cscript%3E",
        "/admin/sensors/sensor/",
    ]
    urls += [f"/events/{event.pk}/" for event in Event.objects.all()]
    urls += [f"/alarms/{alarm.pk}/" for alarm in Alarm.objects.all()]
    return urls


def test_payloads_never_execute(browser_page, live_server, hostile_portal):
    page = browser_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server.url, "manager", PASSWORD)

    for url in pages(hostile_portal):
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        assert page.evaluate("window.__xss") is None, url
        assert dialogs == [], url
        if url not in QUIET_PAGES:
            # The payload is on the page as text, so the checks above were not vacuous.
            text = page.locator("main").inner_text()
            assert any(payload in text for payload in PAYLOADS), url


def test_payloads_are_shown_as_text(browser_page, live_server, hostile_portal):
    page = browser_page
    sign_in(page, live_server.url, "manager", PASSWORD)
    page.goto(f"{live_server.url}/events/")
    text = page.locator("main").inner_text()
    assert "<script>window.__xss=1</script>" in text
    assert '<img src=x onerror="window.__xss=1">' in text
