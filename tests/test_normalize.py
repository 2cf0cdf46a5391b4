"""Tests of the normalisation of Sophos Central events and alerts into USM records.

Public sample records are read in place from ``../shared/sophos-samples/raw`` beside
the repository; those tests are skipped when the folder is absent.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activity.records import AlarmRecord, EventRecord
from alienapps.sophos.normalize import (
    PLUGIN,
    family_for,
    normalise_alert,
    normalise_event,
    parse_sophos_time,
    priority_for,
)

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared/sophos-samples/raw"
SEVERITIES = {"none", "low", "medium", "high", "critical", "unknown"}


def log_text(item: object) -> str:
    return json.dumps(item, ensure_ascii=True, sort_keys=False, separators=(",", ":"))


# Sample loading. Each loader returns (stream, item) pairs, where stream is "event",
# "alert" (SIEM API) or "common" (Common API alert).


def load_sekoia(path: Path) -> list[tuple[str, object]]:
    """Load a parser test whose input is the record as a JSON string."""
    return [("event", json.loads(json.loads(path.read_text())["input"]["message"]))]


def load_ndjson(path: Path) -> list[tuple[str, object]]:
    stream = "alert" if "data_stream_alert" in path.name else "event"
    lines = path.read_text().splitlines()
    return [(stream, json.loads(line)) for line in lines if line.strip()]


def load_mock_server(path: Path) -> list[tuple[str, object]]:
    """Load the items of the SIEM routes of a mock HTTP server configuration."""
    yaml = pytest.importorskip("yaml")
    records = []
    for rule in yaml.safe_load(path.read_text())["rules"]:
        if not rule["path"].startswith("/siem/v1/"):
            continue
        stream = "event" if rule["path"].endswith("/events") else "alert"
        for response in rule["responses"]:
            records += [
                (stream, item) for item in json.loads(response["body"])["items"]
            ]
    return records


def load_yaml_inputs(path: Path) -> list[tuple[str, object]]:
    yaml = pytest.importorskip("yaml")
    documents = yaml.safe_load_all(path.read_text())
    return [("event", json.loads(document["input"])) for document in documents]


def load_common_api(path: Path) -> list[tuple[str, object]]:
    body = json.loads(path.read_text())
    return [("common", item) for item in body.get("items", [body])]


def load_request_collection(path: Path) -> list[tuple[str, object]]:
    """Load the example responses of a request collection's SIEM and alert routes."""
    records: list[tuple[str, object]] = []
    pending = [json.loads(path.read_text())]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())
            for response in node.get("response", []) if "response" in node else []:
                records += example_records(response)
    return records


def example_records(response: dict) -> list[tuple[str, object]]:
    url = response.get("originalRequest", {}).get("url", {})
    address = url.get("raw", "") if isinstance(url, dict) else str(url)
    if response.get("code") != 200:
        return []
    streams = {
        "/siem/v1/events": "event",
        "/siem/v1/alerts": "alert",
        "/common/v1/alerts": "common",
        "/common/v1/alerts/search": "common",
        "/common/v1/alerts/:alertId": "common",
    }
    stream = next((s for end, s in streams.items() if address.endswith(end)), None)
    if stream is None:
        return []
    body = json.loads(response["body"])
    return [(stream, item) for item in body.get("items", [body])]


def loader_for(path: Path):
    name = path.name
    if name.startswith("SEKOIA-IO"):
        return load_sekoia
    if name.endswith(".log"):
        return load_ndjson
    if name.endswith("docker_files_config.yml"):
        return load_mock_server
    if name.startswith("panther-labs"):
        return load_yaml_inputs
    if name.startswith(("demisto", "rapid7")):
        return load_common_api
    if name.endswith(".postman_collection.json"):
        return load_request_collection
    return None


def sample_records() -> list[tuple[str, str, object]]:
    records = []
    for path in sorted(SAMPLES.iterdir()):
        loader = loader_for(path)
        if loader is None:
            continue
        for index, (stream, item) in enumerate(loader(path)):
            records.append((f"{path.name}:{index}", stream, item))
    return records


def sample_params(streams: tuple[str, ...] = ("event", "alert", "common")) -> list:
    if not SAMPLES.is_dir():
        reason = f"sample records not found at {SAMPLES}"
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=reason))]
    return [
        pytest.param(label, stream, item, id=label)
        for label, stream, item in sample_records()
        if stream in streams
    ]


def normalise(stream: str, item: object) -> EventRecord:
    return normalise_event(item) if stream == "event" else normalise_alert(item)


def sample(label: str) -> tuple[str, object]:
    for sample_label, stream, item in sample_records():
        if sample_label == label:
            return stream, item
    raise LookupError(label)


needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"sample records not found at {SAMPLES}"
)


