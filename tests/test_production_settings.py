"""Production settings: required secrets, check --deploy, and the dangerous-combination checks."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.processes import ROOT

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "Zq8#pW2!rT5@mN9$vB3%xC6^yL1&uH4*",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "portal.example.com",
    "SOPHOS_EXTRA_API_HOSTS": "",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_has_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"])
def test_production_requires_secret(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_http_simulator_in_production_warns():
    env = {**PRODUCTION, "SOPHOS_EXTRA_API_HOSTS": "http://127.0.0.1:8443"}
    result = manage("check", "--deploy", **env)
    assert "usm_portal.W001" in result.stdout + result.stderr


def test_http_to_remote_host_is_error():
    env = {**PRODUCTION, "SOPHOS_EXTRA_API_HOSTS": "http://sim.example.com:8443"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "usm_portal.E004" in result.stderr


def test_malformed_extra_host_is_error():
    env = {**PRODUCTION, "SOPHOS_EXTRA_API_HOSTS": "127.0.0.1:8443/path"}
    result = manage("check", **env)
    assert "usm_portal.E002" in result.stderr


def test_invalid_token_key_is_error():
    env = {**PRODUCTION, "TOKEN_ENCRYPTION_KEYS": "not-a-key"}
    result = manage("check", **env)
    assert "usm_portal.E001" in result.stderr


def test_production_cookies_are_secure():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS)"
    )
    result = manage("shell", "-c", code, **PRODUCTION)
    assert result.stdout.split()[-4:] == ["True", "True", "True", "31536000"]
