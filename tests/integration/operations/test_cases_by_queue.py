"""`cases(filter: {queueId})`: a queue's cases only, under the same region walls as every other case list."""

from __future__ import annotations

from api.graphql.ids import to_global_id
from tests.integration.conftest import GraphQLClient
from tests.integration.operations.helpers import define_queue, seed_cases
from tests.integration.tokens import issue_staff_token

CASES = """
query($queue: ID, $region: Region) { cases(first: 50, filter: {queueId: $queue, region: $region}) {
  nodes { id queueId } } }"""


async def _listed(gql: GraphQLClient, token: str, queue: str | None, region: str | None = None) -> list[str]:
    body = await gql(CASES, {"queue": queue, "region": region}, token=token)
    assert "errors" not in body, body
    return sorted(node["id"] for node in body["data"]["cases"]["nodes"])


async def test_cases_of_one_queue_within_the_readers_regions(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    us_reader = await issue_staff_token(db_url, "moderator", "US")
    hate = await define_queue(gql, admin, "us-hate-by-queue")
    spam = await define_queue(gql, admin, "us-spam-by-queue")
    eu = await define_queue(gql, admin, "eu-by-queue", region="EU")
    hate_ids = await seed_cases(db_url, hate["id"], 3)
    await seed_cases(db_url, spam["id"], 2)
    await seed_cases(db_url, eu["id"], 2, region="EU")
    expected = sorted(to_global_id("Case", case_id) for case_id in hate_ids)

    assert await _listed(gql, us_reader, hate["id"]) == expected
    assert await _listed(gql, admin, hate["id"]) == expected
    assert len(await _listed(gql, admin, None)) == 7  # no filter: every case
    # the walls are unchanged: an EU queue's cases stay out of a US reader's list, filter or not
    assert await _listed(gql, us_reader, eu["id"]) == []
    assert await _listed(gql, us_reader, eu["id"], "EU") == []
    assert len(await _listed(gql, admin, eu["id"])) == 2
    everything = await _listed(gql, admin, None)
    assert set(expected) <= set(everything)


async def test_a_queue_id_that_is_not_a_queue_is_a_bad_request(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    body = await gql(CASES, {"queue": to_global_id("Policy", "00000000-0000-0000-0000-000000000001")}, token=admin)
    assert body["data"]["cases"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    assert body["errors"][0]["extensions"].get("field") == "queueId", body
