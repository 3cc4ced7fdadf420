"""Where a webhook may go: hosts read as an HTTP client reads them (every IPv4 spelling, IDNA, IPv6 with an
IPv4 address inside), and only public internet addresses in production, at registration and whatever a name
resolves to."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.clock import Clock, FixedClock
from domain.errors import DomainError, ErrorCode
from domain.outbox.services.webhooks import RegisterWebhook, register_webhook
from domain.outbox.webhook import WebhookDelivery, WebhookEndpoint
from domain.outbox.webhook_address import (
    IPAddress,
    address_problem,
    canonical_host,
    checked_addresses,
    parse_url,
)
from domain.region import Region

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


class TableResolver:
    """Names resolve to what the table says (nothing else resolves); counts the lookups."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(self, host: str) -> Sequence[IPAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(a) for a in self.table.get(host, [])]


class Endpoints:
    def __init__(self) -> None:
        self.added: list[WebhookEndpoint] = []

    async def get(self, id: object) -> WebhookEndpoint | None:
        return next((e for e in self.added if e.id == id), None)

    def add(self, endpoint: WebhookEndpoint) -> None:
        self.added.append(endpoint)


class Deliveries:
    async def get(self, id: object) -> WebhookDelivery | None:
        return None


class WebhookUow:
    def __init__(self) -> None:
        self.webhooks = Endpoints()
        self.webhook_deliveries = Deliveries()
        self.clock: Clock = FixedClock(NOW)


# The forms of the security report, and their kin: each is an internal address however it is written.
INTERNAL_LITERALS = [
    ("https://127.1/", "127.0.0.1"),
    ("https://2130706433/", "127.0.0.1"),
    ("https://0x7f000001/", "127.0.0.1"),
    ("https://0177.0.0.1/", "127.0.0.1"),
    ("https://0x7f.0.0.1/", "127.0.0.1"),
    ("https://0x7F.1/", "127.0.0.1"),
    ("https://127.0.0.1./", "127.0.0.1"),
    ("https://%31%32%37.0.0.1/", "127.0.0.1"),
    ("https://\uff11\uff12\uff17\u3002\uff10\u3002\uff10\u3002\uff11/", "127.0.0.1"),  # fullwidth, ideographic dots
    ("https://169.254.43518/", "169.254.169.254"),
    ("https://2852039166/", "169.254.169.254"),
    ("https://100.64.0.1/", "100.64.0.1"),
    ("https://10.1.2.3:8443/x", "10.1.2.3"),
    ("https://0/", "0.0.0.0"),
    ("https://224.0.0.1/", "224.0.0.1"),
    ("https://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe"),
    ("https://[::ffff:127.0.0.1]/", "::ffff:7f00:1"),
    ("https://[::ffff:a9fe:a9fe]/", "::ffff:a9fe:a9fe"),
    ("https://[2002:7f00:1::1]/", "2002:7f00:1::1"),
    ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "2001:0:4136:e378:8000:63bf:80ff:fffe"),  # Teredo: 127.0.0.1
    ("https://[::1]/", "::1"),
    ("https://[0:0:0:0:0:0:0:1]/", "::1"),
    ("https://[fe80::1]/", "fe80::1"),
    ("https://[fd00::1]/", "fd00::1"),
    ("https://[ff02::1]/", "ff02::1"),
    ("https://[64:ff9b:1::a]/", "64:ff9b:1::a"),
]


@pytest.mark.parametrize(("url", "host"), INTERNAL_LITERALS)
def test_every_spelling_of_an_internal_address_is_read_as_one_and_refused(url: str, host: str) -> None:
    target = parse_url(url, strict=False)
    assert (target.host, str(target.address)) == (host, host)
    with pytest.raises(DomainError) as refused:
        parse_url(url, strict=True)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, "url")
    assert "public internet" in refused.value.message


@pytest.mark.parametrize(
    "url",
    ["https://localhost./", "https://localhost/", "https://api.localhost/", "https://metadata.google.internal/",
     "https://printer.local/", "https://metadata/", "https://LOCALHOST/"],
)  # fmt: skip
def test_local_names_are_refused_without_asking_any_resolver(url: str) -> None:
    with pytest.raises(DomainError, match="public internet"):
        parse_url(url, strict=True)


