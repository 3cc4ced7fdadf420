"""Webhook rules: Standard Webhooks signatures, secrets and their rotation overlap, what may be registered, and
the retry schedule (more than a day, then the dead letter)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import DomainError, ErrorCode
from domain.outbox.webhook import JITTER, MAX_ATTEMPTS, WebhookEndpoint, retry_delay, signature
from domain.region import Region

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def endpoint(url: str = "https://platform.example.com/vigil", *, require_https: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.register(
        owner_id="partner:platform",
        url=url,
        event_types=("decision.made",),
        regions=(Region.US,),
        description="",
        now=NOW,
        require_https=require_https,
    )


def test_the_signature_is_the_standard_webhooks_reference_example() -> None:
    # The example of the Standard Webhooks specification (secret, message id, timestamp, body -> signature).
    signed = signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                       b'{"test": 2432232314}')  # fmt: skip
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_secrets_are_32_random_bytes_behind_the_whsec_prefix() -> None:
    first, second = endpoint().secret, endpoint().secret
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    assert first != second


def test_rotation_signs_with_both_secrets_until_the_overlap_ends() -> None:
    hook = endpoint()
    old = hook.secret
    new = hook.rotate_secret(NOW, timedelta(hours=1))
    assert hook.signing_secrets(NOW) == [new, old]
    header = hook.signature_header("msg", 1, b"{}", NOW)
    assert header.split(" ") == [signature(new, "msg", 1, b"{}"), signature(old, "msg", 1, b"{}")]
    assert hook.signing_secrets(NOW + timedelta(hours=1)) == [new]
    with pytest.raises(DomainError) as refused:
        hook.rotate_secret(NOW, timedelta(days=8))
    assert refused.value.code is ErrorCode.INVALID_INPUT


@pytest.mark.parametrize(
    ("url", "require_https"),
    [
        ("http://platform.example.com/x", True),
        ("ftp://platform.example.com/x", False),
        ("https://user:pw@platform.example.com/x", True),
        ("https://127.0.0.1/x", True),
        ("https://10.1.2.3/x", True),
        ("https://[::1]/x", True),
        ("https://169.254.169.254/latest", True),
        ("https://localhost/x", True),
        ("/relative", False),
        ("https://" + "a" * 2000 + ".com", True),
    ],
)
def test_urls_that_are_refused(url: str, require_https: bool) -> None:
    with pytest.raises(DomainError) as refused:
        endpoint(url, require_https=require_https)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, "url")


def test_plain_http_and_local_addresses_are_fine_outside_production() -> None:
    assert endpoint("http://127.0.0.1:9000/hook", require_https=False).url == "http://127.0.0.1:9000/hook"


def test_only_catalogued_types_and_at_least_one_region() -> None:
    with pytest.raises(DomainError, match="unknown event type"):
        WebhookEndpoint.register(owner_id="o", url="https://x.example", event_types=("nope",), regions=(Region.US,),
                                 description="", now=NOW, require_https=True)  # fmt: skip
    with pytest.raises(DomainError, match="at least one region"):
        WebhookEndpoint.register(owner_id="o", url="https://x.example", event_types=("decision.made",), regions=(),
                                 description="", now=NOW, require_https=True)  # fmt: skip


def test_retries_back_off_exponentially_for_more_than_a_day_even_with_the_lowest_jitter() -> None:
    low = [retry_delay(n, JITTER[0]) for n in range(1, MAX_ATTEMPTS)]
    high = [retry_delay(n, JITTER[1]) for n in range(1, MAX_ATTEMPTS)]
    assert sum(low, timedelta()) > timedelta(days=1)
    assert retry_delay(2, 1.0) == 4 * retry_delay(1, 1.0)
    assert max(high) <= timedelta(hours=12) * JITTER[1]


def test_an_endpoint_is_disabled_once() -> None:
    hook = endpoint()
    hook.disable(NOW)
    assert not hook.enabled
    with pytest.raises(DomainError) as refused:
        hook.disable(NOW)
    assert refused.value.code is ErrorCode.INVALID_STATE
