"""Account lockout for the sign-in forms.

``LOGIN_FAILURE_LIMIT`` failed sign-ins in a row for one user name lock it for
``LOGIN_LOCKOUT_MINUTES``. A user name without an account is counted and locked the
same way, and the message is the same, so the lock never reveals whether an account
exists. While locked, a sign-in is refused without checking the password, and the
refused attempts do not extend the lock. A successful sign-in clears the count.
"""

import logging
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as format_date

from usm_portal.models import LoginLockout

logger = logging.getLogger(__name__)

LOCKED_MESSAGE = (
    "Too many failed sign-ins for this user name. Sign-in is locked until %(until)s; "
    "try again after that time."
)


def lockout_key(username: str) -> str:
    """Return the name failures are counted under: trimmed and case-folded."""
    return username.strip().casefold()[:150]


def locked_until(username: str, now: datetime | None = None) -> datetime | None:
    """Return when the lock on ``username`` ends, or None when it is not locked."""
    now = now or timezone.now()
    return (
        LoginLockout.objects.filter(
            username=lockout_key(username), locked_until__gt=now
        )
        .values_list("locked_until", flat=True)
        .first()
    )


def record_failure(username: str, now: datetime | None = None) -> datetime | None:
    """Count one failed sign-in and return when the lock ends if this failure locks
    the user name, else None."""
    now = now or timezone.now()
    with transaction.atomic():
        row, _ = LoginLockout.objects.select_for_update().get_or_create(
            username=lockout_key(username)
        )
        row.failures += 1
        row.last_failure_at = now
        locks = row.failures >= settings.LOGIN_FAILURE_LIMIT
        if locks:
            row.locked_until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            row.failures = 0
        row.save()

    if not locks:
        return None
    logger.warning(
        "Sign-in for user name %r locked until %s after %s failed attempts",
        row.username,
        row.locked_until.isoformat(),
        settings.LOGIN_FAILURE_LIMIT,
    )
    return row.locked_until


def record_success(username: str) -> None:
    LoginLockout.objects.filter(username=lockout_key(username)).delete()


def locked_error(until: datetime) -> forms.ValidationError:
    local = timezone.localtime(until)
    zone = timezone.get_current_timezone_name()
    display_time = f"{format_date(local, 'Y-m-d H:i')} ({zone})"
    return forms.ValidationError(
        LOCKED_MESSAGE, code="locked", params={"until": display_time}
    )


class LockoutFormMixin:
    """Mixin that applies the lockout to an AuthenticationForm subclass."""

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()

        until = locked_until(username)
        if until is not None:
            raise locked_error(until)

        try:
            cleaned = super().clean()
        except forms.ValidationError:
            self._count_failure(username)
            raise

        record_success(username)
        return cleaned

    def _count_failure(self, username: str) -> None:
        # A correct password that the admin site rejects because the user is not
        # staff does not count as a failure.
        if self.user_cache is not None:
            return
        until = record_failure(username)
        if until is not None:
            raise locked_error(until)


class LockoutAuthenticationForm(LockoutFormMixin, AuthenticationForm):
    pass


class LockoutAdminAuthenticationForm(LockoutFormMixin, AdminAuthenticationForm):
    pass
