"""No privilege escalation (issue 20, point 1): no caller obtains, by any path, a token or a principal holding a
power (permission x region) it does not hold itself; attaching to an existing principal included.

The property-based tests draw a caller (one or two role assignments from the real policy, in US, EU, APAC or
`*`) and a request on each path that creates or changes principals and tokens (`issueStaffToken` for any name,
the same mutation granting a new role to an existing staff member, `issueApiToken`, and an OIDC first login
after an issue), aimed at existing names, look-alike names (spaces, case, full-width, Cyrillic letters, a
zero-width space, an accent) and fresh ones. Whatever is answered, in the real database afterwards: every new
token and every new role assignment holds only powers the caller holds, the new token's own `viewer` says the
same, an OIDC login acts as exactly the stored principal of its subject (and never holds more than the caller
gave a new one), and a refusal changed nothing but the audit trail. Then the plain regressions of the report.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.settings import Environment, Settings
from authz.enforcer import ALL_REGIONS, Authorizer, PermissionMap
from authz.permissions import Permission
from authz.principal import Principal
from authz.scopes import resolve_scopes
from persistence.db import create_engine, create_session_factory
from persistence.metadata import metadata
from persistence.principals import SYSTEM_AUDIT, ensure_staff
from persistence.tables.audit import audit_events
from persistence.uow import SqlUnitOfWork
from tests.integration.authz.test_cli_tokens import vigil
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts
from tests.jwt_issuer import AUDIENCE, ISSUER, FakeIssuer

POLICY = Path(__file__).resolve().parents[3] / "authz" / "policy.csv"
ROLES = sorted({line.split(",")[1].strip() for line in POLICY.read_text().splitlines() if line.startswith("p,")})
REGIONS = ("US", "EU", "APAC", "*")
AUTHORIZER = Authorizer()

Power = tuple[Permission, str]

ISSUED = """__typename ... on IssueApiTokenSuccess { secret token { principal { name } } }
  ... on Error { code field message }"""
STAFF = f"mutation($input: IssueStaffTokenInput!) {{ issueStaffToken(input: $input) {{ {ISSUED} }} }}"
API = f"mutation($input: IssueApiTokenInput!) {{ issueApiToken(input: $input) {{ {ISSUED} }} }}"
REGISTER = """mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) {
  __typename ... on Error { code message } } }"""
VIEWER = "{ viewer { id authenticated roles { role region } permissions { permission regions } } }"

# The world every example starts from: staff members (name -> role assignments, vendor) and organisations.
EXISTING_STAFF: dict[str, tuple[frozenset[tuple[str, str]], str | None]] = {
    "admin-global": (frozenset({("admin", "*")}), None),
    "moderator-US": (frozenset({("moderator", "US")}), None),
    "ops-lead": (frozenset({("auditor", "EU"), ("analyst", "APAC")}), None),
    "vendor-mod-APAC": (frozenset({("vendor_moderator", "APAC")}), "acme-vendor"),
}
EXISTING_ORGS = ("platform", "acme-vendor")  # platform: a US token and a US webhook; acme-vendor: its APAC staff
SCOPES = ("trusted_flagger", "event_consumer", "platform_service", "vendor_tooling", "cases:read", "reports:create")


def _fullwidth(name: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)


LOOK_ALIKES: dict[str, Callable[[str], str]] = {
    "trailing space": lambda n: n + " ",
    "spaces and nbsp": lambda n: f"  {n}\u00a0",
    "upper case": str.upper,
    "swapped case": str.swapcase,
    "full-width": _fullwidth,
    "cyrillic a/o": lambda n: n.replace("a", "\u0430", 1) if "a" in n else n.replace("o", "\u043e", 1),
    "capital I for l": lambda n: n.replace("l", "I") if "l" in n else n.replace("i", "l"),
    "zero-width space": lambda n: n[:2] + "\u200b" + n[2:],
    "combining accent": lambda n: n + "\u0301",
}


@dataclass
class World:
    db_url: str
    gql: GraphQLClient
    issuer: FakeIssuer
    engine: Any
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


@dataclass(frozen=True)
class Snapshot:
    roles: dict[str, frozenset[tuple[str, str]]]  # staff name -> role assignments
    tokens: dict[str, tuple[str, str, tuple[str, ...] | None, str | None, str | None]]
    # token id -> (principal name, kind, scopes, region, partner_org)
    org_regions: dict[str, frozenset[str]]


async def _seed(db_url: str, gql: GraphQLClient) -> None:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            for name, (roles, vendor) in EXISTING_STAFF.items():
                for role, region in sorted(roles):
                    await ensure_staff(uow, name=name, display_name=name, role=role, region=region, vendor_org=vendor)
    finally:
        await engine.dispose()
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "event_consumer"], "US")
    hook = {"url": "https://hooks.example.test/vigil", "eventTypes": ["decision.made"], "regions": ["US"]}
    registered = await gql(REGISTER, {"input": hook}, token=platform)
    assert registered["data"]["registerWebhook"]["__typename"] == "RegisterWebhookSuccess", registered


@pytest.fixture
async def world(db_url: str, issuer: FakeIssuer) -> AsyncIterator[World]:
    """The app with OIDC on, over one database seeded once; every example of a test runs in it (each one
    compares the database before and after itself)."""
    settings_ = Settings(env=Environment.TEST, principal_cache_seconds=0, oidc_issuer=ISSUER, oidc_audience=AUDIENCE)
    app = create_app(settings_, database_url=db_url, oidc_fetch=issuer.fetch)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            gql = GraphQLClient(client)
            await _seed(db_url, gql)
            engine = create_engine(db_url, pool_size=1)
            try:
                yield World(db_url, gql, issuer, engine)
            finally:
                await engine.dispose()


@pytest.fixture(scope="module")
def issuer() -> FakeIssuer:
    return FakeIssuer()


# -- what the database says ---------------------------------------------------------------------------------


async def _snapshot(world: World) -> Snapshot:
    async with world.engine.connect() as conn:
        roles: dict[str, set[tuple[str, str]]] = {}
        rows = await conn.execute(
            sa.text(
                "SELECT p.name, r.role, r.region FROM principals p LEFT JOIN role_assignments r "
                "ON r.principal_id = p.id WHERE p.kind = 'STAFF'"
            )
        )
        for name, role, region in rows:
            roles.setdefault(name, set())
            if role is not None:
                roles[name].add((role, region))
        tokens = {
            str(row.id): (row.name, row.kind, tuple(row.scopes) if row.scopes else None, row.region, row.partner_org)
            for row in await conn.execute(
                sa.text(
                    "SELECT t.id, p.name, p.kind, t.scopes, t.region, p.partner_org FROM api_tokens t "
                    "JOIN principals p ON p.id = t.principal_id"
                )
            )
        }
        # Written here independently of persistence.principals.organisation_regions, which it checks.
        org_regions: dict[str, set[str]] = {}
        for org, region in await conn.execute(
            sa.text(
                "SELECT p.partner_org, t.region FROM api_tokens t JOIN principals p ON p.id = t.principal_id "
                "WHERE p.partner_org IS NOT NULL AND t.region IS NOT NULL AND t.revoked_at IS NULL "
                "UNION SELECT p.partner_org, r.region FROM role_assignments r JOIN principals p "
                "ON p.id = r.principal_id WHERE p.partner_org IS NOT NULL "
                "UNION SELECT substr(w.owner_id, 9), unnest(w.regions) FROM webhook_endpoints w "
                "WHERE w.owner_id LIKE 'partner:%'"
            )
        ):
            org_regions.setdefault(org, set()).add(region)
    return Snapshot(
        {k: frozenset(v) for k, v in roles.items()}, tokens, {k: frozenset(v) for k, v in org_regions.items()}
    )


def _role_powers(assignments: frozenset[tuple[str, str]] | set[tuple[str, str]]) -> set[Power]:
    powers: set[Power] = set()
    for role, region in assignments:
        for permission, regions in AUTHORIZER.role_grants(role, region).items():
            if regions is ALL_REGIONS:
                powers.add((permission, "*"))
            else:
                powers.update((permission, r) for r in regions)
    return powers


def _viewer_powers(viewer: dict[str, Any]) -> set[Power]:
    return {(Permission(g["permission"]), r) for g in viewer["permissions"] for r in g["regions"]}


def _beyond(caller: PermissionMap, powers: set[Power]) -> set[Power]:
    return {(p, r) for p, r in powers if not caller.allows(p, r)}


async def _check_invariant(
    world: World, caller: PermissionMap, before: Snapshot, counts: dict[str, int], answer: dict[str, Any]
) -> Snapshot:
    """The property, checked in the database after any request; returns the snapshot after."""
    event(f"answer: {answer.get('__typename', 'refused for a missing permission')} {answer.get('field') or ''}")
    after = await _snapshot(world)
    for token_id in after.tokens.keys() - before.tokens.keys():
        name, kind, scopes, region, org = after.tokens[token_id]
        if kind == "STAFF":
            powers = _role_powers(after.roles[name])
        else:
            assert scopes is not None
            assert region is not None
            assert org is not None
            where = {region, *before.org_regions.get(org, frozenset())}
            powers = {(Permission(s), r) for s in scopes for r in where}
            powers |= {(Permission.TOKENS_ISSUE, r) for r in before.org_regions.get(org, frozenset())}
        assert not _beyond(caller, powers), (name, _beyond(caller, powers))
    for name, roles in after.roles.items():
        gained = roles - before.roles.get(name, frozenset())
        assert not _beyond(caller, _role_powers(gained)), (name, gained)
    if answer.get("__typename") == "IssueApiTokenSuccess":
        viewer = (await world.gql(VIEWER, token=answer["secret"]))["data"]["viewer"]
        assert not _beyond(caller, _viewer_powers(viewer)), viewer
    else:
        assert await _counts(world) == counts, answer
    return after


# -- strategies ---------------------------------------------------------------------------------------------

assignments = st.tuples(st.sampled_from(ROLES), st.sampled_from(REGIONS))
callers = st.one_of(
    st.lists(assignments, min_size=1, max_size=2, unique=True),
    st.lists(assignments, min_size=1, max_size=1).map(lambda more: [("admin", more[0][1]), *more]),
)
Ask = tuple[list[tuple[str, str]], str, str]


@st.composite
def asks(draw: st.DrawFn) -> Ask:
    """A caller's role assignments, and the role and region it asks for: half the time one it holds."""
    caller = draw(callers)
    role = draw(st.sampled_from([r for r, _ in caller] + ROLES))
    region = draw(st.sampled_from([g for _, g in caller] + list(REGIONS)))
    return caller, role, region


