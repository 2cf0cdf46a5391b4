"""Template arguments and kind-specific fields for generated events.

Each filler takes the random source and the device and returns the template arguments
and the extra fields of one event. The catalogue's `kind` selects the filler.
"""

import random

from .fleet import DOMAIN, USERS, Device, random_hex, random_uuid

MALWARE = (
    "EICAR-AV-Test",
    "Troj/Agent-BGHJ",
    "Mal/Generic-S",
    "ML/PE-A",
    "Troj/Ransom-GXY",
    "Mal/EncPk-APV",
)
PUAS = ("PsExec", "Generic Reputation PUA", "NirCmd", "Generic ML PUA", "Prey")
BEHAVIOURS = ("Lockdown-A", "Mal/Behav-238", "Exec-9", "Creds-3")
FILES = (
    "Downloads\\eicar.com",
    "Downloads\\invoice_2291.pdf.exe",
    "AppData\\Local\\Temp\\setup_x64.exe",
    "Documents\\report.docm",
    "Downloads\\tools\\PsExec64.exe",
)
APPLICATIONS = (
    ("TeamViewer", "Remote management tool"),
    ("uTorrent", "P2P"),
    ("Google Software Reporter Tool", "Security tool"),
    ("Tor Browser", "Proxy"),
    ("Steam", "Game"),
)
PERIPHERALS = (
    "SanDisk Cruzer USB Device (Storage: Removable)",
    "Apple iPhone (Mobile)",
    "Kingston DataTraveler 3.0 (Storage: Removable)",
    "Realtek Bluetooth Adapter (Bluetooth)",
)
WEB_CATEGORIES = (
    ("Gambling", "category"),
    ("Social Networking", "category"),
    ("Malware Callhome", "threat"),
    ("Anonymizing proxies", "category"),
)
SITES = (
    "www.example-casino.test",
    "social.example.com",
    "cdn.badhost.example",
    "proxy.example.net",
    "files.example.org",
)
SCANS = ("Sophos Cloud Scheduled Scan", "Weekly full scan", "Quick scan")
POLICIES = (
    "Base Policy - Threat Protection",
    "Servers - Update Management",
    "Finance - Peripheral Control",
)
DLP_RULES = (
    "Confidential documents",
    "Person identification numbers [USA]",
    "Multimedia file",
    "Credit card numbers",
)
DLP_FILES = (
    ("Word 2007+ document", "Documents\\Q3-forecast.docx"),
    ("Spreadsheet (Microsoft Excel-OLE)", "Downloads\\YEARENDDATA.XLS"),
    # Sophos writes U+2215 (division slash) in place of "/" in these texts.
    ("Media Container (TFT\u2215MPEG-4)", "Videos\\training.mp4"),
)
EXPLOITS = ("CodeCave", "StackPivot", "HeapSpray", "WipeGuard", "LoadLib")
PROCESSES = (
    "Essential Objects Worker Process",
    "Microsoft Word",
    "Adobe Reader",
    "Google Chrome",
    "Windows Explorer",
)
COMPONENTS = ("WindowsCloudServer", "SAV", "HitmanPro.Alert", "Sophos Network Threat")
GATEWAYS = ("ZTNA-GW-EU-1", "AP-LOBBY-02", "CSW-CORE-01", "XGS-2100-HQ")
TECH_SUPPORT_IDS = (
    "2019052901.77863414.5",
    "2023041402.11820347.3",
    "2024031409.55129040.7",
)
UPDATE_SERVER = "http:\u2215\u2215dci.sophosupd.com"

Filled = tuple[tuple[str, ...], dict]


def fill_plain(rng: random.Random, device: Device) -> Filled:
    return (), {}


def fill_device(rng: random.Random, device: Device) -> Filled:
    return (device.endpoint_type, device.host), {}


def fill_host(rng: random.Random, device: Device) -> Filled:
    return (device.host,), {}


