"""Seeded, deterministic generation of Sophos Central SIEM events and alerts.

The same seed and start time always give the same items. Items are raw-api dicts: the
field names and value shapes that `/siem/v1/events` and `/siem/v1/alerts` return.

Generated `created_at` values never decrease along the stream order, so the items
stored by any moment always form a prefix of the stream and a client that pages with
the returned cursors misses none of them.
"""

import bisect
import itertools
import random
from dataclasses import dataclass, field

from .catalogue import BY_NAME, CATALOGUE, EventType, render
from .fillers import FILLERS, PLATFORM_KINDS, hmpa_exploit
from .fleet import Device, build_fleet, random_hex, random_uuid
from .times import DAY_MS, iso_ms

# The backlog spans the 24-hour window minus a margin at each end, so that all of it
# is served right after start.
BACKLOG_OLDEST_MS = DAY_MS - 5 * 60 * 1000
BACKLOG_NEWEST_MS = 5 * 1000
TIE_RATE = 0.04
MAX_STORE_LAG_MS = 2500
MAX_ALERT_LAG_MS = 3000


class Picker:
    """Draws catalogue indexes by weight from a subset of the catalogue."""

    def __init__(self, indexes: list[int]) -> None:
        self.indexes = indexes
        weights = (CATALOGUE[i].weight for i in indexes)
        self.cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> int:
        point = rng.random() * self.cumulative[-1]
        position = bisect.bisect_right(self.cumulative, point)
        return self.indexes[min(position, len(self.indexes) - 1)]


@dataclass(slots=True)
class HighWater:
    """The latest `created_at` given out per stream, in epoch ms."""

    event_ms: int = 0
    alert_ms: int = 0


@dataclass(slots=True)
class Batch:
    """Generated events and the alerts they raised, each list in stream order."""

    events: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)


class Generator:
    """Builds events and the alerts they raise for one simulated tenant."""

    def __init__(self, seed: int | str) -> None:
        fleet_rng = random.Random(f"{seed}:fleet")
        self.seed = seed
        self.customer_id = random_uuid(fleet_rng)
        self.devices = build_fleet(fleet_rng)
        self.platforms = {d.endpoint_id: d.platform for d in self.devices}

        every = list(range(len(CATALOGUE)))
        self.any_type = Picker(every)
        self.alerting = Picker([i for i in every if CATALOGUE[i].alerting])
        self.quiet = Picker([i for i in every if not CATALOGUE[i].alerting])
        self.high_water = HighWater()

    def event(
        self, rng: random.Random, type_index: int, when_ms: int, precise: bool = False
    ) -> tuple[dict, int]:
        """Build one event and return it with its `when` in epoch ms.

        `created_at` stays None for the caller to set. Without `precise`, devices that
        report whole seconds truncate `when` to the second.
        """
        event_type = CATALOGUE[type_index]
        device = rng.choice(self.devices)
        args, extras = FILLERS[event_type.kind](rng, device)

        if device.second_precision and not precise:
            when_ms -= when_ms % 1000

        item = self._event_base(rng, event_type, device, when_ms)
        item["name"] = render(event_type.template, args)
        item.update(extras)
        return item, when_ms

    def _event_base(
        self, rng: random.Random, event_type: EventType, device: Device, when_ms: int
    ) -> dict:
        on_platform = event_type.kind in PLATFORM_KINDS

        return {
            "id": random_uuid(rng),
            "customer_id": self.customer_id,
            "type": event_type.name,
            "name": "",
            "severity": event_type.severity,
            "group": event_type.group,
            "when": iso_ms(when_ms),
            "created_at": None,
            "endpoint_id": None if on_platform else device.endpoint_id,
            "endpoint_type": None if on_platform else device.endpoint_type,
            "location": "n/a" if on_platform else device.host,
            "source": "n/a" if on_platform else device.user,
            "source_info": {"ip": device.ip},
            "user_id": None if on_platform else device.user_id,
            "threat": None,
            "origin": None,
        }

    def backlog(self, count: int, alert_count: int | None, now_ms: int) -> Batch:
        """Generate `count` events spread over the last 24 hours, with their alerts.

        With `alert_count` None, alerts follow the alerting events. A number makes
        exactly that many of the events alerting ones.
        """
        rng = random.Random(f"{self.seed}:backlog")
        whens = self._backlog_times(rng, count, now_ms)
        types = [self.any_type.pick(rng) for _ in range(count)]
        self._fix_alerting(rng, types, alert_count)

        pairs = [self.event(rng, t, w) for t, w in zip(types, whens, strict=True)]
        pairs.sort(key=lambda pair: (pair[1], pair[0]["id"]))
        return self._store_times(rng, pairs, self.high_water)

    def _backlog_times(self, rng: random.Random, count: int, now_ms: int) -> list[int]:
        oldest = now_ms - BACKLOG_OLDEST_MS
        newest = now_ms - BACKLOG_NEWEST_MS
        times: list[int] = []

        for _ in range(count):
            if times and rng.random() < TIE_RATE:
                times.append(times[-1])
            else:
                times.append(rng.randint(oldest, newest))
        return times

    def _fix_alerting(
        self, rng: random.Random, types: list[int], alert_count: int | None
    ) -> None:
        if alert_count is None:
            return
        if not 0 <= alert_count <= len(types):
            raise ValueError(
                f"backlog_alerts={alert_count} must be between 0 and the number of "
                f"backlog events ({len(types)})"
            )

        alerting = [i for i, t in enumerate(types) if CATALOGUE[t].alerting]
        quiet = [i for i, t in enumerate(types) if not CATALOGUE[t].alerting]

        for position in rng.sample(alerting, max(0, len(alerting) - alert_count)):
            types[position] = self.quiet.pick(rng)
        for position in rng.sample(quiet, max(0, alert_count - len(alerting))):
            types[position] = self.alerting.pick(rng)

    def _store_times(
        self, rng: random.Random, pairs: list[tuple[dict, int]], high_water: "HighWater"
    ) -> Batch:
        """Set `created_at` on events in stream order and raise their alerts."""
        batch = Batch()

        for event, when_ms in pairs:
            created = max(
                when_ms + rng.randint(20, MAX_STORE_LAG_MS), high_water.event_ms
            )
            high_water.event_ms = created
            event["created_at"] = iso_ms(created)
            batch.events.append(event)

            if BY_NAME[event["type"]].alerting:
                raised = max(
                    created + rng.randint(100, MAX_ALERT_LAG_MS), high_water.alert_ms
                )
                high_water.alert_ms = raised
                batch.alerts.append(self.alert_for(rng, event, raised))
        return batch

    def alert_for(self, rng: random.Random, event: dict, created_ms: int) -> dict:
        """Build the alert an event raises: same id, `data` times in epoch ms."""
        platform = self.platforms.get(event["endpoint_id"])

        return {
            "id": event["id"],
            "event_service_event_id": event["id"],
            "type": event["type"],
            "description": event["name"],
            "severity": event["severity"],
            "when": event["when"],
            "created_at": iso_ms(created_ms),
            "customer_id": event["customer_id"],
            "location": event["location"],
            "source": event["source"],
            "threat": event["threat"],
            "threat_cleanable": _cleanable(event),
            "info": None,
            "data": _alert_data(rng, event, created_ms, platform),
        }

    def live_event(self, rng: random.Random, when_ms: int) -> Batch:
        """Generate one live event at `when_ms` and the alert it may raise."""
        event, when_ms = self.event(rng, self.any_type.pick(rng), when_ms, precise=True)
        return self._store_times(rng, [(event, when_ms)], self.high_water)

    def unstored_items(self, count: int, when_ms: int, as_alerts: bool) -> list[dict]:
        """Build `count` events or alerts that no stream stores, for oversized pages."""
        rng = random.Random(f"{self.seed}:unstored:{count}:{when_ms}")
        picker = self.alerting if as_alerts else self.any_type
        items = []

        for _ in range(count):
            event, _ = self.event(rng, picker.pick(rng), when_ms, precise=True)
            event["created_at"] = iso_ms(when_ms)
            items.append(self.alert_for(rng, event, when_ms) if as_alerts else event)
        return items


