"""Normalised events and alarms, shared by every AlienApp.

Field names follow USM Anywhere's normalised schema (``event_name``,
``event_subcategory``, ``source_username``, ``timestamp_occured`` with USM's own
spelling, and so on), so that rules and searches read the same for every app.
"""

from django.db import models
from django.urls import reverse


class Severity(models.TextChoices):
    NONE = "none", "None"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"
    UNKNOWN = "unknown", "Unknown"


class NormalisedRecord(models.Model):
    """Fields shared by events and alarms: origin, classification, subjects and times."""

    connection = models.ForeignKey(
        "alienapps.Connection", null=True, blank=True, on_delete=models.SET_NULL
    )
    sensor = models.ForeignKey(
        "sensors.Sensor", null=True, blank=True, on_delete=models.SET_NULL
    )
    # The vendor's own id of the record; unique per connection.
    external_id = models.CharField(max_length=64)
    plugin = models.CharField(max_length=60)
    event_name = models.TextField()
    event_category = models.CharField(max_length=100, blank=True)
    event_subcategory = models.CharField(max_length=200, blank=True)
    event_severity = models.CharField(
        max_length=10, choices=Severity.choices, default=Severity.UNKNOWN
    )
    source_username = models.TextField(blank=True)
    source_name = models.TextField(blank=True)
    source_address = models.CharField(max_length=100, blank=True)
    file_path = models.TextField(blank=True)
    malware_family = models.TextField(blank=True)
    timestamp_occured = models.DateTimeField()
    timestamp_received = models.DateTimeField()
    # The record exactly as the vendor sent it, as ASCII-escaped JSON text, so NUL
    # characters and lone surrogates survive on PostgreSQL too.
    log = models.TextField()
    # What could not be normalised (a missing time, an unknown type); empty when all went well.
    parse_note = models.TextField(blank=True)

    class Meta:
        abstract = True


class Event(NormalisedRecord):
    """A normalised event: one vendor event, or a system event the portal raised itself."""

    class Kind(models.TextChoices):
        LOG = "log", "Log"
        SYSTEM = "system", "System"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LOG)

    class Meta:
        ordering = ["-timestamp_occured", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "external_id"], name="event_unique_per_connection"
            )
        ]
        indexes = [
            models.Index(
                fields=["-timestamp_occured", "-id"], name="event_newest_first"
            ),
            models.Index(
                fields=["event_severity", "-timestamp_occured", "-id"],
                name="event_severity_newest_first",
            ),
        ]

    def __str__(self) -> str:
        return self.event_name

    def get_absolute_url(self) -> str:
        return reverse("activity:event-detail", args=[self.pk])


class Alarm(NormalisedRecord):
    """An alarm raised from a vendor alert, with USM's priority, taxonomy and status."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_REVIEW = "in review", "In Review"
        CLOSED = "closed", "Closed"

    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms"
    )
    priority = models.PositiveSmallIntegerField()
    rule_intent = models.CharField(max_length=100, blank=True)
    rule_strategy = models.CharField(max_length=100, blank=True)
    rule_method = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-timestamp_occured", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "external_id"], name="alarm_unique_per_connection"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__lte=100), name="alarm_priority_0_100"
            ),
        ]
        indexes = [
            models.Index(
                fields=["-timestamp_occured", "-id"], name="alarm_newest_first"
            ),
            models.Index(fields=["status", "-timestamp_occured"], name="alarm_status"),
        ]

    def __str__(self) -> str:
        return self.event_name

    def get_absolute_url(self) -> str:
        return reverse("activity:alarm-detail", args=[self.pk])

    @property
    def priority_label(self) -> str:
        return priority_label(self.priority)


def priority_label(priority: int) -> str:
    """Return USM Anywhere's label for a 0-100 alarm priority."""
    if priority <= 33:
        return "Low"
    if priority <= 66:
        return "Medium"
    if priority <= 90:
        return "High"
    return "Critical"