@pytest.mark.parametrize(("label", "stream", "item"), sample_params())
def test_sample_normalises(label: str, stream: str, item: dict) -> None:
    record = normalise(stream, item)
    if item == {}:
        # The request collection's SIEM examples are an empty placeholder object.
        assert record.timestamp_occured is None
        assert any(note.startswith("timestamp_occured:") for note in record.parse_notes)
        return

    assert record.timestamp_occured is not None
    assert record.timestamp_occured.utcoffset() == timedelta(0)
    assert record.external_id
    assert record.event_name
    assert record.event_subcategory
    assert record.event_severity in SEVERITIES
    assert record.log == log_text(item)
    assert json.loads(record.log) == item
    assert record.parse_notes == []


@pytest.mark.parametrize(
    ("label", "stream", "item"), sample_params(("alert", "common"))
)
def test_sample_alert_fields(label: str, stream: str, item: dict) -> None:
    record = normalise_alert(item)
    assert isinstance(record, AlarmRecord)
    assert 0 <= record.priority <= 100
    assert record.priority == priority_for(record.event_severity)
    if item:
        assert record.rule_intent
        assert record.rule_strategy
        assert record.rule_method


@needs_samples
def test_sample_counts() -> None:
    streams = [stream for _, stream, _ in sample_records()]
    assert streams.count("event") == 30
    assert streams.count("alert") == 6
    assert streams.count("common") == 11


@needs_samples
def test_sample_pua_cleanup_alert() -> None:
    name = "elastic_integrations__packages_sophos_central_data_stream_alert__dev_test_"
    _, item = sample(f"{name}pipeline_test-pipeline-activity.log:0")
    record = normalise_alert(item)
    assert record.external_id == "8bbd989a-6cab-407f-a586-c5064b94f76a"
    assert record.event_name.startswith("Manual PUA cleanup required: 'PUAqsw3kby31j'")
    assert record.event_subcategory == "Event::Endpoint::Threat::PuaCleanupFailed"
    assert record.event_category == "PUA"
    assert record.event_severity == "medium"
    assert record.source_name == "Lightning-rvda5c291x"
    assert record.source_address == "67.43.156.0"
    assert record.source_username == "Domain\\User"
    assert record.malware_family == "PUAqsw3kby31j"
    assert record.file_path == "C:\\Program Files (x86)\\Trojan Horse\\bin\\eicar.com"
    assert record.timestamp_occured == datetime(2022, 11, 24, 7, 7, 48, tzinfo=UTC)
    assert record.priority == 60
    assert record.rule_intent == "Environmental Awareness"
    assert record.rule_strategy == "Unwanted software"
    assert record.rule_method == "PUAqsw3kby31j"


@needs_samples
def test_sample_ips_event() -> None:
    name = "elastic_integrations__packages_sophos_central__dev_deploy_docker_files_"
    _, item = sample(f"{name}config.yml:0")
    record = normalise_event(item)
    assert record.event_subcategory == "Event::Endpoint::Threat::IpsInboundDetection"
    assert record.event_category == "Runtime Detections"
    assert record.malware_family == "IPS/Inbound/7777001"
    assert record.source_address == "81.2.69.192"
    assert record.source_username == "Lightning-a3i691l7cv\\Lightning"
    assert record.timestamp_occured == datetime(
        2022, 12, 6, 12, 27, 28, 94000, tzinfo=UTC
    )


@needs_samples
def test_sample_malformed_uuid_kept() -> None:
    name = "elastic_integrations__packages_sophos_central_data_stream_event__dev_test_"
    _, item = sample(f"{name}pipeline_test-pipeline-activity.log:1")
    record = normalise_event(item)
    assert record.external_id == "123123-796b-4e64-8c87-8fa63a5d8997"
    assert record.source_address == "0.0.0.0"
    assert record.event_category == "Updating"


@needs_samples
def test_sample_dlp_source_path() -> None:
    name = "SEKOIA-IO_intake-formats__Sophos_sophos_edr_tests_"
    _, item = sample(f"{name}event_dlp_allowed_remote_storage.json:0")
    record = normalise_event(item)
    assert record.file_path == "C:\\XXXXXXXX\\Downloads\\YYYYYYYYYYYYYYYYY.mp4"
    assert record.event_category == "Data Loss Prevention"
    assert record.source_username == ""
    assert "\u2033allow file transfer\u2033" in record.event_name
    assert "TFT\u2215MPEG-4" in record.event_name


@needs_samples
def test_sample_script_output_threat() -> None:
    name = "panther-labs_panther__internal_log_analysis_log_processor_parsers_"
    _, item = sample(f"{name}sophoslogs_testdata_central_tests.yml:3")
    record = normalise_event(item)
    assert record.event_name == "W32/Elkern-C"
    assert record.malware_family == "W32/Elkern-C"
    assert record.file_path.startswith("/Users/jsmith/Dropbox/.dropbox.cache/")
    assert record.source_name == "JSMITH-MAC-SJ"
    assert record.source_username == "JSMITH-MAC-SJ\\jsmith"
    assert record.timestamp_occured == datetime(2020, 7, 3, 5, 50, 43, tzinfo=UTC)


