"""Create the demo users manager, analyst and readonly, one per role."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from usm_portal import roles

# (user name, role). The Manager is also staff, so the admin shows it the Sensors.
DEMO_USERS = (
    ("manager", roles.MANAGER),
    ("analyst", roles.ANALYST),
    ("readonly", roles.READ_ONLY),
)


class Command(BaseCommand):
    help = (
        "Create or reset the demo users manager, analyst and readonly in the groups "
        "Manager, Analyst and Read-Only, and print their passwords."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help="Give every demo user this password. By default each gets a new "
            "random one.",
        )

    def handle(self, *args, password: str | None = None, **options) -> None:
        missing = set(roles.ROLE_PERMISSIONS) - set(
            Group.objects.values_list("name", flat=True)
        )
        if missing:
            raise CommandError(
                f"The groups {', '.join(sorted(missing))} do not exist. Run "
                "'manage.py migrate' first."
            )

        with transaction.atomic():
            created = [
                self._save_user(name, role, password) for name, role in DEMO_USERS
            ]
        for name, role, user_password in created:
            self.stdout.write(f"{name:<10} {role:<10} password: {user_password}")

    def _save_user(self, name: str, role: str, password: str | None) -> tuple:
        password = password or secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=name)
        user.set_password(password)
        user.is_active = True
        user.is_staff = role == roles.MANAGER
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        return name, role, password
