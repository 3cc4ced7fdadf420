"""Issue 10: rate limits per principal (each token, each staff member, each anonymous IP), 429 with Retry-After,
in memory by default and shared through Redis when `VIGIL_REDIS_URL` is set. Rates here are tiny (one request
every 1,000 s after the burst) so that no test depends on the clock."""

from __future__ import annotations

import socket
import uuid

import pytest

from api.ratelimit import MemoryStore, RateLimiter, RedisStore
from api.settings import Settings
from authz.principal import Principal, PrincipalKind
from tests.integration.tokens import issue_partner_token, issue_staff_token
from tests.security.conftest import AppClient, error_code

SLOW = "0.001/2"  # bursts of 2, then one request per 1,000 s
REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_reachable(), reason="no Redis answers PING at 127.0.0.1:6379")
QUERY = {"query": "{ viewer { id } }"}


async def test_a_token_over_its_limit_gets_429_with_retry_after(db_url: str, app_client: AppClient) -> None:
    token = await issue_partner_token(db_url, "flagger", ["trusted_flagger"], "EU")
    other = await issue_partner_token(db_url, "other", ["trusted_flagger"], "EU")
    async with app_client(rate_limit_token=SLOW) as http:
        statuses = [(await http.post("/graphql", json=QUERY, headers=_bearer(token))).status_code for _ in range(2)]
        refused = await http.post("/graphql", json=QUERY, headers=_bearer(token))
        others = await http.post("/graphql", json=QUERY, headers=_bearer(other))

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert error_code(refused) == "RATE_LIMITED"
    assert 990 <= int(refused.headers["retry-after"]) <= 1000
    assert others.status_code == 200  # limits are per principal


async def test_staff_and_anonymous_callers_have_their_own_limits(db_url: str, app_client: AppClient) -> None:
    staff = await issue_staff_token(db_url, "moderator", "US")
    async with app_client(rate_limit_staff=SLOW, rate_limit_anonymous="0.001/1") as http:
        staff_statuses = [(await http.post("/graphql", json=QUERY, headers=_bearer(staff))).status_code for _ in "abc"]
        anonymous = [(await http.post("/graphql", json=QUERY)).status_code for _ in "ab"]
    assert staff_statuses == [200, 200, 429]
    assert anonymous == [200, 429]


async def test_limits_are_configurable_per_token(db_url: str, app_client: AppClient) -> None:
    token = await issue_partner_token(db_url, "bulk", ["trusted_flagger"], "EU")
    async with app_client(rate_limit_token=SLOW) as http:
        viewer = (await http.post("/graphql", json={"query": "{ viewer { id } }"}, headers=_bearer(token))).json()
    principal_id = viewer["data"]["viewer"]["id"]
    async with app_client(rate_limit_token=SLOW, rate_limit_overrides={principal_id: "0.001/5"}) as http:
        statuses = [(await http.post("/graphql", json=QUERY, headers=_bearer(token))).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


async def test_the_defaults_let_a_platform_token_ingest_a_brigade() -> None:
    limiter = RateLimiter(Settings(), store=MemoryStore(clock=lambda: 0.0))  # a frozen clock: the burst alone
    platform = _partner()
    allowed = 0
    while await limiter.check(platform, "10.0.0.1") is None:
        allowed += 1
    # a burst of 20,000 in one instant (float steps may lose one or two), then 5,000 requests a second:
    # 500,000 reports a second through submitReports
    assert 19_990 <= allowed <= 20_000


@needs_redis
async def test_limits_are_shared_through_redis(db_url: str, app_client: AppClient) -> None:
    token = await issue_partner_token(db_url, "shared", ["trusted_flagger"], "EU")
    settings = {"rate_limit_token": SLOW, "redis_url": REDIS_URL}
    async with app_client(**settings) as first, app_client(**settings) as second:  # two app servers
        one = await first.post("/graphql", json=QUERY, headers=_bearer(token))
        two = await second.post("/graphql", json=QUERY, headers=_bearer(token))
        three = await first.post("/graphql", json=QUERY, headers=_bearer(token))
        four = await second.post("/graphql", json=QUERY, headers=_bearer(token))
    assert [one.status_code, two.status_code, three.status_code, four.status_code] == [200, 200, 429, 429]
    assert int(four.headers["retry-after"]) > 900


async def test_an_unreachable_redis_falls_back_to_memory_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    limiter = RateLimiter(Settings(rate_limit_token=SLOW), store=store)
    principal = _partner()
    try:
        results = [await limiter.check(principal, "ip") for _ in range(4)]
    finally:
        await store.close()
    assert [r is None for r in results] == [True, True, False, False]  # still limited, in memory
    warnings = [r for r in caplog.records if r.name == "vigil.ratelimit" and r.levelname == "WARNING"]
    assert len(warnings) == 1


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _partner() -> Principal:
    return Principal(
        id="platform",
        kind=PrincipalKind.PARTNER,
        scopes=frozenset(),
        region="*",
        token_id=str(uuid.uuid4()),
        partner_org="p",
    )
