"""Tokens are encrypted at rest with their own keys, and the keys rotate."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from alienapps import secrets
from alienapps.models import Connection
from alienapps.secrets import SecretUnreadable
from tests.conftest import make_connection

BLOCK = (
    "url: https://api1.central.sophos.com/gateway, x-api-key: "
    "Zx8Qm2Lr5Tn9Vb3Wc6Yd1Fe4Gh7Jk0Pa2Sd5Fg8H, Authorization: Basic "
    "YmE3ZWE0YjYtNmIyZS00YjhhLTk3ZDUtYWM4ZDFmZDg0NGMyOnNlY3JldA=="
)
KEY = "Zx8Qm2Lr5Tn9Vb3Wc6Yd1Fe4Gh7Jk0Pa2Sd5Fg8H"
AUTH = "YmE3ZWE0YjYtNmIyZS00YjhhLTk3ZDUtYWM4ZDFmZDg0NGMy"


def test_round_trip():
    assert secrets.decrypt(secrets.encrypt(BLOCK)) == BLOCK


@pytest.mark.django_db
def test_stored_token_is_ciphertext(sensor):
    connection = make_connection(BLOCK, sensor)
    stored = Connection.objects.values_list("secret", flat=True).get(pk=connection.pk)
    assert KEY not in stored
    assert AUTH not in stored
    assert secrets.decrypt(stored).startswith("url: https://api1.central.sophos.com")


def test_key_is_not_secret_key(settings):
    assert settings.TOKEN_ENCRYPTION_KEYS[0] != settings.SECRET_KEY


@pytest.mark.django_db
def test_rotation_keeps_tokens(sensor, settings):
    connection = make_connection(BLOCK, sensor)
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_token_key")

    settings.TOKEN_ENCRYPTION_KEYS = [new_key]
    connection.refresh_from_db()
    assert secrets.decrypt(connection.secret).endswith(AUTH + "OnNlY3JldA==")


def test_unknown_key_is_reported(settings):
    ciphertext = secrets.encrypt(BLOCK)
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretUnreadable) as error:
        secrets.decrypt(ciphertext)
    assert "TOKEN_ENCRYPTION_KEYS" in str(error.value)
    assert KEY not in str(error.value)
