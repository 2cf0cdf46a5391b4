"""The Configure API form of Sophos Central and the views around it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from alienapps import registry, secrets
from alienapps.models import NO_DATA_CHOICES, Connection, ConnectionChange, Health
from alienapps.sophos.forms import SophosConfigureForm
from alienapps.sophos.tokenblock import parse_token_block
from sensors.models import Sensor
from tests.conftest import make_connection
from tests.fixtures_web import *  # noqa: F403
from tests.fixtures_web import FAKE_TOKEN_BLOCK, client_for, make_user
from usm_portal import roles

CONFIGURE_URL = "/alienapps/sophos-central/configure/"
APP_URL = "/alienapps/sophos-central/"
# A well-formed block for a host the client may not call. The form rejects it only
# after reading the key, so the page must not repeat that key.
KEY = "Zq8vLm2Xr4Tn6Bw1Yc3Hd5Jf7Kg9Ps0Ua2Ve4Wx"
AUTHORIZATION = "Basic OWU0YjY0ZDItM2JmYi00ZTAxLWFiYTMtNzJmMmQ3ZmYwYjg1OnNlY3JldA=="
FOREIGN_BLOCK = (
    f"url: https://sophos.example.net/gateway, x-api-key: {KEY}, "
    f"Authorization: {AUTHORIZATION}"
)


@pytest.fixture
def manager(db):
    return make_user("manager", roles.MANAGER, is_staff=True)


def sophos():
    return registry.get("sophos-central")


def post_form(client, url=CONFIGURE_URL, **fields):
    data = {
        "token": "",
        "collect_events": "on",
        "collect_alerts": "on",
        "token_expires_on": "",
        "no_data_minutes": "",
        **fields,
    }
    return client.post(
        url, {key: value for key, value in data.items() if value is not None}
    )


def form_errors(response) -> dict:
    return response.context["form"].errors


def follow_messages(client, response) -> str:
    return client.get(response["Location"]).content.decode()


# Rendering


@pytest.mark.django_db
def test_one_sensor_no_selector(manager, sensor):
    html = client_for(manager).get(CONFIGURE_URL).content.decode()
    assert 'name="sensor"' not in html
    assert "the only sensor" in html
    assert "sensor-hq" in html


@pytest.mark.django_db
def test_two_sensors_show_selector(manager, sensor, other_sensor):
    html = client_for(manager).get(CONFIGURE_URL).content.decode()
    assert '<select name="sensor"' in html
    assert f'<option value="{sensor.pk}"' in html
    assert f'<option value="{other_sensor.pk}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("token", "Change Sophos Central API Access URL + Headers"),
        ("collect_events", "Collect Sophos Central events"),
        ("collect_alerts", "Collect Sophos Central alerts"),
        ("token_expires_on", "Token expiry date"),
        ("no_data_minutes", "Create events if the app stops consuming data"),
    ],
)
def test_form_labels(manager, sensor, field, label):
    html = client_for(manager).get(CONFIGURE_URL).content.decode()
    assert f'<label for="id_{field}">{label}</label>' in html
    assert f'id="id_{field}"' in html


@pytest.mark.django_db
def test_form_has_save_button(manager, sensor):
    html = client_for(manager).get(CONFIGURE_URL).content.decode()
    assert '<button type="submit" class="button button-primary">Save</button>' in html


@pytest.mark.django_db
def test_no_data_choices(manager, sensor):
    html = client_for(manager).get(CONFIGURE_URL).content.decode()
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]+)</option>', html)
    expected = [
        ("" if value is None else str(value), label) for value, label in NO_DATA_CHOICES
    ]
    assert options == expected


@pytest.mark.django_db
def test_new_form_defaults(manager, sensor):
    form = client_for(manager).get(CONFIGURE_URL).context["form"]
    expiry = timezone.localdate() + timedelta(days=365)
    assert form["token_expires_on"].value() == expiry
    assert form["collect_events"].value() is True
    assert form["collect_alerts"].value() is True
    assert form["no_data_minutes"].value() is None


@pytest.mark.django_db
def test_edit_form_shows_token_state(manager, portal):
    pk = portal["connection"].pk
    portal["job"].enabled = False
    portal["job"].save()
    response = client_for(manager).get(f"{APP_URL}connections/{pk}/")
    html = response.content.decode()
    assert "A token is set, saved" in html
    assert "Leave this empty to keep it" in html
    assert response.context["form"]["collect_events"].value() is False
    assert response.context["form"]["collect_alerts"].value() is True


@pytest.mark.django_db
def test_edit_form_never_renders_token(manager, portal):
    pk = portal["connection"].pk
    html = client_for(manager).get(f"{APP_URL}connections/{pk}/").content.decode()
    textarea = re.search(r'<textarea name="token"[^>]*>(.*?)</textarea>', html, re.S)
    assert textarea[1].strip() == ""
    assert "KEYKEYKEY" not in html
    assert portal["connection"].secret not in html


@pytest.mark.django_db
def test_configure_single_sensor_with_connection_redirects(manager, portal):
    portal["other_sensor"].delete()
    response = client_for(manager).get(CONFIGURE_URL)
    assert response.status_code == 302
    assert response["Location"] == f"{APP_URL}connections/{portal['connection'].pk}/"


@pytest.mark.django_db
def test_configure_without_sensor_names_the_fix(manager):
    response = post_form(client_for(manager), token=FAKE_TOKEN_BLOCK)
    assert "No sensor is registered" in response.content.decode()
    assert not Connection.objects.exists()


# Errors


@pytest.mark.django_db
def test_missing_token_is_error(manager, sensor):
    response = post_form(client_for(manager))
    assert response.status_code == 200
    assert "API Token Management" in form_errors(response)["token"][0]


@pytest.mark.django_db
def test_malformed_token_is_error(manager, sensor):
    response = post_form(client_for(manager), token="hello there")
    assert form_errors(response)["token"]
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_no_stream_error_names_both(manager, sensor):
    response = post_form(
        client_for(manager),
        token=FAKE_TOKEN_BLOCK,
        collect_events=None,
        collect_alerts=None,
    )
    message = form_errors(response)["collect_events"][0]
    assert "Collect Sophos Central events" in message
    assert "Collect Sophos Central alerts" in message


@pytest.mark.django_db
def test_unknown_sensor_is_error(manager, sensor, other_sensor):
    response = post_form(client_for(manager), token=FAKE_TOKEN_BLOCK, sensor="999999")
    assert "sensor" in form_errors(response)
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_sensor_with_connection_is_error(manager, portal):
    response = post_form(
        client_for(manager), token=FAKE_TOKEN_BLOCK, sensor=str(portal["sensor"].pk)
    )
    assert (
        "already has a Sophos Central connection" in form_errors(response)["sensor"][0]
    )


@pytest.mark.django_db
def test_past_expiry_is_error(manager, sensor):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = post_form(
        client_for(manager),
        token=FAKE_TOKEN_BLOCK,
        token_expires_on=f"{yesterday:%Y-%m-%d}",
    )
    assert "in the past" in form_errors(response)["token_expires_on"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"collect_events": None, "collect_alerts": None},
        {"token_expires_on": "2001-01-01"},
        {"no_data_minutes": "17"},
    ],
)
def test_rerendered_form_never_echoes_token(manager, sensor, fields):
    response = post_form(client_for(manager), token=FAKE_TOKEN_BLOCK, **fields)
    html = response.content.decode()
    assert response.context["form"].errors
    assert "KEYKEYKEY" not in html
    assert "c2VjcmV0" not in html
    assert "x-api-key:" not in html


@pytest.mark.django_db
def test_rejected_token_never_echoed(manager, sensor):
    response = post_form(client_for(manager), token=FOREIGN_BLOCK)
    html = response.content.decode()
    assert form_errors(response)["token"]
    assert KEY not in html
    assert KEY[-8:] not in html
    assert AUTHORIZATION.split()[1][:12] not in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.READ_ONLY, roles.ANALYST])
def test_form_post_refused_below_manager(sensor, role):
    user = make_user("someone", role)
    response = post_form(client_for(user), token=FAKE_TOKEN_BLOCK)
    assert response.status_code == 403
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_connection_of_other_app_is_404(manager, sensor):
    foreign = Connection.objects.create(app="okta", sensor=sensor)
    client = client_for(manager)
    assert client.get(f"{APP_URL}connections/{foreign.pk}/").status_code == 404
    assert post_form(client, f"{APP_URL}connections/{foreign.pk}/").status_code == 404
    assert client.post(f"{APP_URL}connections/{foreign.pk}/test/").status_code == 404


@pytest.mark.django_db
def test_unknown_connection_is_404(manager, sensor):
    assert client_for(manager).get(f"{APP_URL}connections/999999/").status_code == 404


@pytest.mark.django_db
def test_unknown_app_configure_is_404(manager, sensor):
    assert client_for(manager).get("/alienapps/okta/configure/").status_code == 404


# The form on its own


def bound_form(data: dict, connection=None, sensors=None) -> SophosConfigureForm:
    sensors = sensors if sensors is not None else list(Sensor.objects.all())
    return SophosConfigureForm(
        data, app=sophos(), sensors=sensors, connection=connection
    )


@pytest.mark.django_db
def test_untouched_expiry_passes_none(sensor):
    expiry = timezone.localdate() + timedelta(days=365)
    form = bound_form(
        {
            "token": FAKE_TOKEN_BLOCK,
            "collect_events": "on",
            "token_expires_on": f"{expiry}",
        }
    )
    assert form.is_valid(), form.errors
    arguments = form.service_arguments()
    assert arguments["token_expires_on"] is None
    assert arguments["streams"] == {"events"}
    assert arguments["sensor"] == sensor
    assert arguments["token_block"].url == "https://api-eu01.central.sophos.com/gateway"


@pytest.mark.django_db
def test_changed_expiry_is_passed(sensor):
    expiry = timezone.localdate() + timedelta(days=100)
    form = bound_form(
        {
            "token": FAKE_TOKEN_BLOCK,
            "collect_alerts": "on",
            "token_expires_on": f"{expiry}",
        }
    )
    assert form.is_valid(), form.errors
    assert form.service_arguments()["token_expires_on"] == expiry


@pytest.mark.django_db
def test_empty_token_keeps_stored(portal):
    data = {"collect_events": "on", "sensor": str(portal["sensor"].pk)}
    form = bound_form(data, connection=portal["connection"])
    assert form.is_valid(), form.errors
    assert form.service_arguments()["token_block"] is None


@pytest.mark.django_db
def test_no_data_choice_is_minutes(sensor):
    form = bound_form(
        {"token": FAKE_TOKEN_BLOCK, "collect_events": "on", "no_data_minutes": "60"}
    )
    assert form.is_valid(), form.errors
    assert form.service_arguments()["no_data_minutes"] == 60


# Save and Test connection against the simulator


def saved_connection() -> Connection:
    return Connection.objects.select_related("sensor").get()


@pytest.mark.django_db(transaction=True)
def test_save_verifies_and_redirects(manager, sensor, simulator):
    client = client_for(manager)
    response = post_form(client, token=simulator.token_block, no_data_minutes="60")
    assert response.status_code == 302
    assert response["Location"] == APP_URL
    connection = saved_connection()
    assert connection.health == Health.OK
    assert connection.no_data_minutes == 60
    assert "Health: OK." in follow_messages(client, response)


@pytest.mark.django_db(transaction=True)
def test_save_stores_token_encrypted(manager, sensor, simulator):
    post_form(client_for(manager), token=simulator.token_block)
    connection = saved_connection()
    block = parse_token_block(simulator.token_block)
    assert simulator.api_key not in connection.secret
    assert secrets.decrypt(connection.secret) == block.canonical()
    assert connection.token_expires_on == (timezone.now() + timedelta(days=365)).date()


@pytest.mark.django_db(transaction=True)
def test_save_creates_jobs_for_streams(manager, sensor, simulator):
    post_form(client_for(manager), token=simulator.token_block, collect_events=None)
    jobs = {job.stream: job.enabled for job in saved_connection().jobs.all()}
    assert jobs == {"events": False, "alerts": True}


@pytest.mark.django_db(transaction=True)
def test_save_records_history(manager, sensor, simulator):
    post_form(client_for(manager), token=simulator.token_block)
    summaries = set(ConnectionChange.objects.values_list("summary", flat=True))
    assert "connection created" in summaries
    assert "token set" in summaries
    assert all(simulator.api_key not in summary for summary in summaries)


@pytest.mark.django_db(transaction=True)
def test_save_rejected_token_states_error(manager, sensor, simulator):
    block = simulator.token_block
    simulator.revoke_token()
    simulator.issue_token()
    client = client_for(manager)
    response = post_form(client, token=block)
    html = follow_messages(client, response)
    assert saved_connection().health == Health.ERROR
    assert "Health: Error." in html
    assert simulator.api_key not in html


@pytest.mark.django_db(transaction=True)
def test_edit_with_empty_token_keeps_it(manager, sensor, simulator):
    connection = make_connection(simulator.token_block, sensor)
    secret, saved_at = connection.secret, connection.token_saved_at
    client = client_for(manager)
    response = post_form(
        client, f"{APP_URL}connections/{connection.pk}/", collect_alerts=None
    )
    connection.refresh_from_db()
    assert response.status_code == 302
    assert connection.secret == secret
    assert connection.token_saved_at == saved_at
    assert connection.jobs.get(stream="alerts").enabled is False


@pytest.mark.django_db(transaction=True)
def test_edit_moves_connection_to_other_sensor(
    manager, sensor, other_sensor, simulator
):
    connection = make_connection(simulator.token_block, sensor)
    client = client_for(manager)
    post_form(
        client, f"{APP_URL}connections/{connection.pk}/", sensor=str(other_sensor.pk)
    )
    connection.refresh_from_db()
    assert connection.sensor == other_sensor
    assert ConnectionChange.objects.filter(summary__startswith="sensor:").exists()


@pytest.mark.django_db(transaction=True)
def test_connection_test_states_health(manager, sensor, simulator):
    connection = make_connection(simulator.token_block, sensor)
    client = client_for(manager)
    response = client.post(f"{APP_URL}connections/{connection.pk}/test/")
    assert response.status_code == 302
    assert "Tested the connection on sensor sensor-hq. Health: OK." in follow_messages(
        client, response
    )
