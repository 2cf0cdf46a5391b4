from django.apps import AppConfig


class SophosConfig(AppConfig):
    name = "alienapps.sophos"
    label = "sophos"
    verbose_name = "Sophos Central AlienApp"
    default_auto_field = "django.db.models.BigAutoField"
