"""Create the Read-Only, Analyst and Manager groups with their model permissions."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

from usm_portal import roles

ROLE_APPS = ("sensors", "activity", "alienapps")


def create_roles(apps, schema_editor) -> None:
    # Django creates permissions after the whole migrate run, so on a fresh
    # database they do not exist yet; create those of the apps the roles use.
    for label in ROLE_APPS:
        create_permissions(
            global_apps.get_app_config(label),
            verbosity=0,
            using=schema_editor.connection.alias,
            apps=apps,
        )
    roles.sync_roles(
        apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    )


def remove_roles(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=list(roles.ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sensors", "0001_initial"),
        ("activity", "0001_initial"),
        ("alienapps", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
