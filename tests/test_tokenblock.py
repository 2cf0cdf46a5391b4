"""Tests of the Sophos Central token block parser: variants, errors and secrecy."""

import base64
import dataclasses
import traceback

import pytest
from django.test import override_settings

from alienapps.sophos.tokenblock import (
    MAX_INPUT_LENGTH,
    TokenBlock,
    TokenBlockError,
    parse_token_block,
)

URL = "https://api1.central.sophos.com/gateway"
KEY = "Kq7Zr2Lm9Xc4Vb8Nn1Ts6Yw3Hd5Jf0Ga2Pe7Ru9W"
CLIENT = "3f0c9a1e-5b7d-4e2a-9c8f-1a2b3c4d5e6f"
CREDENTIAL = base64.b64encode(f"{CLIENT}:Zq81mWv0sT5ecret".encode()).decode()
AUTHORIZATION = f"Basic {CREDENTIAL}"
CANONICAL = f"url: {URL}, x-api-key: {KEY}, Authorization: {AUTHORIZATION}"
BEARER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"
CLIENT_SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
# A run of this many characters of a secret counts as leaking it.
LEAK_LENGTH = 5

VARIANTS = [
    ("V01 canonical", CANONICAL, ()),
    ("V02 spaces around", f"  \t{CANONICAL}  \n", ()),
    ("V03 label", f"token_info = {CANONICAL}", ()),
    ("V03 heading line", f"API Access URL + Headers\n{CANONICAL}", ()),
    ("V04 single quotes", f"'{CANONICAL}'", ()),
    ("V04 double quotes", f'"{CANONICAL}"', ()),
    ("V04 quoted after label", f"token_info = '{CANONICAL}'", ()),
    (
        "V05 spacing",
        f"url:{URL},x-api-key:\t{KEY},   Authorization:   Basic   {CREDENTIAL}",
        (),
    ),
    (
        "V06 key case",
        f"URL: {URL}, X-API-KEY: {KEY}, authorization: basic {CREDENTIAL}",
        (),
    ),
    (
        "V07 three lines",
        f"url: {URL}\nx-api-key: {KEY}\nAuthorization: {AUTHORIZATION}",
        (),
    ),
    (
        "V07 two lines with commas",
        f"url: {URL}, x-api-key: {KEY},\nAuthorization: {AUTHORIZATION}",
        (),
    ),
    (
        "V08 indented continuation",
        f"token_info = url: {URL},\n    x-api-key: {KEY},\n"
        f"    Authorization: {AUTHORIZATION}",
        (),
    ),
    (
        "V09 other order",
        f"Authorization: {AUTHORIZATION}, url: {URL}, x-api-key: {KEY}",
        (),
    ),
    (
        "V10 summary labels",
        f"API Access URL: {URL}\nHeaders: x-api-key: {KEY}, "
        f"Authorization: {AUTHORIZATION}",
        (),
    ),
    (
        "V10 labels on own lines",
        f"API Access URL\n{URL}\nHeaders\nx-api-key: {KEY}\n"
        f"Authorization: {AUTHORIZATION}",
        (),
    ),
    (
        "V11 bare credential",
        f"url: {URL}, x-api-key: {KEY}, Authorization: {CREDENTIAL}",
        ("no scheme word",),
    ),
    (
        "V12 trailing slash",
        f"url: {URL}/, x-api-key: {KEY}, Authorization: {AUTHORIZATION}",
        (),
    ),
    (
        "V13 events suffix",
        f"url: {URL}/siem/v1/events, x-api-key: {KEY}, Authorization: {AUTHORIZATION}",
        ("endpoint path",),
    ),
    (
        "V13 alerts suffix",
        f"url: {URL}/siem/v1/alerts/, x-api-key: {KEY}, Authorization: {AUTHORIZATION}",
        ("endpoint path",),
    ),
    (
        "V14 typographic characters",
        f"\u201curl:\u00a0{URL},\u200b x\u2011api\u2011key: {KEY},\u2009"
        f"Authorization: Basic\u202f{CREDENTIAL}\u201d",
        (),
    ),
    ("V14 byte order mark", f"\ufeff{CANONICAL}\u200d", ()),
    (
        "V15 windows line endings",
        f"url: {URL}\r\nx-api-key: {KEY}\r\nAuthorization: {AUTHORIZATION}\r\n",
        (),
    ),
    (
        "V15 old mac line endings",
        f"url: {URL}\rx-api-key: {KEY}\rAuthorization: {AUTHORIZATION}",
        (),
    ),
    (
        "V16 bearer",
        f"url: {URL}, x-api-key: {KEY}, Authorization: Bearer {BEARER}",
        "E08",
    ),
    (
        "V17 http",
        f"url: http://api1.central.sophos.com/gateway, x-api-key: {KEY}, "
        f"Authorization: {AUTHORIZATION}",
        "E05",
    ),
    (
        "V18 foreign host",
        f"url: https://api1.central.sophos.com.example.net/gateway, x-api-key: {KEY}, "
        f"Authorization: {AUTHORIZATION}",
        "E06",
    ),
    ("V19 no authorization", f"url: {URL}, x-api-key: {KEY}", "E03"),
    ("V19 no key", f"url: {URL}, Authorization: {AUTHORIZATION}", "E03"),
    ("V19 no url", f"x-api-key: {KEY}, Authorization: {AUTHORIZATION}", "E03"),
    (
        "V20 angle placeholders",
        f"url: {URL}, x-api-key: <KEY>, Authorization: Basic <B64>",
        "E02",
    ),
    (
        "V20 masked key",
        f"url: {URL}, x-api-key: ••••{KEY[-4:]}, Authorization: {AUTHORIZATION}",
        "E02",
    ),
    (
        "V20 runs of x",
        f"url: {URL}, x-api-key: {'x' * 40}, Authorization: {AUTHORIZATION}",
        "E02",
    ),
    (
        "V20 asterisks",
        f"url: {URL}, x-api-key: {KEY}, Authorization: Basic ****",
        "E02",
    ),
    (
        "V20 ellipsis",
        f"url: {URL}, x-api-key: {KEY[:10]}…, Authorization: {AUTHORIZATION}",
        "E02",
    ),
    ("V20 whole text", "<paste the token here>", "E02"),
    ("V21 two blocks", f"{CANONICAL}\n{CANONICAL}", "E04"),
    ("V21 two blocks joined", f"{CANONICAL}{CANONICAL}", "E04"),
    ("V21 key twice", f"{CANONICAL}, x-api-key: {KEY}", "E04"),
    ("V22 empty", "", "E01"),
    ("V22 whitespace", " \n\t ", "E01"),
    ("V22 empty quotes", '""', "E01"),
    ("V23 client id", CLIENT, "E09"),
    ("V23 client secret", CLIENT_SECRET, "E09"),
    ("V23 labelled", f"client_id: {CLIENT}\nclient_secret: {CLIENT_SECRET}", "E09"),
    ("V23 id and secret", f"{CLIENT} {CLIENT_SECRET}", "E09"),
]


