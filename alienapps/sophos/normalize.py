"""Normalise Sophos Central events and alerts into USM event and alarm records.

Three record forms are accepted:

- items as ``/siem/v1/events`` and ``/siem/v1/alerts`` return them (``when``,
  ``created_at``, ``source``, ``location``);
- items after Sophos' SIEM integration script, which renames ``when`` to ``end``,
  ``created_at`` to ``rt``, ``source`` to ``suser``, ``location`` to ``dhost`` and
  ``user_id`` to ``duid``, and may add ``filePath`` and ``detection_identity_name``;
- Common API alerts (``raisedAt``, ``managedAgent``, ``category``).

Normalisation never raises. Whatever could not be normalised is described in the
record's ``parse_notes``, one note per problem, each starting with the field name.
"""

import hashlib
import ipaddress
import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from activity.records import AlarmRecord, EventRecord

logger = logging.getLogger(__name__)

PLUGIN = "Sophos Central"

SEVERITIES = ("none", "low", "medium", "high", "critical")
PRIORITIES = {"low": 30, "medium": 60, "high": 80, "critical": 95}
DEFAULT_PRIORITY = 50

# Column sizes of activity.models.NormalisedRecord and Alarm.
MAX_EXTERNAL_ID = 64
MAX_CATEGORY = 100
MAX_SUBCATEGORY = 200
MAX_RULE_FIELD = 100

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Epoch numbers at or above this are milliseconds: 1e11 seconds is in the year 5138,
# 1e11 milliseconds in 1973.
MILLISECONDS_THRESHOLD = 10**11
# Longer text is not a time, and is not handed to the ISO parser.
MAX_TIME_TEXT = 64
EPOCH_TEXT = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]+)?", re.ASCII)
UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
SURROGATE = re.compile(r"[\ud800-\udfff]")
# Maximum number of characters of a value that a parse note repeats.
NOTE_PREVIEW = 60

# Time fields in order of preference: raw API, SIEM script output, Common API.
TIME_KEYS = ("when", "end", "raisedAt", "created_at", "rt")
USERNAME_KEYS = ("source", "suser")
HOST_KEYS = ("location", "dhost")
THREAT_KEYS = ("threat", "detection_identity_name")
FILE_PATH_KEYS = ("full_file_path", "filePath", "file_path")
NO_USERNAME = "n/a"

# Types whose text names the threat and then the file path in single quotes, as in
# "Malware detected: 'EICAR-AV-Test' at 'C:\\eicar.com'".
QUOTED_THREAT_TYPE = re.compile(
    r"::(?:Threat::(?:Detected|CleanedUp|HIPSDismissed|HIPSDetected|PuaDetected"
    r"|PuaCleanupFailed|CleanupFailed|CommandAndControlDismissed|HIPSCleanupFailed)"
    r"|Core(?:Detection|PuaDetection|Clean|CleanFailed))(?:$|::)"
)
THREAT_PATH_SEPARATOR = "' at '"
DLP_TYPE = "DataLossPrevention"
DLP_SOURCE_PATH = re.compile(r"Source path:[ \t]*")
# DLP texts separate their labelled parts with two spaces.
DLP_NEXT_LABEL = re.compile(r"\s{2,}[A-Z][A-Za-z ]{0,40}:")
DLP_VALUE_QUOTES = "\u2032\u2033'\" "

DEFAULT_INTENT = "Environmental Awareness"
SYSTEM_COMPROMISE = "System Compromise"


@dataclass(frozen=True)
class TypeFamily:
    """A family of Sophos event types, with its category and alarm taxonomy.

    An empty ``strategy`` means the record's category. ``method_is_threat`` chooses
    the threat (falling back to the type) or always the type as the alarm method.
    """

    category: str
    intent: str = DEFAULT_INTENT
    strategy: str = ""
    method_is_threat: bool = True