@needs_samples
def test_sample_common_api_alert() -> None:
    name = "demisto_content__Packs_SophosCentral_Integrations_SophosCentral_test_data_"
    _, item = sample(f"{name}alert_single.json:0")
    record = normalise_alert(item)
    assert record.external_id == "70e3781d-c0f6-4e72-b6aa-3c3ef21f3dbb"
    assert record.event_category == "Malware"
    assert record.source_name == "6e9567ea-bb50-40c5-9f12-42eb308e4c9b"
    assert record.malware_family == "EICAR-AV-Test"
    assert record.timestamp_occured == datetime(
        2020, 11, 4, 9, 31, 19, 894000, tzinfo=UTC
    )
    assert record.rule_intent == "System Compromise"


@needs_samples
def test_sample_time_without_zone() -> None:
    records = [
        normalise_alert(item)
        for label, stream, item in sample_records()
        if stream == "common" and label.startswith("sophos_")
    ]
    assert len(records) == 5
    for record in records:
        assert record.timestamp_occured == datetime(
            2021, 2, 12, 15, 4, 53, 780000, tzinfo=UTC
        )


# Invented records in the shapes Sophos Central returns.

EVENT = {
    "id": "6F1C2A9E-3B4D-4E5F-8A9B-0C1D2E3F4A5B",
    "customer_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "type": "Event::Endpoint::Threat::Detected",
    "name": "Malware detected: 'Troj/Agent-ZZZ' at 'D:\\Shares\\O'Neil\\report.exe'",
    "severity": "HIGH",
    "group": "MALWARE",
    "when": "2025-06-01T08:30:15.123Z",
    "created_at": "2025-06-01T08:30:16.456Z",
    "endpoint_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    "location": "LAB-PC-07",
    "source": "LAB\\mmeyer",
    "source_info": {"ip": "10.9.8.7"},
    "user_id": "65f1a2b3c4d5e6f7a8b9c0d1",
    "threat": None,
    "origin": None,
}