@pytest.mark.parametrize(
    "url",
    ["https://1.2.3.256/", "https://1.2.3.4.5/", "https://0x100.1.1.1/", "https://09.1.1.1/", "https://1..2/",
     "https://a b.example/", "https://[::1/", "https://[fe80::1%25eth0]/", "https://example.com:99999/",
     "https://evil.example\\@8.8.8.8/", "https://example.com:/x\n", "https://ex%ample.com/",
     "https://%ff.example/", "https://1_0.0.0.1/", "https://+1.0.0.1/", "https://%00.example/", "https://%5B::1%5D/",
     "https://" + "a" * 64 + ".example/", "https:///x", "https://:443/"],
)  # fmt: skip
def test_hosts_a_client_could_read_otherwise_are_refused_in_every_mode(url: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_url(url, strict=False)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://Hooks.Example.com./vigil?a=1#frag", "https://hooks.example.com/vigil?a=1"),
        ("https://b\u00fccher.example/x", "https://xn--bcher-kva.example/x"),
        ("https://8.8.8.8:8443", "https://8.8.8.8:8443/"),
        ("https://[2606:4700:0::1111]/", "https://[2606:4700::1111]/"),
        ("https://[64:ff9b::8.8.8.8]/", "https://[64:ff9b::808:808]/"),  # NAT64 of a public address
        ("https://[::ffff:8.8.4.4]/", "https://[::ffff:808:404]/"),
    ],
)
def test_public_hosts_are_sent_in_their_canonical_form(url: str, sent: str) -> None:
    assert parse_url(url, strict=True).url == sent


def test_outside_production_plain_http_and_local_receivers_are_accepted() -> None:
    assert parse_url("http://127.0.0.1:9000/hook", strict=False).url == "http://127.0.0.1:9000/hook"
    with pytest.raises(DomainError, match="https"):
        parse_url("http://hooks.example.com/", strict=True)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.127.255.254", "CGNAT"),
        ("239.1.2.3", "multicast"),
        ("240.0.0.1", "private or special-purpose"),
        ("::ffff:10.0.0.1", "private or special-purpose address in IPv4-mapped form"),
        ("64:ff9b::7f00:1", "loopback address in NAT64 form"),
        ("2002:a9fe:a9fe::", "link-local address in 6to4 form"),
        ("fec0::1", "site-local"),
    ],
)
def test_address_problems_are_named(address: str, problem: str) -> None:
    found = address_problem(ipaddress.ip_address(address))
    assert found is not None
    assert problem in found


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


async def test_a_name_is_refused_when_any_of_its_addresses_is_internal() -> None:
    resolver = TableResolver({
        "evil.example": ["127.0.0.1"],
        "mixed.example": ["8.8.8.8", "10.0.0.5"],
        "mapped.example": ["::ffff:169.254.169.254"],
        "good.example": ["8.8.8.8", "2606:4700::1111"],
    })  # fmt: skip
    for name in ("evil.example", "mixed.example", "mapped.example", "nowhere.example"):
        with pytest.raises(DomainError) as refused:
            await checked_addresses(parse_url(f"https://{name}/", strict=True), resolver, strict=True)
        assert refused.value.field == "url"
        assert name in refused.value.message
    good = await checked_addresses(parse_url("https://GOOD.example./", strict=True), resolver, strict=True)
    assert [str(a) for a in good] == ["8.8.8.8", "2606:4700::1111"]
    assert resolver.asked[-1] == "good.example"  # the canonical name is what is looked up
    local = await checked_addresses(parse_url("http://evil.example/", strict=False), resolver, strict=False)
    assert [str(a) for a in local] == ["127.0.0.1"]  # outside production: any address


async def test_registration_resolves_the_name_in_production_and_writes_nothing_when_refused() -> None:
    uow = WebhookUow()
    resolver = TableResolver({"evil.example": ["127.0.0.1"], "hooks.example.com": ["8.8.8.8"]})

    def cmd(url: str, production: bool = True) -> RegisterWebhook:
        return RegisterWebhook(owner_id="partner:p", url=url, event_types=("decision.made",), regions=(Region.US,),
                               require_https=production)  # fmt: skip

    with pytest.raises(DomainError, match=r"resolves to 127\.0\.0\.1"):
        await register_webhook(uow, cmd("https://evil.example/hook"), resolver)
    assert uow.webhooks.added == []
    registered = await register_webhook(uow, cmd("https://hooks.example.com/hook"), resolver)
    assert registered.url == "https://hooks.example.com/hook"
    asked = len(resolver.asked)
    await register_webhook(uow, cmd("http://evil.example/hook", production=False), resolver)
    assert len(resolver.asked) == asked  # development registers local receivers without looking them up


def test_canonical_host_reads_idna_and_ipv4_forms() -> None:
    assert canonical_host("EXAMPLE.com.") == ("example.com", None)
    assert canonical_host("0x8.0x8.0x8.0x8")[0] == "8.8.8.8"
    assert canonical_host("134744072")[0] == "8.8.8.8"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.booleans())
def test_any_host_is_a_canonical_target_or_a_typed_refusal(host: str, strict: bool) -> None:
    refused: DomainError | None = None
    try:
        target = parse_url(f"https://{host}/x", strict=strict)
    except DomainError as exc:
        refused = exc
    if refused is not None:
        assert (refused.code, refused.field) == (ErrorCode.INVALID_INPUT, "url")
        return
    again = parse_url(target.url, strict=strict)  # the canonical form reads as itself
    assert (again.url, again.host, again.address) == (target.url, target.host, target.address)
