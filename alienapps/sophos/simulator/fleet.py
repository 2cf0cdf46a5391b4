"""The simulated tenant's devices, with stable ids, host names, users and addresses."""

import random
import uuid
from dataclasses import dataclass

DOMAIN = "CORP"
DEPARTMENTS = ("FIN", "HR", "ENG", "OPS", "SAL", "LEG")
USERS = ("jdoe", "asmith", "mgarcia", "lchen", "pnovak", "rkumar", "ookafor", "ebrown")
SERVERS = ("SRV-DC-01", "SRV-FILE-02", "SRV-SQL-01", "SRV-WEB-03")


@dataclass(frozen=True, slots=True)
class Device:
    endpoint_id: str
    host: str
    endpoint_type: str
    platform: str
    ip: str
    user: str
    user_id: str
    second_precision: bool

    @property
    def short_user(self) -> str:
        return self.user.split("\\")[-1]


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def build_fleet(rng: random.Random, computers: int = 10) -> tuple[Device, ...]:
    """Create workstations with their users, then servers.

    Even-numbered workstations and all servers report `when` in whole seconds, as many
    endpoints do, which gives the streams realistic ties.
    """
    devices = [_computer(rng, index) for index in range(computers)]
    devices += [_server(rng, index, host) for index, host in enumerate(SERVERS)]
    return tuple(devices)


def _computer(rng: random.Random, index: int) -> Device:
    department = DEPARTMENTS[index % len(DEPARTMENTS)]
    user = USERS[index % len(USERS)]
    # Alert `data.endpoint_platform` carries this value. Payloads show only `windows`.
    platform = "macOS" if index % 7 == 6 else "windows"

    return Device(
        endpoint_id=random_uuid(rng),
        host=f"WS-{department}-{rng.randint(1, 999):03d}",
        endpoint_type="computer",
        platform=platform,
        ip=f"10.20.{30 + index}.{rng.randint(10, 250)}",
        user=f"{DOMAIN}\\{user}",
        user_id=random_hex(rng, 24),
        second_precision=index % 2 == 0,
    )


def _server(rng: random.Random, index: int, host: str) -> Device:
    return Device(
        endpoint_id=random_uuid(rng),
        host=host,
        endpoint_type="server",
        platform="windows",
        ip=f"10.10.1.{10 + index}",
        user="n/a",
        user_id=random_hex(rng, 24),
        second_precision=True,
    )
