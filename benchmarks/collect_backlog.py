"""Collect a 100,000-event backlog (100 pages of 1,000) and report speed and memory.

Usage: .venv/bin/python benchmarks/collect_backlog.py [--events N] [--database-url URL]

Runs the real collector and Sophos client against the simulator, started as its own
process as a remote service would be, over a loopback socket, into a fresh database
(a temporary SQLite file unless --database-url is given). Prints wall time, items
per second and the collecting process's peak memory.
"""

import argparse
import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="Also report the peak Python heap with tracemalloc (slows the run).",
    )
    return parser.parse_args()


def configure(args: argparse.Namespace) -> None:
    var = tempfile.mkdtemp(prefix="usm-benchmark-")
    os.environ["USM_VAR_DIR"] = var
    os.environ["DATABASE_URL"] = (
        args.database_url or f"sqlite:///{var}/benchmark.sqlite3"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "usm_portal.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    # Production settings: with DEBUG on Django keeps every SQL statement in memory.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start_simulator(events: int) -> tuple[subprocess.Popen, str, str]:
    """Start the simulator command on a free port; return it, its URL and token block."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "sophos_simulator",
        "--port",
        str(port),
        "--backlog-events",
        str(events),
        "--events-per-minute",
        "0",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/_sim/token", timeout=1) as response:
                return process, url, json.load(response)["token_block"]
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the simulator did not start at {url}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    args = parse_args()
    configure(args)
    from django.conf import settings

    from activity.models import Event
    from alienapps.collector import run_job
    from sensors.models import Sensor
    from tests.conftest import make_connection

    started = time.perf_counter()
    simulator, url, token_block = start_simulator(args.events)
    generated = time.perf_counter() - started
    settings.SOPHOS_EXTRA_API_HOSTS = [url]
    settings.COLLECTION_MAX_PAGES = 10_000
    sensor = Sensor.objects.create(name="benchmark-sensor")
    connection = make_connection(token_block, sensor, streams=("events",))
    job = connection.jobs.get(stream="events")

    if args.trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    run = run_job(job.pk)
    elapsed = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] if args.trace_memory else None
    tracemalloc.stop()
    simulator.terminate()
    simulator.wait(10)

    stored = Event.objects.count()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"database:          {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
    )
    print(f"simulator backlog: {args.events} events, ready after {generated:.1f} s")
    print(f"run outcome:       {run.outcome} ({run.message})")
    print(f"pages / items:     {run.pages} / {run.items}, stored {stored}")
    print(f"wall time:         {elapsed:.1f} s")
    print(f"items per second:  {run.items / elapsed:,.0f}")
    if traced_peak is not None:
        print(
            f"peak traced heap:  {traced_peak / 1024 / 1024:.1f} MiB (tracemalloc, run only)"
        )
    print(f"peak RSS:          {rss:.0f} MiB (the collecting process)")


if __name__ == "__main__":
    main()
