"""Webhook addresses in production, at registration and at delivery: every spelling of an internal address of
the security report is refused when registered, and a production dispatcher never connects to one, whatever the
name resolves to at send time (names resolve through an injected resolver: no DNS is touched). The dispatcher
connects to the address it checked while Host, SNI and the certificate check stay the host's."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.app import create_app
from api.services import webhook_transport
from api.settings import Settings
from domain.outbox.webhook_address import IPAddress
from persistence.fast.sql import asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import DELIVERIES, REGISTER, decided_case, dispatcher, register
from tests.integration.outbox.receiver import running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token


class TableResolver:
    """Names resolve to what the table says; nothing else resolves."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    async def resolve(self, host: str) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(self.table[host])] if host in self.table else []


# Accepted in production before the fix (the report's list); a port where the address is the test machine's.
REPORTED = [
    "https://127.1:{port}/ok",
    "https://2130706433:{port}/ok",
    "https://0x7f000001:{port}/ok",
    "https://0177.0.0.1:{port}/ok",
    "https://0x7f.0.0.1:{port}/ok",
    "https://169.254.43518/ok",
    "https://2852039166/ok",
    "https://100.64.0.1/ok",
    "https://[64:ff9b::a9fe:a9fe]/ok",
    "https://localhost.:{port}/ok",
    "https://evil.example:{port}/ok",  # a DNS name that resolves to loopback
    "https://metadata.google.internal/ok",
]
NAMES = {"evil.example": "127.0.0.1", "metadata.google.internal": "169.254.169.254", "localhost": "127.0.0.1"}


@pytest.fixture
async def prod(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphQLClient]:
    """The production app (no dispatcher of its own), registering through the table resolver."""
    table = {**NAMES, "hooks.example.com": "93.184.216.34", "rebind.example": "93.184.216.34"}
    monkeypatch.setattr(webhook_transport, "RESOLVER", TableResolver(table))
    settings = Settings(env="production", dispatcher=False, principal_cache_seconds=0)  # type: ignore[arg-type]
    app = create_app(settings, database_url=db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            yield GraphQLClient(client)


async def test_production_registration_refuses_every_reported_form(prod: GraphQLClient, db_url: str) -> None:
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    for url in REPORTED:
        body = await prod(REGISTER, {"input": {"url": url.format(port=8443), "eventTypes": ["decision.made"],
                                               "regions": ["US"]}}, token=partner)  # fmt: skip
        refused = body["data"]["registerWebhook"]
        assert (refused["code"], refused["field"]) == ("INVALID_INPUT", "url"), (url, refused)
        assert "public internet" in refused["message"], refused
    assert (await prod("{ webhooks { nodes { id } } }", token=partner))["data"]["webhooks"]["nodes"] == []
    fine = await register(prod, partner, "https://hooks.example.com/vigil", ["decision.made"])
    assert fine["__typename"] == "RegisterWebhookSuccess", fine


async def test_a_production_dispatcher_connects_to_none_of_them_and_retries_later(
    gql: GraphQLClient, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The endpoints were registered outside production (or before the check, or their name has moved since):
    each attempt is refused before any connection, recorded as a failed attempt with its reason, logged, and
    scheduled again."""
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        port = receiver.base_url.rsplit(":", 1)[1]
        for url in REPORTED:
            hook = await register(gql, partner, url.format(port=port), ["decision.made"])
            assert hook["__typename"] == "RegisterWebhookSuccess", hook
        await decided_case(gql, admin, "internal")
        caplog.set_level(logging.WARNING, logger="vigil.dispatch")
        async with dispatcher(db_url, allow_internal=False, resolver=TableResolver(NAMES), timeout=2) as d:
            result = await d.run_once()
        assert receiver.connections == 0
    assert result.outcomes == {"failed": len(REPORTED)}
    history = await gql(DELIVERIES, token=partner)
    deliveries = [d for h in history["data"]["webhooks"]["nodes"] for d in h["deliveries"]["nodes"]]
    assert len(deliveries) == len(REPORTED)
    for delivery in deliveries:
        assert (delivery["state"], delivery["attempts"], delivery["lastStatus"]) == ("PENDING", 1, None)
        assert delivery["lastError"].startswith("refused: url"), delivery
    assert any("evil.example resolves to 127.0.0.1" in d["lastError"] for d in deliveries)
    warnings = [r for r in caplog.records if r.name == "vigil.dispatch" and r.levelno == logging.WARNING]
    assert len(warnings) == len(REPORTED)
    assert all(r.getMessage() == "webhook delivery failed" and r.next_attempt_at for r in warnings)  # type: ignore[attr-defined]


async def test_a_name_that_moves_inside_after_registration_is_refused_at_delivery(
    prod: GraphQLClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        port = receiver.base_url.rsplit(":", 1)[1]
        hook = await register(prod, partner, f"https://rebind.example:{port}/ok", ["decision.made"])
        assert hook["__typename"] == "RegisterWebhookSuccess", hook  # public when registered
        await decided_case(prod, admin, "rebound")
        moved = TableResolver({"rebind.example": "127.0.0.1"})
        async with dispatcher(db_url, allow_internal=False, resolver=moved) as d:
            result = await d.run_once()
        assert receiver.connections == 0
    assert result.outcomes == {"failed": 1}
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        row = await conn.fetchrow("SELECT state, last_error, next_attempt_at > now() AS later FROM webhook_deliveries")
    finally:
        await conn.close()
    assert row is not None
    assert (row["state"], row["later"]) == ("PENDING", True)
    assert "rebind.example resolves to 127.0.0.1" in row["last_error"]


def certificate_for(name: str) -> tuple[bytes, bytes]:
    """A self-signed certificate for ``name`` and its key, PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


async def test_the_checked_address_is_dialled_with_the_hosts_name_for_host_sni_and_certificate(
    gql: GraphQLClient, db_url: str, tmp_path: Any
) -> None:
    cert, key = certificate_for("hooks.example")
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    seen_sni: list[str | None] = []
    server.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    trust = ssl.create_default_context(cadata=cert.decode())
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver(tls=server) as receiver:
        port = receiver.base_url.rsplit(":", 1)[1]
        await register(gql, partner, f"https://hooks.example:{port}/ok", ["decision.made"])
        await register(gql, partner, f"https://other.example:{port}/other", ["decision.made"])
        await decided_case(gql, admin, "pinned")
        resolver = TableResolver({"hooks.example": "127.0.0.1", "other.example": "127.0.0.1"})
        async with dispatcher(db_url, resolver=resolver, verify=trust) as d:
            result = await d.run_once()
        got = receiver.at("/ok")
        other = receiver.at("/other")
    assert result.outcomes == {"delivered": 1, "failed": 1}
    assert [r.headers["host"] for r in got] == [f"hooks.example:{port}"]
    assert "hooks.example" in seen_sni
    assert "other.example" in seen_sni  # dialled, but its certificate names another host: nothing sent
    assert other == []
