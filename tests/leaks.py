"""Watch every log record and every rendered page of the suite for token secrets.

Fixtures register the secret parts of every token block they create. The autouse
fixtures in conftest then fail a test when one of them appears in a log record (at
any level, any logger) or in the body of a response the Django test client received.
"""

import logging

# Secret values (x-api-key values and Authorization credentials) known to the tests.
SECRETS: set[str] = set()
MIN_LENGTH = 8


def register(*values: str) -> None:
    for value in values:
        value = value.removeprefix("Basic ").strip()
        if len(value) >= MIN_LENGTH:
            SECRETS.add(value)


def register_block(block) -> None:
    register(block.api_key, block.authorization)


def find_secret(text: str) -> str | None:
    for secret in SECRETS:
        if secret in text:
            return secret
    return None


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        self.texts.append(text)
