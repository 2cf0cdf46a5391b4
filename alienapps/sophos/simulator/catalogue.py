"""Sophos Central event types with message templates, groups and severities.

Templates use Sophos' `{1}`, `{2}`, `{3}` placeholders and come from Sophos'
knowledge-base list of Central events (KB-000038309). Where payloads show another
wording, the observed wording is used and a comment on the row states it.
"""

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{(\d)\}")


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type and how the generator renders it.

    `weight` is the relative frequency in generated data, `alerting` whether the
    event raises an alert, and `kind` selects the generator's placeholder filler.
    """

    name: str
    template: str
    group: str
    severity: str
    weight: float
    alerting: bool
    kind: str


def rows(prefix: str, *table: tuple) -> tuple[EventType, ...]:
    """Build event types from table rows, appending each row's name to `prefix`."""
    types = []
    for name, group, severity, weight, alerting, kind, template in table:
        types.append(
            EventType(prefix + name, template, group, severity, weight, alerting, kind)
        )
    return tuple(types)


def render(template: str, args: tuple[str, ...]) -> str:
    """Fill `{1}`-style placeholders. One without an argument stays as it is."""

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return args[index] if 0 <= index < len(args) else match.group(0)

    return PLACEHOLDER.sub(replace, template)


# Rows: (name after the prefix, group, severity, weight, alerting, kind), template.
# Threat templates with a single placeholder receive "'<threat>' at '<path>'", the
# form observed in payloads. The `Core…` templates put the path in {1}.
# Data loss prevention texts are labelled parts separated by two spaces, with values
# in U+2033 (double prime) and U+2032 (prime), as payloads show.
# NOTE: the groups of the platform types (CONNECTIVITY, GENERAL, ZTNA, WIRELESS) are
# guesses, and the ZTNA, wireless and switch wordings are invented.

# fmt: off
DEVICE_TYPES = rows(
    "Event::Endpoint::",
    # The published text reads "New endpoint registered {1} {2}", but payloads read
    # "New computer registered: HOSTNAME", so the observed form is used.
    ("Registered", "PROTECTION", "low", 1.0, False, "device",
     "New {1} registered: {2}"),
    ("Protected", "PROTECTION", "low", 1.0, False, "device",
     "New {1} protected: {2}"),
    ("NotProtected", "PROTECTION", "high", 0.3, True, "device",
     "Failed to protect {1}: {2}"),
    ("OutOfDate", "UPDATING", "medium", 0.6, True, "host",
     "Endpoint is out of date {1}"),
    ("UpdateSuccess", "UPDATING", "low", 14.0, False, "plain",
     "Update succeeded"),
    ("UpdateRebootRequired", "UPDATING", "low", 1.5, False, "plain",
     "Reboot recommended after software update"),
    ("UpdateFailure::DOWNLOAD_FAILED",
     "UPDATING", "medium", 0.8, False, "update_failure",
     "Download of {1} failed from server {2}."),
    # The bare type has no published template. Payloads carry the download text.
    ("UpdateFailure", "UPDATING", "low", 3.0, False, "update_failure",
     "Download of {1} failed from server {2}."),
    ("Compliant", "POLICY", "low", 6.0, False, "policy",
     "Policy in compliance {1}"),
    ("NonCompliant", "POLICY", "low", 5.0, False, "policy",
     "Policy non-compliance {1}"),
    ("SavDisabled", "PROTECTION", "high", 0.2, True, "plain",
     "Real time protection disabled"),
    ("SavEnabled", "PROTECTION", "low", 0.2, False, "plain",
     "Real time protection re-enabled"),
    ("SavScanComplete", "PROTECTION", "low", 8.0, False, "scan",
     "Scan '{1}' completed"),
    ("UserAutoCreated", "PROTECTION", "low", 0.8, False, "user",
     "New user added automatically: {1}"),
    ("Isolation::Isolated::ADMIN", "ISOLATION", "medium", 0.1, False, "host",
     "Computer isolated by an administrator {1}"),
)

