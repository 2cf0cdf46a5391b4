"""The permission grid: every URL pattern, every role, GET and POST.

The test walks the whole URL configuration, the admin included, so a new URL
pattern fails it until its row is added to RULES.
"""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.fixtures_web import *  # noqa: F403
from tests.fixtures_web import ROLE_NAMES, client_for
from usm_portal import roles

# Expected status per role, in the order of ROLE_NAMES:
# anonymous, Read-Only, Analyst, Manager, superuser.
# Each row is (GET statuses, POST statuses); POST bodies are in POST_DATA.
RULES = {
    # Portal
    "home": ("302 302 302 302 302", "302 405 405 405 405"),
    "login": ("200 302 302 302 302", "200 302 302 302 302"),
    "logout": ("405 405 405 405 405", "302 302 302 302 302"),
    "alienapps:catalogue": ("302 200 200 200 200", "302 405 405 405 405"),
    "alienapps:app": ("302 200 200 200 200", "302 405 405 405 405"),
    "alienapps:configure": ("302 403 403 200 200", "302 403 403 200 200"),
    "alienapps:connection": ("302 403 403 200 200", "302 403 403 200 200"),
    "alienapps:connection-test": ("302 403 403 405 405", "302 403 403 302 302"),
    "alienapps:connection-remove": ("302 403 403 200 200", "302 403 403 302 302"),
    "alienapps:scheduler": ("302 200 200 200 200", "302 405 405 405 405"),
    "alienapps:job": ("302 200 200 200 200", "302 405 405 405 405"),
    "alienapps:job-run": ("302 403 405 405 405", "302 403 302 302 302"),
    "alienapps:job-enabled": ("302 403 405 405 405", "302 403 302 302 302"),
    "activity:events": ("302 200 200 200 200", "302 405 405 405 405"),
    "activity:event-detail": ("302 200 200 200 200", "302 405 405 405 405"),
    "activity:alarms": ("302 200 200 200 200", "302 405 405 405 405"),
    "activity:alarm-detail": ("302 200 200 200 200", "302 405 405 405 405"),
    "activity:alarm-status": ("302 403 405 405 405", "302 403 302 302 302"),
    "sensors:list": ("302 200 200 200 200", "302 405 405 405 405"),
    # Admin site: only staff get past admin_view; everyone else is sent to its
    # sign-in page (302). Manager is staff with the sensor permissions and view
    # permission on connections; the Connection admin is read-only for everyone.
    "admin:index": ("302 302 302 200 200", "302 302 302 200 200"),
    "admin:login": ("200 200 200 302 302", "200 200 200 200 200"),
    "admin:logout": ("302 302 302 405 405", "302 302 302 302 302"),
    "admin:password_change": ("302 302 302 200 200", "302 302 302 200 200"),
    "admin:password_change_done": ("302 302 302 200 200", "302 302 302 405 405"),
    "admin:autocomplete": ("302 302 302 403 403", "302 302 302 405 405"),
    "admin:jsi18n": ("302 302 302 200 200", "302 302 302 405 405"),
    "admin:view_on_site": ("302 302 302 302 302", "302 302 302 302 302"),
    "admin:app_list": ("302 302 302 200 200", "302 302 302 200 200"),
    "admin/(?P<url>.*)$": ("302 302 302 404 404", "302 302 302 404 404"),
    "admin:auth_group_changelist": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_group_add": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_group_history": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_group_delete": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_group_change": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin/auth/group/<path:object_id>/": (
        "302 302 302 302 302",
        "302 302 302 302 302",
    ),
    "admin:auth_user_password_change": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_user_changelist": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_user_add": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_user_history": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_user_delete": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin:auth_user_change": ("302 302 302 403 200", "302 302 302 403 200"),
    "admin/auth/user/<path:object_id>/": ("302 302 302 302 302", "302 302 302 302 302"),
    "admin:sensors_sensor_changelist": ("302 302 302 200 200", "302 302 302 200 200"),
    "admin:sensors_sensor_add": ("302 302 302 200 200", "302 302 302 200 200"),
    "admin:sensors_sensor_history": ("302 302 302 200 200", "302 302 302 200 200"),
    "admin:sensors_sensor_delete": ("302 302 302 200 200", "302 302 302 200 200"),
    "admin:sensors_sensor_change": ("302 302 302 200 200", "302 302 302 200 200"),
    "admin/sensors/sensor/<path:object_id>/": (
        "302 302 302 302 302",
        "302 302 302 302 302",
    ),
    "admin:alienapps_connection_changelist": (
        "302 302 302 200 200",
        "302 302 302 200 200",
    ),
    "admin:alienapps_connection_add": ("302 302 302 403 403", "302 302 302 403 403"),
    "admin:alienapps_connection_history": (
        "302 302 302 200 200",
        "302 302 302 200 200",
    ),
    "admin:alienapps_connection_delete": ("302 302 302 403 403", "302 302 302 403 403"),
    "admin:alienapps_connection_change": ("302 302 302 200 200", "302 302 302 403 403"),
    "admin/alienapps/connection/<path:object_id>/": (
        "302 302 302 302 302",
        "302 302 302 302 302",
    ),
}

# Form bodies that make an allowed POST succeed; other POSTs send no fields.
POST_DATA = {
    "activity:alarm-status": {"status": "closed"},
    "alienapps:job-enabled": {"enabled": "false"},
}

