"""The AlienApp catalogue: one package per app, listed in the ALIENAPPS setting.

An app package provides an ``AlienApp`` subclass that describes the app (name,
description, ports, streams) and supplies its configuration form, its client and its
normalisation. Adding an app means adding a package and one dotted path to ALIENAPPS.
"""

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from activity.records import EventRecord


@dataclass(frozen=True)
class Port:
    direction: str
    protocol: str
    number: int
    purpose: str


@dataclass(frozen=True)
class Stream:
    """A kind of data an app collects, with one log collection job per connection."""

    slug: str
    job_name: str
    collect_label: str
    # The model the stream's items become: "event" or "alarm".
    record: str


@dataclass
class Page:
    """One page of items fetched from a vendor API, and where the next page starts."""

    items: list[Any]
    next_cursor: str
    has_more: bool
    http_status: int | None = None


class CollectorSession:
    """The object an app returns from ``open_session``, which fetches pages of one connection."""

    def fetch(self, stream: str, cursor: str | None, start: Any) -> Page:
        raise NotImplementedError

    def check(self, stream: str) -> Page:
        """Make one small request that proves the credential can read ``stream``."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class AlienApp:
    slug: str = ""
    name: str = ""
    vendor: str = ""
    category: str = ""
    summary: str = ""
    description: str = ""
    capabilities: tuple[str, ...] = ("Log collection",)
    ports: tuple[Port, ...] = ()
    streams: tuple[Stream, ...] = ()
    # The name under which the app's events and alarms are stored (USM's "plugin").
    plugin: str = ""
    # How long a credential stays valid, in days; None when it does not expire.
    credential_lifetime_days: int | None = None

    def stream(self, slug: str) -> Stream:
        for stream in self.streams:
            if stream.slug == slug:
                return stream
        raise KeyError(f"{self.slug} has no stream {slug!r}")

    def configure_form_class(self) -> type:
        raise NotImplementedError

    def open_session(self, connection: Any, sensor: Any) -> CollectorSession:
        raise NotImplementedError

    def normalise(self, stream: str, item: Any) -> "EventRecord":
        raise NotImplementedError

    def initial_start(self, now: Any, lookback: Any) -> Any:
        """Return where a job with no cursor starts, at most ``lookback`` before ``now``."""
        raise NotImplementedError

    def history_window(self) -> Any:
        """Return how far back the vendor API serves data, as a timedelta, or None."""
        return None


@cache
def _apps() -> dict[str, AlienApp]:
    apps = {}
    for path in settings.ALIENAPPS:
        app = import_string(path)()
        apps[app.slug] = app
    return apps


def all_apps() -> list[AlienApp]:
    return sorted(_apps().values(), key=lambda app: app.name)


def get(slug: str) -> AlienApp:
    return _apps()[slug]


def app_choices() -> list[tuple[str, str]]:
    return [(app.slug, app.name) for app in all_apps()]