def parse_error(text: str) -> TokenBlockError:
    with pytest.raises(TokenBlockError) as caught:
        parse_token_block(text)
    return caught.value


def leaked_parts(text: str, *secrets: str) -> list[str]:
    """Return every run of LEAK_LENGTH characters of a secret found in ``text``."""
    parts = []
    for secret in secrets:
        for start in range(len(secret) - LEAK_LENGTH + 1):
            part = secret[start : start + LEAK_LENGTH]
            if part in text:
                parts.append(part)
    return parts


def error_texts(error: TokenBlockError) -> list[str]:
    formatted = "".join(traceback.format_exception(error))
    return [str(error), repr(error), error.message, repr(error.args), formatted]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=name) for name, text, expected in VARIANTS],
)
def test_variant(text: str, expected: tuple[str, ...] | str) -> None:
    if isinstance(expected, str):
        assert parse_error(text).code == expected
        return

    block = parse_token_block(text)
    assert block.url == URL
    assert block.api_key == KEY
    assert block.authorization == AUTHORIZATION
    assert len(block.warnings) == len(expected)
    for fragment, warning in zip(expected, block.warnings, strict=True):
        assert fragment in warning


@pytest.mark.parametrize(
    "text",
    [pytest.param(text, id=name) for name, text, _ in VARIANTS],
)
def test_variant_leaks_no_secret(text: str) -> None:
    try:
        block = parse_token_block(text)
    except TokenBlockError as error:
        texts = error_texts(error)
    else:
        texts = [repr(block), str(block), *block.warnings]

    for output in texts:
        assert leaked_parts(output, KEY, CREDENTIAL, BEARER, CLIENT_SECRET) == []


