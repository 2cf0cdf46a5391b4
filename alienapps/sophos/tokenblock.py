"""Parse the legacy Sophos Central API token block ("API Access URL + Headers").

Sophos Central's Copy button produces one line (here split in two)::

    url: https://api1.central.sophos.com/gateway, x-api-key: <key>,
    Authorization: Basic <b64>

People paste it in many other shapes: with a label or quotes around it, with other key
case, typographic characters, items on several lines or in another order. The parser
accepts those and rejects the rest with a TokenBlockError whose ``code`` is one of:

- E01 empty input, E02 placeholder or masked text, E03 missing item,
- E04 duplicate item or two blocks, E05 URL not HTTPS, E06 host not Sophos Central,
- E07 malformed URL, E08 Bearer credential, E09 client ID or secret pasted,
- E10 invalid API key, E11 invalid Basic credential, E12 unknown item,
- E13 input longer than MAX_INPUT_LENGTH, E14 control characters.

No error message, warning or repr contains the API key or the Authorization value.
The only exception is ``TokenBlock.masked_key``, which shows the key's last four
characters.
"""

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from alienapps.sophos.hosts import HostNotAllowed, check_api_url, format_host

# A real block is about 200 characters long.
MAX_INPUT_LENGTH = 4096
MASK = "••••"
# masked_key shows the last four characters only for keys of at least this length, so
# that most of a short, malformed key is never shown.
MIN_KEY_LENGTH_TO_SHOW = 12
GATEWAY_PATH = "/gateway"
# The shortest run of a secret's characters that counts as repeating the secret.
SECRET_PART_LENGTH = 6

ITEM_NAMES = {"url": "url", "x-api-key": "x-api-key", "authorization": "Authorization"}
KEY_ALIASES = {"api access url": "url"}

MESSAGES = {
    "E01": "Paste the API token block copied from Sophos Central (Global Settings > "
    "API Token Management > Copy).",
    "E02": "This looks like placeholder or masked text. Copy the real token block "
    "from Sophos Central.",
    "E03": "The token block has no {item} part. It needs url, x-api-key and "
    "Authorization.",
    "E04": "The token block contains {item} more than once. Paste a single token.",
    "E05": "The API Access URL must start with https://.",
    "E06": "The API Access URL must be a Sophos Central address "
    "(…central.sophos.com). Check that you copied the whole block.",
    "E07": "The API Access URL is not a valid web address.",
    "E08": "The Authorization value is a Bearer token. The API token block uses "
    "Basic; copy it from Sophos Central under Global Settings > API Token Management.",
    "E09": "This looks like a client ID or secret, not an API token block. Copy the "
    "block from Sophos Central under Global Settings > API Token Management.",
    "E10": "The x-api-key value is empty or contains spaces or quotes. Copy the block "
    "again.",
    "E11": "The Authorization value is not a valid Basic credential. Copy the block "
    "again.",
    "E12": "The token block contains an unexpected part{item}. It should contain "
    "only url, x-api-key and Authorization.",
    "E15": "The API Access URL contains part of the x-api-key or Authorization "
    "value, so the parts are mixed up. Copy the block again from Sophos Central.",
}

LINE_BREAK = re.compile(r"\r\n|[\r\x85\u2028\u2029]")
ALLOWED_CONTROL_CHARACTERS = "\t\n\r\x85"
CHARACTER_FOLDS = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"),
    }
)
QUOTES = "'\"`"
CODE_FENCE = "```"

