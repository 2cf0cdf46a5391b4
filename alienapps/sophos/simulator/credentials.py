"""The legacy API token: one valid `x-api-key` and `Authorization: Basic` pair."""

import base64
import hmac
import secrets
import string
import threading
import uuid

ALPHANUMERIC = string.ascii_letters + string.digits


def new_api_key() -> str:
    """Return 40 letters and digits, the shape of every observed `x-api-key`."""
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(40))


def new_authorization() -> str:
    """Return `Basic ` and base64 of `<uuid>:<secret>`, the shape seen in tokens."""
    secret = "".join(secrets.choice(ALPHANUMERIC) for _ in range(32))
    credential = f"{uuid.uuid4()}:{secret}".encode()
    return "Basic " + base64.b64encode(credential).decode()


class Credentials:
    """The token the simulator accepts. A revoked token is rejected until reissued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.api_key = ""
        self.authorization = ""
        self.valid = False
        self.issue()

    def issue(self) -> tuple[str, str]:
        with self._lock:
            self.api_key = new_api_key()
            self.authorization = new_authorization()
            self.valid = True
            return self.api_key, self.authorization

    def revoke(self) -> None:
        with self._lock:
            self.valid = False

    def accepts(self, api_key: str | None, authorization: str | None) -> bool:
        """Check both header values. The `Basic` scheme word matches in any case."""
        with self._lock:
            if not self.valid or api_key is None or authorization is None:
                return False
            expected_key, expected_authorization = self.api_key, self.authorization

        scheme, _, credential = authorization.strip().partition(" ")
        expected_credential = expected_authorization.partition(" ")[2]
        key_ok = hmac.compare_digest(api_key.strip(), expected_key)
        credential_ok = hmac.compare_digest(credential.strip(), expected_credential)
        return scheme.lower() == "basic" and key_ok and credential_ok