CONTROL_TYPES = rows(
    "Event::Endpoint::",
    ("Application::Blocked", "APPLICATION_CONTROL", "low", 1.0, False, "application",
     "Controlled application blocked: {1} ({2})"),
    ("Application::Allowed", "APPLICATION_CONTROL", "low", 6.0, False, "application",
     "Controlled application allowed: {1} ({2})"),
    ("Application::Detected", "APPLICATION_CONTROL", "low", 1.0, False, "application",
     "Controlled application detected: {1} ({2})"),
    ("Device::AlertedOnly", "PERIPHERALS", "low", 5.0, False, "peripheral",
     "Peripheral allowed: {1}"),
    ("Device::Blocked", "PERIPHERALS", "low", 0.8, False, "peripheral",
     "Peripheral blocked: {1}"),
    ("Device::ReadOnly", "PERIPHERALS", "low", 0.5, False, "peripheral",
     "Peripheral restricted to read-only: {1}"),
    # The published list gives one template for the whole web-control family.
    ("WebControlViolation::BLOCKED", "WEB", "low", 1.0, False, "web_control",
     "'{1}' blocked due to {2} '{3}'"),
    ("WebControlViolation::WARNED", "WEB", "low", 0.6, False, "web_control",
     "'{1}' blocked due to {2} '{3}'"),
    ("WebControlViolation::PROCEEDED", "WEB", "low", 0.4, False, "web_control",
     "'{1}' blocked due to {2} '{3}'"),
    ("WebControlViolation", "WEB", "low", 4.0, False, "web_control",
     "'{1}' blocked due to {2} '{3}'"),
    ("WebFilteringBlocked", "WEB", "low", 5.0, False, "web_filter",
     "Access has been blocked to '{1}' as '{2}' has been found at this website."),
)

THREAT_TYPES = rows(
    "Event::Endpoint::",
    ("Threat::Detected", "MALWARE", "high", 1.0, True, "malware",
     "Malware detected: {1}"),
    ("Threat::CleanedUp", "MALWARE", "medium", 0.8, False, "malware",
     "Malware cleaned up: {1}"),
    # Observed wording, because the type has no published template.
    ("Threat::CleanupFailed", "MALWARE", "high", 0.3, True, "malware",
     "Manual cleanup required: {1}"),
    ("Threat::PuaDetected", "PUA", "medium", 0.8, True, "pua",
     "PUA detected: {1}"),
    ("Threat::PuaCleanedUp", "PUA", "medium", 0.5, False, "pua",
     "PUA cleaned up: {1}"),
    # Observed wording, because the type has no published template.
    ("Threat::PuaCleanupFailed", "PUA", "medium", 0.3, True, "pua",
     "Manual PUA cleanup required: {1}"),
    ("Threat::HIPSDetected", "RUNTIME_DETECTIONS", "high", 0.3, True, "behaviour",
     "Running malware detected: {1}"),
    # NOTE: invented wording, modelled on CleanupFailed. No payload or template seen.
    ("Threat::HIPSCleanupFailed", "RUNTIME_DETECTIONS", "high", 0.1, True, "behaviour",
     "Manual cleanup required: {1}"),
    ("Threat::CommandAndControlDetected::1",
     "RUNTIME_DETECTIONS", "high", 0.2, True, "command_and_control",
     "Malicious traffic detected: {1} (Technical Support reference: {2})"),
    ("Threat::IpsInboundDetection",
     "RUNTIME_DETECTIONS", "low", 1.0, True, "ips_inbound",
     "Malicious inbound network traffic blocked from a remote computer at "
     "{1} (Technical Support reference: {2})"),
    # NOTE: invented wording, modelled on IpsInboundDetection.
    ("Threat::IpsOutboundDetection",
     "RUNTIME_DETECTIONS", "medium", 0.3, True, "ips_outbound",
     "Malicious outbound network traffic blocked to a remote computer at {1} "
     "(Technical Support reference: {2})"),
    ("CoreDetection", "MALWARE", "high", 0.8, True, "core_malware",
     "Malware detected: '{2}' at '{1}'"),
    ("CorePuaDetection", "PUA", "medium", 0.8, True, "core_pua",
     "PUA detected: '{2}' at '{1}'"),
    ("CoreClean", "MALWARE", "medium", 0.6, False, "core_malware",
     "Malware cleaned up: '{2}' at '{1}'"),
    ("CoreCleanFailed", "MALWARE", "high", 0.2, True, "core_malware",
     "Manual malware cleanup required: '{2}' at '{1}'"),
    # NOTE: invented wording for the next two types, modelled on CoreDetection.
    ("CoreBehavioralDetection",
     "RUNTIME_DETECTIONS", "high", 0.2, True, "core_behaviour",
     "Malicious behavior detected: '{2}' at '{1}'"),
    ("CoreBlocklistDetection", "MALWARE", "medium", 0.2, True, "core_blocklist",
     "Blocked item detected: '{2}' at '{1}'"),
    ("CoreAmsiBlocked::1", "RUNTIME_DETECTIONS", "high", 0.4, True, "amsi",
     "AMSI Protection blocked a threat: {1} at {2}"),
    ("HmpaCryptoGuard", "RUNTIME_DETECTIONS", "high", 0.1, True, "cryptoguard",
     "CryptoGuard detected ransomware in {1}"),
    ("HmpaExploitPrevented", "RUNTIME_DETECTIONS", "high", 0.3, True, "exploit",
     "'{1}' exploit prevented in {2}"),
)