@st.composite
def names(draw: st.DrawFn, existing: tuple[str, ...]) -> tuple[str, str]:
    """(how it was made, the name): an existing name, a look-alike of one, or a fresh one."""
    kind = draw(st.sampled_from(("existing", "look-alike", "fresh")))
    if kind == "fresh":
        return kind, f"fresh-{draw(st.integers(min_value=0, max_value=10**9))}"
    name = draw(st.sampled_from(existing))
    if kind == "existing":
        return kind, name
    variant = draw(st.sampled_from(sorted(LOOK_ALIKES)))
    return variant, LOOK_ALIKES[variant](name)


async def _caller(world: World, roles: list[tuple[str, str]]) -> tuple[str, PermissionMap]:
    name = f"caller-{next(world.serial)}"
    token = ""
    for role, region in roles:
        token = await issue_staff_token(world.db_url, role, region, name=name)
    principal = Principal.staff(name, name, frozenset(roles))
    return token, AUTHORIZER.permission_map(principal)


async def _counts(world: World) -> dict[str, int]:
    """Rows per table but the audit trail's (refusals are audited) and the sealer's, in one statement."""
    import persistence.tables  # noqa: F401  (registers every table on the metadata)

    tables = [t for t in metadata.sorted_tables if t.name not in {"audit_events", "audit_seals"}]
    counts = [sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables]
    async with world.engine.connect() as conn:
        row = (await conn.execute(sa.select(*counts))).one()
    return dict(row._mapping)


PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
EU_ADMIN = [("admin", "EU")]


@PROPERTY
@given(ask=asks(), target=names(tuple(EXISTING_STAFF)), vendor=st.sampled_from((None, "acme-vendor")))
@example(ask=(EU_ADMIN, "moderator", "EU"), target=("existing", "admin-global"), vendor=None)  # the report
@example(ask=(EU_ADMIN, "moderator", "EU"), target=("trailing space", "admin-global "), vendor=None)
@example(ask=(EU_ADMIN, "moderator", "EU"), target=("upper case", "ADMIN-GLOBAL"), vendor=None)
async def test_issue_staff_token_never_escalates(
    world: World, ask: Ask, target: tuple[str, str], vendor: str | None
) -> None:
    caller, role, region = ask
    token, permissions = await _caller(world, caller)
    before, counts = await _snapshot(world), await _counts(world)
    request = {"name": target[1], "role": role, "region": region, "vendorOrg": vendor, "expiresIn": "1h"}
    body = await world.gql(STAFF, {"input": request}, token=token)
    answer = (body.get("data") or {}).get("issueStaffToken") or {}
    await _check_invariant(world, permissions, before, counts, answer)


@PROPERTY
@given(ask=asks(), name=st.sampled_from(sorted(EXISTING_STAFF)))
@example(ask=(EU_ADMIN, "moderator", "EU"), name="ops-lead")  # ops-lead is also an analyst in APAC
async def test_granting_a_role_to_an_existing_staff_member_never_escalates(world: World, ask: Ask, name: str) -> None:
    """The role grant: `issueStaffToken` naming an existing staff member with a role they may not hold yet."""
    caller, role, region = ask
    token, permissions = await _caller(world, caller)
    before, counts = await _snapshot(world), await _counts(world)
    request = {"name": name, "role": role, "region": region, "vendorOrg": "acme-vendor", "expiresIn": "1h"}
    body = await world.gql(STAFF, {"input": request}, token=token)
    answer = (body.get("data") or {}).get("issueStaffToken") or {}
    after = await _check_invariant(world, permissions, before, counts, answer)
    if answer.get("__typename") == "IssueApiTokenSuccess":
        assert (role, region) in after.roles[name]


