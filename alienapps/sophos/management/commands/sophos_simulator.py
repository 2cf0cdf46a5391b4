"""Run the Sophos Central SIEM simulator until interrupted."""

import json
import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alienapps.sophos.hosts import is_loopback
from alienapps.sophos.simulator import Simulator


class Command(BaseCommand):
    help = (
        "Serve a local Sophos Central SIEM API (legacy token routes under /gateway) "
        "with generated events and alerts, and print the token block to paste."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="Address to listen on (default 127.0.0.1).",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=8443,
            help="TCP port to listen on, or 0 for a free one (default 8443).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            help="Seed of the generated data (default 1).",
        )
        parser.add_argument(
            "--backlog-events",
            type=int,
            default=5000,
            help="Events generated over the last 24 hours (default 5000).",
        )
        parser.add_argument(
            "--events-per-minute",
            type=float,
            default=6.0,
            help="New live events per minute, or 0 for none (default 6).",
        )
        parser.add_argument(
            "--load",
            nargs="+",
            action="extend",
            default=[],
            metavar="FILE",
            help="Sample files of events and alerts to serve as well.",
        )
        parser.add_argument(
            "--faults",
            metavar="FILE",
            help="JSON file with a list of fault specs to apply.",
        )
        parser.add_argument(
            "--token-file",
            metavar="FILE",
            help="Keep the token in this file: reuse it when the file exists, else "
            "write the new one there, so a restarted simulator accepts the same block.",
        )
        parser.add_argument(
            "--allow-remote",
            action="store_true",
            help="Allow a --host that is not a loopback address.",
        )

    def handle(self, *args: object, **options: object) -> None:
        host = str(options["host"])
        if not is_loopback(host) and not options["allow_remote"]:
            raise CommandError(
                f"--host {host} is not a loopback address. The simulator accepts "
                "unauthenticated control requests, so pass --allow-remote to listen "
                "on it anyway."
            )

        sim = self._build(host, options)
        try:
            sim.start()
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {host}:{options['port']}: {error}"
            ) from error

        self._announce(sim)
        self._serve(sim)

    def _build(self, host: str, options: dict) -> Simulator:
        sim = Simulator(
            host=host,
            port=int(options["port"]),
            seed=int(options["seed"]),
            backlog_events=int(options["backlog_events"]),
            events_per_minute=float(options["events_per_minute"]),
        )
        for path in options["load"]:
            self.stdout.write(f"Loaded {self._load(sim, path)} records from {path}")

        if options["faults"]:
            self.stdout.write(f"Added {self._faults(sim, options['faults'])} faults")
        if options["token_file"]:
            keep_token(sim, Path(str(options["token_file"])))
        return sim

    def _load(self, sim: Simulator, path: str) -> int:
        try:
            return sim.load_file(path)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot load {path}: {error}") from error

    def _faults(self, sim: Simulator, path: str) -> int:
        try:
            return sim.add_faults(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read faults from {path}: {error}") from error

    def _announce(self, sim: Simulator) -> None:
        events, alerts = len(sim.streams["events"]), len(sim.streams["alerts"])
        self.stdout.write(f"Sophos Central simulator listening on {sim.url}")
        self.stdout.write(f"Serving {events} events and {alerts} alerts")
        self.stdout.write(f"Token block: {sim.token_block}")
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()

    def _serve(self, sim: Simulator) -> None:
        """Serve until Ctrl+C or SIGTERM, then stop the server and free the port."""
        signal.signal(signal.SIGTERM, lambda signum, frame: sim.stop())
        try:
            sim.wait_until_stopped()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the simulator")
        finally:
            sim.stop()


def keep_token(sim: Simulator, path: Path) -> None:
    """Reuse the token stored at ``path``, or store the simulator's new one there."""
    try:
        stored = json.loads(path.read_text())
        api_key, authorization = stored["api_key"], stored["authorization"]
    except (OSError, ValueError, KeyError, TypeError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"api_key": sim.api_key, "authorization": sim.authorization})
        )
        path.chmod(0o600)
        return
    # NOTE: this sets the credentials object's fields directly; the simulator has no
    # method to install a given token.
    sim.credentials.api_key = api_key
    sim.credentials.authorization = authorization
