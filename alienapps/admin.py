"""A read-only Connection admin. The encrypted credential is never shown, not even
as ciphertext: only whether a token is set."""

from django.contrib import admin

from alienapps.models import Connection, ConnectionChange


class ConnectionChangeInline(admin.TabularInline):
    model = ConnectionChange
    fields = ("changed_at", "changed_by", "summary")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = (
        "app",
        "sensor",
        "health",
        "token_set",
        "token_expires_on",
        "health_checked_at",
    )
    list_filter = ("app", "health")
    search_fields = ("sensor__name", "api_host", "message")
    # An explicit list: "secret" must never be one of them.
    fields = (
        "app",
        "sensor",
        "api_host",
        "token_set",
        "token_saved_at",
        "token_expires_on",
        "no_data_minutes",
        "health",
        "message",
        "health_checked_at",
        "last_item_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (ConnectionChangeInline,)

    @admin.display(boolean=True, description="token set")
    def token_set(self, connection: Connection) -> bool:
        return connection.has_secret

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