RUNTIME = "Runtime Detections"
# Patterns are searched in the type in this order and the first match wins, so the
# specific families (PUA, C&C, IPS, exploits) come before the general ones.
TYPE_FAMILIES = [
    (r"Pua", TypeFamily("PUA", DEFAULT_INTENT, "Unwanted software")),
    (
        r"CommandAndControl|IpsOutbound",
        TypeFamily(RUNTIME, SYSTEM_COMPROMISE, "C&C communication"),
    ),
    (r"IpsInbound", TypeFamily(RUNTIME, "Delivery & Attack", "Network intrusion")),
    (
        r"Exploit|CryptoGuard|::Hmpa",
        TypeFamily(RUNTIME, "Exploitation & Installation", "Exploit", False),
    ),
    (
        r"HIPS|Behaviou?ral|Amsi|RuntimeDetection",
        TypeFamily(RUNTIME, SYSTEM_COMPROMISE, "Malware infection"),
    ),
    (
        r"::Threat::|::Core\w*(?:Detection|Clean)|Malware",
        TypeFamily("Malware", SYSTEM_COMPROMISE, "Malware infection"),
    ),
    (
        r"NotProtected|SavDisabled|Protection\w*Disabled|Tamper\w*Disabled",
        TypeFamily("Protection", DEFAULT_INTENT, "Protection gap", False),
    ),
    (r"::D?Enc::", TypeFamily("Device Encryption")),
    (r"DataLossPrevention", TypeFamily("Data Loss Prevention")),
    (r"::Application::", TypeFamily("Application Control")),
    (r"::Device::|Peripheral", TypeFamily("Device Control")),
    (r"WebControl|WebFiltering|::Web", TypeFamily("Web")),
    (r"Update|OutOfDate", TypeFamily("Updating")),
    (r"Compliant", TypeFamily("Policy")),
    (
        r"Registered|Protected|::Sav|UserAutoCreated|Isolation|Protection",
        TypeFamily("Protection"),
    ),
    (r"^Event::(?:Task|ADSync)::", TypeFamily("Management")),
    (r"^Event::Firewall::", TypeFamily("Firewall")),
    (r"^Event::ZTNA::", TypeFamily("ZTNA")),
    (r"^Event::Wireless::", TypeFamily("Wireless")),
    (r"^Event::CSWITCH::", TypeFamily("Switch")),
    (r"^Event::(?:Email|Mail)", TypeFamily("Email")),
    (r"^Event::Mobile", TypeFamily("Mobile")),
]
TYPE_FAMILY_PATTERNS = [
    (re.compile(pattern, re.IGNORECASE), family) for pattern, family in TYPE_FAMILIES
]
OTHER_FAMILY = TypeFamily("Other")