ALERT = {
    "id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
    "event_service_event_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
    "type": "Event::Endpoint::Threat::CleanupFailed",
    "description": "Manual cleanup required: 'Mal/Generic-S' at 'C:\\Temp\\x.dll'",
    "severity": "high",
    "location": "SRV-DB-02",
    "source": "n/a",
    "threat": "Mal/Generic-S",
    "data": {
        "source_info": {"ip": "192.0.2.44"},
        "created_at": 1748766615123,
        "endpoint_id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    },
}


def test_event_mapping() -> None:
    record = normalise_event(EVENT)
    assert isinstance(record, EventRecord)
    assert record.external_id == "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
    assert record.event_name == EVENT["name"]
    assert record.event_subcategory == "Event::Endpoint::Threat::Detected"
    assert record.event_category == "Malware"
    assert record.event_severity == "high"
    assert record.source_name == "LAB-PC-07"
    assert record.source_address == "10.9.8.7"
    assert record.source_username == "LAB\\mmeyer"
    assert record.malware_family == "Troj/Agent-ZZZ"
    assert record.file_path == "D:\\Shares\\O'Neil\\report.exe"
    assert record.timestamp_occured == datetime(
        2025, 6, 1, 8, 30, 15, 123000, tzinfo=UTC
    )
    assert record.log == log_text(EVENT)
    assert record.parse_notes == []


def test_alert_mapping() -> None:
    record = normalise_alert(ALERT)
    assert isinstance(record, AlarmRecord)
    assert record.event_name == ALERT["description"]
    assert record.source_username == ""
    assert record.source_address == "192.0.2.44"
    assert record.malware_family == "Mal/Generic-S"
    assert record.file_path == "C:\\Temp\\x.dll"
    assert record.event_category == "Malware"
    assert record.timestamp_occured == datetime(
        2025, 6, 1, 8, 30, 15, 123000, tzinfo=UTC
    )
    assert record.priority == 80
    assert record.rule_intent == "System Compromise"
    assert record.rule_strategy == "Malware infection"
    assert record.rule_method == "Mal/Generic-S"
    assert record.parse_notes == []


def test_alert_prefers_when_over_data() -> None:
    item = {**ALERT, "when": "2025-06-01T08:00:00Z"}
    record = normalise_alert(item)
    assert record.timestamp_occured == datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def test_created_at_fallback() -> None:
    item = {key: value for key, value in EVENT.items() if key != "when"}
    record = normalise_event(item)
    assert record.timestamp_occured == datetime(
        2025, 6, 1, 8, 30, 16, 456000, tzinfo=UTC
    )
    assert record.parse_notes == []


def test_invalid_when_falls_back() -> None:
    record = normalise_event({**EVENT, "when": "last Tuesday"})
    assert record.timestamp_occured == datetime(
        2025, 6, 1, 8, 30, 16, 456000, tzinfo=UTC
    )
    assert len(record.parse_notes) == 1
    assert record.parse_notes[0].startswith("when: 'last Tuesday'")


def test_missing_time_note() -> None:
    item = {
        key: value for key, value in EVENT.items() if key not in ("when", "created_at")
    }
    record = normalise_event(item)
    assert record.timestamp_occured is None
    assert len(record.parse_notes) == 1
    assert record.parse_notes[0].startswith("timestamp_occured:")


def test_script_output_event() -> None:
    item = {
        "id": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
        "type": "Event::Endpoint::Threat::CleanedUp",
        "name": "Troj/Qbot-XY",
        "severity": "medium",
        "group": "MALWARE",
        "datastream": "event",
        "end": "2025-06-02T10:00:00.000Z",
        "rt": "2025-06-02T10:00:01.000Z",
        "suser": "CORP\\akim",
        "dhost": "WS-0042",
        "duid": "65f1a2b3c4d5e6f7a8b9c0d2",
        "detection_identity_name": "Troj/Qbot-XY",
        "filePath": "C:\\Users\\akim\\AppData\\q.exe",
    }
    record = normalise_event(item)
    assert record.timestamp_occured == datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    assert record.source_username == "CORP\\akim"
    assert record.source_name == "WS-0042"
    assert record.malware_family == "Troj/Qbot-XY"
    assert record.file_path == "C:\\Users\\akim\\AppData\\q.exe"
    assert record.parse_notes == []


def test_common_api_alert() -> None:
    item = {
        "id": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
        "category": "applicationControl",
        "description": "Controlled application blocked: Tor Browser",
        "managedAgent": {
            "id": "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f",
            "name": "KIOSK-3",
        },
        "person": {"id": "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f6a", "name": "Front Desk"},
        "product": "endpoint",
        "raisedAt": "2025-06-03T11:12:13.141",
        "severity": "low",
        "type": "Event::Endpoint::Application::Blocked",
    }
    record = normalise_alert(item)
    assert record.event_name == "Controlled application blocked: Tor Browser"
    assert record.event_category == "Application Control"
    assert record.source_name == "KIOSK-3"
    assert record.source_username == "Front Desk"
    assert record.timestamp_occured == datetime(
        2025, 6, 3, 11, 12, 13, 141000, tzinfo=UTC
    )
    assert record.rule_intent == "Environmental Awareness"
    assert record.rule_strategy == "Application Control"
    assert record.rule_method == "Event::Endpoint::Application::Blocked"
    assert record.parse_notes == []


def test_plugin_name() -> None:
    assert PLUGIN == "Sophos Central"


# Identifiers.


def test_uuid_lower_cased() -> None:
    record = normalise_event({**EVENT, "id": " 6F1C2A9E-3B4D-4E5F-8A9B-0C1D2E3F4A5B "})
    assert record.external_id == "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


def test_other_id_kept() -> None:
    record = normalise_event({**EVENT, "id": "Evt-ABC-1"})
    assert record.external_id == "Evt-ABC-1"
    assert record.parse_notes == []


def test_missing_id_derived() -> None:
    item = {key: value for key, value in EVENT.items() if key != "id"}
    reordered = dict(reversed(list(item.items())))
    record = normalise_event(item)
    assert record.external_id.startswith("sha256-")
    assert len(record.external_id) <= 64
    assert normalise_event(reordered).external_id == record.external_id
    assert normalise_event({**item, "name": "other"}).external_id != record.external_id
    assert record.parse_notes == [
        "id: missing, so an id was derived from a hash of the record"
    ]


def test_long_id_derived() -> None:
    record = normalise_event({**EVENT, "id": "x" * 65})
    assert record.external_id.startswith("sha256-")
    assert record.parse_notes[0].startswith("id: longer than 64")


def test_numeric_id_text() -> None:
    record = normalise_event({**EVENT, "id": 12345})
    assert record.external_id == "12345"
    assert record.parse_notes == ["id: is a number, expected a string"]


def test_object_id_derived() -> None:
    record = normalise_event({**EVENT, "id": {"type": 3, "data": "AAEC"}})
    assert record.external_id.startswith("sha256-")
    assert len(record.parse_notes) == 2


# Severity, priority, categories and taxonomy.


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("none", "none"),
        ("low", "low"),
        ("Medium", "medium"),
        (" HIGH ", "high"),
        ("critical", "critical"),
    ],
)
def test_severity_known(severity: str, expected: str) -> None:
    record = normalise_event({**EVENT, "severity": severity})
    assert record.event_severity == expected
    assert record.parse_notes == []


