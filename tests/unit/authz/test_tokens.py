from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from authz.tokens import (
    BearerError,
    BearerToken,
    constant_time_equals,
    hash_token,
    is_well_formed,
    new_token_secret,
    parse_bearer,
    parse_duration,
    token_prefix,
    verify_token,
)

SECRET = "vgl_" + "A" * 43


def test_new_secret_has_prefix_and_256_bits_of_urlsafe_randomness() -> None:
    secrets = {new_token_secret() for _ in range(200)}
    assert len(secrets) == 200
    assert all(re.fullmatch(r"vgl_[A-Za-z0-9_-]{43}", s) for s in secrets)
    assert all(is_well_formed(s) for s in secrets)


def test_hash_is_sha256_hex_and_verifies() -> None:
    secret = new_token_secret()
    digest = hash_token(secret)
    assert digest == hashlib.sha256(secret.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert verify_token(secret, digest)
    assert not verify_token(new_token_secret(), digest)


def test_prefix_is_short_and_safe_to_show() -> None:
    secret = new_token_secret()
    assert token_prefix(secret) == secret[:12]
    assert token_prefix(secret).startswith("vgl_")


def test_constant_time_equals() -> None:
    assert constant_time_equals("abc", "abc")
    assert not constant_time_equals("abc", "abd")
    assert not constant_time_equals("abc", "abcd")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"Bearer {SECRET}", BearerToken(SECRET)),
        (f"bearer {SECRET}", BearerToken(SECRET)),
        (f"  Bearer   {SECRET}  ", BearerToken(SECRET)),
        (None, BearerError.MISSING),
        ("", BearerError.MISSING),
        ("   ", BearerError.MISSING),
        ("Bearer", BearerError.MALFORMED),
        ("Bearer ", BearerError.MALFORMED),
        (SECRET, BearerError.MALFORMED),
        (f"Basic {SECRET}", BearerError.MALFORMED),
        (f"Bearer {SECRET} extra", BearerError.MALFORMED),
        ("Bearer vgl_short", BearerError.MALFORMED),
        ("Bearer abc_" + "A" * 43, BearerError.MALFORMED),
        (f"Bearer {SECRET}A", BearerError.MALFORMED),
        ("Bearer vgl_" + "A" * 42 + "=", BearerError.MALFORMED),
    ],
)
def test_parse_bearer(header: str | None, expected: BearerToken | BearerError) -> None:
    assert parse_bearer(header) == expected


def test_bearer_token_repr_hides_the_secret() -> None:
    assert SECRET not in repr(BearerToken(SECRET))
    assert SECRET not in str(BearerToken(SECRET))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        (" 7d ", timedelta(days=7)),
        ("007d", timedelta(days=7)),
        ("999999d", timedelta(days=999_999)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "invalid duration '': expected a positive whole number"),
        ("30", "invalid duration '30'"),
        ("d", "invalid duration 'd'"),
        ("30s", "invalid duration '30s'"),
        ("30D", "invalid duration '30D'"),
        ("-5d", "invalid duration '-5d'"),
        ("1.5h", "invalid duration '1.5h'"),
        ("1d2h", "invalid duration '1d2h'"),
        ("\u0663d", "invalid duration"),
        ("0h", "'0h' must be positive"),
        ("1000000d", "too long"),
    ],
)
def test_parse_duration_errors(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        parse_duration(text)
