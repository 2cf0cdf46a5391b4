"""Time the Events page at the top and deep into a million events.

Usage: .venv/bin/python benchmarks/events_pages.py [--events N] [--database-url URL]

Fills a fresh database (a temporary SQLite file unless --database-url is given) with N
events spread over the last 24 hours. Then it renders /events/ through Django's test
client as a Read-Only user: the first page, a page at 90 % depth by its keyset
cursor, and the same depth filtered by severity. Each figure is the median of 5.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEVERITIES = ["low", "medium", "high"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    return parser.parse_args()


def configure(args: argparse.Namespace) -> None:
    var = tempfile.mkdtemp(prefix="usm-benchmark-")
    os.environ["USM_VAR_DIR"] = var
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{var}/events.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "usm_portal.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    # Production settings: with DEBUG on Django keeps every SQL statement in memory.
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)


def fill(count: int) -> None:
    from django.utils import timezone

    from activity.models import Event

    now = timezone.now()
    step = timedelta(hours=24) / count
    batch = []
    for number in range(count):
        batch.append(
            Event(
                external_id=f"bench-{number}",
                plugin="Sophos Central",
                event_name=f"Update succeeded on WS-{number % 5000:04d}",
                event_severity=SEVERITIES[number % 3],
                event_subcategory="Event::Endpoint::UpdateSuccess",
                source_name=f"WS-{number % 5000:04d}",
                timestamp_occured=now - step * number,
                timestamp_received=now,
                log="{}",
            )
        )
        if len(batch) == 10_000:
            Event.objects.bulk_create(batch)
            batch = []
    Event.objects.bulk_create(batch)


def timed(client, url: str) -> float:
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples) * 1000


def main() -> None:
    args = parse_args()
    configure(args)
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from activity.models import Event
    from usm_portal.pagination import encode_cursor
    from usm_portal.roles import ensure_groups

    setup_test_environment()
    started = time.perf_counter()
    fill(args.events)
    print(f"database:            {connection.vendor}")
    print(f"filled {args.events:,} events in {time.perf_counter() - started:.0f} s")

    ensure_groups()
    user = User.objects.create_user("bench", password="Bench-Password-1")
    user.groups.add(Group.objects.get(name="Read-Only"))
    client = Client()
    client.force_login(user)

    deep = Event.objects.order_by("-timestamp_occured", "-id")[int(args.events * 0.9)]
    cursor = encode_cursor(deep.timestamp_occured, deep.pk)
    print(f"first page:          {timed(client, '/events/'):.1f} ms")
    print(f"page at 90 % depth:  {timed(client, f'/events/?before={cursor}'):.1f} ms")
    url = f"/events/?severity=high&before={cursor}"
    print(f"same, severity high: {timed(client, url):.1f} ms")


if __name__ == "__main__":
    main()
