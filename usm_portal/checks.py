"""System checks for dangerous setting combinations; their ids are stable."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from alienapps.sophos.hosts import is_loopback, parse_origin


@register(Tags.security)
def check_token_keys(app_configs, **kwargs) -> list:
    errors = []
    if not settings.TOKEN_ENCRYPTION_KEYS:
        errors.append(
            Error(
                "TOKEN_ENCRYPTION_KEYS is empty.",
                hint="Set it to one or more Fernet keys, newest first (generate one with "
                "manage.py generate_token_key).",
                id="usm_portal.E001",
            )
        )
    for position, key in enumerate(settings.TOKEN_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(
                Error(
                    f"Key {position} of TOKEN_ENCRYPTION_KEYS is not a valid Fernet key.",
                    hint="Each key is 32 random bytes in URL-safe base64 (44 characters).",
                    id="usm_portal.E001",
                )
            )
    if (
        settings.TOKEN_ENCRYPTION_KEYS
        and settings.TOKEN_ENCRYPTION_KEYS[0] == settings.SECRET_KEY
    ):
        errors.append(
            Error(
                "The token encryption key is the same as SECRET_KEY.",
                hint="Use a separate key so that one leak does not expose the other.",
                id="usm_portal.E003",
            )
        )
    return errors


@register(Tags.security)
def check_extra_api_hosts(app_configs, **kwargs) -> list:
    messages = []
    for value in settings.SOPHOS_EXTRA_API_HOSTS:
        try:
            origin = parse_origin(value)
        except ValueError as error:
            messages.append(
                Error(
                    f"SOPHOS_EXTRA_API_HOSTS entry {value!r} is invalid: {error}.",
                    hint="Write each entry as scheme://host:port, separated by commas.",
                    id="usm_portal.E002",
                )
            )
            continue
        messages += _plain_http_messages(value, origin)
    return messages


def _plain_http_messages(value, origin) -> list:
    if origin.scheme != "http":
        return []
    if not is_loopback(origin.host):
        return [
            Error(
                f"SOPHOS_EXTRA_API_HOSTS entry {value!r} uses plain http to a host that "
                "is not a loopback address.",
                hint="Plain http is allowed only for a simulator on 127.0.0.1, ::1 or "
                "localhost; use https for every other host.",
                id="usm_portal.E004",
            )
        ]
    if not settings.DEBUG:
        return [
            Warning(
                f"SOPHOS_EXTRA_API_HOSTS allows the plain-http host {value!r} while "
                "DEBUG is off.",
                hint="Tokens sent there travel unencrypted. Remove the entry in "
                "production; keep it only for a demo with the simulator.",
                id="usm_portal.W001",
            )
        ]
    return []
