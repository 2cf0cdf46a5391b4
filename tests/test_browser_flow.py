"""The whole flow in a real browser, with a real worker collecting from the simulator."""

import re

import pytest
from django.contrib.auth.models import Group, User

from activity.models import Alarm, Event
from alienapps.models import Connection
from tests.browser import browser_page, sign_in  # noqa: F401  (fixture)
from tests.processes import start_worker, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "Correct-Horse-9-Battery"


@pytest.fixture
def real_broker(settings):
    from usm_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    settings.CONNECTION_CHECK_WAIT_SECONDS = 30
    yield app
    app.conf.task_always_eager = True


def user_in(role: str, username: str) -> User:
    from usm_portal.roles import ensure_groups

    ensure_groups()
    user = User.objects.create_user(username, password=PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def worker(sensor, other_sensor, real_broker, tmp_path, simulator):
    process = start_worker("portal", tmp_path / "worker.log")
    yield process
    process.terminate()
    process.wait(15)


def configure_sophos(page, base_url: str, token_block: str, sensor_name: str) -> None:
    page.goto(f"{base_url}/alienapps/")
    page.get_by_label("Search apps by name, vendor or category").fill("Sophos")
    page.get_by_role("link", name=re.compile("Sophos Central")).first.click()
    page.get_by_role("link", name="Configure API").click()
    page.get_by_label("Sensor").select_option(label=sensor_name)
    page.get_by_label("Change Sophos Central API Access URL + Headers").fill(token_block)
    page.get_by_label("Collect Sophos Central events").check()
    page.get_by_label("Collect Sophos Central alerts").check()
    page.get_by_role("button", name="Save").click()


def test_manager_configures_and_events_arrive(browser_page, live_server, simulator, sensor, worker):
    page = browser_page
    user_in("Manager", "manager")
    sign_in(page, live_server.url, "manager", PASSWORD)
    configure_sophos(page, live_server.url, simulator.token_block, sensor.name)

    page.get_by_role("img", name="OK").first.wait_for()
    assert "Connected" in page.content()
    connection = Connection.objects.get(sensor=sensor)
    wait_until(lambda: Event.objects.filter(connection=connection).count() >= 300, 60,
               "the worker never stored the simulator's events")
    wait_until(lambda: Alarm.objects.filter(connection=connection).exists(), 60,
               "the worker never raised alarms from the alerts")

    page.goto(f"{live_server.url}/events/")
    event = Event.objects.filter(connection=connection).first()
    assert event.event_name in page.content()
    page.get_by_role("link", name=event.event_name).first.click()
    content = page.content()
    for value in [event.event_subcategory, event.source_name, "Sophos Central"]:
        assert value in content
    assert event.external_id in content

    page.goto(f"{live_server.url}/alarms/")
    alarm = Alarm.objects.filter(connection=connection).first()
    assert alarm.event_name in page.content()
    assert simulator.api_key not in page.content()


def test_wrong_token_shows_red_health(browser_page, live_server, simulator, sensor, worker):
    page = browser_page
    user_in("Manager", "manager")
    sign_in(page, live_server.url, "manager", PASSWORD)
    wrong = simulator.token_block.replace(simulator.api_key, "W" * 40)
    configure_sophos(page, live_server.url, wrong, sensor.name)

    page.get_by_role("img", name="Error").first.wait_for()
    assert "rejected the API token" in page.content()
    assert "paste the new block" in page.content()
    assert Connection.objects.filter(sensor=sensor).exists()


def test_read_only_cannot_configure(browser_page, live_server, sensor):
    page = browser_page
    user_in("Read-Only", "reader")
    sign_in(page, live_server.url, "reader", PASSWORD)
    page.goto(f"{live_server.url}/alienapps/sophos-central/")
    assert page.get_by_role("link", name="Configure API").count() == 0

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/alienapps/sophos-central/configure/",
        form={"csrfmiddlewaretoken": csrf, "token_block": "x", "collect_events": "on"},
        headers={"X-CSRFToken": csrf},
    )
    assert response.status == 403
    assert "CSRF" not in response.text()
    assert not Connection.objects.exists()