@PROPERTY
@given(
    ask=asks(),
    target=names((*EXISTING_ORGS, "moderator-US")),
    scopes=st.lists(st.sampled_from(SCOPES), min_size=1, max_size=2, unique=True),
)
@example(ask=(EU_ADMIN, "admin", "EU"), target=("existing", "platform"), scopes=["event_consumer"])  # point 5
@example(ask=(EU_ADMIN, "admin", "EU"), target=("existing", "acme-vendor"), scopes=["vendor_tooling"])
async def test_issue_api_token_never_escalates(
    world: World, ask: Ask, target: tuple[str, str], scopes: list[str]
) -> None:
    caller, _, region = ask
    token, permissions = await _caller(world, caller)
    before, counts = await _snapshot(world), await _counts(world)
    request = {"partnerOrg": target[1], "scopes": scopes, "region": region, "name": "drawn", "expiresIn": "1h"}
    body = await world.gql(API, {"input": request}, token=token)
    answer = (body.get("data") or {}).get("issueApiToken") or {}
    await _check_invariant(world, permissions, before, counts, answer)
    if answer.get("__typename") == "IssueApiTokenSuccess":
        held = {p.value for p in resolve_scopes(scopes)}
        org = answer["token"]["principal"]["name"]
        for where in before.org_regions.get(org, frozenset()):
            assert all(permissions.allows(p, where) for p in (*held, Permission.TOKENS_ISSUE)), (org, where)


@PROPERTY
@given(ask=asks(), target=names(tuple(EXISTING_STAFF)), check_existing=st.booleans())
@example(ask=(EU_ADMIN, "moderator", "EU"), target=("full-width", _fullwidth("admin-global")), check_existing=True)
async def test_an_oidc_first_login_never_escalates(
    world: World, ask: Ask, target: tuple[str, str], check_existing: bool
) -> None:
    """The caller issues for a name, then someone logs in with a JWT whose subject is that name and that claims
    admin roles: the login acts as exactly the stored principal of that subject (none: unauthenticated), and
    a principal that did not exist before holds nothing the caller lacks."""
    caller, role, region = ask
    token, permissions = await _caller(world, caller)
    before, counts = await _snapshot(world), await _counts(world)
    request = {"name": target[1], "role": role, "region": region, "vendorOrg": "acme-vendor", "expiresIn": "1h"}
    body = await world.gql(STAFF, {"input": request}, token=token)
    answer = (body.get("data") or {}).get("issueStaffToken") or {}
    after = await _check_invariant(world, permissions, before, counts, answer)

    subject = target[1]
    jwt = world.issuer.token(sub=subject, roles=["admin"], groups=["admin"], scope="tokens:issue")
    viewer = (await world.gql(VIEWER, token=jwt))["data"]["viewer"]
    if subject not in after.roles:
        assert viewer["authenticated"] is False, (subject, viewer)
        return
    assert {(r["role"], r["region"]) for r in viewer["roles"]} == after.roles[subject]
    if subject not in before.roles:
        assert not _beyond(permissions, _viewer_powers(viewer)), (subject, viewer)
    if check_existing:  # whatever was issued, the existing names log in as themselves, with their stored roles
        for name, (roles, _) in EXISTING_STAFF.items():
            seen = (await world.gql(VIEWER, token=world.issuer.token(sub=name)))["data"]["viewer"]
            assert {(r["role"], r["region"]) for r in seen["roles"]} == after.roles[name] >= roles


# -- the report's reproductions -------------------------------------------------------------------------------


