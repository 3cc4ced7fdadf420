"""Trusted documents: registered once by hash, named by requests in every client's form, refused where the
server's mode or a pinned token says so; the same answers as the text itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.cli.documents import CONSOLE_DOCUMENTS, read_documents, register_console_documents
from api.settings import Settings
from domain.document import document_id
from persistence.fast.sql import asyncpg_dsn
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts

pytestmark = pytest.mark.db

VIEWER = "query Who { viewer { kind authenticated } }"
REGISTER = """mutation($input: RegisterTrustedDocumentsInput!) { registerTrustedDocuments(input: $input) {
  __typename ... on RegisterTrustedDocumentsSuccess { registered documents { documentId name } }
  ... on Error { code message field } } }"""


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _client(db_url: str, mode: str = "optional") -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(env="test", principal_cache_seconds=0, trusted_documents=mode)  # type: ignore[arg-type]
    app = create_app(settings, database_url=db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            yield client


@pytest.fixture
async def optional(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(db_url):
        yield client


async def _post(client: httpx.AsyncClient, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json=body, headers=headers)


async def _register(client: httpx.AsyncClient, token: str, *texts: str) -> dict[str, Any]:
    variables = {"input": {"documents": [{"text": t} for t in texts]}}
    response = await _post(client, {"query": REGISTER, "variables": variables}, token)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["data"]["registerTrustedDocuments"]
    return result


async def test_registered_once_audited_and_named_by_its_hash(db_url: str, optional: httpx.AsyncClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    first = await _register(optional, admin, VIEWER)
    assert first == {
        "__typename": "RegisterTrustedDocumentsSuccess",
        "registered": 1,
        "documents": [{"documentId": "sha256:" + _hex(VIEWER), "name": "Who"}],
    }
    again = await _register(optional, admin, VIEWER)
    assert again["registered"] == 0
    assert again["documents"] == first["documents"]
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        events = await conn.fetch("SELECT action, subject_id FROM audit_events WHERE subject_kind = 'TrustedDocument'")
    finally:
        await conn.close()
    assert [(e["action"], e["subject_id"]) for e in events] == [("document.registered", document_id(VIEWER))]


async def test_a_document_that_does_not_validate_is_refused_and_nothing_is_stored(
    db_url: str, optional: httpx.AsyncClient
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    before = await row_counts(db_url)
    result = await _register(optional, admin, VIEWER, "query Bad { noSuchField }")
    assert result["code"] == "INVALID_INPUT"
    assert "Bad" in result["message"]
    unparsable = await _register(optional, admin, "query Broken {")
    assert unparsable["code"] == "INVALID_INPUT"
    assert "does not parse" in unparsable["message"]
    after = await row_counts(db_url)
    assert after["trusted_documents"] == before["trusted_documents"] == 0


async def test_registering_needs_the_permission(db_url: str, optional: httpx.AsyncClient) -> None:
    moderator = await issue_staff_token(db_url, "moderator", "US")
    response = await _post(
        optional, {"query": REGISTER, "variables": {"input": {"documents": [{"text": VIEWER}]}}}, moderator
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_every_client_form_runs_the_stored_text(db_url: str, optional: httpx.AsyncClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    moderator = await issue_staff_token(db_url, "moderator", "US")
    await _register(optional, admin, VIEWER)
    hexdigest = _hex(VIEWER)
    expected = (await _post(optional, {"query": VIEWER}, moderator)).json()
    assert expected == {"data": {"viewer": {"kind": "STAFF", "authenticated": True}}}
    forms = [
        {"documentId": "sha256:" + hexdigest},
        {"documentId": "SHA256:" + hexdigest.upper()},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hexdigest}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hexdigest}}, "query": VIEWER},
        {"id": hexdigest},
        {"doc_id": hexdigest},
    ]
    for body in forms:
        response = await _post(optional, {**body, "operationName": "Who"}, moderator)
        assert response.status_code == 200, (body, response.text)
        assert response.json() == expected, body
    get = await optional.get(
        "/graphql", params={"documentId": "sha256:" + hexdigest}, headers={"Authorization": f"Bearer {moderator}"}
    )
    assert get.json() == expected


async def test_unknown_and_malformed_ids_get_typed_errors(db_url: str, optional: httpx.AsyncClient) -> None:
    unknown = "sha256:" + "0" * 64
    response = await _post(optional, {"documentId": unknown})
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_FOUND"
    apollo = await _post(optional, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}})
    assert apollo.status_code == 400
    assert apollo.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    for bad in ({"documentId": "md5:abc"}, {"documentId": 12}, {"id": "x" * 64}):
        response = await _post(optional, bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    mismatch = await _post(
        optional, {"query": VIEWER, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "1" * 64}}}
    )
    assert mismatch.status_code == 400
    assert "SHA-256" in mismatch.json()["errors"][0]["message"]


async def test_apollo_text_with_an_unregistered_hash_runs_as_text_where_text_is_allowed(
    optional: httpx.AsyncClient,
) -> None:
    body = {"query": VIEWER, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": _hex(VIEWER)}}}
    response = await _post(optional, body)
    assert response.json() == {"data": {"viewer": {"kind": "ANONYMOUS", "authenticated": False}}}


async def test_required_mode_refuses_text_but_not_to_admins(db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    moderator = await issue_staff_token(db_url, "moderator", "US")
    async for client in _client(db_url, "required"):
        refused = await _post(client, {"query": VIEWER}, moderator)
        assert refused.status_code == 400
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
        assert "documentId" in error["message"]
        anonymous = await _post(client, {"query": "{ __typename }"})
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
        assert (await _register(client, admin, VIEWER))["registered"] == 1  # an admin still sends text
        trusted = await _post(client, {"documentId": document_id(VIEWER)}, moderator)
        assert trusted.json() == {"data": {"viewer": {"kind": "STAFF", "authenticated": True}}}


async def test_off_mode_refuses_named_documents(db_url: str) -> None:
    async for client in _client(db_url, "off"):
        response = await _post(client, {"documentId": document_id(VIEWER)})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENTS_OFF"
        assert (await _post(client, {"query": "{ __typename }"})).json() == {"data": {"__typename": "Query"}}


ISSUE = """mutation($input: IssueApiTokenInput!) { issueApiToken(input: $input) {
  __typename ... on IssueApiTokenSuccess { secret token { id } } ... on Error { code message field } } }"""


async def _issue_pinned(client: httpx.AsyncClient, admin: str, documents: list[str]) -> dict[str, Any]:
    variables = {"input": {"partnerOrg": "flagger", "scopes": ["trusted_flagger"], "region": "EU", "name": "pinned",
                           "documents": documents}}  # fmt: skip
    response = await _post(client, {"query": ISSUE, "variables": variables}, admin)
    result: dict[str, Any] = response.json()["data"]["issueApiToken"]
    return result


async def test_a_pinned_token_sends_only_its_documents(db_url: str, optional: httpx.AsyncClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    other = "query Other { viewer { id } }"
    await _register(optional, admin, VIEWER, other)
    issued = await _issue_pinned(optional, admin, ["Who"])
    partner = issued["secret"]
    allowed = await _post(optional, {"documentId": document_id(VIEWER)}, partner)
    assert allowed.json() == {"data": {"viewer": {"kind": "PARTNER", "authenticated": True}}}
    for body in ({"query": VIEWER}, {"documentId": document_id(other)}):
        refused = await _post(optional, body, partner)
        assert refused.status_code == 403, body
        assert refused.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_ALLOWED"
    unpinned = await issue_partner_token(db_url, "flagger", ["trusted_flagger"], "EU")
    assert (await _post(optional, {"query": VIEWER}, unpinned)).status_code == 200
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        pinned = await conn.fetch("SELECT action, after FROM audit_events WHERE action = 'token.pinned'")
    finally:
        await conn.close()
    assert len(pinned) == 1
    assert json.loads(pinned[0]["after"])["names"] == ["Who"]


async def test_pinning_to_an_unknown_document_is_refused_and_issues_nothing(
    db_url: str, optional: httpx.AsyncClient
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    before = await row_counts(db_url)
    refused = await _issue_pinned(optional, admin, ["NoSuchOperation"])
    assert refused["code"] == "INVALID_INPUT"
    assert refused["field"] == "documents"
    assert "NoSuchOperation" in refused["message"]
    after = await row_counts(db_url)
    assert after["api_tokens"] == before["api_tokens"]
    assert after["token_documents"] == 0


async def test_the_console_documents_register_and_validate(db_url: str) -> None:
    shipped = read_documents([CONSOLE_DOCUMENTS])
    assert len(shipped) >= 8
    assert await register_console_documents(db_url) == len(shipped)
    assert await register_console_documents(db_url) == 0


def test_manifests_name_documents_by_sha256(tmp_path: Any) -> None:
    apollo = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": _hex(VIEWER), "name": "Who", "type": "query", "body": VIEWER}],
    }
    relay = {_hex(VIEWER): VIEWER}
    (tmp_path / "apollo.json").write_text(json.dumps(apollo))
    (tmp_path / "relay.json").write_text(json.dumps(relay))
    documents = read_documents([tmp_path / "apollo.json", tmp_path / "relay.json"])
    assert [(d.id, d.name) for d in documents] == [(document_id(VIEWER), "Who")] * 2
    (tmp_path / "md5.json").write_text(json.dumps({"0cc175b9c0f1b6a831c399e269772661": VIEWER}))
    from domain.errors import DomainError

    with pytest.raises(DomainError, match="SHA-256"):
        read_documents([tmp_path / "md5.json"])


async def test_the_cli_registers_lists_and_pins(db_url: str, optional: httpx.AsyncClient) -> None:
    from tests.integration.authz.test_cli_tokens import vigil

    code, out, err = await vigil(db_url, "documents", "register", str(CONSOLE_DOCUMENTS))
    assert code == 0, err
    assert f"{document_id((CONSOLE_DOCUMENTS / 'Viewer.graphql').read_text())}  Viewer" in out
    code, out, _ = await vigil(db_url, "documents", "list", "--name", "Viewer")
    assert code == 0
    assert out.split()[:2] == [document_id((CONSOLE_DOCUMENTS / "Viewer.graphql").read_text()), "Viewer"]
    code, out, err = await vigil(
        db_url, "token", "issue", "--partner", "console", "--scopes", "trusted_flagger", "--region", "EU",
        "--documents", "Viewer,Typename",
    )  # fmt: skip
    assert code == 0, err
    secret = out.splitlines()[-1]
    assert (await _post(optional, {"documentId": document_id("query Typename { __typename }\n")}, secret)).json() == {
        "data": {"__typename": "Query"}
    }
    assert (await _post(optional, {"query": "{ __typename }"}, secret)).status_code == 403
    code, _, err = await vigil(
        db_url, "token", "issue", "--partner", "console", "--scopes", "trusted_flagger", "--region", "EU",
        "--documents", "Nope",
    )  # fmt: skip
    assert code == 2
    assert "no trusted document is named" in err
    bad = await vigil(db_url, "documents", "register", "/nonexistent.txt")
    assert bad[0] == 2
    assert "vigil: error:" in bad[2]
