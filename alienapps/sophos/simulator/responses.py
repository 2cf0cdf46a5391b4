"""HTTP responses of the simulator and the Sophos Central API error bodies."""

import json
import uuid
from dataclasses import dataclass, field

from .times import iso_ms

JSON_TYPE = "application/json; charset=utf-8"

# `error` codes and messages per status. 401, 403 and 500 follow Sophos' documented
# bodies. NOTE: the other codes are inferred, in the same camel-case style.
ERRORS = {
    400: ("badRequest", "Bad Request"),
    401: ("Unauthorized", None),
    403: ("forbidden", "Forbidden"),
    404: ("notFound", "Not Found"),
    405: ("methodNotAllowed", "Method Not Allowed"),
    429: ("tooManyRequests", "Too Many Requests"),
    500: ("internalServerError", "Internal Server Error."),
    502: ("badGateway", "Bad Gateway"),
    503: ("serviceUnavailable", "Service Unavailable"),
    504: ("gatewayTimeout", "Gateway Timeout"),
}


@dataclass(slots=True)
class Response:
    """A response and how to deliver it.

    `delivery` is `normal`, `trickle` (the body one byte every `interval` seconds),
    `hang` (no response for up to `seconds`) or `reset` (close without a response).
    """

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    delivery: str = "normal"
    interval: float = 0.0
    seconds: float = 0.0


def error_body(status: int, now_ms: int, message: str | None = None) -> dict:
    """Build the Sophos error body with fresh correlation and request ids.

    A 401 carries only `error`, `correlationId` and `requestId`, as Sophos documents.
    """
    code, default_message = ERRORS.get(status, ("error", "Error"))
    body = {
        "error": code,
        "correlationId": str(uuid.uuid4()),
        "requestId": str(uuid.uuid4()),
    }
    if status == 401:
        return body

    body["message"] = message or default_message
    body["createdAt"] = iso_ms(now_ms)
    return body


def error_response(status: int, now_ms: int, message: str | None = None) -> Response:
    return json_response(status, error_body(status, now_ms, message))


def json_response(status: int, value: object) -> Response:
    body = json.dumps(value, ensure_ascii=False).encode()
    return Response(status, body)


def envelope(
    has_more: bool, next_cursor: str, items: list[bytes], omit: str | None = None
) -> bytes:
    """Join the page envelope around serialised items, leaving out the `omit` field."""
    parts = []
    if omit != "has_more":
        parts.append(b'"has_more":' + (b"true" if has_more else b"false"))
    if omit != "next_cursor":
        parts.append(b'"next_cursor":' + json.dumps(next_cursor).encode())
    if omit != "items":
        parts.append(b'"items":[' + b",".join(items) + b"]")
    return b"{" + b",".join(parts) + b"}"
