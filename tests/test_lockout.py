"""Account lockout: five failed sign-ins in a row lock a user name for 30 minutes."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db.models import F
from django.test import Client
from django.utils import timezone

from usm_portal.lockout import lockout_key
from usm_portal.models import LoginLockout

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
LOCKED_TEXT = "Sign-in is locked until"
INVALID_TEXT = "Please enter a correct username and password"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # Hashing speed is not under test; the default hasher takes ~0.5 s a check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def analyst(db) -> User:
    return User.objects.create_user("analyst", password=PASSWORD)


def sign_in(client: Client, username: str, password: str, url: str = "/login/"):
    return client.post(url, {"username": username, "password": password})


def fail(client: Client, username: str, times: int, url: str = "/login/") -> list:
    return [sign_in(client, username, "wrong password", url) for _ in range(times)]


def error_text(response) -> str:
    """Return the form's errors with the lock's end time blanked out."""
    errors = " ".join(response.context["form"].non_field_errors())
    return re.sub(r"until .*? \(", "until <time> (", errors)


def move_clock(minutes: int) -> None:
    """Move the stored lock back, as if ``minutes`` had passed."""
    LoginLockout.objects.update(
        locked_until=F("locked_until") - timedelta(minutes=minutes)
    )


def test_lockout_settings_defaults(settings):
    assert settings.LOGIN_FAILURE_LIMIT == 5
    assert settings.LOGIN_LOCKOUT_MINUTES == 30


def test_four_failures_do_not_lock(analyst):
    client = Client()
    responses = fail(client, "analyst", 4)
    assert all(INVALID_TEXT in r.content.decode() for r in responses)
    assert not any(LOCKED_TEXT in r.content.decode() for r in responses)
    response = sign_in(client, "analyst", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(analyst.pk)


def test_fifth_failure_locks_for_30_minutes(analyst):
    before = timezone.now()
    responses = fail(Client(), "analyst", 5)
    assert LOCKED_TEXT in responses[-1].content.decode()
    lock = LoginLockout.objects.get(username="analyst")
    assert lock.locked_until >= before + timedelta(minutes=30)
    assert lock.locked_until <= timezone.now() + timedelta(minutes=30)


def test_sixth_attempt_with_right_password_refused(analyst):
    client = Client()
    fail(client, "analyst", 5)
    response = sign_in(client, "analyst", PASSWORD)
    assert response.status_code == 200
    assert LOCKED_TEXT in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_unknown_user_gets_same_messages(analyst):
    known = fail(Client(), "analyst", 5)
    unknown = fail(Client(), "nobody-here", 5)
    for known_response, unknown_response in zip(known, unknown, strict=True):
        assert error_text(known_response) == error_text(unknown_response)
    assert LoginLockout.objects.filter(username="nobody-here").exists()


def test_locked_message_does_not_mention_account(analyst):
    text = error_text(fail(Client(), "analyst", 5)[-1])
    assert "account" not in text.lower()
    assert "exist" not in text.lower()


def test_lock_holds_at_29_minutes(analyst):
    client = Client()
    fail(client, "analyst", 5)
    move_clock(29)
    response = sign_in(client, "analyst", PASSWORD)
    assert LOCKED_TEXT in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lock_ends_after_30_minutes(analyst):
    client = Client()
    fail(client, "analyst", 5)
    move_clock(30)
    response = sign_in(client, "analyst", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(analyst.pk)


def test_attempts_while_locked_do_not_extend_lock(analyst):
    client = Client()
    fail(client, "analyst", 5)
    until = LoginLockout.objects.get().locked_until
    fail(client, "analyst", 3)
    assert LoginLockout.objects.get().locked_until == until


def test_after_lock_count_starts_again(analyst):
    client = Client()
    fail(client, "analyst", 5)
    move_clock(30)
    responses = fail(client, "analyst", 4)
    assert not any(LOCKED_TEXT in r.content.decode() for r in responses)


def test_success_resets_count(analyst):
    client = Client()
    fail(client, "analyst", 4)
    sign_in(client, "analyst", PASSWORD)
    assert not LoginLockout.objects.filter(username="analyst").exists()
    client.post("/logout/")
    responses = fail(client, "analyst", 4)
    assert not any(LOCKED_TEXT in r.content.decode() for r in responses)


def test_user_name_case_counts_together(analyst):
    client = Client()
    fail(client, "analyst", 2)
    fail(client, "ANALYST", 2)
    response = fail(client, " Analyst ", 1)[0]
    assert LOCKED_TEXT in response.content.decode()
    assert lockout_key(" Analyst ") == "analyst"


def test_admin_login_shares_lockout(analyst):
    analyst.is_staff = True
    analyst.save()
    client = Client()
    fail(client, "analyst", 3)
    responses = fail(client, "analyst", 2, url="/admin/login/")
    assert LOCKED_TEXT in responses[-1].content.decode()
    response = sign_in(client, "analyst", PASSWORD, url="/admin/login/")
    assert LOCKED_TEXT in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_refusing_non_staff_is_no_failure(analyst):
    client = Client()
    for _ in range(5):
        sign_in(client, "analyst", PASSWORD, url="/admin/login/")
    response = sign_in(client, "analyst", PASSWORD)
    assert response.status_code == 302