# Which fixture object fills the ``pk`` of each URL pattern.
PK_OBJECTS = {
    "alienapps:connection": "connection",
    "alienapps:connection-test": "connection",
    "alienapps:connection-remove": "connection",
    "alienapps:job": "job",
    "alienapps:job-run": "job",
    "alienapps:job-enabled": "job",
    "activity:event-detail": "event",
    "activity:alarm-detail": "alarm",
    "activity:alarm-status": "alarm",
}

PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def url_patterns(resolver=None, prefix="", namespace=""):
    """Yield (key, route, pattern) for every URL pattern; the key is the qualified
    name, or the route when the pattern has no name."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry, route, inner)
        elif isinstance(entry, URLPattern):
            key = f"{namespace}{entry.name}" if entry.name else route
            yield key, route, entry


def admin_object(route: str, objects: dict):
    """Return the object an admin model URL is about, from its app and model."""
    app_label, model_name = route.split("/")[1:3]
    model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
    found = model.objects.order_by("pk").first()
    assert found is not None, f"no {app_label}.{model_name} to fill {route}"
    return found


def argument(name: str, key: str, route: str, objects: dict) -> str:
    if name == "slug":
        return "sophos-central"
    if name == "pk":
        return str(objects[PK_OBJECTS[key]].pk)
    if name == "app_label":
        return "sensors"
    if name == "content_type_id":
        return str(ContentType.objects.get_for_model(objects["sensor"]).pk)
    if name == "url":
        return "no-such-page/"
    if key == "admin:view_on_site":
        return str(objects["sensor"].pk)
    return str(admin_object(route, objects).pk)


def build_path(key: str, route: str, objects: dict) -> str:
    def fill(match: re.Match) -> str:
        return argument(match.group(1) or match.group(2), key, route, objects)

    return "/" + PLACEHOLDER.sub(fill, route).replace("^", "").replace("$", "")


def request_status(user, method: str, path: str, data: dict) -> int:
    """Send one request and undo whatever it changed, so every request sees the
    same objects."""
    with transaction.atomic():
        client = client_for(user)
        response = getattr(client, method)(path, data)
        transaction.set_rollback(True)
    return response.status_code


@pytest.fixture
def grid_objects(portal, settings) -> dict:
    # Test connection waits for the sensor's worker; the grid needs only the status.
    settings.CONNECTION_CHECK_WAIT_SECONDS = 0
    return portal


@pytest.mark.django_db
def test_permission_grid(grid_objects, role_users):
    patterns = list(url_patterns())
    missing = [key for key, _route, _entry in patterns if key not in RULES]
    assert not missing, f"URL patterns without a row in RULES: {missing}"

    failures = []
    for key, route, entry in patterns:
        path = build_path(key, route, grid_objects)
        assert resolve(path).func == entry.callback, f"{path} is not {route}"
        for method, expected_row in zip(("get", "post"), RULES[key], strict=True):
            expected = [int(status) for status in expected_row.split()]
            for role, status in zip(ROLE_NAMES, expected, strict=True):
                data = POST_DATA.get(key, {}) if method == "post" else {}
                got = request_status(role_users[role], method, path, data)
                if got != status:
                    failures.append(
                        f"{method.upper()} {path} as {role}: {got}, expected {status}"
                    )
    assert not failures, "\n".join(failures)


def test_no_view_is_csrf_exempt():
    for key, _route, entry in url_patterns():
        assert not getattr(entry.callback, "csrf_exempt", False), f"{key} is exempt"


# Roles


def group_permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(roles.ROLE_PERMISSIONS))
def test_migration_creates_role_groups(role):
    assert group_permissions(role) == set(roles.ROLE_PERMISSIONS[role])


def test_roles_build_on_each_other():
    assert set(roles.READ_ONLY_PERMISSIONS) < set(roles.ANALYST_PERMISSIONS)
    assert set(roles.ANALYST_PERMISSIONS) < set(roles.MANAGER_PERMISSIONS)
    assert "alienapps.configure_connection" not in roles.ANALYST_PERMISSIONS
    assert "activity.change_alarm" not in roles.READ_ONLY_PERMISSIONS


@pytest.mark.django_db
def test_demo_users_command_sets_roles():
    output = StringIO()
    call_command("create_demo_users", "--password", "Demo-Pass-2026", stdout=output)
    for username, role in (
        ("manager", roles.MANAGER),
        ("analyst", roles.ANALYST),
        ("readonly", roles.READ_ONLY),
    ):
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password("Demo-Pass-2026")
        assert user.is_staff is (role == roles.MANAGER)
        assert user.is_superuser is False
    assert output.getvalue().count("password: Demo-Pass-2026") == 3


@pytest.mark.django_db
def test_demo_users_random_passwords_printed():
    output = StringIO()
    call_command("create_demo_users", stdout=output)
    passwords = re.findall(r"password: (\S+)", output.getvalue())
    assert len(set(passwords)) == 3
    assert User.objects.get(username="analyst").check_password(passwords[1])


@pytest.mark.django_db
def test_demo_users_need_migrated_groups():
    Group.objects.filter(name=roles.ANALYST).delete()
    with pytest.raises(CommandError, match="Analyst"):
        call_command("create_demo_users", stdout=StringIO())
