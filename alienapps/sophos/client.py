"""The only code that talks to Sophos Central: the legacy SIEM Integration API client.

Every request carries a connect and read timeout and a deadline for the whole response,
goes only to an allowlisted host, honours ``Retry-After`` up to a cap and retries
5xx responses and dropped connections with exponential backoff and full jitter. Every
failure becomes an ``alienapps.errors`` exception whose message names the cause and
the fix; no message, log line or exception carries the token.
"""

import base64
import email.utils
import json
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from urllib3.exceptions import NameResolutionError, NewConnectionError, ProtocolError

from alienapps.errors import (
    CollectionError,
    CursorRejected,
    PermanentError,
    RateLimited,
    TransientError,
)
from alienapps.registry import CollectorSession, Page
from alienapps.sophos import hosts
from alienapps.sophos.tokenblock import TokenBlock

logger = logging.getLogger(__name__)

PATHS = {"events": "/siem/v1/events", "alerts": "/siem/v1/alerts"}
MAX_REDIRECTS = 3
MAX_BODY_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
# A connection check requests a short recent window with the smallest page Sophos allows.
CHECK_LIMIT = 200
CHECK_WINDOW = timedelta(seconds=60)
# Seconds a check waits for Sophos Central, below CONNECTION_CHECK_WAIT_SECONDS.
CHECK_TIMEOUT = 10.0


@dataclass
class ClientConfig:
    """Timeouts in seconds and retry bounds; defaults come from the SOPHOS_* settings."""

    connect_timeout: float = field(
        default_factory=lambda: settings.SOPHOS_CONNECT_TIMEOUT
    )
    read_timeout: float = field(default_factory=lambda: settings.SOPHOS_READ_TIMEOUT)
    request_deadline: float = field(
        default_factory=lambda: settings.SOPHOS_REQUEST_DEADLINE
    )
    max_attempts: int = field(default_factory=lambda: settings.SOPHOS_MAX_ATTEMPTS)
    backoff: float = field(default_factory=lambda: settings.SOPHOS_BACKOFF_SECONDS)
    backoff_cap: float = field(
        default_factory=lambda: settings.SOPHOS_BACKOFF_CAP_SECONDS
    )
    retry_after_cap: float = field(
        default_factory=lambda: settings.SOPHOS_RETRY_AFTER_CAP_SECONDS
    )
    page_limit: int = field(default_factory=lambda: settings.SOPHOS_PAGE_LIMIT)
    ca_bundle: str | None = field(default_factory=lambda: settings.SOPHOS_CA_BUNDLE)


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes


