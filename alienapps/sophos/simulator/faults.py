"""Scripted faults for the SIEM routes, consumed in the order they were added.

A fault spec is a dict such as `{"route": "events", "times": 1, "kind": "status",
"status": 503, "headers": {"Retry-After": "2"}}`. `route` is `events`, `alerts` or `*`.
`times` is how many requests the fault affects (default 1), or None to keep it until
the faults are cleared. A request takes the first fault that matches its route, except
that `reject_cursor` matches only requests that carry a cursor.
"""

import copy
import threading
from dataclasses import dataclass, field

ROUTES = ("events", "alerts", "*")

# Kinds and their options with defaults.
KINDS: dict[str, dict] = {
    "status": {"status": 500, "body": None, "headers": {}},
    "delay": {"seconds": 1.0},
    "hang": {"seconds": 300.0},
    "trickle": {"interval": 0.1},
    "html": {},
    "empty": {},
    "missing_field": {"field": "next_cursor"},
    "stuck_cursor": {},
    "duplicate": {},
    "reject_cursor": {},
    "reset": {},
    "oversized": {"count": 5000},
}

KNOWN_NAMES = {"kind", "route", "times"}.union(*KINDS.values())

ENVELOPE_FIELDS = ("has_more", "next_cursor", "items")

HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sophos Central</title></head>"
    b"<body><h1>Service temporarily unavailable</h1>"
    b"<p>Please try again later.</p></body></html>\n"
)


@dataclass(slots=True)
class Fault:
    route: str
    kind: str
    times: int | None
    options: dict = field(default_factory=dict)

    def option(self, name: str) -> object:
        return self.options.get(name, KINDS[self.kind].get(name))


def parse_fault(spec: object) -> Fault:
    """Validate one fault spec, raising ValueError that names the invalid part."""
    if not isinstance(spec, dict):
        raise ValueError(f"fault spec must be a JSON object, not {spec!r}")

    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(
            f"invalid fault kind {kind!r}, expected one of {sorted(KINDS)}"
        )

    route = spec.get("route", "*")
    if route not in ROUTES:
        raise ValueError(f"invalid fault route {route!r}, expected one of {ROUTES}")

    _check_option_names(kind, spec)
    options = {key: value for key, value in spec.items() if key in KINDS[kind]}
    fault = Fault(route, kind, _parse_times(spec), options)

    for check in CHECKS:
        check(fault)
    return fault


def _check_option_names(kind: str, spec: dict) -> None:
    """Reject option names that no kind uses, which are typing mistakes.

    Options of other kinds are ignored, so one spec can be reused across kinds.
    """
    unknown = sorted(set(spec) - KNOWN_NAMES)
    if unknown:
        allowed = sorted(KINDS[kind]) or "none"
        raise ValueError(f"unknown {kind} fault options {unknown}, allowed: {allowed}")


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_times(spec: dict) -> int | None:
    times = spec.get("times", 1)
    if times is None:
        return None
    if not _is_integer(times) or times < 1:
        raise ValueError(
            f"invalid fault times {times!r}, expected an integer >= 1 or null"
        )
    return times


def _check_durations(fault: Fault) -> None:
    for name in ("seconds", "interval"):
        value = fault.option(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"invalid {fault.kind} {name} {value!r}, expected >= 0")


def _check_status(fault: Fault) -> None:
    if fault.kind != "status":
        return

    status = fault.option("status")
    if not _is_integer(status) or not 100 <= status <= 599:
        raise ValueError(f"invalid fault status {status!r}, expected 100-599")
    if not isinstance(fault.option("headers"), dict):
        raise ValueError("invalid status fault headers, expected a JSON object")


def _check_field(fault: Fault) -> None:
    field_name = fault.option("field")
    if fault.kind == "missing_field" and field_name not in ENVELOPE_FIELDS:
        raise ValueError(
            f"invalid missing_field field {field_name!r}, "
            f"expected one of {ENVELOPE_FIELDS}"
        )


def _check_count(fault: Fault) -> None:
    count = fault.option("count")
    if fault.kind == "oversized" and (not _is_integer(count) or count < 1):
        raise ValueError(f"invalid oversized count {count!r}, expected an integer > 0")


CHECKS = (_check_durations, _check_status, _check_field, _check_count)


class FaultQueue:
    """The scripted faults, shared by all request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, specs: list) -> int:
        """Validate every spec, then append them all and return how many."""
        if not isinstance(specs, list):
            raise ValueError("faults must be a JSON list of fault specs")

        faults = [parse_fault(spec) for spec in specs]
        with self._lock:
            self._faults.extend(faults)
        return len(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [_describe(fault) for fault in self._faults]

    def take(self, route: str, has_cursor: bool) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.route not in (route, "*"):
                    continue
                if fault.kind == "reject_cursor" and not has_cursor:
                    continue
                return self._use(index, fault)
        return None

    def _use(self, index: int, fault: Fault) -> Fault:
        if fault.times is not None:
            fault.times -= 1
            if fault.times == 0:
                del self._faults[index]
        return copy.deepcopy(fault)


def _describe(fault: Fault) -> dict:
    return {
        "route": fault.route,
        "kind": fault.kind,
        "times": fault.times,
        **fault.options,
    }
