from django.apps import AppConfig


class UsmPortalConfig(AppConfig):
    name = "usm_portal"
    verbose_name = "USM Portal"

    def ready(self) -> None:
        from usm_portal import checks  # noqa: F401  (registers the system checks)