class SophosClient(CollectorSession):
    """Fetch pages of ``/siem/v1/events`` and ``/siem/v1/alerts`` with one token block."""

    def __init__(
        self,
        block: TokenBlock,
        *,
        sensor_name: str,
        config: ClientConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
        run_deadline: float | None = None,
    ) -> None:
        self.block = block
        self.sensor_name = sensor_name
        self.config = config or ClientConfig()
        self.sleep = sleep
        # time.monotonic() value after which no request starts; None for no limit.
        self.run_deadline = run_deadline
        self.session = self._new_session()

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # trust_env would let ~/.netrc replace the Authorization header; proxies from
        # the environment are applied explicitly in _send instead.
        session.trust_env = False
        session.headers.update(
            {
                "Accept": "application/json",
                "X-Locale": "en",
                "x-api-key": self.block.api_key,
                "Authorization": self.block.authorization,
                "User-Agent": "usm-portal-sophos/1.0",
            }
        )
        return session

    def close(self) -> None:
        self.session.close()

    def fetch(self, stream: str, cursor: str | None, start: datetime | None) -> Page:
        params: dict[str, Any] = {"limit": self.config.page_limit}
        if cursor:
            params["cursor"] = cursor
        elif start is not None:
            params["from_date"] = int(start.timestamp())
        return self._get_page(stream, params)

    def check(self, stream: str) -> Page:
        """Make one request, without retries and with short timeouts, so Save and
        Test connection return quickly even when Sophos Central hangs."""
        start = datetime.now(UTC) - CHECK_WINDOW
        params = {"limit": CHECK_LIMIT, "from_date": int(start.timestamp())}
        full = self.config
        self.config = replace(
            full,
            max_attempts=1,
            read_timeout=min(full.read_timeout, CHECK_TIMEOUT),
            request_deadline=min(full.request_deadline, CHECK_TIMEOUT),
        )
        try:
            return self._get_page(stream, params)
        finally:
            self.config = full

    # Requests and retries

    def _get_page(self, stream: str, params: dict[str, Any]) -> Page:
        url = self.block.url + PATHS[stream]
        try:
            answer = self._request_with_retries(url, params)
            return parse_page(answer, stream, limit=params["limit"])
        except CollectionError as error:
            # A server may echo request headers in its error text; the message is
            # stored, shown and logged, so the token's values are masked first.
            error.message = self.redact(error.message)
            error.args = (error.message,)
            raise

    def redact(self, text: str) -> str:
        """Return ``text`` with the token's key and credential masked."""
        for secret in secret_values(self.block):
            text = text.replace(secret, "<redacted>")
        return text

    def _request_with_retries(self, url: str, params: dict[str, Any]) -> Answer:
        attempt = 0
        while True:
            attempt += 1
            self._check_run_deadline()
            try:
                answer = self._follow_redirects(url, params)
            except TransientError:
                if attempt >= self.config.max_attempts:
                    raise
                self._wait(self._backoff(attempt))
                continue

            wait = self._retry_wait(answer, attempt, params)
            if wait is None:
                return answer
            self._wait(wait)

    def _retry_wait(self, answer: Answer, attempt: int, params: dict) -> float | None:
        """Return how long to wait before the next attempt, or None to stop retrying."""
        if answer.status == 429:
            return self._rate_limit_wait(answer, attempt)
        if answer.status >= 500 and attempt < self.config.max_attempts:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            if retry_after is not None and retry_after <= self.config.retry_after_cap:
                return retry_after
            return self._backoff(attempt)
        if answer.status >= 500:
            raise TransientError(
                f"Sophos Central is unavailable (HTTP {answer.status}) after "
                f"{attempt} attempts{correlation_suffix(answer)}. The next run retries.",
                http_status=answer.status,
            )
        raise_for_status(answer, params)
        return None

    def _rate_limit_wait(self, answer: Answer, attempt: int) -> float:
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        if retry_after is None:
            retry_after = self._backoff(attempt)
        until = datetime.now(UTC) + timedelta(seconds=retry_after)
        too_long = retry_after > self.config.retry_after_cap
        if (
            too_long
            or attempt >= self.config.max_attempts
            or self._past_deadline(retry_after)
        ):
            raise RateLimited(until.replace(microsecond=0))
        return retry_after

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_cap, self.config.backoff * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    def _wait(self, seconds: float) -> None:
        if self._past_deadline(seconds):
            raise TransientError(
                "The run reached its time limit while waiting to retry; the next run "
                "continues from the saved cursor."
            )
        self.sleep(seconds)

    def _past_deadline(self, seconds: float) -> bool:
        return (
            self.run_deadline is not None
            and time.monotonic() + seconds > self.run_deadline
        )

    def _check_run_deadline(self) -> None:
        if self._past_deadline(0):
            raise TransientError(
                "The run reached its time limit; the next run continues from the saved "
                "cursor."
            )

    def _follow_redirects(self, url: str, params: dict[str, Any]) -> Answer:
        query: dict[str, Any] | None = params
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._send(url, query)
            location = answer.headers.get("Location")
            if answer.status not in (301, 302, 303, 307, 308) or not location:
                return answer
            # The Location already carries its own query string.
            url, query = self._redirect_target(url, location), None
        raise PermanentError(
            f"Sophos Central redirected more than {MAX_REDIRECTS} times; check the API "
            "Access URL.",
            http_status=answer.status,
        )

    def _redirect_target(self, url: str, location: str) -> str:
        target = urljoin(url, location)
        try:
            hosts.check_api_url(target)
        except hosts.HostNotAllowed as error:
            host = urlsplit(target).hostname or target
            raise PermanentError(
                f"Sophos Central redirected to {host}, which is not an allowed API host; "
                f"the token was not sent there. {error}"
            ) from error
        return target

    # One HTTP exchange

    def _send(self, url: str, params: dict[str, Any] | None) -> Answer:
        origin = self._checked_origin(url)
        started = time.monotonic()
        deadline = started + self.config.request_deadline
        try:
            response = self.session.get(
                url,
                params=params,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
                stream=True,
                allow_redirects=False,
                verify=self.config.ca_bundle or True,
                proxies=requests.utils.get_environ_proxies(url),
            )
            with response:
                body = read_body(response, deadline, origin)
        except requests.exceptions.RequestException as error:
            raise translate_request_error(
                error, origin, self.sensor_name, self.config
            ) from None
        answer = Answer(response.status_code, response.headers, body)
        log_exchange(urlsplit(url), answer, time.monotonic() - started)
        return answer

    def _checked_origin(self, url: str) -> hosts.Origin:
        try:
            origin = hosts.check_api_url(url)
            hosts.check_resolved_addresses(origin)
        except hosts.HostNotAllowed as error:
            raise PermanentError(str(error)) from None
        except (socket.gaierror, UnicodeError):
            raise PermanentError(
                f"Could not resolve {urlsplit(url).hostname} from sensor "
                f"{self.sensor_name}. Check the sensor's DNS settings and the API "
                "Access URL."
            ) from None
        return origin