def fill_update_failure(rng: random.Random, device: Device) -> Filled:
    return (rng.choice(COMPONENTS), UPDATE_SERVER), {}


def fill_policy(rng: random.Random, device: Device) -> Filled:
    return (rng.choice(POLICIES),), {}


def fill_scan(rng: random.Random, device: Device) -> Filled:
    return (rng.choice(SCANS),), {}


def fill_user(rng: random.Random, device: Device) -> Filled:
    return (f"{DOMAIN}\\{rng.choice(USERS)}",), {}


def fill_application(rng: random.Random, device: Device) -> Filled:
    application, category = rng.choice(APPLICATIONS)
    extras = {"appSha256": random_hex(rng, 64), "appCerts": certificates(rng)}
    return (application, category), extras


def fill_peripheral(rng: random.Random, device: Device) -> Filled:
    return (rng.choice(PERIPHERALS),), {}


def fill_web_control(rng: random.Random, device: Device) -> Filled:
    category, label = rng.choice(WEB_CATEGORIES)
    return (rng.choice(SITES), label, category), {}


def fill_web_filter(rng: random.Random, device: Device) -> Filled:
    return (rng.choice(SITES), rng.choice(MALWARE)), {}


def file_path(rng: random.Random, device: Device) -> str:
    if device.platform == "macOS":
        relative = rng.choice(FILES).replace("\\", "/")
        return f"/Users/{device.short_user}/{relative}"
    return f"C:\\Users\\{device.short_user}\\{rng.choice(FILES)}"


def detection(
    rng: random.Random,
    device: Device,
    names: tuple[str, ...],
    origin: str | None,
    core: bool,
) -> Filled:
    """Build a threat detection. `core` selects the `Core…` argument order."""
    threat = rng.choice(names)
    path = file_path(rng, device)
    args = (path, threat) if core else (f"'{threat}' at '{path}'",)

    extras = {
        "threat": threat,
        "origin": origin,
        "appSha256": random_hex(rng, 64),
        "core_remedy_items": remedy_items(rng, path),
    }
    return args, extras


def remedy_items(rng: random.Random, path: str) -> dict:
    result = rng.choice(("SUCCESS", "NOT_FOUND", "FAILED_TO_DELETE", "DELETED"))
    item = {
        "type": "file",
        "result": result,
        "suspendResult": "NOT_APPLICABLE",
        "descriptor": path,
        "processPath": "",
        "sophosPid": "",
    }
    return {"items": [item], "totalItems": 1}


def certificates(rng: random.Random) -> list:
    signer = rng.choice(("Sophos Ltd", "Microsoft Corporation", "Prey, Inc."))
    return [{"signer": signer, "thumbprint": random_hex(rng, 64)}]


def fill_malware(rng: random.Random, device: Device) -> Filled:
    origin = rng.choice(("ML_MALWARE_DETECTION", "VDL_MALWARE_DETECTION", None))
    return detection(rng, device, MALWARE, origin, core=False)


def fill_pua(rng: random.Random, device: Device) -> Filled:
    args, extras = detection(rng, device, PUAS, None, core=False)
    sha = {"property": extras["appSha256"], "type": "SHA_256"}
    extras["whitelist_properties"] = [sha]
    return args, extras


def fill_behaviour(rng: random.Random, device: Device) -> Filled:
    return detection(rng, device, BEHAVIOURS, "BEHAVIORAL_DETECTION", core=False)


def fill_core_malware(rng: random.Random, device: Device) -> Filled:
    return detection(rng, device, MALWARE, "ML_MALWARE_DETECTION", core=True)


def fill_core_pua(rng: random.Random, device: Device) -> Filled:
    args, extras = detection(rng, device, PUAS, None, core=True)
    extras["appCerts"] = certificates(rng)
    return args, extras


def fill_core_behaviour(rng: random.Random, device: Device) -> Filled:
    return detection(rng, device, BEHAVIOURS, "BEHAVIORAL_DETECTION", core=True)