def _cleanable(event: dict) -> bool | None:
    if event["threat"] is None:
        return None
    return "Failed" not in event["type"]


def _alert_data(
    rng: random.Random, event: dict, created_ms: int, platform: str | None
) -> dict:
    device_id = event["endpoint_id"]

    data = {
        "endpoint_id": device_id,
        "endpoint_java_id": device_id,
        "endpoint_type": event["endpoint_type"],
        "endpoint_platform": platform,
        "event_service_id": event["id"],
        "source_info": event["source_info"],
        "created_at": created_ms,
        "inserted_at": created_ms,
        "make_actionable_at": created_ms + rng.randint(0, 900),
        "threat_id": random_hex(rng, 24),
        "user_match_id": random_hex(rng, 24),
        "threat_status": "NONE",
        "policy_type": 30,
        "source_app_id": "CORE",
        "certificates": [],
    }
    _copy_detection_data(rng, event, data)
    return data


def _copy_detection_data(rng: random.Random, event: dict, data: dict) -> None:
    if "core_remedy_items" in event:
        data["core_remedy_items"] = event["core_remedy_items"]

    ips = event.get("ips_threat_data")
    if ips is not None:
        data["ips_threat"] = {_snake_case(key): value for key, value in ips.items()}

    if event["type"].startswith("Event::Endpoint::Hmpa"):
        details = event.get("details") or [{"property": "CryptoGuard"}]
        data["app_id"] = "HMPA"
        data["hmpa_exploit"] = hmpa_exploit(rng, details[0]["property"])


def _snake_case(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


class LiveStream:
    """A steady stream of new events that follows the simulator clock.

    Gaps between events are exponential with the configured mean rate. Events are made
    when the clock reaches their `when`, so a clock set forward creates the missed ones.
    """

    MAX_PER_CALL = 200_000

    def __init__(self, generator: Generator, per_minute: float, start_ms: int) -> None:
        self.generator = generator
        self.rng = random.Random(f"{generator.seed}:live")
        self.mean_gap_ms = 60_000 / per_minute if per_minute > 0 else 0.0
        self.next_ms = start_ms + self._gap()

    def _gap(self) -> int:
        if not self.mean_gap_ms:
            return 0
        return max(1, int(self.rng.expovariate(1 / self.mean_gap_ms)))

    def until(self, now_ms: int) -> Batch:
        """Generate every event due by `now_ms`, skipping those older than 24 hours."""
        batch = Batch()
        if not self.mean_gap_ms:
            return batch

        self.next_ms = max(self.next_ms, now_ms - DAY_MS)
        for _ in range(self.MAX_PER_CALL):
            if self.next_ms > now_ms:
                break
            generated = self.generator.live_event(self.rng, self.next_ms)
            batch.events += generated.events
            batch.alerts += generated.alerts
            self.next_ms += self._gap()
        return batch
