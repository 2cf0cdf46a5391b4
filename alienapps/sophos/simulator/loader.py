"""Read sample records from files and prepare them for serving.

Accepted files:

- JSON: an object, a list, or a `{"items": [...]}` envelope.
- NDJSON, one record per line.
- A parser test whose `input.message` contains a record as a JSON string.
- A Postman collection, from its saved 200 responses of the SIEM requests.
- YAML whose `body:` or `input:` block scalars contain JSON, such as mock-server
  configurations and parser test tables.

Records in the official SIEM script's output form are mapped back to raw-api names and
lose the `datastream` tag the script adds. Common API alerts (`/common/v1/alerts`
items) have another schema and are skipped.
"""

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from .store import ALERTS, EVENTS
from .times import DAY_MS, iso_ms, parse_time

logger = logging.getLogger(__name__)

# The official SIEM script's renames, mapped back to the API's names.
SCRIPT_RENAMES = {
    "end": "when",
    "rt": "created_at",
    "suser": "source",
    "dhost": "location",
    "duid": "user_id",
}
COMMON_API_FIELDS = ("raisedAt", "managedAgent", "allowedActions", "groupKey", "tenant")
ALERT_FIELDS = ("event_service_event_id", "description", "data")
ITEM_FIELDS = ("id", "type", "when", "created_at", "end", "rt")
ALERT_DATA_TIMES = ("created_at", "inserted_at", "make_actionable_at")

BLOCK_SCALAR = re.compile(r"^(?P<indent>\s*)(?:-\s+)?(?P<key>\w+):\s*\|[-+]?\s*$")
YAML_PATH = re.compile(r"^\s*(?:-\s+)?path:\s*(?P<path>\S+)\s*$")
JSON_BLOCK_KEYS = ("body", "input")

NEWEST_AGE_MS = 60_000
OLDEST_AGE_MS = DAY_MS - 60 * 60 * 1000


@dataclass(slots=True)
class Records:
    events: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    skipped: int = 0

    def add(self, stream: str, item: dict) -> None:
        (self.events if stream == EVENTS else self.alerts).append(item)


def load_records(path: str | Path) -> Records:
    """Read every event and alert record of one file, in file order."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    records = Records()

    for value, hint in _documents(path, text):
        _collect(value, hint, records)

    logger.info(
        "Read %s events and %s alerts from %s, skipped %s records",
        len(records.events),
        len(records.alerts),
        path,
        records.skipped,
    )
    return records


def _documents(path: Path, text: str) -> list[tuple[object, str | None]]:
    """Split a file into JSON values, each with the stream its source implies."""
    try:
        return [(json.loads(text), None)]
    except json.JSONDecodeError:
        pass

    lines = [line for line in text.splitlines() if line.strip()]
    try:
        return [(json.loads(line), None) for line in lines]
    except json.JSONDecodeError:
        pass

    blocks = _yaml_json_blocks(text)
    if not blocks:
        raise ValueError(f"{path} is not JSON, NDJSON or YAML with JSON block scalars")
    return blocks


def _yaml_json_blocks(text: str) -> list[tuple[object, str | None]]:
    """Parse the JSON in `body: |` and `input: |` block scalars."""
    lines = text.splitlines()
    blocks = []
    hint = None

    for index, line in enumerate(lines):
        path_match = YAML_PATH.match(line)
        if path_match:
            hint = _stream_of_path(path_match["path"])

        block_match = BLOCK_SCALAR.match(line)
        if block_match and block_match["key"] in JSON_BLOCK_KEYS:
            block = _block_text(lines, index + 1, len(block_match["indent"]))
            blocks.append((_json_or_none(block), hint))
    return [(value, hint) for value, hint in blocks if value is not None]


def _block_text(lines: list[str], start: int, key_indent: int) -> str:
    block = []
    for line in lines[start:]:
        if line.strip() and len(line) - len(line.lstrip()) <= key_indent:
            break
        block.append(line)
    return "\n".join(block)


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _stream_of_path(path: str) -> str | None:
    for stream in (EVENTS, ALERTS):
        if path.rstrip("/").endswith(f"/siem/v1/{stream}"):
            return stream
    return None


def _collect(value: object, hint: str | None, records: Records) -> None:
    """Walk one JSON value and add the records it contains."""
    if isinstance(value, list):
        for element in value:
            _collect(element, hint, records)
        return
    if not isinstance(value, dict):
        records.skipped += 1
        return

    if isinstance(value.get("item"), list) and isinstance(value.get("info"), dict):
        _collect_postman(value["item"], records)
    elif isinstance(value.get("items"), list):
        _collect_envelope(value, hint, records)
    elif isinstance(value.get("input"), dict) and "message" in value["input"]:
        _collect_message(value["input"]["message"], hint, records)
    else:
        _classify(value, hint, records, in_envelope=False)


def _collect_envelope(value: dict, hint: str | None, records: Records) -> None:
    # A `pages` object marks a Common API response, whose items are not SIEM items.
    if "pages" in value:
        records.skipped += len(value["items"])
        return

    for item in value["items"]:
        _classify(item, hint, records, in_envelope=True)


def _collect_message(message: object, hint: str | None, records: Records) -> None:
    parsed = _json_or_none(message) if isinstance(message, str) else message
    if parsed is None:
        records.skipped += 1
        return
    _collect(parsed, hint, records)


def _collect_postman(entries: list, records: Records) -> None:
    """Take the saved 200 responses of the collection's SIEM requests."""
    for entry in entries:
        if isinstance(entry.get("item"), list):
            _collect_postman(entry["item"], records)
            continue

        stream = _stream_of_path(_postman_url(entry.get("request")))
        if stream is None:
            continue
        for response in entry.get("response") or []:
            if response.get("code") == 200 and response.get("body"):
                _collect(_json_or_none(response["body"]), stream, records)


