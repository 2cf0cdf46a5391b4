"""Test controls under `/_sim/`, without authentication, for out-of-process tests."""

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from .responses import Response, error_response, json_response

if TYPE_CHECKING:
    from .simulator import Simulator

logger = logging.getLogger(__name__)


def handle(sim: "Simulator", method: str, path: str, body: bytes) -> Response:
    """Run one control request. Invalid input gets 400 with the reason."""
    route = ROUTES.get((method, path.rstrip("/")))
    if route is None:
        return error_response(
            404, sim.clock.now_ms(), f"No control route {method} {path}"
        )

    try:
        payload = json.loads(body) if body.strip() else None
        return json_response(200, route(sim, payload))
    except (ValueError, TypeError) as error:
        logger.info("Rejected control request %s %s: %s", method, path, error)
        return error_response(400, sim.clock.now_ms(), str(error))


def _requests(sim: "Simulator", payload: object) -> list[dict]:
    return [{**entry, "time": entry["time"].isoformat()} for entry in sim.requests]


def _clear_requests(sim: "Simulator", payload: object) -> dict:
    sim.clear_requests()
    return {"cleared": True}


def _add_faults(sim: "Simulator", payload: object) -> dict:
    return {"added": sim.add_faults(payload), "pending": sim.faults.pending()}


def _clear_faults(sim: "Simulator", payload: object) -> dict:
    sim.clear_faults()
    return {"cleared": True}


def _add_events(sim: "Simulator", payload: object) -> dict:
    return {"added": sim.inject_events(_item_list(payload))}


def _add_alerts(sim: "Simulator", payload: object) -> dict:
    return {"added": sim.inject_alerts(_item_list(payload))}


def _item_list(payload: object) -> list[dict]:
    if not isinstance(payload, list) or not all(isinstance(i, dict) for i in payload):
        raise ValueError("body must be a JSON list of item objects")
    return payload


def _clock(sim: "Simulator", payload: object) -> dict:
    """Set the clock from `{"now": <ISO 8601>}` or move it by `{"advance": seconds}`."""
    if not isinstance(payload, dict) or not ({"now", "advance"} & payload.keys()):
        raise ValueError(
            'body must be {"now": "<ISO 8601 time>"} or {"advance": seconds}'
        )

    if "now" in payload:
        moment = datetime.fromisoformat(str(payload["now"]))
        if moment.tzinfo is None:
            raise ValueError(f"time {payload['now']!r} must include a UTC offset or Z")
        sim.set_now(moment)
    if "advance" in payload:
        sim.advance(float(payload["advance"]))
    return {"now": sim.now().isoformat()}


def _get_clock(sim: "Simulator", payload: object) -> dict:
    return {"now": sim.now().isoformat()}


def _token(sim: "Simulator", payload: object) -> dict:
    return {"token_block": sim.token_block}


def _rotate_token(sim: "Simulator", payload: object) -> dict:
    return {"token_block": sim.issue_token()}


ROUTES = {
    ("GET", "/_sim/requests"): _requests,
    ("DELETE", "/_sim/requests"): _clear_requests,
    ("POST", "/_sim/faults"): _add_faults,
    ("DELETE", "/_sim/faults"): _clear_faults,
    ("POST", "/_sim/events"): _add_events,
    ("POST", "/_sim/alerts"): _add_alerts,
    ("POST", "/_sim/clock"): _clock,
    ("GET", "/_sim/clock"): _get_clock,
    ("GET", "/_sim/token"): _token,
    ("POST", "/_sim/token/rotate"): _rotate_token,
}