async def _audit(db_url: str, since: int) -> list[tuple[str, str, str | None]]:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.select(audit_events.c.action, audit_events.c.subject_id, audit_events.c.reason)
                .order_by(audit_events.c.seq)
                .offset(since)
            )
            return [tuple(r) for r in rows]
    finally:
        await engine.dispose()


async def test_an_eu_admin_cannot_take_over_the_global_admin_by_name(db_url: str, gql: GraphQLClient) -> None:
    """The report: `issueStaffToken(name: "admin-global", role: moderator, region: EU)` by an admin limited to the
    EU handed out a token for the global admin. Refused, trimmed or not; nothing written; the refusal audited."""
    await issue_staff_token(db_url, "admin", "*")  # admin-global
    eu_admin = await issue_staff_token(db_url, "admin", "EU", name="eu-admin")
    before = await row_counts(db_url)

    for name in ("admin-global", "admin-global "):
        request = {"name": name, "role": "moderator", "region": "EU", "expiresIn": "1h"}
        answer = (await gql(STAFF, {"input": request}, token=eu_admin))["data"]["issueStaffToken"]
        assert (answer["__typename"], answer["code"], answer["field"]) == ("ForbiddenError", "FORBIDDEN", "name")
        assert "privilege escalation" in answer["message"]
        assert "in every region" in answer["message"]

    after = await row_counts(db_url)
    assert {t: n for t, n in after.items() if t != "audit_events"} == {
        t: n for t, n in before.items() if t != "audit_events"
    }
    events = await _audit(db_url, before["audit_events"])
    assert [(action, subject) for action, subject, _ in events] == [("security.forbidden", "issueStaffToken")] * 2
    assert all(reason is not None and "privilege escalation" in reason for _, _, reason in events)

    # Who holds everything admin-global holds may still issue for it.
    admin = await issue_staff_token(db_url, "admin", "*", name="other-global-admin")
    request = {"name": "admin-global", "role": "moderator", "region": "EU", "expiresIn": "1h"}
    answer = (await gql(STAFF, {"input": request}, token=admin))["data"]["issueStaffToken"]
    assert answer["__typename"] == "IssueApiTokenSuccess"
    roles = (await gql(VIEWER, token=answer["secret"]))["data"]["viewer"]["roles"]
    assert roles == [{"role": "admin", "region": "*"}, {"role": "moderator", "region": "EU"}]


