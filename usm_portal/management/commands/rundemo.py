"""Run the whole portal on one machine: simulator, workers, beat and web server."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand

from sensors.models import Sensor

DEMO_SENSORS = [
    ("sensor-hq", Sensor.Type.VMWARE, "Head office sensor (VMware)", "10.0.10.5"),
    ("sensor-aws", Sensor.Type.AWS, "AWS us-east-1 sensor", "172.31.4.20"),
]


class Command(BaseCommand):
    help = (
        "Seed the demo (three users, two sensors), then run the Sophos Central "
        "simulator, a worker for the schedule, a worker serving every sensor's queue, "
        "beat and the web server."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", 8000))
        )
        parser.add_argument(
            "--simulator-port",
            type=int,
            default=int(os.environ.get("SIMULATOR_PORT", 8443)),
        )

    def handle(self, *args, port: int, simulator_port: int, **options) -> None:
        users = self.seed()
        simulator = f"http://127.0.0.1:{simulator_port}"
        env = self.child_environment(simulator)
        children = self.start_children(env, port, simulator_port)
        try:
            token_block = wait_for_token_block(simulator, children)
            self.print_banner(port, users, token_block)
            self.supervise(children)
        finally:
            stop(children)

    def seed(self) -> str:
        for name, kind, description, address in DEMO_SENSORS:
            Sensor.objects.get_or_create(
                name=name,
                defaults={
                    "type": kind,
                    "description": description,
                    "address": address,
                    "version": "2026.11.0",
                },
            )
        return self.demo_users()

    def demo_users(self) -> str:
        """Create the demo users once; later starts print the same logins again."""
        logins = Path(settings.VAR_DIR) / "demo-users.txt"
        names = [line.split()[0] for line in self.read_logins(logins)]
        if names and User.objects.filter(username__in=names).count() == len(names):
            return logins.read_text()
        output = io.StringIO()
        call_command("create_demo_users", stdout=output)
        logins.write_text(output.getvalue())
        logins.chmod(0o600)
        return output.getvalue()

    def read_logins(self, path: Path) -> list[str]:
        try:
            return [line for line in path.read_text().splitlines() if line.strip()]
        except OSError:
            return []

    def child_environment(self, simulator: str) -> dict[str, str]:
        env = dict(os.environ)
        extra = [host for host in settings.SOPHOS_EXTRA_API_HOSTS if host != simulator]
        env["SOPHOS_EXTRA_API_HOSTS"] = ",".join([simulator, *extra])
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def start_children(self, env, port: int, simulator_port: int) -> dict:
        python = sys.executable
        celery = str(Path(python).with_name("celery"))
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        commands = {
            "simulator": [
                python,
                manage,
                "sophos_simulator",
                "--port",
                str(simulator_port),
                "--token-file",
                str(Path(settings.VAR_DIR) / "simulator-token.json"),
            ],
            # The dispatcher gets a worker of its own, so slow Sophos calls on the
            # sensor queues never delay the schedule.
            "portal worker": [
                celery,
                "-A",
                "usm_portal",
                "worker",
                "-Q",
                "portal",
                "--concurrency",
                "1",
                "-n",
                "portal@%h",
                "-l",
                "info",
            ],
            "sensor worker": [
                celery,
                "-A",
                "usm_portal",
                "worker",
                "--all-sensors",
                "-Q",
                sensor_queues(),
                "--concurrency",
                "2",
                "-n",
                "sensors@%h",
                "-l",
                "info",
            ],
            "beat": [celery, "-A", "usm_portal", "beat", "-l", "info"],
            "web": [python, manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        }
        return {
            name: subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
            for name, command in commands.items()
        }

    def print_banner(self, port: int, users: str, token_block: str) -> None:
        line = "=" * 78
        self.stdout.write(
            f"\n{line}\nUSM Portal is running at http://127.0.0.1:{port}/\n\n{users.strip()}\n\n"
            "Configure Sophos Central under Data Sources > AlienApps and paste this "
            f"token block:\n\n{token_block}\n{line}\n"
        )

    def supervise(self, children: dict) -> None:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(
                            f"The {name} process exited with {child.returncode}."
                        )
                        return
                time.sleep(1)
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")


def sensor_queues() -> str:
    """Return the sensors' queues; --all-sensors adds those of sensors added later."""
    return ",".join(Sensor.objects.values_list("queue", flat=True)) or "portal"


def wait_for_token_block(simulator: str, children: dict, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if children["simulator"].poll() is not None:
            raise SystemExit("The simulator exited; see its output above.")
        try:
            with urllib.request.urlopen(f"{simulator}/_sim/token", timeout=2) as answer:
                return json.load(answer)["token_block"]
        except OSError:
            time.sleep(0.5)
    raise SystemExit(
        f"The simulator did not respond at {simulator} within {timeout:g} s; see its output above."
    )


def stop(children: dict) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
