"""Connections of AlienApps, their log collection jobs and every run of those jobs."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from alienapps import registry


class Health(models.TextChoices):
    PENDING = "pending", "Pending"
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"
    DISABLED = "disabled", "Disabled"


# Worse states sort later; a connection shows the worst state of its jobs.
HEALTH_RANK = {
    Health.DISABLED: 0,
    Health.OK: 1,
    Health.PENDING: 2,
    Health.WARNING: 3,
    Health.ERROR: 4,
}

NO_DATA_CHOICES = [
    (None, "None"),
    (30, "30 min"),
    (60, "1 hour"),
    (120, "2 hours"),
    (240, "4 hours"),
    (360, "6 hours"),
    (720, "12 hours"),
    (1440, "24 hours"),
    (4320, "72 hours"),
]


class Connection(models.Model):
    """One configured AlienApp on one sensor, with its encrypted credential."""

    app = models.SlugField(max_length=50, choices=registry.app_choices)
    sensor = models.ForeignKey("sensors.Sensor", on_delete=models.PROTECT)
    # Encrypted with the token encryption keys; see alienapps.secrets.
    secret = models.TextField(blank=True, editable=False)
    # The API host taken from the credential; not secret, shown on the app page.
    api_host = models.CharField(max_length=255, blank=True)
    token_saved_at = models.DateTimeField(null=True, blank=True)
    token_expires_on = models.DateField(null=True, blank=True)
    no_data_minutes = models.PositiveIntegerField(
        "create events if the app stops consuming data",
        null=True,
        blank=True,
        choices=NO_DATA_CHOICES,
    )
    health = models.CharField(
        max_length=10, choices=Health.choices, default=Health.PENDING
    )
    message = models.CharField(max_length=1000, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    last_item_at = models.DateTimeField(null=True, blank=True)
    last_no_data_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["app", "sensor__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["app", "sensor"], name="one_connection_per_sensor"
            )
        ]
        permissions = [("configure_connection", "Can configure AlienApp connections")]

    def __str__(self) -> str:
        return f"{self.alienapp.name} on {self.sensor}"

    def get_absolute_url(self) -> str:
        return reverse("alienapps:app", args=[self.app])

    @property
    def alienapp(self) -> "registry.AlienApp":
        return registry.get(self.app)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret)


class LogCollectionJob(models.Model):
    """A preloaded job that collects one stream (events or alerts) of a connection."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="jobs"
    )
    stream = models.SlugField(max_length=30)
    enabled = models.BooleanField(default=True)
    interval_minutes = models.PositiveIntegerField(default=20)
    next_run_at = models.DateTimeField(default=timezone.now)
    # The vendor's opaque resume point; saved in the same transaction as the items
    # of the page it follows.
    cursor = models.TextField(blank=True)
    cursor_saved_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=40, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connection__app", "connection__sensor__name", "stream"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "stream"], name="one_job_per_stream"
            )
        ]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="job_due")]
        permissions = [("run_logcollectionjob", "Can run a log collection job now")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.connection.alienapp.stream(self.stream).job_name

    @property
    def frequency_label(self) -> str:
        return f"Every {self.interval_minutes} minutes"

    def get_absolute_url(self) -> str:
        return reverse("alienapps:job", args=[self.pk])

    def schedule_next(self, now=None) -> None:
        self.next_run_at = (now or timezone.now()) + timedelta(
            minutes=self.interval_minutes
        )


class CollectionRun(models.Model):
    """One attempt of a job, or one connection check; every attempt leaves a row."""

    class Outcome(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"
        SKIPPED = "skipped", "Skipped"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Run now"
        SAVE = "save", "Save"
        CHECK = "check", "Connection check"

    job = models.ForeignKey(
        LogCollectionJob, on_delete=models.CASCADE, related_name="runs"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    new_items = models.PositiveIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.QUEUED
    )
    message = models.CharField(max_length=1000, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [models.Index(fields=["job", "-queued_at"], name="run_latest")]

    def __str__(self) -> str:
        return f"{self.job} {self.get_outcome_display()} at {self.queued_at:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class ConnectionChange(models.Model):
    """An entry of a connection's change history; never stores a secret value."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="changes"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    summary = models.CharField(max_length=500)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return self.summary
