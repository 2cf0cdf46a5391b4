"""The portal's roles: Django groups and the model permissions each one grants.

Views check these permissions, never the group names. The data migration
``usm_portal/migrations/0001_roles.py`` creates the groups. When a role gains or loses
a permission, a later migration calls ``sync_roles`` again.
"""

READ_ONLY = "Read-Only"
ANALYST = "Analyst"
MANAGER = "Manager"

READ_ONLY_PERMISSIONS = (
    "sensors.view_sensor",
    "alienapps.view_connection",
    "alienapps.view_logcollectionjob",
    "alienapps.view_collectionrun",
    "activity.view_event",
    "activity.view_alarm",
)
ANALYST_PERMISSIONS = READ_ONLY_PERMISSIONS + (
    "activity.change_alarm",
    "alienapps.run_logcollectionjob",
    "alienapps.change_logcollectionjob",
)
MANAGER_PERMISSIONS = ANALYST_PERMISSIONS + (
    "alienapps.configure_connection",
    "sensors.add_sensor",
    "sensors.change_sensor",
    "sensors.delete_sensor",
    "alienapps.view_connectionchange",
)

# Permissions are written "app_label.codename", as User.has_perm takes them.
ROLE_PERMISSIONS = {
    READ_ONLY: READ_ONLY_PERMISSIONS,
    ANALYST: ANALYST_PERMISSIONS,
    MANAGER: MANAGER_PERMISSIONS,
}


def ensure_groups() -> None:
    """Create or repair the role groups in the current database.

    Tests that flush the database after the data migration need it, and so do
    databases whose groups were edited by hand.
    """
    from django.contrib.auth.models import Group, Permission

    sync_roles(Group, Permission)


def sync_roles(group_model, permission_model) -> None:
    """Create each role's group and give it exactly the permissions listed above.

    Takes the model classes so that a migration can pass its historical models.
    Raises LookupError naming a permission that does not exist.
    """
    for name, permissions in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.set(find_permissions(permission_model, permissions))


def find_permissions(permission_model, names) -> list:
    found = []
    for name in names:
        app_label, codename = name.split(".", 1)
        permission = permission_model.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is None:
            raise LookupError(
                f"The permission {name} does not exist. Run manage.py migrate."
            )
        found.append(permission)
    return found