@pytest.mark.parametrize("severity", ["very_high", "", "informational", 5, ["high"]])
def test_severity_unknown(severity: object) -> None:
    record = normalise_event({**EVENT, "severity": severity})
    assert record.event_severity == "unknown"
    assert record.parse_notes
    assert all(note.startswith("severity:") for note in record.parse_notes)


def test_severity_missing() -> None:
    item = {key: value for key, value in EVENT.items() if key != "severity"}
    record = normalise_event(item)
    assert record.event_severity == "unknown"
    assert record.parse_notes == ["severity: missing"]


@pytest.mark.parametrize(
    ("severity", "priority"),
    [
        ("low", 30),
        ("medium", 60),
        ("high", 80),
        ("critical", 95),
        ("HIGH", 80),
        ("none", 50),
        ("unknown", 50),
        ("", 50),
        (None, 50),
    ],
)
def test_priority_for(severity: str, priority: int) -> None:
    assert priority_for(severity) == priority


@pytest.mark.parametrize(
    ("event_type", "category"),
    [
        ("Event::Endpoint::Threat::Detected", "Malware"),
        ("Event::Endpoint::CoreDetection", "Malware"),
        ("Event::Endpoint::CoreCleanFailed", "Malware"),
        ("Event::Endpoint::CoreBlocklistDetection", "Malware"),
        ("Event::Endpoint::Threat::PuaDetected", "PUA"),
        ("Event::Endpoint::CorePuaDetection", "PUA"),
        ("Event::Endpoint::Threat::HIPSDetected", "Runtime Detections"),
        ("Event::Endpoint::CoreBehavioralDetection", "Runtime Detections"),
        ("Event::Endpoint::CoreAmsiBlocked::1", "Runtime Detections"),
        ("Event::Endpoint::HmpaCryptoGuard", "Runtime Detections"),
        ("Event::Endpoint::Threat::IpsInboundDetection", "Runtime Detections"),
        ("Event::Endpoint::Threat::CommandAndControlDetected::1", "Runtime Detections"),
        ("Event::Endpoint::Registered", "Protection"),
        ("Event::Endpoint::NotProtected", "Protection"),
        ("Event::Endpoint::SavDisabled", "Protection"),
        ("Event::Endpoint::SavScanComplete", "Protection"),
        ("Event::Endpoint::UpdateFailure::DOWNLOAD_FAILED", "Updating"),
        ("Event::Endpoint::OutOfDate", "Updating"),
        ("Event::Endpoint::WebControlViolation::BLOCKED", "Web"),
        ("Event::Endpoint::WebFilteringBlocked", "Web"),
        ("Event::Endpoint::Device::Blocked", "Device Control"),
        ("Event::Endpoint::Application::Allowed", "Application Control"),
        ("Event::Endpoint::DataLossPreventionUserAllowed", "Data Loss Prevention"),
        ("Event::Endpoint::NonCompliant", "Policy"),
        ("Event::Endpoint::Enc::DiskNotEncryptedEvent", "Device Encryption"),
        ("Event::Task::RenewApiToken::1", "Management"),
        ("Event::ADSync::Error", "Management"),
        ("Event::Firewall::LostConnectionToSophosCentral", "Firewall"),
    ],
)
def test_category_by_type(event_type: str, category: str) -> None:
    item = {key: value for key, value in EVENT.items() if key != "group"}
    record = normalise_event({**item, "type": event_type})
    assert record.event_category == category
    assert record.parse_notes == []


@pytest.mark.parametrize(
    ("group", "category"),
    [
        ("RUNTIME_DETECTIONS", "Runtime Detections"),
        ("DATA_LOSS_PREVENTION", "Data Loss Prevention"),
        ("PUA", "PUA"),
        ("DENC", "Device Encryption"),
        ("SOME_NEW_GROUP", "Some New Group"),
        ("runtimeDetections", "Runtime Detections"),
        ("mobileDevices", "Mobile Devices"),
    ],
)
def test_category_from_group(group: str, category: str) -> None:
    assert normalise_event({**EVENT, "group": group}).event_category == category


def test_unknown_type_note() -> None:
    item = {key: value for key, value in EVENT.items() if key != "group"}
    record = normalise_event({**item, "type": "Event::Quantum::Entangled"})
    assert record.event_category == "Other"
    assert record.event_subcategory == "Event::Quantum::Entangled"
    assert len(record.parse_notes) == 1
    assert record.parse_notes[0].startswith("type: 'Event::Quantum::Entangled'")


def test_missing_type_note() -> None:
    item = {key: value for key, value in EVENT.items() if key != "type"}
    record = normalise_event(item)
    assert record.event_subcategory == ""
    assert record.parse_notes == ["type: missing or empty"]


