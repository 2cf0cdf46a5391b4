"""Shared fixtures: the Sophos Central simulator over a socket, sensors, connections."""

import logging
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from alienapps import secrets
from alienapps.models import Connection, LogCollectionJob
from sensors.models import Sensor
from tests import leaks
from tests.leaks import RecordingHandler

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT.parent / "shared" / "sophos-samples" / "raw"


LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


@pytest.fixture(autouse=True)
def no_outside_lookups(monkeypatch):
    """Fail every name lookup except loopback, so no test sends DNS queries out."""
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower() not in LOOPBACK_NAMES and not name.startswith("127."):
            raise socket.gaierror(
                socket.EAI_NONAME, f"lookups of {name} are blocked in tests"
            )
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


@pytest.fixture(autouse=True)
def fast_client_settings(settings):
    """Small timeouts and backoff so failure paths run in seconds, not minutes."""
    settings.SOPHOS_CONNECT_TIMEOUT = 2
    settings.SOPHOS_READ_TIMEOUT = 2
    settings.SOPHOS_REQUEST_DEADLINE = 4
    settings.SOPHOS_BACKOFF_SECONDS = 0.01
    settings.SOPHOS_BACKOFF_CAP_SECONDS = 0.05
    settings.SOPHOS_RETRY_AFTER_CAP_SECONDS = 3
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CONNECTION_CHECK_WAIT_SECONDS = 5
    # Celery reads its configuration once, so the app is configured directly as well.
    from usm_portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def no_secret_in_logs():
    """Fail a test when a registered token secret reaches any log record."""
    handler = RecordingHandler()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous_level)
    for text in handler.texts:
        leaked = leaks.find_secret(text)
        masked = text.replace(leaked, "<secret>") if leaked else text
        assert leaked is None, f"a token secret reached a log record: {masked[:200]!r}"


@pytest.fixture(autouse=True)
def no_secret_in_pages(monkeypatch):
    """Fail a test when a registered token secret is in a page the test client got."""
    from django.test.client import Client

    real_request = Client.request

    def checked_request(self, **request):
        response = real_request(self, **request)
        if not getattr(response, "streaming", False):
            leaked = leaks.find_secret(response.content.decode(errors="replace"))
            assert leaked is None, f"a token secret is in the page {request.get('PATH_INFO')}"
        return response

    monkeypatch.setattr(Client, "request", checked_request)


@pytest.fixture
def simulator(settings):
    from alienapps.sophos.simulator import Simulator

    sim = Simulator(port=0, seed=7, backlog_events=300, events_per_minute=0).start()
    leaks.register(sim.api_key, sim.authorization)
    settings.SOPHOS_EXTRA_API_HOSTS = [sim.url]
    yield sim
    sim.stop()


@pytest.fixture
def sensor(db) -> Sensor:
    return Sensor.objects.create(
        name="sensor-hq", address="10.0.10.5", version="2026.11.0"
    )


@pytest.fixture
def other_sensor(db) -> Sensor:
    return Sensor.objects.create(name="sensor-aws", type=Sensor.Type.AWS)


def make_connection(
    token_block: str,
    sensor: Sensor,
    streams: tuple[str, ...] = ("events", "alerts"),
) -> Connection:
    """Store a Sophos Central connection with a job per stream, as Save would."""
    from alienapps.sophos.tokenblock import parse_token_block

    block = parse_token_block(token_block)
    leaks.register_block(block)
    connection = Connection.objects.create(
        app="sophos-central",
        sensor=sensor,
        secret=secrets.encrypt(block.canonical()),
        api_host=block.url.split("//")[1].split("/")[0],
        token_saved_at=timezone.now(),
        token_expires_on=(timezone.now() + timedelta(days=365)).date(),
    )
    for stream in ("events", "alerts"):
        LogCollectionJob.objects.create(
            connection=connection, stream=stream, enabled=stream in streams
        )
    return connection


@pytest.fixture
def connection(simulator, sensor) -> Connection:
    return make_connection(simulator.token_block, sensor)