def _postman_url(request: object) -> str:
    if not isinstance(request, dict):
        return ""
    url = request.get("url")
    if isinstance(url, dict):
        return str(url.get("raw", ""))
    return str(url or "")


def _classify(
    item: object, hint: str | None, records: Records, in_envelope: bool
) -> None:
    """Add one record to the events or alerts by its shape, or skip it.

    Outside an `items` list, an object needs an id, type or time to count as a
    record. Inside one, even an empty placeholder `{}` is kept.
    """
    if not isinstance(item, dict) or any(key in item for key in COMMON_API_FIELDS):
        records.skipped += 1
        return
    if not in_envelope and not any(key in item for key in ITEM_FIELDS):
        records.skipped += 1
        return

    item = _from_script_output(item)
    datastream = item.pop("datastream", None)
    if datastream in ("event", "alert"):
        stream = EVENTS if datastream == "event" else ALERTS
    elif hint is not None:
        stream = hint
    else:
        stream = ALERTS if any(key in item for key in ALERT_FIELDS) else EVENTS
    records.add(stream, item)


def _from_script_output(item: dict) -> dict:
    """Map the official SIEM script's field names back to the API's names."""
    if "when" in item or "created_at" in item:
        return dict(item)
    if "end" not in item and "rt" not in item:
        return dict(item)

    mapped = {}
    for key, value in item.items():
        target = SCRIPT_RENAMES.get(key, key)
        mapped[target if target not in item else key] = value
    return mapped


def shift_into_window(items: list[dict], now_ms: int) -> None:
    """Move record times into the last 24 hours, in place, so they are served.

    Loaded records keep their ids and content, but every time moves by the same
    offset so that the newest lands a minute before `now_ms`. A record that would
    still fall more than 23 hours back is moved up to that point, keeping the order.
    """
    newest = max(
        (t for item in items for t in _times(item) if t is not None), default=None
    )
    if newest is None:
        return

    offset = now_ms - NEWEST_AGE_MS - newest
    oldest_allowed = now_ms - OLDEST_AGE_MS

    for item in items:
        first = min((t for t in _times(item) if t is not None), default=None)
        if first is None:
            continue
        extra = max(0, oldest_allowed - (first + offset))
        _shift_item(item, offset + extra)


def _times(item: dict) -> tuple[int | None, int | None]:
    return parse_time(item.get("when")), parse_time(item.get("created_at"))


def _shift_item(item: dict, offset_ms: int) -> None:
    for key in ("when", "created_at"):
        moment = parse_time(item.get(key))
        if moment is not None:
            item[key] = iso_ms(moment + offset_ms)

    data = item.get("data")
    if isinstance(data, dict):
        for key in ALERT_DATA_TIMES:
            value = data.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                data[key] = value + offset_ms