KNOWN_KEY = r"(?:api[ \t]+access[ \t]+url|url|x-api-key|authorization)"
# Any "name:" that starts an item. A line starting "https://" is a URL, not a key.
ANY_KEY = r"[A-Za-z][\w-]*(?:[ \t]+[A-Za-z][\w-]*){0,3}[ \t]*:(?!//)"
FIRST_KEY = re.compile(rf"(?<![\w-]){KNOWN_KEY}[ \t]*:", re.IGNORECASE)
# Items are separated by a comma, semicolon or line break before any key, or by plain
# whitespace before a known key. Base64 credentials, API keys and Sophos gateway URLs
# contain none of these.
ITEM_SEPARATOR = re.compile(
    rf"(?:[ \t]*[,;]\s*|[ \t]*\n\s*)(?={ANY_KEY})|\s+(?={KNOWN_KEY}[ \t]*:)",
    re.IGNORECASE,
)
KEY_INSIDE_VALUE = re.compile(rf"{KNOWN_KEY}[ \t]*:", re.IGNORECASE)
HEADERS_LABEL = re.compile(
    r"(?:^|(?<=[,;]))[ \t]*headers[ \t]*:?[ \t]*"
    r"(?=$|(?:x-api-key|authorization)[ \t]*:)",
    re.IGNORECASE | re.MULTILINE,
)
ALIAS_BEFORE_URL = re.compile(
    r"(?<![\w-])api[ \t]+access[ \t]+url[ \t]*:?[ \t]*\n?[ \t]*(?=[a-z][a-z0-9+.-]*://)",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(r"[<>…*•●]|\.\.\.|[xX]{5,}|redacted", re.IGNORECASE)
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CLIENT_WORDS = re.compile(r"client[ _-]?(?:id|secret)", re.IGNORECASE)
CLIENT_CREDENTIAL = re.compile(
    rf"{UUID}(?:\s*[,:;]?\s*\S+)?|[0-9a-f]{{32,}}", re.IGNORECASE
)
BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
CLIENT_AND_SECRET = re.compile(rf"{UUID}:.+", re.IGNORECASE | re.DOTALL)
API_KEY_SHAPE = re.compile(r"[A-Za-z0-9]{40}")
FORBIDDEN_IN_API_KEY = re.compile(r"[\s'\"`,]")
URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
ENDPOINT_SUFFIX = re.compile(r"/siem/v1(?:/events|/alerts)?$", re.IGNORECASE)
# An unknown item name that an error message may repeat.
SHOWN_KEY = re.compile(r"[A-Za-z][A-Za-z _-]{0,31}")


class TokenBlockError(ValueError):
    """A token block that cannot be used, with a message to show next to the field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"TokenBlockError({self.code!r}, {self.message!r})"


@dataclass(frozen=True, repr=False)
class TokenBlock:
    """The three normalised parts of a token block, and what parsing corrected."""

    url: str
    api_key: str = field(repr=False)
    authorization: str = field(repr=False)
    warnings: tuple[str, ...] = ()

    def canonical(self) -> str:
        """Render the block in Sophos Central's own one-line format."""
        return (
            f"url: {self.url}, x-api-key: {self.api_key}, "
            f"Authorization: {self.authorization}"
        )

    def masked_key(self) -> str:
        if len(self.api_key) < MIN_KEY_LENGTH_TO_SHOW:
            return MASK
        return MASK + self.api_key[-4:]

    def __repr__(self) -> str:
        return (
            f"TokenBlock(url={self.url!r}, api_key={self.masked_key()!r}, "
            f"authorization='Basic {MASK}', warnings={self.warnings!r})"
        )


# The length of a run of secret characters that may not appear in the URL.
SECRET_RUN = 8


def parse_token_block(text: str) -> TokenBlock:
    """Parse a pasted token block, raising TokenBlockError when it cannot be used."""
    if not isinstance(text, str):
        raise _error("E01")
    _check_length(text)
    _check_control_characters(text)

    text = _fold(text)
    text = _strip_wrapping(text)
    if not text:
        raise _error("E01")

    items = _split_items(_drop_label(text))
    _check_placeholders(items)
    _check_complete(items)
    return _build(items)


def _error(code: str, **values: str) -> TokenBlockError:
    return TokenBlockError(code, MESSAGES[code].format(**values))


def _check_length(text: str) -> None:
    if len(text) > MAX_INPUT_LENGTH:
        raise TokenBlockError(
            "E13",
            f"The pasted text is {len(text)} characters long, but a token block is at "
            f"most {MAX_INPUT_LENGTH} characters (a real one is about 200). Paste only "
            "the block copied from Sophos Central.",
        )


def _fold(text: str) -> str:
    """Fold line endings, typographic characters and Unicode spaces to plain ASCII.

    Zero-width and other invisible format characters are removed.
    """
    text = LINE_BREAK.sub("\n", text)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    text = unicodedata.normalize("NFKC", text.translate(CHARACTER_FOLDS))
    return "".join(" " if unicodedata.category(char) == "Zs" else char for char in text)


def _check_control_characters(text: str) -> None:
    """Raise E14 for a control character other than tab and the line breaks."""
    for position, char in enumerate(text, start=1):
        if char in ALLOWED_CONTROL_CHARACTERS or unicodedata.category(char) != "Cc":
            continue
        raise TokenBlockError(
            "E14",
            f"The token block contains the control character U+{ord(char):04X} at "
            f"character {position}. Copy the block from Sophos Central again and "
            "paste it as plain text.",
        )


def _strip_wrapping(text: str) -> str:
    """Trim the text and remove one pair of quotes or code fences around it."""
    text = _strip_separators(text)
    if len(text) > 2 * len(CODE_FENCE) and text.startswith(CODE_FENCE):
        if text.endswith(CODE_FENCE):
            text = _strip_separators(text[len(CODE_FENCE) : -len(CODE_FENCE)])

    if len(text) >= 2 and text[0] in QUOTES and text[-1] == text[0]:
        text = _strip_separators(text[1:-1])
    return text


def _strip_separators(text: str) -> str:
    """Trim whitespace, and commas or semicolons left at the end by a line split."""
    return text.strip().rstrip(",;").strip()


def _drop_label(text: str) -> str:
    """Drop any label before the first item, and a closing quote that matches it."""
    text = ALIAS_BEFORE_URL.sub("url: ", text)
    text = HEADERS_LABEL.sub("", text)

    match = FIRST_KEY.search(text)
    if match is None:
        raise _keyless_error(text)

    label = text[: match.start()].rstrip()
    text = text[match.start() :]
    if label and label[-1] in QUOTES and text.endswith(label[-1]):
        text = _strip_separators(text[:-1])
    return text


def _keyless_error(text: str) -> TokenBlockError:
    """Return the error for text that contains none of the three items."""
    if PLACEHOLDER.search(text):
        return _error("E02")
    if text.lower().startswith("bearer "):
        return _error("E08")
    if CLIENT_WORDS.search(text) or CLIENT_CREDENTIAL.fullmatch(text):
        return _error("E09")
    return _error("E03", item="url")


def _split_items(text: str) -> dict[str, str]:
    """Split the text into items keyed by url, x-api-key and authorization."""
    items: dict[str, str] = {}
    for part in ITEM_SEPARATOR.split(text):
        raw_key, _, value = part.partition(":")
        key = " ".join(raw_key.split()).lower()
        key = KEY_ALIASES.get(key, key)
        if key not in ITEM_NAMES:
            raise _unknown_item_error(raw_key, text)
        if key in items:
            raise _error("E04", item=ITEM_NAMES[key])
        items[key] = _strip_separators(value)

    _check_keys_inside_values(items)
    return items


def _unknown_item_error(raw_key: str, text: str) -> TokenBlockError:
    """Return E12, naming the item unless the name could be part of a secret.

    Only a short name of letters, spaces, hyphens and underscores that occurs nowhere
    else in the text is repeated, because API keys and credentials contain digits and
    a name found inside a value could be a fragment of it.
    """
    name = " ".join(raw_key.split())
    if SHOWN_KEY.fullmatch(name) and text.count(name) == 1:
        return _error("E12", item=f" '{name}'")
    return _error("E12", item="")


def _check_keys_inside_values(items: dict[str, str]) -> None:
    """Raise E04 when an item name appears glued to a value, as in two joined blocks."""
    for value in items.values():
        match = KEY_INSIDE_VALUE.search(value)
        if match:
            key = " ".join(match.group().rstrip(":").split()).lower()
            raise _error("E04", item=ITEM_NAMES[KEY_ALIASES.get(key, key)])


def _check_placeholders(items: dict[str, str]) -> None:
    if any(PLACEHOLDER.search(value) for value in items.values()):
        raise _error("E02")


def _check_complete(items: dict[str, str]) -> None:
    for key, name in ITEM_NAMES.items():
        if key not in items:
            raise _error("E03", item=name)


def _build(items: dict[str, str]) -> TokenBlock:
    secrets = (items["x-api-key"], *items["authorization"].split())
    url, url_warnings = _normalise_url(items["url"], secrets)
    api_key, key_warnings = _check_api_key(items["x-api-key"])
    authorization, authorization_warnings = _normalise_authorization(
        items["authorization"]
    )

    warnings = (*url_warnings, *key_warnings, *authorization_warnings)
    _check_url_has_no_secret(url, api_key, authorization)
    return TokenBlock(url, api_key, authorization, warnings)


def _check_url_has_no_secret(url: str, api_key: str, authorization: str) -> None:
    """Reject a URL that contains the key or credential, which pages and logs would show.

    The URL is stored and displayed in clear text, unlike the two secret values.
    """
    credential = authorization.removeprefix("Basic ").strip()
    lowered = url.lower()
    for secret in (api_key, credential):
        for start in range(0, max(1, len(secret) - SECRET_RUN + 1)):
            if secret[start : start + SECRET_RUN].lower() in lowered:
                raise _error("E15")


def _normalise_url(value: str, secrets: tuple[str, ...]) -> tuple[str, list[str]]:
    """Return the allowed URL without a trailing slash or endpoint path."""
    if not URL_CHARACTERS.fullmatch(value):
        raise _error("E07")
    _check_api_host(value, secrets)

    parts = urlsplit(value)
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise _error("E07")

    warnings = []
    path = parts.path.rstrip("/")
    if ENDPOINT_SUFFIX.search(path):
        path = ENDPOINT_SUFFIX.sub("", path).rstrip("/")
        warnings.append(
            "The API Access URL ended in an endpoint path (/siem/v1/...), which was "
            "removed."
        )
    if path.lower() != GATEWAY_PATH:
        warnings.append(
            "The API Access URL does not end in /gateway as Sophos token URLs do. "
            "Check that you copied the whole URL."
        )
    return _origin_text(parts) + path, warnings


def _check_api_host(url: str, secrets: tuple[str, ...]) -> None:
    """Raise E05, E06 or E07 with the allowlist's message when the host is refused.

    The allowlist's message may repeat the host. When the host contains part of the
    key or credential (a secret pasted into the URL), the generic message is used.
    """
    try:
        check_api_url(url)
    except HostNotAllowed as error:
        code = _host_error_code(url)
        message = str(error)
        if _contains_secret_part(message, secrets):
            message = MESSAGES[code]
        raise TokenBlockError(code, message) from None


def _contains_secret_part(message: str, secrets: tuple[str, ...]) -> bool:
    """Return True when the message contains SECRET_PART_LENGTH consecutive
    characters of a secret, ignoring case."""
    message = message.lower()
    for secret in secrets:
        secret = secret.lower()
        for start in range(len(secret) - SECRET_PART_LENGTH + 1):
            if secret[start : start + SECRET_PART_LENGTH] in message:
                return True
    return False


def _host_error_code(url: str) -> str:
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return "E07"
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return "E07"
    return "E05" if parts.scheme.lower() != "https" else "E06"


def _origin_text(parts: SplitResult) -> str:
    """Return ``scheme://host[:port]`` in lower case, without a default port."""
    scheme = parts.scheme.lower()
    origin = f"{scheme}://{format_host(parts.hostname.lower())}"
    default_port = 443 if scheme == "https" else 80
    if parts.port and parts.port != default_port:
        origin += f":{parts.port}"
    return origin


def _check_api_key(value: str) -> tuple[str, list[str]]:
    if not value or FORBIDDEN_IN_API_KEY.search(value):
        raise _error("E10")
    if not value.isascii() or not value.isprintable():
        raise TokenBlockError(
            "E10",
            "The x-api-key value contains characters that are not plain letters or "
            "digits. Copy the block again.",
        )

    if API_KEY_SHAPE.fullmatch(value):
        return value, []
    return value, [
        f"The x-api-key value is {len(value)} characters long, not 40 letters and "
        "digits as Sophos issues them. Check that you copied all of it."
    ]


def _normalise_authorization(value: str) -> tuple[str, list[str]]:
    """Return ``Basic <credential>``, adding the scheme word to a bare credential."""
    words = value.split()
    if not words:
        raise _error("E11")
    scheme = words[0].lower()
    if scheme == "bearer":
        raise _error("E08")

    warnings = []
    if scheme == "basic":
        credential = _join_wrapped_credential(value, words[1:])
    elif len(words) == 1:
        credential = words[0]
        warnings.append(
            "The Authorization value had no scheme word, so Basic was added."
        )
    else:
        raise _error("E11")

    credential, credential_warnings = _check_credential(credential)
    return f"Basic {credential}", warnings + credential_warnings


def _join_wrapped_credential(value: str, words: list[str]) -> str:
    """Return the credential after ``Basic``, joining lines that an e-mail wrapped."""
    if not words:
        raise _error("E11")
    gaps = re.findall(r"\s+", value.split(None, 1)[1].strip())
    if any("\n" not in gap for gap in gaps):
        raise _error("E11")
    return "".join(words)


def _check_credential(credential: str) -> tuple[str, list[str]]:
    if not BASE64.fullmatch(credential) or len(credential) % 4 == 1:
        raise _error("E11")

    warnings = []
    if len(credential) % 4:
        credential += "=" * (-len(credential) % 4)
        warnings.append("The Basic credential lacked its = padding, which was added.")
    decoded = _decode_base64(credential)
    if decoded is None:
        raise _error("E11")

    if not _looks_like_client_and_secret(decoded):
        warnings.append(
            "The Basic credential does not decode to <client id>:<secret> as Sophos "
            "issues them. Check that you copied all of it."
        )
    return credential, warnings


def _decode_base64(credential: str) -> bytes | None:
    try:
        return base64.b64decode(credential, validate=True)
    except binascii.Error:
        return None


def _looks_like_client_and_secret(decoded: bytes) -> bool:
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return CLIENT_AND_SECRET.fullmatch(text) is not None