async def test_minting_for_an_existing_organisation_needs_authority_over_its_regions(
    db_url: str, gql: GraphQLClient
) -> None:
    """Point 5: an EU admin minted an EU `event_consumer` token for `platform`, which operates US webhooks."""
    platform = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    hook = {"url": "https://hooks.example.test/us", "eventTypes": ["decision.made"], "regions": ["US"]}
    assert (await gql(REGISTER, {"input": hook}, token=platform))["data"]["registerWebhook"]["__typename"] == (
        "RegisterWebhookSuccess"
    )
    eu_admin = await issue_staff_token(db_url, "admin", "EU")
    before = await row_counts(db_url)

    request = {"partnerOrg": "platform", "scopes": ["event_consumer"], "region": "EU", "name": "eu consumer"}
    answer = (await gql(API, {"input": request}, token=eu_admin))["data"]["issueApiToken"]
    assert (answer["__typename"], answer["field"]) == ("ForbiddenError", "partnerOrg")
    assert "events:read in US" in answer["message"]
    after = await row_counts(db_url)
    assert after["api_tokens"] == before["api_tokens"]
    assert (await _audit(db_url, before["audit_events"]))[0][:2] == ("security.forbidden", "issueApiToken")

    fresh = {**request, "partnerOrg": "eu-only-partner"}
    assert (await gql(API, {"input": fresh}, token=eu_admin))["data"]["issueApiToken"]["__typename"] == (
        "IssueApiTokenSuccess"
    )
    admin = await issue_staff_token(db_url, "admin", "*")
    assert (await gql(API, {"input": request}, token=admin))["data"]["issueApiToken"]["__typename"] == (
        "IssueApiTokenSuccess"
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Admin-Global", "CONFLICT"),
        ("admin-globaI", "CONFLICT"),
        ("\u0430dmin-global", "CONFLICT"),
        ("admin\u2013global", "CONFLICT"),
        ("admin-global\u200b", "INVALID_INPUT"),
        ("\u3000", "INVALID_INPUT"),
    ],
)
async def test_look_alike_names_are_refused_as_ambiguous(db_url: str, gql: GraphQLClient, name: str, code: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")  # admin-global, whom even a global admin may address
    before = await row_counts(db_url)
    request = {"name": name, "role": "moderator", "region": "EU", "expiresIn": "1h"}
    answer = (await gql(STAFF, {"input": request}, token=admin))["data"]["issueStaffToken"]
    assert (answer["code"], answer["field"]) == (code, "name")
    assert (await row_counts(db_url))["principals"] == before["principals"]
    full_width = {**request, "name": "\uff41\uff44\uff4d\uff49\uff4e-global"}  # NFKC: admin-global itself
    answer = (await gql(STAFF, {"input": full_width}, token=admin))["data"]["issueStaffToken"]
    assert answer["token"]["principal"]["name"] == "admin-global"


async def test_two_look_alikes_issued_at_once_are_never_both_created(db_url: str, gql: GraphQLClient) -> None:
    """The look-alike check and the creation it allows hold one lock: of `carol` and `Carol` issued together,
    exactly one is created and the other is a CONFLICT, whichever comes first."""
    admin = await issue_staff_token(db_url, "admin", "*")
    requests = [{"name": name, "role": "moderator", "region": "EU", "expiresIn": "1h"} for name in ("carol", "Carol")]
    bodies = await asyncio.gather(*(gql(STAFF, {"input": r}, token=admin) for r in requests))
    answers = sorted(body["data"]["issueStaffToken"]["__typename"] for body in bodies)
    assert answers == ["ConflictError", "IssueApiTokenSuccess"]


async def test_a_vendor_moderator_always_belongs_to_a_vendor(db_url: str, gql: GraphQLClient) -> None:
    """Issue 23: issuing a vendor_moderator without a vendor organisation is refused, in GraphQL and the CLI."""
    admin = await issue_staff_token(db_url, "admin", "*")
    before = await row_counts(db_url)
    request = {"name": "vendor-mod-1", "role": "vendor_moderator", "region": "US", "expiresIn": "1h"}
    answer = (await gql(STAFF, {"input": request}, token=admin))["data"]["issueStaffToken"]
    assert (answer["__typename"], answer["field"]) == ("InvalidInputError", "vendorOrg")
    code, out, err = await vigil(db_url, "token", "issue", "--role", "vendor_moderator", "--region", "US")
    assert (code, out) == (2, "")
    assert "--vendor" in err
    assert await row_counts(db_url) == before

    with_vendor = {**request, "vendorOrg": "outsourcing-co"}
    assert (await gql(STAFF, {"input": with_vendor}, token=admin))["data"]["issueStaffToken"]["__typename"] == (
        "IssueApiTokenSuccess"
    )
    again = {**request, "role": "vendor_moderator", "region": "EU"}  # the stored vendor counts
    assert (await gql(STAFF, {"input": again}, token=admin))["data"]["issueStaffToken"]["__typename"] == (
        "IssueApiTokenSuccess"
    )


async def test_the_cli_never_attaches_silently(db_url: str, gql: GraphQLClient) -> None:
    """The operator is not capped, but a token for an existing staff member holding more than asked needs
    --existing; the refusal writes nothing but its audit event. Asking for what they hold is the usual path."""
    await issue_staff_token(db_url, "admin", "*")  # admin-global
    await issue_staff_token(db_url, "moderator", "US")  # moderator-US
    before = await row_counts(db_url)
    args = ("token", "issue", "--role", "moderator", "--region", "EU", "--name", "admin-global ")
    code, out, err = await vigil(db_url, *args)
    assert (code, out) == (2, ""), err
    assert "--existing" in err
    after = await row_counts(db_url)
    assert {t: n for t, n in after.items() if t != "audit_events"} == {
        t: n for t, n in before.items() if t != "audit_events"
    }
    assert [e[:2] for e in await _audit(db_url, before["audit_events"])] == [("security.forbidden", "token issue")]

    code, out, err = await vigil(db_url, *args, "--existing")
    assert code == 0, err
    roles = (await gql(VIEWER, token=out.splitlines()[-1]))["data"]["viewer"]["roles"]
    assert roles == [{"role": "admin", "region": "*"}, {"role": "moderator", "region": "EU"}]
    code, out, err = await vigil(db_url, "token", "issue", "--role", "moderator", "--region", "US")
    assert code == 0, err
    code, out, err = await vigil(
        db_url, "token", "issue", "--role", "moderator", "--region", "US", "--name", "Moderator-US"
    )
    assert (code, out) == (2, "")
    assert "looks like" in err