DLP_PARTS = (
    "  Username: {1}  Rule names: \u2032{2}\u2032  User action: {3}"
    "  Application Name: {4}  Data Control action: {5}  File type: {6}"
    "  File size: {7}  Source path: {8}"
)

DLP_TYPES = rows(
    "Event::Endpoint::",
    ("DataLossPreventionUserAllowed",
     "DATA_LOSS_PREVENTION", "low", 1.0, False, "dlp",
     "An \u2033allow file transfer on acceptance by user\u2033 action was taken."
     + DLP_PARTS),
    ("DataLossPreventionAutomaticallyAllowed",
     "DATA_LOSS_PREVENTION", "low", 0.8, False, "dlp",
     "An \u2033allow file transfer\u2033 action was taken." + DLP_PARTS),
)

ENCRYPTION_TYPES = rows(
    "Event::Endpoint::",
    ("Enc::DiskNotEncryptedEvent", "DENC", "medium", 0.3, False, "plain",
     "Device is not encrypted."),
    ("Denc::EncryptionSuspendedEvent", "DENC", "medium", 0.2, False, "plain",
     "Device Encryption is suspended"),
    ("Enc::Recovery::KeyReceived", "DENC", "low", 0.2, False, "host",
     "A BitLocker recovery key has been received from: {1}."),
    ("Denc::OutlookPluginEnabledEvent", "DENC", "low", 0.2, False, "plain",
     "Outlook add-in is enabled"),
)

PLATFORM_TYPES = rows(
    "Event::",
    ("Firewall::LostConnectionToSophosCentral",
     "CONNECTIVITY", "high", 0.1, True, "firewall",
     "Firewall has not checked in with Sophos Central for the past {1} minutes"),
    ("ADSync::Success", "GENERAL", "low", 0.3, False, "platform",
     "Active Directory synchronization succeeded"),
    ("ADSync::Warning", "GENERAL", "medium", 0.05, False, "platform",
     "Active Directory synchronization warning"),
    ("ADSync::Error", "GENERAL", "high", 0.03, True, "platform",
     "Active Directory synchronization error"),
    ("Task::RenewApiToken::1", "GENERAL", "medium", 0.02, False, "token_expiring",
     "Your API token {2} will expire in {1} day/s."),
    ("Task::RenewApiToken::2", "GENERAL", "high", 0.01, True, "token_expired",
     "Your API token {1} has expired."),
    ("ZTNA::ZTNAGatewayUnreachable", "ZTNA", "high", 0.05, True, "gateway",
     "ZTNA gateway {1} is unreachable"),
    ("Wireless::WifixAccessPoint::Common", "WIRELESS", "medium", 0.05, False, "gateway",
     "Access point {1} reported an issue"),
    ("CSWITCH::CSwitchDisconnected", "CONNECTIVITY", "medium", 0.05, False, "gateway",
     "Switch {1} disconnected from Sophos Central"),
)
# fmt: on

CATALOGUE: tuple[EventType, ...] = (
    DEVICE_TYPES
    + CONTROL_TYPES
    + THREAT_TYPES
    + DLP_TYPES
    + ENCRYPTION_TYPES
    + PLATFORM_TYPES
)

BY_NAME: dict[str, EventType] = {
    event_type.name: event_type for event_type in CATALOGUE
}

# The official SIEM script's "light" mode sends these in `exclude_types`.
NOISY_TYPES = (
    "Event::Endpoint::NonCompliant",
    "Event::Endpoint::Compliant",
    "Event::Endpoint::Device::AlertedOnly",
    "Event::Endpoint::UpdateFailure",
    "Event::Endpoint::SavScanComplete",
    "Event::Endpoint::Application::Allowed",
    "Event::Endpoint::UpdateSuccess",
    "Event::Endpoint::WebControlViolation",
    "Event::Endpoint::WebFilteringBlocked",
)


def is_excluded(event_type: str, excluded: tuple[str, ...]) -> bool:
    """Match `exclude_types`: the same name, or a listed name followed by `::`."""
    for name in excluded:
        if event_type == name or event_type.startswith(name + "::"):
            return True
    return False
