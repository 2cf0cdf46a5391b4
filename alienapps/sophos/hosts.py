"""The allowlist of hosts the Sophos client may call.

Sophos Central's API hosts are ``https://<name>.central.sophos.com``. The setting
``SOPHOS_EXTRA_API_HOSTS`` adds exact origins (``scheme://host:port``), for example a
local simulator; plain ``http`` is allowed there only for loopback addresses.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

SOPHOS_DOMAIN = ".central.sophos.com"
DEFAULT_PORTS = {"https": 443, "http": 80}
# Cloud metadata services, named even though most sit in link-local ranges.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}


class HostNotAllowed(ValueError):
    """An API address outside the allowlist; the message names the problem and the fix."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{format_host(self.host)}:{self.port}"


def format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def parse_origin(value: str) -> Origin:
    """Parse ``scheme://host[:port]`` into an Origin, raising ValueError when malformed."""
    parts = urlsplit(value.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{value!r} is not of the form scheme://host:port")
    if parts.username or parts.password or parts.path not in ("", "/"):
        raise ValueError(f"{value!r} must be only scheme://host:port, without a path")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    return Origin(parts.scheme, parts.hostname.lower(), port)


def extra_origins() -> list[Origin]:
    """Return the origins of SOPHOS_EXTRA_API_HOSTS that may be called.

    Malformed entries and plain-http entries for hosts that are not loopback are
    skipped; the system checks ``usm_portal.E002`` and ``usm_portal.E004`` report them.
    """
    origins = []
    for value in settings.SOPHOS_EXTRA_API_HOSTS:
        try:
            origin = parse_origin(value)
        except ValueError:
            continue
        if origin.scheme == "http" and not is_loopback(origin.host):
            continue
        origins.append(origin)
    return origins


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_api_url(url: str) -> Origin:
    """Return the origin of ``url`` when the client may call it, else raise HostNotAllowed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise HostNotAllowed(
            "The API Access URL is not a valid web address."
        ) from error
    host = (parts.hostname or "").lower()
    if not parts.scheme or not host:
        raise HostNotAllowed("The API Access URL is not a valid web address.")
    if parts.username is not None or parts.password is not None:
        raise HostNotAllowed(
            "The API Access URL must not contain a user name or password before the host."
        )
    if parts.scheme not in DEFAULT_PORTS:
        raise HostNotAllowed("The API Access URL must start with https://.")

    origin = Origin(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme])
    if origin in extra_origins():
        return origin
    return _check_sophos_origin(origin)


def _check_sophos_origin(origin: Origin) -> Origin:
    if origin.scheme != "https":
        raise HostNotAllowed("The API Access URL must start with https://.")
    if is_ip_literal(origin.host):
        raise HostNotAllowed(
            f"The API Access URL uses the IP address {origin.host}; Sophos Central is "
            "called only by its host name (…central.sophos.com)."
        )
    if not origin.host.endswith(SOPHOS_DOMAIN) or origin.port != 443:
        raise HostNotAllowed(
            f"The API Access URL must be a Sophos Central address (…central.sophos.com), "
            f"not {origin.host}. Check that you copied the whole block, or add the exact "
            "origin to SOPHOS_EXTRA_API_HOSTS."
        )
    return origin


def is_forbidden_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> bool:
    """Return True for loopback, private, link-local, reserved and metadata addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address in METADATA_ADDRESSES
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def check_resolved_addresses(origin: Origin) -> None:
    """Raise HostNotAllowed when an allowed name resolves to an internal address.

    An origin listed exactly in SOPHOS_EXTRA_API_HOSTS may resolve anywhere.
    """
    if origin in extra_origins():
        return
    for address in resolve(origin.host, origin.port):
        if is_forbidden_address(address):
            raise HostNotAllowed(
                f"{origin.host} resolves to the internal address {address}; the client "
                "calls Sophos Central only at public addresses. Check the sensor's DNS, "
                "or add the exact origin to SOPHOS_EXTRA_API_HOSTS."
            )


def resolve(
    host: str, port: int
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Resolve ``host`` to its addresses; socket.gaierror propagates to the caller."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
