"""The Sophos client calls only allowlisted hosts at public addresses."""

import ipaddress
import socket

import pytest

from alienapps.sophos import hosts
from alienapps.sophos.hosts import (
    HostNotAllowed,
    check_api_url,
    check_resolved_addresses,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://api1.central.sophos.com/gateway",
        "https://api-eu01.central.sophos.com",
        "https://API5.Central.Sophos.com/gateway",
    ],
)
def test_sophos_hosts_allowed(url):
    assert check_api_url(url).port == 443


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://api1.central.sophos.com/gateway", "must start with https://"),
        ("ftp://api1.central.sophos.com/gateway", "must start with https://"),
        ("https://52.1.2.3/gateway", "uses the IP address 52.1.2.3"),
        ("https://[2001:db8::1]/gateway", "uses the IP address 2001:db8::1"),
        ("https://user:pw@api1.central.sophos.com/gateway", "user name or password"),
        ("https://api1.central.sophos.com.evil.example/gateway", "not api1.central"),
        (
            "https://central.sophos.com.example/gateway",
            "must be a Sophos Central address",
        ),
        ("https://evilcentral.sophos.com/gateway", "must be a Sophos Central address"),
        (
            "https://api1.central.sophos.com:8443/gateway",
            "must be a Sophos Central address",
        ),
        ("https://api1.central.sophos.com:99999/gateway", "not a valid web address"),
        ("not a url", "not a valid web address"),
    ],
)
def test_other_urls_rejected(url, expected):
    with pytest.raises(HostNotAllowed) as error:
        check_api_url(url)
    assert expected in str(error.value)


def test_extra_host_allowed(settings):
    settings.SOPHOS_EXTRA_API_HOSTS = ["http://127.0.0.1:8443"]
    assert (
        str(check_api_url("http://127.0.0.1:8443/gateway")) == "http://127.0.0.1:8443"
    )


def test_extra_host_needs_exact_port(settings):
    settings.SOPHOS_EXTRA_API_HOSTS = ["http://127.0.0.1:8443"]
    with pytest.raises(HostNotAllowed):
        check_api_url("http://127.0.0.1:8444/gateway")


def test_plain_http_extra_host_must_be_loopback(settings):
    settings.SOPHOS_EXTRA_API_HOSTS = ["http://sim.example:8443"]
    with pytest.raises(HostNotAllowed):
        check_api_url("http://sim.example:8443/gateway")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "172.16.5.5",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "0.0.0.0",
        "::ffff:10.0.0.1",
        "100.100.100.200",
    ],
)
def test_internal_resolution_rejected(monkeypatch, address):
    monkeypatch.setattr(
        hosts, "resolve", lambda host, port: [ipaddress.ip_address(address)]
    )
    origin = check_api_url("https://api1.central.sophos.com/gateway")
    with pytest.raises(HostNotAllowed) as error:
        check_resolved_addresses(origin)
    assert "internal address" in str(error.value)


def test_public_resolution_allowed(monkeypatch):
    monkeypatch.setattr(
        hosts, "resolve", lambda host, port: [ipaddress.ip_address("52.1.2.3")]
    )
    origin = check_api_url("https://api1.central.sophos.com/gateway")
    assert check_resolved_addresses(origin) is None


def test_extra_host_may_resolve_internally(settings):
    settings.SOPHOS_EXTRA_API_HOSTS = ["https://localhost:9443"]
    origin = check_api_url("https://localhost:9443/gateway")
    assert check_resolved_addresses(origin) is None


def test_resolve_uses_real_lookup():
    addresses = hosts.resolve("localhost", 443)
    assert any(address.is_loopback for address in addresses)


def test_lookups_outside_loopback_blocked_in_tests():
    with pytest.raises(socket.gaierror):
        hosts.resolve("api1.central.sophos.com", 443)
