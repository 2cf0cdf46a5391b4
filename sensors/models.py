import uuid

from django.db import models
from django.urls import reverse


class Sensor(models.Model):
    """A deployed USM sensor; the log collection jobs it runs call vendor APIs from it."""

    class Type(models.TextChoices):
        VMWARE = "vmware", "VMware"
        AWS = "aws", "AWS"
        AZURE = "azure", "Azure"
        HYPER_V = "hyper-v", "Hyper-V"
        GCP = "gcp", "GCP"

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        CONNECTION_LOST = "connection-lost", "Connection lost"
        PENDING_SETUP = "pending-setup", "Pending setup"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.VMWARE)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.READY
    )
    version = models.CharField(max_length=40, blank=True)
    address = models.GenericIPAddressField(
        "management address", null=True, blank=True, unpack_ipv4=True
    )
    last_seen = models.DateTimeField(null=True, blank=True)
    queue = models.SlugField(
        "Celery queue",
        max_length=80,
        unique=True,
        editable=False,
        help_text="The queue whose worker, deployed next to this sensor, makes its calls.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.queue:
            self.queue = f"sensor.{self.uuid.hex[:12]}"
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("sensors:list") + f"#sensor-{self.pk}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY
