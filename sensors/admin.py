from django.contrib import admin

from sensors.models import Sensor


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "type",
        "status",
        "version",
        "address",
        "last_seen",
        "queue",
    )
    list_filter = ("type", "status")
    search_fields = ("name", "description", "address")
    readonly_fields = ("uuid", "queue", "created_at")
    fields = (
        "name",
        "description",
        "type",
        "status",
        "version",
        "address",
        "last_seen",
        "uuid",
        "queue",
        "created_at",
    )