@pytest.mark.parametrize(
    ("event_type", "threat", "taxonomy"),
    [
        (
            "Event::Endpoint::CoreDetection",
            "Troj/A-1",
            ("System Compromise", "Malware infection", "Troj/A-1"),
        ),
        (
            "Event::Endpoint::Threat::CommandAndControlDetected::1",
            "C2/Generic-B",
            ("System Compromise", "C&C communication", "C2/Generic-B"),
        ),
        (
            "Event::Endpoint::Threat::IpsInboundDetection",
            "IPS/Inbound/7777001",
            ("Delivery & Attack", "Network intrusion", "IPS/Inbound/7777001"),
        ),
        (
            "Event::Endpoint::HmpaExploitPrevented",
            "CodeCave",
            (
                "Exploitation & Installation",
                "Exploit",
                "Event::Endpoint::HmpaExploitPrevented",
            ),
        ),
        (
            "Event::Endpoint::Threat::PuaDetected",
            "PsExec",
            ("Environmental Awareness", "Unwanted software", "PsExec"),
        ),
        (
            "Event::Endpoint::NotProtected",
            None,
            (
                "Environmental Awareness",
                "Protection gap",
                "Event::Endpoint::NotProtected",
            ),
        ),
        (
            "Event::Endpoint::OutOfDate",
            None,
            ("Environmental Awareness", "Updating", "Event::Endpoint::OutOfDate"),
        ),
        (
            "Event::Quantum::Entangled",
            None,
            ("Environmental Awareness", "Other", "Event::Quantum::Entangled"),
        ),
    ],
)
def test_alarm_taxonomy(
    event_type: str, threat: str | None, taxonomy: tuple[str, str, str]
) -> None:
    item = {"id": "a1", "type": event_type, "description": "x", "threat": threat}
    record = normalise_alert(
        {**item, "severity": "high", "when": "2025-01-01T00:00:00Z"}
    )
    assert record.rule_intent == taxonomy[0]
    assert record.rule_strategy == taxonomy[1]
    assert record.rule_method == taxonomy[2]


def test_alarm_method_from_quoted_threat() -> None:
    item = {**ALERT, "threat": None}
    record = normalise_alert(item)
    assert record.malware_family == "Mal/Generic-S"
    assert record.rule_method == "Mal/Generic-S"


def test_family_for_unknown() -> None:
    assert family_for("Event::Quantum::Entangled") is None


# Text inside name and description.


def test_quoted_threat_only_for_threat_types() -> None:
    item = {**EVENT, "type": "Event::Endpoint::SavScanComplete", "group": "PROTECTION"}
    record = normalise_event({**item, "name": "Scan 'Weekly' completed"})
    assert record.malware_family == ""
    assert record.file_path == ""


def test_quoted_threat_without_path() -> None:
    record = normalise_event({**EVENT, "name": "Malware detected: 'Troj/B-2'"})
    assert record.malware_family == "Troj/B-2"
    assert record.file_path == ""


def test_threat_field_wins_over_name() -> None:
    record = normalise_event({**EVENT, "threat": "Troj/Field-1"})
    assert record.malware_family == "Troj/Field-1"
    assert record.file_path == "D:\\Shares\\O'Neil\\report.exe"


def test_full_file_path_wins() -> None:
    record = normalise_event({**EVENT, "full_file_path": "E:\\real.exe"})
    assert record.file_path == "E:\\real.exe"


def test_dlp_source_path_last_part() -> None:
    name = (
        "An \u2033allow file transfer\u2033 action was taken.  Username: LAB\\ab  "
        "Rule names: \u2032Cards\u2032  File size: 1024  "
        "Source path: \u2033C:\\Data\\cards 2025.xlsx\u2033"
    )
    item = {**EVENT, "type": "Event::Endpoint::DataLossPreventionUserAllowed"}
    record = normalise_event({**item, "name": name, "group": "DATA_LOSS_PREVENTION"})
    assert record.file_path == "C:\\Data\\cards 2025.xlsx"
    assert record.event_name == name


def test_dlp_without_source_path() -> None:
    item = {**EVENT, "type": "Event::Endpoint::DataLossPreventionUserAllowed"}
    record = normalise_event({**item, "name": "allow transfer on acceptance by user"})
    assert record.file_path == ""


# Times.