ERROR_CASES = [
    ("E01 not text", None, "E01"),
    (
        "E02 placeholder",
        f"url: {URL}, x-api-key: {KEY}, Authorization: Basic <B64>",
        "E02",
    ),
    ("E03 missing", f"url: {URL}, Authorization: {AUTHORIZATION}", "E03"),
    ("E04 duplicate", f"{CANONICAL}\nAuthorization: {AUTHORIZATION}", "E04"),
    ("E05 ftp", CANONICAL.replace("https://", "ftp://"), "E05"),
    (
        "E06 ip literal",
        CANONICAL.replace("api1.central.sophos.com", "192.0.2.10"),
        "E06",
    ),
    (
        "E06 secret in host",
        CANONICAL.replace("api1.central.sophos.com", f"{KEY}.example.com"),
        "E06",
    ),
    (
        "E07 user info",
        CANONICAL.replace("https://", f"https://{KEY}:{CREDENTIAL}@"),
        "E07",
    ),
    ("E07 bad port", CANONICAL.replace(".com/", ".com:99999/"), "E07"),
    ("E07 query", CANONICAL.replace("/gateway", "/gateway?key=1"), "E07"),
    ("E07 space", CANONICAL.replace("/gateway", "/gate way"), "E07"),
    ("E07 no host", CANONICAL.replace(URL, "https:///gateway"), "E07"),
    ("E07 empty", CANONICAL.replace(URL, ""), "E07"),
    ("E08 bearer", CANONICAL.replace(AUTHORIZATION, f"Bearer {BEARER}"), "E08"),
    ("E08 bearer alone", f"Bearer {BEARER}", "E08"),
    (
        "E09 client labels",
        f"client id: {CLIENT}, client secret: {CLIENT_SECRET}",
        "E09",
    ),
    ("E10 space in key", CANONICAL.replace(KEY, f"{KEY[:20]} {KEY[20:]}"), "E10"),
    ("E10 quoted key", CANONICAL.replace(KEY, f'"{KEY}"'), "E10"),
    ("E10 empty key", CANONICAL.replace(KEY, ""), "E10"),
    ("E10 non-ascii key", CANONICAL.replace(KEY, f"{KEY[:20]}é{KEY[20:]}"), "E10"),
    ("E11 not base64", CANONICAL.replace(CREDENTIAL, f"{CREDENTIAL[:20]}$"), "E11"),
    ("E11 no credential", CANONICAL.replace(AUTHORIZATION, "Basic"), "E11"),
    (
        "E11 two words",
        CANONICAL.replace(CREDENTIAL, f"{CREDENTIAL[:20]} {CREDENTIAL[20:]}"),
        "E11",
    ),
    ("E11 other scheme", CANONICAL.replace("Basic", "Digest"), "E11"),
    ("E11 bad length", CANONICAL.replace(CREDENTIAL, f"{CREDENTIAL}A"), "E11"),
    ("E11 empty", CANONICAL.replace(AUTHORIZATION, ""), "E11"),
    ("E12 unknown item", f"{CANONICAL}, tenant: eu01", "E12"),
    ("E12 unknown item line", f"{CANONICAL}\nx-tenant-id: {CLIENT}", "E12"),
    ("E13 too long", CANONICAL + " " * (MAX_INPUT_LENGTH - len(CANONICAL) + 1), "E13"),
    ("E14 nul", CANONICAL.replace(", x-api", ",\x00 x-api"), "E14"),
    ("E14 escape", f"\x1b[31m{CANONICAL}", "E14"),
    ("E14 delete", CANONICAL.replace(KEY, f"{KEY}\x7f"), "E14"),
    ("E14 form feed", CANONICAL.replace(", x-api", "\x0cx-api"), "E14"),
    ("E14 c1 control", CANONICAL.replace(", x-api", ",\x9b x-api"), "E14"),
]


@pytest.mark.parametrize(
    ("text", "code"),
    [pytest.param(text, code, id=name) for name, text, code in ERROR_CASES],
)
def test_error_code(text: str, code: str) -> None:
    assert parse_error(text).code == code


@pytest.mark.parametrize(
    "text",
    [pytest.param(text, id=name) for name, text, _ in ERROR_CASES],
)
def test_error_leaks_no_secret(text: str) -> None:
    for output in error_texts(parse_error(text)):
        assert leaked_parts(output, KEY, CREDENTIAL, BEARER, CLIENT_SECRET) == []


def test_error_is_value_error() -> None:
    error = parse_error("")
    assert isinstance(error, ValueError)
    assert error.message == str(error)


