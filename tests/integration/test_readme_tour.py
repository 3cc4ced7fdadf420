"""The README's tour, played word for word (issue 14, point 8): the demo data of `make run`, the token commands
exactly as printed (through the real `vigil` CLI), then every GraphQL block of the tour, in order, through the
real ASGI app, each with the token of its step's role. `<NAME>` placeholders take the IDs earlier steps printed,
as a reader would paste them; each step checks what the README says it shows."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.services.seed import seed_demo
from tests.integration.conftest import GraphQLClient

ROOT = Path(__file__).resolve().parents[2]
VIGIL = str(Path(sys.executable).parent / "vigil")
PLACEHOLDER = re.compile(r"<([A-Z_]+)>")


def tour_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## A tour of the API")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", tour_section(), flags=re.DOTALL)


async def issue(db_url: str, line: str) -> tuple[str, str]:
    """Run one README token command; (role key, token)."""
    args = shlex.split(line)
    assert args[0] == ".venv/bin/vigil", line
    env = {**os.environ, "VIGIL_DATABASE_URL": db_url}
    process = await asyncio.create_subprocess_exec(
        VIGIL, *args[1:], env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    options = dict(zip(args[3::2], args[4::2], strict=False))
    who = options.get("--role") or options["--partner"]
    return f"{who}@{options['--region']}", out.decode().splitlines()[-1]


def only(nodes: list[dict[str, Any]], predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    found = [n for n in nodes if predicate(n)]
    assert len(found) == 1, nodes
    return found[0]


async def test_the_readme_tour_works_word_for_word(db_url: str, gql: GraphQLClient) -> None:
    await seed_demo(db_url)
    tokens = dict([await issue(db_url, line) for line in blocks("sh")[0].strip().splitlines()])
    assert set(tokens) == {
        "moderator@US",
        "moderator@EU",
        "platform@*",
        "flagger@EU",
        "vendor_moderator@US",
        "auditor@*",
        "analyst@US",
        "policy_manager@*",
    }
    documents = iter(blocks("graphql"))
    ids: dict[str, str] = {}

    async def step(who: str) -> dict[str, Any]:
        document = next(documents)
        missing = [name for name in PLACEHOLDER.findall(document) if name not in ids]
        assert missing == [], f"placeholders no earlier step printed: {missing} in {document}"
        document = PLACEHOLDER.sub(lambda m: ids[m.group(1)], document)
        body = await gql(document, token=tokens[who])
        return body

    # 1. US moderator: queues, the policy, open cases waiting in queues.
    body = await step("moderator@US")
    assert "errors" not in body, body
    queues = {q["name"]: q for q in body["data"]["queues"]["nodes"]}
    assert {"content-review", "content-escalations", "ads-review", "account-review", "appeals"} <= set(queues)
    ids["CONTENT_REVIEW_QUEUE_ID"] = queues["content-review"]["id"]
    (hate,) = body["data"]["policies"]["nodes"]
    assert hate["currentVersionNumber"] == 2
    ids["HATE_SPEECH_POLICY_ID"] = hate["id"]
    cases = body["data"]["cases"]["nodes"]
    assert cases
    assert all(c["queueId"] is not None for c in cases)

    # 2. claim the most urgent case of content-review.
    body = await step("moderator@US")
    claimed = body["data"]["claimNextCase"]
    assert claimed["__typename"] == "ClaimNextCaseSuccess", body
    assert claimed["case"]["state"] == "ASSIGNED"
    ids["CLAIMED_CASE_ID"] = claimed["case"]["id"]

    # 3. decide it: policy version 2, content removed, a strike.
    decided = (await step("moderator@US"))["data"]["decideCase"]
    assert decided["__typename"] == "DecideCaseSuccess", decided
    assert decided["decision"]["policyVersion"]["number"] == 2
    assert "REMOVE_CONTENT" in [a["kind"] for a in decided["actions"]]
    assert [s["status"] for s in decided["strikes"]] == ["ACTIVE"]

    # 4. EU moderator: the US case does not exist.
    body = await step("moderator@EU")
    assert body == {"data": {"node": None}}

    # 5. platform: accounts, videos, policy ids.
    body = await step("platform@*")
    assert "errors" not in body, body
    ids["TOUR_CREATOR_ID"] = body["data"]["us"]["account"]["id"]
    ids["TOUR_IMPOSTOR_ID"] = body["data"]["apac"]["account"]["id"]
    body = await step("platform@*")
    assert "errors" not in body, body
    ids["TOUR_VIDEO_ID"] = body["data"]["video"]["content"]["id"]
    ids["TOUR_CLIP_ID"] = body["data"]["clip"]["content"]["id"]
    body = await step("platform@*")
    assert body["data"]["hate"] == ids["HATE_SPEECH_POLICY_ID"]
    assert body["data"]["impersonation"] is not None
    ids["IMPERSONATION_POLICY_ID"] = body["data"]["impersonation"]

    # 6. signals (enqueued, decided) and a user report about the APAC account.
    body = await step("platform@*")
    assert "errors" not in body, body
    assert [o["outcome"] for o in body["data"]["borderline"]["outcomes"]] == ["ENQUEUED"]
    (clear_cut,) = body["data"]["clearCut"]["outcomes"]
    assert clear_cut["outcome"] == "DECIDED"
    assert [r["__typename"] for r in body["data"]["submitReports"]["results"]] == ["SubmitReportSuccess"]

    # 7. trusted flagger: look up, report (twice: the same report), follow its own reports only.
    body = await step("flagger@EU")
    assert "errors" not in body, body
    assert body["data"]["policy"] == ids["HATE_SPEECH_POLICY_ID"]
    assert body["data"]["subject"] is not None
    ids["EU_VIRAL_VIDEO_ID"] = body["data"]["subject"]
    report_document = next(documents)
    filed = []
    for _ in range(2):
        document = PLACEHOLDER.sub(lambda m: ids[m.group(1)], report_document)
        body = await gql(document, token=tokens["flagger@EU"])
        assert "errors" not in body, body
        (result,) = body["data"]["submitReports"]["results"]
        filed.append(result["report"])
    assert filed[0] == filed[1]
    assert filed[0]["status"] == "OPEN"
    body = await step("flagger@EU")
    assert [r["id"] for r in body["data"]["reports"]["nodes"]] == [filed[0]["id"]]

    # 8. vendor moderator: no email, no bans.
    body = await step("vendor_moderator@US")
    assert "errors" not in body, body
    nodes = body["data"]["cases"]["nodes"]
    assert all(c["account"]["email"] is None for c in nodes)
    ids["TOUR_VIDEO_CASE_ID"] = only(nodes, lambda c: c["account"]["handle"] == "tour_creator")["id"]
    refused = (await step("vendor_moderator@US"))["data"]["decideCase"]
    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "FORBIDDEN")

    # 9. auditor: decisions, history, the chain; a mutation is refused and the refusal recorded.
    body = await step("auditor@*")
    assert "errors" not in body, body
    assert any(d["statementOfReasons"] is not None for d in body["data"]["decisions"]["nodes"])
    actions = [e["action"] for e in body["data"]["node"]["history"]["nodes"]]
    assert {"claimNextCase", "decideCase"} <= set(actions)
    assert body["data"]["verifyAuditTrail"]["ok"] is True
    body = await step("auditor@*")
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    body = await step("auditor@*")
    assert [e["subjectId"] for e in body["data"]["auditEvents"]["nodes"]] == ["rerouteCases"]

    # 10. analyst: queues and metrics.
    body = await step("analyst@US")
    assert "errors" not in body, body
    assert {q["name"] for q in body["data"]["queues"]["nodes"]} >= {"content-review", "ads-review"}
    metrics = body["data"]["moderationMetrics"]
    assert metrics["decided"] >= 1
    assert metrics["inflow"] >= 1

    # 11. policy manager: the APAC case waits unqueued; define the queue, reroute.
    body = await step("policy_manager@*")
    (waiting,) = body["data"]["cases"]["nodes"]
    assert (waiting["surface"], waiting["queueId"]) == ("ACCOUNT", None)
    body = await step("policy_manager@*")
    assert "errors" not in body, body
    queue = body["data"]["defineQueue"]["queue"]
    rerouted = body["data"]["rerouteCases"]
    assert (rerouted["routedCount"], rerouted["unmatchedCount"]) == (1, 0)
    assert rerouted["cases"] == [{"id": waiting["id"], "queueId": queue["id"]}]

    assert next(documents, None) is None  # every block of the tour was played


def test_the_readme_is_self_contained() -> None:
    """The design notes the code depends on live in the repository; nothing points outside it."""
    readme = (ROOT / "README.md").read_text()
    assert "../" not in readme
    for doc in ("docs/ARCHITECTURE.md", "docs/DOMAIN.md"):
        assert doc in readme
        assert "../" not in (ROOT / doc).read_text()
    roles = set(re.findall(r"^p, (\w+),", (ROOT / "authz/policy.csv").read_text(), flags=re.MULTILINE))
    assert set(re.findall(r"--role (\w+)", readme)) <= roles | {"R"}  # `R` is the OIDC paragraph's placeholder