MOMENT = datetime(2024, 3, 14, 16, 21, 7, 418000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-14T16:21:07.418Z", MOMENT),
        ("2024-03-14T16:21:07Z", MOMENT.replace(microsecond=0)),
        ("2024-03-14T16:21:07.4Z", MOMENT.replace(microsecond=400000)),
        ("2024-03-14T16:21:07.418123456Z", MOMENT.replace(microsecond=418123)),
        ("2024-03-14T16:21:07.418", MOMENT),
        ("2024-03-14T16:21:07", MOMENT.replace(microsecond=0)),
        ("2024-03-14T18:21:07.418+02:00", MOMENT),
        ("2024-03-14T11:21:07.418-05:00", MOMENT),
        ("2024-03-14T18:21:07.418+0200", MOMENT),
        ("2024-03-14t16:21:07.418z", MOMENT),
        ("2024-03-14 16:21:07.418Z", MOMENT),
        (" 2024-03-14T16:21:07.418Z\n", MOMENT),
        (1710433267, MOMENT.replace(microsecond=0)),
        (1710433267418, MOMENT),
        (1710433267.418, MOMENT),
        ("1710433267", MOMENT.replace(microsecond=0)),
        ("1710433267418", MOMENT),
        ("1710433267.418", MOMENT),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_time_format(value: object, expected: datetime) -> None:
    parsed = parse_sophos_time(value)
    assert parsed is not None
    assert abs(parsed - expected) < timedelta(microseconds=2)
    assert parsed.utcoffset() == timedelta(0)
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-03-14T25:00:00Z",
        "2024-03-14T16:21:07.418 +02:00",
        "9" * 30,
        "2024-03-14T16:21:07Z" + " " * 100 + "x",
        True,
        False,
        float("nan"),
        float("inf"),
        10**30,
        -(10**30),
        [],
        {},
        {"when": "2024-03-14T16:21:07Z"},
        b"2024-03-14T16:21:07Z",
    ],
)
def test_time_unparseable(value: object) -> None:
    assert parse_sophos_time(value) is None


def test_time_far_offset() -> None:
    assert parse_sophos_time("0001-01-01T00:00:00+01:00") is None


# Bad items.


@pytest.mark.parametrize("item", [None, [], [EVENT], "text", 42, 1.5, True])
def test_non_object_item(item: object) -> None:
    for normaliser in (normalise_event, normalise_alert):
        record = normaliser(item)
        assert record.event_name == ""
        assert record.log == log_text(item)
        assert record.external_id.startswith("sha256-")
        assert len(record.parse_notes) == 1
        assert record.parse_notes[0].startswith("item: is ")


def test_empty_object() -> None:
    record = normalise_alert({})
    assert record.timestamp_occured is None
    assert record.event_severity == "unknown"
    assert record.priority == 50
    assert record.log == "{}"
    assert len(record.parse_notes) >= 4


@pytest.mark.parametrize(
    ("source_info", "address", "note"),
    [
        ("10.1.2.3", "10.1.2.3", "source_info: is a string"),
        ([{"ip": "10.1.2.4"}], "10.1.2.4", "source_info: is an array"),
        (["10.1.2.5"], "", "source_info: is an array"),
        (17, "", "source_info: is a number"),
        ({"ip": "not an address"}, "", "source_info.ip: 'not an address'"),
        ({"ip": 167772160}, "", "source_info.ip: is a number"),
        ({"ip": None}, "", None),
        ({}, "", None),
    ],
)
def test_odd_source_info(source_info: object, address: str, note: str | None) -> None:
    record = normalise_event({**EVENT, "source_info": source_info})
    assert record.source_address == address
    if note is None:
        assert record.parse_notes == []
    else:
        assert any(entry.startswith(note) for entry in record.parse_notes)


@pytest.mark.parametrize("data", [[1, 2], "created_at=1", 5, True])
def test_odd_alert_data(data: object) -> None:
    item = {key: value for key, value in ALERT.items() if key != "data"}
    record = normalise_alert({**item, "data": data})
    assert record.source_address == ""
    assert record.timestamp_occured is None
    assert any(note.startswith("data: is ") for note in record.parse_notes)


def test_odd_managed_agent() -> None:
    item = {"id": "c1", "type": "Event::Endpoint::OutOfDate", "managedAgent": "PC-9"}
    item |= {"description": "PC-9 is out of date.", "severity": "low"}
    record = normalise_alert({**item, "raisedAt": "2025-01-01T00:00:00"})
    assert record.source_name == ""
    assert record.parse_notes == ["managedAgent: is a string, expected an object"]