def secret_values(block: TokenBlock) -> list[str]:
    """Return the secret strings of a token block, longest first, as a server may echo them."""
    credential = block.authorization.removeprefix("Basic ").strip()
    values = [block.api_key, credential]
    try:
        values.append(base64.b64decode(credential, validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        pass
    return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


def translate_request_error(
    error: Exception, origin: hosts.Origin, sensor_name: str, config: ClientConfig
) -> CollectionError:
    """Turn a requests exception into a CollectionError with an actionable message."""
    where = f"{origin.host}:{origin.port}"
    if isinstance(error, requests.exceptions.SSLError):
        return PermanentError(
            f"TLS verification of {where} failed from sensor {sensor_name}. If the "
            "sensor reaches Sophos Central through a TLS-inspecting proxy, set "
            "SOPHOS_CA_BUNDLE to that proxy's CA certificate file; verification is "
            "never switched off."
        )
    if isinstance(error, requests.exceptions.Timeout):
        return TransientError(
            f"The request to {where} timed out from sensor {sensor_name} (connect "
            f"{config.connect_timeout:g} s, read {config.read_timeout:g} s, whole answer "
            f"{config.request_deadline:g} s). The next run retries."
        )
    reason = root_cause(error)
    if isinstance(reason, NameResolutionError) or isinstance(reason, socket.gaierror):
        return PermanentError(
            f"Could not resolve {origin.host} from sensor {sensor_name}. Check the "
            "sensor's DNS settings and the API Access URL."
        )
    if isinstance(reason, (NewConnectionError, ConnectionRefusedError)):
        return TransientError(
            f"The connection to {where} was refused from sensor {sensor_name}. Check "
            "that the sensor can reach Sophos Central on port 443."
        )
    return TransientError(
        f"The connection to {where} was dropped before Sophos Central answered "
        f"({type(reason).__name__}). The next attempt retries."
    )


def root_cause(error: BaseException) -> BaseException:
    """Return the innermost exception of a requests error's chain of causes."""
    seen = set()
    current: BaseException = error
    while id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "reason", None) or current.__context__
        if isinstance(current, requests.exceptions.RequestException) and current.args:
            first = current.args[0]
            inner = first if isinstance(first, BaseException) else inner
        if inner is None or not isinstance(inner, BaseException):
            return current
        if isinstance(current, (NameResolutionError, NewConnectionError)):
            return current
        current = inner
    return current


def read_body(response: requests.Response, deadline: float, origin) -> bytes:
    """Read the whole body before ``deadline`` (a time.monotonic() value).

    The read timeout bounds each wait for bytes; the deadline also bounds a server
    that trickles a byte every few seconds.
    """
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise requests.exceptions.ReadTimeout(
                "the deadline for the whole response passed"
            )
        try:
            chunk = raw.read1(CHUNK_BYTES, decode_content=True)
        except ProtocolError as error:
            raise requests.exceptions.ChunkedEncodingError(error) from error
        except TimeoutError as error:
            raise requests.exceptions.ReadTimeout(error) from error
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PermanentError(
                f"Sophos Central sent more than {MAX_BODY_BYTES // (1024 * 1024)} MiB in "
                f"one answer from {origin.host}; the page was not stored."
            )
        chunks.append(chunk)


def parse_retry_after(value: str | None) -> float | None:
    """Return the wait in seconds a Retry-After header requests (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_body(answer: Answer) -> dict:
    try:
        body = json.loads(answer.body)
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}


def correlation_suffix(answer: Answer) -> str:
    body = error_body(answer)
    ident = body.get("correlationId") or body.get("requestId") or body.get("trackingId")
    return f" (correlation id {str(ident)[:64]})" if ident else ""


def raise_for_status(answer: Answer, params: dict) -> None:
    """Raise the CollectionError for an unsuccessful response that is not retried."""
    status = answer.status
    if status == 200:
        return
    suffix = correlation_suffix(answer)
    if status == 401:
        raise PermanentError(
            "Sophos Central rejected the API token (HTTP 401): it may have expired "
            "(tokens last one year), been renewed under a new value, or been deleted. "
            "Renew it in Sophos Central under Global Settings > API Token Management, "
            f"then paste the new block under Configure API{suffix}.",
            http_status=status,
        )
    if status == 403:
        raise PermanentError(
            "Sophos Central denied access (HTTP 403): the token's role or licence may "
            f"not read SIEM data for this tenant{suffix}. Check the token in Sophos "
            f"Central{', or quote the correlation id to Sophos support' if suffix else ''}.",
            http_status=status,
        )
    if status == 400 and "cursor" in params:
        raise CursorRejected(
            f"Sophos Central rejected the saved cursor (HTTP 400){suffix}.",
            http_status=status,
        )
    if status == 404:
        raise PermanentError(
            "Sophos Central did not recognise the address (HTTP 404); check the API "
            f"Access URL of the token block{suffix}.",
            http_status=status,
        )
    detail = str(error_body(answer).get("message") or "")[:200]
    detail = f": {detail}" if detail else ""
    raise PermanentError(
        f"Sophos Central rejected the request (HTTP {status}){detail}{suffix}.",
        http_status=status,
    )


def parse_page(answer: Answer, stream: str, *, limit: int) -> Page:
    """Parse a 200 response into a Page, or raise when the envelope is broken."""
    try:
        body = json.loads(answer.body, parse_int=bounded_int)
    except RecursionError:
        raise TransientError(
            f"Sophos Central sent a page of {stream} nested too deeply to read; the cursor "
            "was not moved.",
            http_status=answer.status,
        ) from None
    except ValueError:
        raise TransientError(
            f"Sophos Central sent a page of {stream} that is not JSON "
            f"({describe_body(answer.body)}); the cursor was not moved.",
            http_status=answer.status,
        ) from None
    return envelope_to_page(body, answer.status, stream, limit)


def bounded_int(digits: str) -> int | str:
    """Parse a JSON integer, keeping one too long for Python's int() limit as text.

    Without this one item carrying a 5,000-digit number would make the whole page
    unreadable; as text it reaches the normaliser, which notes it.
    """
    return int(digits) if len(digits) <= 100 else digits


def envelope_to_page(body: Any, status: int, stream: str, limit: int) -> Page:
    if not isinstance(body, dict):
        raise TransientError(
            f"Sophos Central sent a page of {stream} that is not a JSON object; the cursor "
            "was not moved.",
            http_status=status,
        )
    missing = [key for key in ("items", "has_more", "next_cursor") if key not in body]
    if missing:
        raise TransientError(
            f"Sophos Central sent a page of {stream} without {', '.join(missing)}; the "
            "cursor was not moved.",
            http_status=status,
        )
    items, cursor, has_more = body["items"], body["next_cursor"], body["has_more"]
    if not isinstance(items, list) or not isinstance(cursor, str):
        raise TransientError(
            f"Sophos Central sent a page of {stream} whose items or next_cursor have the "
            "wrong type; the cursor was not moved.",
            http_status=status,
        )
    if len(items) > limit:
        raise PermanentError(
            f"Sophos Central sent {len(items)} {stream} in a page of at most {limit}; "
            "the page was not stored and the cursor was not moved.",
            http_status=status,
        )
    return Page(
        items=items, next_cursor=cursor, has_more=bool(has_more), http_status=status
    )


def describe_body(body: bytes) -> str:
    if not body.strip():
        return "an empty body"
    if body.lstrip()[:1] == b"<":
        return "an HTML page"
    return f"{len(body)} bytes of other text"


def log_exchange(url, answer: Answer, seconds: float) -> None:
    ident = error_body(answer).get("correlationId", "") if answer.status != 200 else ""
    logger.info(
        "GET %s%s -> %s in %.2fs %s",
        url.netloc,
        url.path,
        answer.status,
        seconds,
        ident,
    )