def fill_core_blocklist(rng: random.Random, device: Device) -> Filled:
    return detection(rng, device, MALWARE, "BLOCKLISTED_BY_ADMIN", core=True)


def fill_amsi(rng: random.Random, device: Device) -> Filled:
    threat = rng.choice(("AMSI/PowerShell-A", "AMSI/Cobalt-B", "AMSI/Mimikatz-C"))
    script = f"C:\\Users\\{device.short_user}\\AppData\\Local\\Temp\\run.ps1"
    powershell = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"

    data = {
        "processId": str(rng.randint(1000, 65000)),
        "processName": "powershell.exe",
        "processPath": powershell,
        "parentProcessId": str(rng.randint(1000, 65000)),
        "parentProcessPath": "C:\\Windows\\explorer.exe",
    }
    extras = {"threat": threat, "origin": "AMSI_DETECTION", "amsi_threat_data": data}
    return (threat, script), extras


def fill_command_and_control(rng: random.Random, device: Device) -> Filled:
    threat = rng.choice(("C2/Generic-D", "C2/Cobalt-A"))
    reference = rng.choice(TECH_SUPPORT_IDS)
    target = f"'{threat}' at '{rng.choice(SITES)}'"
    return (target, reference), {"threat": threat, "origin": "BEHAVIORAL_DETECTION"}


def fill_ips_inbound(rng: random.Random, device: Device) -> Filled:
    return ips_detection(rng, device, outbound=False)


def fill_ips_outbound(rng: random.Random, device: Device) -> Filled:
    return ips_detection(rng, device, outbound=True)


def ips_detection(rng: random.Random, device: Device, outbound: bool) -> Filled:
    remote_ip = f"203.0.113.{rng.randint(1, 254)}"
    reference = rng.choice(TECH_SUPPORT_IDS)
    direction = "Outbound" if outbound else "Inbound"

    extras = {
        "threat": f"IPS/{direction}/{rng.randint(7777000, 7777999)}",
        "origin": "IPS_DETECTION",
        "ips_threat_data": ips_data(rng, device, remote_ip, reference, outbound),
    }
    return (remote_ip, reference), extras


def ips_data(
    rng: random.Random, device: Device, remote_ip: str, reference: str, outbound: bool
) -> dict:
    """Build `ips_threat_data`. Outbound detections name the local executable."""
    local_port = str(rng.choice((135, 445, 3389, 49152)))
    remote_port = str(rng.randint(1024, 65000))
    executable = "C:\\Program Files\\Example\\updater.exe" if outbound else ""
    addresses = (device.ip, local_port, remote_ip, remote_port)

    return {
        "detectionType": 1 if outbound else 0,
        "executableName": executable.rsplit("\\", 1)[-1],
        "executablePath": executable,
        "executablePid": str(rng.randint(1000, 9000)) if outbound else "",
        "executableVersion": "7.6.5" if outbound else "",
        "localPort": local_port,
        "remoteIp": remote_ip,
        "remotePort": remote_port,
        "techSupportId": reference,
        "rawData": ips_raw_data(addresses, executable),
    }


def ips_raw_data(addresses: tuple[str, str, str, str], executable: str) -> str:
    """Render `rawData`: one aligned `Label: value` line per fact, as Sophos sends."""
    local_ip, local_port, remote_ip, remote_port = addresses
    lines = [
        "Message       OS-WINDOWS Microsoft Windows SMB remote code execution attempt",
        "Reference     CVE-2017-0146",
        "Packet type   TCP",
        f"Local IP:     {local_ip}",
        f"Local Port:   {local_port}",
        "Local MAC:    00:50:56:81:62:41",
        f"Remote IP:    {remote_ip}",
        f"Remote Port:  {remote_port}",
        "Remote MAC:   00:1C:B3:09:85:15",
    ]
    if executable:
        lines += ["PID:          4242", f"Executable:   {executable}"]
        lines += ["Version:      7.6.5", "Signer:       Example Software Ltd"]
    return "\n".join(lines)


