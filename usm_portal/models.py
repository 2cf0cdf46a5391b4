from django.db import models


class LoginLockout(models.Model):
    """Failed sign-ins in a row for one user name, and the lock they caused.

    Rows exist for user names with or without an account, so the lock never reveals
    whether an account exists. ``username`` is stored case-folded.
    """

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "login lockout"

    def __str__(self) -> str:
        return self.username
