"""The Sophos Central AlienApp: its catalogue entry, streams, client and normalisation."""

from datetime import datetime, timedelta

from alienapps.registry import AlienApp, CollectorSession, Port, Stream

# The SIEM API serves only the last 24 hours; a start a minute inside that limit
# survives clock skew between the sensor and Sophos Central.
HISTORY_WINDOW = timedelta(hours=24)
SAFE_WINDOW = timedelta(hours=23, minutes=59)


class SophosCentral(AlienApp):
    slug = "sophos-central"
    name = "Sophos Central"
    vendor = "Sophos"
    category = "Endpoint Security"
    plugin = "Sophos Central"
    summary = (
        "Collects Sophos Central events and alerts through the SIEM Integration API."
    )
    description = (
        "Sophos Central manages Sophos endpoint, server and firewall protection. This "
        "AlienApp collects its events and alerts every 20 minutes through the SIEM "
        "Integration API, using an API token created under Global Settings > API Token "
        "Management. Events appear on the Events page; every Sophos alert raises an alarm."
    )
    capabilities = ("Log collection", "Alarms")
    ports = (
        Port(
            "Outbound", "TCP", 443, "Sophos Central events endpoint (/siem/v1/events)"
        ),
        Port(
            "Outbound", "TCP", 443, "Sophos Central alerts endpoint (/siem/v1/alerts)"
        ),
    )
    streams = (
        Stream(
            "events", "Sophos Central events", "Collect Sophos Central events", "event"
        ),
        Stream(
            "alerts", "Sophos Central alerts", "Collect Sophos Central alerts", "alarm"
        ),
    )
    credential_lifetime_days = 365

    def configure_form_class(self) -> type:
        from alienapps.sophos.forms import SophosConfigureForm

        return SophosConfigureForm

    def open_session(self, connection, sensor) -> CollectorSession:
        from alienapps import secrets
        from alienapps.sophos.client import SophosClient
        from alienapps.sophos.tokenblock import parse_token_block

        block = parse_token_block(secrets.decrypt(connection.secret))
        return SophosClient(block, sensor_name=sensor.name)

    def normalise(self, stream: str, item):
        from alienapps.sophos.normalize import normalise_alert, normalise_event

        return normalise_alert(item) if stream == "alerts" else normalise_event(item)

    def initial_start(self, now: datetime, lookback: timedelta) -> datetime:
        """Return the first run's start: now minus the lookback, at most 23 h 59 min."""
        return now - min(lookback, SAFE_WINDOW)

    def history_window(self) -> timedelta:
        return HISTORY_WINDOW