def fill_cryptoguard(rng: random.Random, device: Device) -> Filled:
    return (rng.choice(PROCESSES),), {"origin": "HMPA_DETECTION"}


def fill_exploit(rng: random.Random, device: Device) -> Filled:
    exploit = rng.choice(EXPLOITS)
    details = [{"property": exploit, "type": "HMPA_EVENT_TYPE"}]
    extras = {"origin": "HMPA_DETECTION", "details": details}
    return (exploit, rng.choice(PROCESSES)), extras


def hmpa_exploit(rng: random.Random, kind: str) -> dict:
    """Build the alert's `data.hmpa_exploit` object for an exploit or CryptoGuard."""
    return {
        "uid": random_uuid(rng),
        "family_id": random_uuid(rng),
        "process_name": rng.choice(PROCESSES),
        "process_version": "16.0.1",
        "thumbprint": random_hex(rng, 64),
        "process_path": "C:\\Program Files\\Example\\app.exe",
        "type": kind,
        "process_pid": str(rng.randint(1000, 9000)),
        "version": "2.13.7",
    }


def fill_dlp(rng: random.Random, device: Device) -> Filled:
    file_type, relative_path = rng.choice(DLP_FILES)
    application = ("Windows Explorer", "Google Chrome", "Firefox (V7 and higher)")

    args = (
        device.user,
        rng.choice(DLP_RULES),
        rng.choice(("File open", "File copy", "File upload")),
        rng.choice(application),
        "Allow",
        file_type,
        str(rng.randint(10_000, 600_000_000)),
        f"C:\\Users\\{device.short_user}\\{relative_path}",
    )
    return args, {}


def fill_firewall(rng: random.Random, device: Device) -> Filled:
    return (str(rng.choice((15, 30, 60))),), {"location": "XGS-2100-HQ"}


def fill_platform(rng: random.Random, device: Device) -> Filled:
    return (), {}


def fill_token_expiring(rng: random.Random, device: Device) -> Filled:
    return (str(rng.choice((30, 14, 7, 1))), "SIEM collector"), {}


def fill_token_expired(rng: random.Random, device: Device) -> Filled:
    return ("SIEM collector",), {}


def fill_gateway(rng: random.Random, device: Device) -> Filled:
    gateway = rng.choice(GATEWAYS[:3])
    return (gateway,), {"location": gateway}


FILLERS = {
    "plain": fill_plain,
    "device": fill_device,
    "host": fill_host,
    "update_failure": fill_update_failure,
    "policy": fill_policy,
    "scan": fill_scan,
    "user": fill_user,
    "application": fill_application,
    "peripheral": fill_peripheral,
    "web_control": fill_web_control,
    "web_filter": fill_web_filter,
    "malware": fill_malware,
    "pua": fill_pua,
    "behaviour": fill_behaviour,
    "core_malware": fill_core_malware,
    "core_pua": fill_core_pua,
    "core_behaviour": fill_core_behaviour,
    "core_blocklist": fill_core_blocklist,
    "amsi": fill_amsi,
    "command_and_control": fill_command_and_control,
    "ips_inbound": fill_ips_inbound,
    "ips_outbound": fill_ips_outbound,
    "cryptoguard": fill_cryptoguard,
    "exploit": fill_exploit,
    "dlp": fill_dlp,
    "firewall": fill_firewall,
    "platform": fill_platform,
    "token_expiring": fill_token_expiring,
    "token_expired": fill_token_expired,
    "gateway": fill_gateway,
}

# Kinds not tied to an endpoint, which carry no endpoint id, type or user id.
PLATFORM_KINDS = frozenset(
    ("firewall", "platform", "token_expiring", "token_expired", "gateway")
)
