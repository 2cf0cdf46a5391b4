"""The shape an AlienApp normalises each vendor item into, before it is stored."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class EventRecord:
    """One normalised item. ``timestamp_occured`` is aware UTC, or None when unknown."""

    external_id: str
    event_name: str
    log: str
    timestamp_occured: datetime | None = None
    event_category: str = ""
    event_subcategory: str = ""
    event_severity: str = "unknown"
    source_username: str = ""
    source_name: str = ""
    source_address: str = ""
    file_path: str = ""
    malware_family: str = ""
    # Each note names what could not be normalised, for example "unknown severity 'x'".
    parse_notes: list[str] = field(default_factory=list)


@dataclass
class AlarmRecord(EventRecord):
    """A normalised alert, which raises an alarm with USM's priority and taxonomy."""

    priority: int = 50
    rule_intent: str = ""
    rule_strategy: str = ""
    rule_method: str = ""
