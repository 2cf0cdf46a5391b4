from django.apps import AppConfig


class AlienAppsConfig(AppConfig):
    name = "alienapps"
    verbose_name = "AlienApps"
    default_auto_field = "django.db.models.BigAutoField"