# Labels for SIEM ``group`` and Common API ``category`` values, keyed by the value in
# lower case without underscores.
CATEGORY_LABELS = {
    "malware": "Malware",
    "pua": "PUA",
    "runtimedetections": RUNTIME,
    "protection": "Protection",
    "updating": "Updating",
    "web": "Web",
    "devicecontrol": "Device Control",
    "applicationcontrol": "Application Control",
    "datalossprevention": "Data Loss Prevention",
    "policy": "Policy",
    "denc": "Device Encryption",
    "security": "Security",
    "mobiles": "Mobiles",
}
CAMEL_CASE_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def parse_sophos_time(value: object) -> datetime | None:
    """Parse a Sophos time into an aware UTC datetime, or None. Never raises.

    Accepts ISO 8601 text with any number of fractional digits and a ``Z``, an offset
    or no zone (read as UTC), and epoch seconds or milliseconds as int, float or
    digit string.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if isinstance(value, str):
        return _from_text(value)
    return None


def _from_text(text: str) -> datetime | None:
    text = text.strip()
    if not text or len(text) > MAX_TIME_TEXT:
        return None
    if EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text) if "." in text else int(text))

    try:
        parsed = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def _from_epoch(number: int | float) -> datetime | None:
    if isinstance(number, float) and not math.isfinite(number):
        return None
    try:
        if abs(number) >= MILLISECONDS_THRESHOLD:
            return EPOCH + timedelta(milliseconds=number)
        return EPOCH + timedelta(seconds=number)
    except OverflowError:
        return None


def priority_for(severity: str) -> int:
    """Return the USM alarm priority (0-100) for a Sophos severity."""
    if not isinstance(severity, str):
        return DEFAULT_PRIORITY
    return PRIORITIES.get(severity.strip().lower(), DEFAULT_PRIORITY)


def family_for(event_type: str) -> TypeFamily | None:
    """Return the family of a Sophos event type, or None for an unknown type."""
    for pattern, family in TYPE_FAMILY_PATTERNS:
        if pattern.search(event_type):
            return family
    return None


def normalise_event(item: dict) -> EventRecord:
    """Normalise one Sophos event item. Problems become parse notes, not exceptions."""
    return _normalise(item, EventRecord, ("name", "description"))


def normalise_alert(item: dict) -> AlarmRecord:
    """Normalise one Sophos alert item into an alarm. Problems become parse notes."""
    return _normalise(item, AlarmRecord, ("description", "name"))


def _normalise[Record: EventRecord](
    item: object, record_class: type[Record], name_keys: tuple[str, ...]
) -> Record:
    # One malformed item must not stop a collection run, so an unexpected error
    # becomes a parse note on a minimal record.
    try:
        return _build_record(item, record_class, name_keys)
    except Exception:
        item_id = item.get("id") if isinstance(item, dict) else None
        logger.exception(
            "Normalising Sophos item %r failed, so only its log is kept", item_id
        )
        note = "item: normalisation failed unexpectedly, so only the raw log was kept"
        return _minimal_record(item, record_class, [note])


def _build_record[Record: EventRecord](
    item: object, record_class: type[Record], name_keys: tuple[str, ...]
) -> Record:
    notes: list[str] = []
    if not isinstance(item, dict):
        notes.append(f"item: is {_json_type(item)}, expected an object")
        return _minimal_record(item, record_class, notes)

    fields, family = _record_fields(item, name_keys, notes)
    if record_class is AlarmRecord:
        fields |= _alarm_fields(fields, family)
    return record_class(**fields, parse_notes=notes)


def _minimal_record[Record: EventRecord](
    item: object, record_class: type[Record], notes: list[str]
) -> Record:
    log = _log(item, notes)
    return record_class(
        external_id=_derived_id(item), event_name="", log=log, parse_notes=notes
    )


def _record_fields(
    item: dict, name_keys: tuple[str, ...], notes: list[str]
) -> tuple[dict, TypeFamily]:
    event_type = _limit(_text(item, ("type",), notes), MAX_SUBCATEGORY, "type", notes)
    family = _type_family(event_type, notes)
    event_name = _event_name(item, name_keys, event_type, notes)
    data = _object(item, "data", notes)

    fields = {
        "external_id": _external_id(item, notes),
        "event_name": event_name,
        "log": _log(item, notes),
        "timestamp_occured": _occurred_at(item, data, notes),
        "event_subcategory": event_type,
        "event_category": _category(item, family, notes),
        "event_severity": _severity(item, notes),
    }
    fields |= _subject_fields(item, data, notes)
    fields |= _threat_fields(item, event_name, event_type, notes)
    return fields, family


def _subject_fields(item: dict, data: dict, notes: list[str]) -> dict:
    return {
        "source_username": _username(item, notes),
        "source_name": _source_name(item, notes),
        "source_address": _source_address(item, data, notes),
    }


def _alarm_fields(fields: dict, family: TypeFamily) -> dict:
    """Return priority and taxonomy: intent, strategy and method by type family."""
    strategy = family.strategy or fields["event_category"] or family.category
    threat = fields["malware_family"] if family.method_is_threat else ""
    return {
        "priority": priority_for(fields["event_severity"]),
        "rule_intent": family.intent,
        "rule_strategy": strategy[:MAX_RULE_FIELD],
        "rule_method": threat or fields["event_subcategory"],
    }


def _text(item: dict, keys: tuple[str, ...], notes: list[str]) -> str:
    """Return the first of ``keys`` that is present and not null, as clean text."""
    for key in keys:
        if item.get(key) is not None:
            return _as_text(item[key], key, notes)
    return ""


def _as_text(value: object, field: str, notes: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        notes.append(f"{field}: is {_json_type(value)}, expected a string")
        return json.dumps(value)
    if not isinstance(value, str):
        notes.append(
            f"{field}: is {_json_type(value)}, expected a string, so it was ignored"
        )
        return ""
    return _clean(value, field, notes)


def _clean(text: str, field: str, notes: list[str]) -> str:
    """Replace NUL characters and lone surrogates with U+FFFD.

    PostgreSQL text columns reject NUL, and lone surrogates cannot be encoded as UTF-8.
    """
    if "\x00" not in text and not SURROGATE.search(text):
        return text

    cleaned = text.replace("\x00", "\ufffd")
    cleaned = cleaned.encode("utf-16-le", "surrogatepass").decode(
        "utf-16-le", "replace"
    )
    notes.append(f"{field}: NUL characters or lone surrogates replaced with U+FFFD")
    return cleaned


def _limit(text: str, size: int, field: str, notes: list[str]) -> str:
    if len(text) <= size:
        return text
    notes.append(f"{field}: longer than {size} characters, so it was truncated")
    return text[:size]


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _preview(text: str) -> str:
    quoted = repr(text[:NOTE_PREVIEW])
    return quoted + "..." if len(text) > NOTE_PREVIEW else quoted


def _log(item: object, notes: list[str]) -> str:
    """Return the item as ASCII-escaped JSON, in the vendor's key order."""
    try:
        return json.dumps(
            item, ensure_ascii=True, sort_keys=False, separators=(",", ":")
        )
    except (TypeError, ValueError, RecursionError):
        notes.append("log: the item is not JSON data, so its Python repr was stored")
        return json.dumps(repr(item), ensure_ascii=True)


