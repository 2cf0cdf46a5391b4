"""Development keys, generated once per checkout so a fresh machine runs with no setup."""

import json
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def development_keys(var_dir: Path) -> dict[str, str]:
    """Return the checkout's development SECRET_KEY and token key, creating them once.

    They are used only while DEBUG is on; production reads both from the environment.
    """
    path = var_dir / "development-keys.json"
    if path.exists():
        return json.loads(path.read_text())

    var_dir.mkdir(parents=True, exist_ok=True)
    keys = {
        "secret_key": secrets.token_urlsafe(50),
        "token_key": Fernet.generate_key().decode(),
    }
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys
