"""docker-compose.yml parses, runs every part, and uses the README's commands."""

import re
import shlex

import pytest
import yaml

from tests.processes import ROOT

PARTS = {"db", "redis", "web", "worker", "beat", "simulator"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def command_text(service: dict) -> str:
    command = service["command"]
    if isinstance(command, list):
        command = shlex.join(command)
    command = " ".join(command.split())
    match = re.fullmatch(r'sh -c "(.*)"', command)
    return match.group(1) if match else command


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return [" ".join(c.split()) for c in re.findall(r"\| `([^`]+)` \|", readme)]


def test_every_part_is_a_service(services):
    assert set(services) == PARTS


@pytest.mark.parametrize("name", ["web", "worker", "beat", "simulator"])
def test_service_runs_readme_command(services, name):
    assert command_text(services[name]) in readme_commands()


def test_portal_services_share_settings(services):
    for name in ["web", "worker", "beat", "simulator"]:
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CELERY_BROKER_URL"].startswith("redis://")
        assert environment["DEBUG"] == "false"


def test_worker_reaches_simulator_on_loopback(services):
    assert services["worker"]["network_mode"] == "service:simulator"
    assert "127.0.0.1" in services["worker"]["environment"]["SOPHOS_EXTRA_API_HOSTS"]