def test_unexpected_error_guarded(monkeypatch, caplog) -> None:
    import alienapps.sophos.normalize as normalize

    def fail(*args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(normalize, "_record_fields", fail)
    record = normalise_alert(ALERT)
    assert isinstance(record, AlarmRecord)
    assert record.log == log_text(ALERT)
    assert record.parse_notes[0].startswith("item: normalisation failed")
    assert ALERT["id"] in caplog.text


def test_alert_data_source_info_string() -> None:
    record = normalise_alert({**ALERT, "data": {"source_info": "192.0.2.9"}})
    assert record.source_address == "192.0.2.9"
    assert any(note.startswith("data.source_info:") for note in record.parse_notes)


def test_ipv6_address() -> None:
    record = normalise_event({**EVENT, "source_info": {"ip": "2001:DB8::1"}})
    assert record.source_address == "2001:db8::1"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", 404, "404"),
        ("name", True, "true"),
        ("name", {"text": "x"}, EVENT["type"]),
        ("location", ["PC-1"], ""),
        ("source", 7, "7"),
        ("threat", {"name": "x"}, "Troj/Agent-ZZZ"),
        ("group", 3, "3"),
    ],
)
def test_non_string_values(field: str, value: object, expected: str) -> None:
    mapped = {
        "name": "event_name",
        "location": "source_name",
        "source": "source_username",
        "threat": "malware_family",
        "group": "event_category",
    }[field]
    record = normalise_event({**EVENT, field: value})
    assert getattr(record, mapped) == expected
    assert any(note.startswith(f"{field}: is ") for note in record.parse_notes)


def test_null_values_ignored() -> None:
    item = {**EVENT, "location": None, "source": None, "source_info": None}
    record = normalise_event(item)
    assert record.source_name == ""
    assert record.source_username == ""
    assert record.source_address == ""
    assert record.parse_notes == []


def test_username_na_variants() -> None:
    for value in ("n/a", "N/A", " n/a "):
        assert normalise_event({**EVENT, "source": value}).source_username == ""


def test_circular_item() -> None:
    item = dict(EVENT)
    item["self"] = item
    record = normalise_event(item)
    assert record.event_name == EVENT["name"]
    assert record.external_id == "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
    assert any(note.startswith("log:") for note in record.parse_notes)


def test_non_json_value() -> None:
    record = normalise_event({**EVENT, "extra": {1, 2}})
    assert record.event_name == EVENT["name"]
    assert any(note.startswith("log:") for note in record.parse_notes)


def test_long_type_truncated() -> None:
    event_type = "Event::Endpoint::" + "A" * 300
    record = normalise_event({**EVENT, "type": event_type})
    assert record.event_subcategory == event_type[:200]
    assert any(note.startswith("type: longer than 200") for note in record.parse_notes)


def test_long_group_truncated() -> None:
    record = normalise_event({**EVENT, "group": "Group " * 40})
    assert len(record.event_category) == 100
    assert any(note.startswith("group: longer than 100") for note in record.parse_notes)


# String preservation.


@pytest.mark.parametrize(
    "name",
    [
        "Access blocked to \u201cexample.test\u201d \u2018now\u2019",
        "Detected \U0001f9a0 in \u6587\u4ef6.exe",
        "http:\u2215\u2215update.example.test",
        "Trailing space ",
        "Line one\nLine two\ttabbed",
        "\u200bzero width and \u202eright-to-left override",
    ],
)
def test_name_preserved(name: str) -> None:
    record = normalise_event({**EVENT, "name": name})
    assert record.event_name == name
    assert json.loads(record.log)["name"] == name
    assert record.log.isascii()


def test_long_name_preserved() -> None:
    name = "Malware detected: '" + "\u00e9" * 100_000 + "' at 'C:\\a'"
    record = normalise_event({**EVENT, "name": name})
    assert record.event_name == name
    assert len(record.event_name) == len(name)
    assert len(record.malware_family) == 100_000


def test_long_name_of_quotes_fast() -> None:
    name = "'" * 100_000
    record = normalise_alert({**ALERT, "description": name, "threat": None})
    assert record.event_name == name


def test_nul_replaced() -> None:
    record = normalise_event({**EVENT, "name": "bad\x00name", "location": "PC\x00"})
    assert record.event_name == "bad\ufffdname"
    assert record.source_name == "PC\ufffd"
    assert "\\u0000" in record.log
    assert json.loads(record.log)["name"] == "bad\x00name"
    assert any(note.startswith("name: NUL") for note in record.parse_notes)
    assert any(note.startswith("location: NUL") for note in record.parse_notes)


def test_lone_surrogate_replaced() -> None:
    record = normalise_event({**EVENT, "source": "user\ud800x"})
    assert record.source_username == "user\ufffdx"
    assert "\\ud800" in record.log
    assert any(note.startswith("source: NUL") for note in record.parse_notes)


def test_surrogate_pair_joined() -> None:
    record = normalise_event({**EVENT, "name": "germ \ud83e\udda0"})
    assert record.event_name == "germ \U0001f9a0"


def test_notes_contain_no_nul() -> None:
    record = normalise_event({**EVENT, "severity": "hi\x00gh", "when": "\x00"})
    assert record.parse_notes
    for note in record.parse_notes:
        assert "\x00" not in note


def test_log_keeps_key_order() -> None:
    item = {"z": 1, "a": {"y": 2, "b": 3}, "id": "k1"}
    record = normalise_event(item)
    assert record.log == '{"z":1,"a":{"y":2,"b":3},"id":"k1"}'