MESSAGE_CASES = [
    ("E01", "", "Global Settings > API Token Management > Copy"),
    ("E02", "<token>", "placeholder or masked text"),
    ("E03", f"url: {URL}, x-api-key: {KEY}", "has no Authorization part"),
    ("E03", f"url: {URL}, Authorization: {AUTHORIZATION}", "has no x-api-key part"),
    ("E04", f"{CANONICAL}\n{CANONICAL}", "contains url more than once"),
    ("E05", CANONICAL.replace("https", "http"), "must start with https://"),
    ("E06", CANONICAL.replace("sophos.com", "example.org"), "not api1.central"),
    ("E07", CANONICAL.replace(URL, "https://"), "not a valid web address"),
    ("E08", CANONICAL.replace(AUTHORIZATION, f"Bearer {BEARER}"), "Bearer token"),
    ("E09", CLIENT, "client ID or secret"),
    ("E10", CANONICAL.replace(KEY, f"'{KEY}'"), "empty or contains spaces"),
    ("E11", CANONICAL.replace(CREDENTIAL, "%%%"), "not a valid Basic credential"),
    ("E12", f"{CANONICAL}, tenant: eu01", "unexpected part 'tenant'"),
]


@pytest.mark.parametrize(
    ("code", "text", "fragment"),
    [
        pytest.param(code, text, fragment, id=f"{code} {fragment}")
        for code, text, fragment in MESSAGE_CASES
    ],
)
def test_error_message(code: str, text: str, fragment: str) -> None:
    error = parse_error(text)
    assert error.code == code
    assert fragment in error.message


def test_unknown_item_with_digits_unnamed() -> None:
    error = parse_error(f"{CANONICAL}, Zx81Q: eu01")
    assert error.code == "E12"
    assert "Zx81Q" not in error.message


def test_host_with_secret_generic_message() -> None:
    text = CANONICAL.replace("api1.central.sophos.com", f"{KEY.lower()}.example.com")
    error = parse_error(text)
    assert error.code == "E06"
    assert KEY.lower() not in error.message.lower()
    assert "Sophos Central address" in error.message


def test_oversized_message_names_limit() -> None:
    text = "x" * (MAX_INPUT_LENGTH + 10)
    error = parse_error(text)
    assert error.code == "E13"
    assert str(MAX_INPUT_LENGTH + 10) in error.message
    assert str(MAX_INPUT_LENGTH) in error.message


def test_input_at_limit_accepted() -> None:
    text = CANONICAL + " " * (MAX_INPUT_LENGTH - len(CANONICAL))
    assert len(text) == MAX_INPUT_LENGTH
    assert parse_token_block(text).api_key == KEY


def test_control_character_message() -> None:
    error = parse_error(f"{CANONICAL}\x00")
    assert error.code == "E14"
    assert "U+0000" in error.message
    assert f"character {len(CANONICAL) + 1}" in error.message


def test_tab_and_line_breaks_allowed() -> None:
    text = f"url:\t{URL}\n\x85x-api-key: {KEY}\u2028Authorization: {AUTHORIZATION}\r"
    block = parse_token_block(text)
    assert block.url == URL
    assert block.api_key == KEY
    assert block.authorization == AUTHORIZATION


def test_canonical_format() -> None:
    block = parse_token_block(
        f"x-api-key: {KEY}\nurl: {URL}/\nAuthorization: {CREDENTIAL}"
    )
    assert block.canonical() == CANONICAL


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(text, id=name)
        for name, text, expected in VARIANTS
        if not isinstance(expected, str)
    ],
)
def test_canonical_round_trip(text: str) -> None:
    block = parse_token_block(text)
    again = parse_token_block(block.canonical())
    assert again.url == block.url
    assert again.api_key == block.api_key
    assert again.authorization == block.authorization
    assert again.warnings == ()


def test_masked_key_last_four() -> None:
    block = parse_token_block(CANONICAL)
    assert block.masked_key() == "••••" + KEY[-4:]


def test_masked_key_short_key() -> None:
    block = parse_token_block(CANONICAL.replace(KEY, "Ab12Cd"))
    assert block.masked_key() == "••••"


def test_repr_hides_secrets() -> None:
    block = parse_token_block(CANONICAL)
    assert KEY not in repr(block)
    assert CREDENTIAL not in repr(block)
    assert KEY not in str(block)
    assert URL in repr(block)
    assert block.masked_key() in repr(block)


