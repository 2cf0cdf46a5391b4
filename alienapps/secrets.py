"""Encryption at rest for AlienApp credentials.

``TOKEN_ENCRYPTION_KEYS`` lists Fernet keys, newest first: the first encrypts, every
one decrypts, so a new key is put in front and ``manage.py rotate_token_key``
re-encrypts the stored credentials before the old key is dropped. The keys are
separate from ``SECRET_KEY``.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored credential that none of the configured keys decrypts."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "The stored token cannot be decrypted with TOKEN_ENCRYPTION_KEYS. Restore the "
            "key it was saved with, or paste the token block again."
        ) from error


def rotate(ciphertext: str) -> str:
    """Re-encrypt ``ciphertext`` with the first (newest) key."""
    return fernet().rotate(ciphertext.encode()).decode()