def _derived_id(item: object) -> str:
    """Return a stable id from a hash of the item's JSON with sorted keys."""
    try:
        text = json.dumps(
            item, ensure_ascii=True, sort_keys=True, separators=(",", ":")
        )
    except (TypeError, ValueError, RecursionError):
        text = repr(item)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256-{digest[:40]}"


def _external_id(item: dict, notes: list[str]) -> str:
    """Return the item's id, lower case when it is a UUID, or a derived id."""
    value = item.get("id")
    if value is None:
        notes.append("id: missing, so an id was derived from a hash of the record")
        return _derived_id(item)

    text = _as_text(value, "id", notes)
    if UUID.fullmatch(text.strip()):
        return text.strip().lower()
    if not text.strip() or len(text) > MAX_EXTERNAL_ID:
        problem = "empty" if not text.strip() else f"longer than {MAX_EXTERNAL_ID}"
        notes.append(f"id: {problem}, so an id was derived from a hash of the record")
        return _derived_id(item)
    return text


def _event_name(
    item: dict, name_keys: tuple[str, ...], event_type: str, notes: list[str]
) -> str:
    name = _text(item, name_keys, notes)
    if name:
        return name
    notes.append(f"{name_keys[0]}: missing or empty, so the type is used as the name")
    return event_type


def _type_family(event_type: str, notes: list[str]) -> TypeFamily:
    if not event_type:
        notes.append("type: missing or empty")
        return OTHER_FAMILY
    family = family_for(event_type)
    if family is None:
        notes.append(f"type: {_preview(event_type)} is not a known Sophos type family")
        return OTHER_FAMILY
    return family


def _occurred_at(item: dict, data: dict, notes: list[str]) -> datetime | None:
    """Return the first valid time of TIME_KEYS, then of the alert's data.created_at."""
    candidates = [(key, item.get(key)) for key in TIME_KEYS]
    candidates.append(("data.created_at", data.get("created_at")))
    for field, value in candidates:
        if value is None:
            continue
        occurred = parse_sophos_time(value)
        if occurred is not None:
            return occurred
        notes.append(f"{field}: {_preview(str(value))} is not a valid time")

    searched = ", ".join(TIME_KEYS)
    notes.append(f"timestamp_occured: no valid time in {searched} or data.created_at")
    return None


def _category(item: dict, family: TypeFamily, notes: list[str]) -> str:
    """Return the label of ``group`` (or Common API ``category``), else the family's."""
    key = "group" if item.get("group") is not None else "category"
    value = _as_text(item.get(key), key, notes).strip()
    if not value:
        return family.category
    return _limit(_category_label(value), MAX_CATEGORY, key, notes)


def _category_label(value: str) -> str:
    """Return the display label of a group or category value.

    RUNTIME_DETECTIONS and runtimeDetections become Runtime Detections, and an unknown
    SOME_GROUP becomes Some Group.
    """
    known = CATEGORY_LABELS.get(value.replace("_", "").replace(" ", "").lower())
    if known:
        return known
    if re.fullmatch(r"[A-Z0-9_ ]+", value):
        return value.replace("_", " ").title()
    words = CAMEL_CASE_BOUNDARY.sub(" ", value.replace("_", " "))
    return words[:1].upper() + words[1:]


def _severity(item: dict, notes: list[str]) -> str:
    value = item.get("severity")
    if value is None:
        notes.append("severity: missing")
        return "unknown"
    severity = _as_text(value, "severity", notes).strip().lower()
    if severity in SEVERITIES:
        return severity
    notes.append(f"severity: unknown value {_preview(str(value))}, stored as unknown")
    return "unknown"


def _username(item: dict, notes: list[str]) -> str:
    username = _text(item, USERNAME_KEYS, notes)
    if not username:
        person = _object(item, "person", notes)
        username = _as_text(person.get("name"), "person.name", notes)
    return "" if username.strip().lower() == NO_USERNAME else username


def _source_name(item: dict, notes: list[str]) -> str:
    """Return the device's host name, or for Common API alerts the managed agent."""
    host = _text(item, HOST_KEYS, notes)
    if host:
        return host
    agent = _object(item, "managedAgent", notes)
    name = _as_text(agent.get("name"), "managedAgent.name", notes)
    return name or _as_text(agent.get("id"), "managedAgent.id", notes)


def _object(item: dict, key: str, notes: list[str]) -> dict:
    """Return the nested object under ``key``, or an empty dict when it is not one."""
    value = item.get(key)
    if value is None or isinstance(value, dict):
        return value or {}
    notes.append(f"{key}: is {_json_type(value)}, expected an object")
    return {}


def _source_address(item: dict, data: dict, notes: list[str]) -> str:
    """Return ``source_info.ip``, or for alerts ``data.source_info.ip``."""
    address = _ip_address(item.get("source_info"), "source_info", notes)
    if address:
        return address
    return _ip_address(data.get("source_info"), "data.source_info", notes)


def _ip_address(value: object, field: str, notes: list[str]) -> str:
    """Return the IP address of a ``source_info`` value, tolerating odd nesting."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return _valid_ip(value.get("ip"), f"{field}.ip", notes)

    notes.append(f"{field}: is {_json_type(value)}, expected an object")
    if isinstance(value, str):
        return _valid_ip(value, field, notes)
    if isinstance(value, list):
        first = next((entry for entry in value if isinstance(entry, dict)), {})
        return _valid_ip(first.get("ip"), f"{field}[].ip", notes)
    return ""


def _valid_ip(value: object, field: str, notes: list[str]) -> str:
    text = _as_text(value, field, notes).strip()
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        notes.append(
            f"{field}: {_preview(text)} is not an IP address, so it was ignored"
        )
        return ""


def _threat_fields(
    item: dict, event_name: str, event_type: str, notes: list[str]
) -> dict:
    """Return malware family and file path from fields, else from the item's text."""
    threat = _text(item, THREAT_KEYS, notes)
    file_path = _text(item, FILE_PATH_KEYS, notes)

    if QUOTED_THREAT_TYPE.search(event_type):
        quoted_threat, quoted_path = _quoted_threat_and_path(event_name)
        threat = threat or quoted_threat
        file_path = file_path or quoted_path
    if DLP_TYPE in event_type and not file_path:
        file_path = _dlp_source_path(event_name)
    return {"malware_family": threat, "file_path": file_path}


def _quoted_threat_and_path(text: str) -> tuple[str, str]:
    """Return the first and second single-quoted values of ``'<threat>' at '<path>'``.

    The path may contain quotes itself, so it runs to the last quote of the text.
    String searches keep this linear on very long texts.
    """
    start = text.find("'")
    if start < 0:
        return "", ""
    separator = text.find(THREAT_PATH_SEPARATOR, start + 1)
    if separator < 0:
        end = text.find("'", start + 1)
        return (text[start + 1 : end], "") if end > start else ("", "")

    path_start = separator + len(THREAT_PATH_SEPARATOR)
    end = text.rfind("'")
    path = text[path_start:end] if end >= path_start else ""
    return text[start + 1 : separator], path


def _dlp_source_path(text: str) -> str:
    """Return the ``Source path:`` part of a data loss prevention text."""
    match = DLP_SOURCE_PATH.search(text)
    if match is None:
        return ""
    rest = text[match.end() :]
    next_label = DLP_NEXT_LABEL.search(rest)
    value = rest[: next_label.start()] if next_label else rest
    return value.strip(DLP_VALUE_QUOTES)
