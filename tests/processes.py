"""Start real worker processes that share the test database and broker."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))


def test_database_url() -> str:
    """Return a DATABASE_URL for the database the running tests use."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def worker_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        USM_VAR_DIR=str(settings.VAR_DIR),
        SOPHOS_EXTRA_API_HOSTS=",".join(settings.SOPHOS_EXTRA_API_HOSTS),
        SOPHOS_READ_TIMEOUT="5",
        SOPHOS_REQUEST_DEADLINE="30",
        SOPHOS_BACKOFF_SECONDS="0.01",
        CELERY_TASK_ALWAYS_EAGER="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_worker(queues: str, log_path: Path, **extra: str) -> subprocess.Popen:
    """Start a solo-pool worker, so killing its process kills the running task."""
    command = [
        CELERY,
        "-A",
        "usm_portal",
        "worker",
        "--pool",
        "solo",
        "-Q",
        queues,
        "--all-sensors",
        "-l",
        "info",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    log = open(log_path, "w")
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=worker_environment(**extra),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until(condition, timeout: float, message: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message)