def test_block_is_frozen() -> None:
    block = parse_token_block(CANONICAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.api_key = "other"


def test_short_key_warning() -> None:
    block = parse_token_block(CANONICAL.replace(KEY, KEY[:32]))
    assert block.api_key == KEY[:32]
    assert len(block.warnings) == 1
    assert "32 characters long" in block.warnings[0]


def test_credential_shape_warning() -> None:
    credential = base64.b64encode(b"not-a-client:secret").decode()
    block = parse_token_block(CANONICAL.replace(CREDENTIAL, credential))
    assert block.authorization == f"Basic {credential}"
    assert len(block.warnings) == 1
    assert "<client id>:<secret>" in block.warnings[0]


def test_missing_padding_restored() -> None:
    credential = base64.b64encode(f"{CLIENT}:abcd".encode()).decode()
    assert credential.endswith("=")
    block = parse_token_block(CANONICAL.replace(CREDENTIAL, credential.rstrip("=")))
    assert block.authorization == f"Basic {credential}"
    assert len(block.warnings) == 1
    assert "padding" in block.warnings[0]


def test_wrapped_credential_joined() -> None:
    text = CANONICAL.replace(CREDENTIAL, f"{CREDENTIAL[:24]}\n    {CREDENTIAL[24:]}")
    assert parse_token_block(text).authorization == AUTHORIZATION


def test_path_without_gateway_warning() -> None:
    block = parse_token_block(CANONICAL.replace("/gateway", ""))
    assert block.url == "https://api1.central.sophos.com"
    assert len(block.warnings) == 1
    assert "/gateway" in block.warnings[0]


def test_url_case_and_default_port() -> None:
    text = CANONICAL.replace(URL, "HTTPS://API1.Central.Sophos.COM:443/gateway")
    assert parse_token_block(text).url == URL


def test_code_fence_stripped() -> None:
    block = parse_token_block(f"```text\n{CANONICAL}\n```")
    assert block.api_key == KEY
    assert block.url == URL


def test_backticks_stripped() -> None:
    assert parse_token_block(f"`{CANONICAL}`").authorization == AUTHORIZATION


def test_space_separated_items() -> None:
    block = parse_token_block(
        f"url: {URL} x-api-key: {KEY} Authorization: {AUTHORIZATION}"
    )
    assert block.url == URL
    assert block.api_key == KEY
    assert block.authorization == AUTHORIZATION


def test_semicolon_separated_items() -> None:
    block = parse_token_block(
        f"url: {URL}; x-api-key: {KEY}; Authorization: {AUTHORIZATION};"
    )
    assert block.api_key == KEY
    assert block.authorization == AUTHORIZATION


def test_fullwidth_characters_folded() -> None:
    text = CANONICAL.replace("x-api-key:", "x-api-key\uff1a").replace(
        ", Auth", "\uff0c Auth"
    )
    assert parse_token_block(text).api_key == KEY


@override_settings(SOPHOS_EXTRA_API_HOSTS=["http://127.0.0.1:8443"])
def test_extra_loopback_host_accepted() -> None:
    block = parse_token_block(CANONICAL.replace(URL, "http://127.0.0.1:8443/gateway"))
    assert block.url == "http://127.0.0.1:8443/gateway"
    assert block.warnings == ()


def test_loopback_host_rejected_without_setting() -> None:
    error = parse_error(CANONICAL.replace(URL, "http://127.0.0.1:8443/gateway"))
    assert error.code == "E05"


def test_extra_https_host() -> None:
    text = CANONICAL.replace(URL, "https://sophos-sim.test:9443/gateway")
    assert parse_error(text).code == "E06"
    with override_settings(SOPHOS_EXTRA_API_HOSTS=["https://sophos-sim.test:9443"]):
        assert parse_token_block(text).url == "https://sophos-sim.test:9443/gateway"


def test_extra_host_other_port_rejected() -> None:
    text = CANONICAL.replace(URL, "http://127.0.0.1:9000/gateway")
    with override_settings(SOPHOS_EXTRA_API_HOSTS=["http://127.0.0.1:8443"]):
        assert parse_error(text).code == "E05"


def test_ipv6_extra_host() -> None:
    text = CANONICAL.replace(URL, "http://[::1]:8443/gateway")
    with override_settings(SOPHOS_EXTRA_API_HOSTS=["http://[::1]:8443"]):
        assert parse_token_block(text).url == "http://[::1]:8443/gateway"


def test_token_block_direct_construction() -> None:
    block = TokenBlock(URL, KEY, AUTHORIZATION)
    assert block.warnings == ()
    assert parse_token_block(block.canonical()) == block


def test_url_containing_key_rejected():
    key = "9pbwiroXq2Lr5Tn9Vb3Wc6Yd1Fe4Gh7Jk0Pa2Sd5"
    text = (
        f"url: https://{key.lower()}.central.sophos.com/gateway, x-api-key: {key}, "
        "Authorization: Basic YmE3ZWE0YjYtNmIyZS00YjhhLTk3ZDUtYWM4ZDFmZDg0NGMyOnNlY3JldA=="
    )
    with pytest.raises(TokenBlockError) as error:
        parse_token_block(text)
    assert error.value.code == "E15"
    assert key.lower()[:8] not in error.value.message
