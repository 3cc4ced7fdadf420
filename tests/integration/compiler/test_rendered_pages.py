"""Pages PostgreSQL renders (``api.graphql.compiler.render``) against graphql-core, byte for byte.

One document selects every field the renderer writes (built from its own tables, so a field added there is covered
here), on data chosen to be awkward: JSON escapes and non-ASCII text, null and present optional values, whole-second
and fractional times, a suspension in force and one lapsed, strikes active, expired and reversed, reports of a case
in another region, a policy of one region, every kind of subject. Each principal's answer through the compiled plan
(rendered) must be the ordinary one; and the rendering must really have answered (or, for the lapsed suspension,
really have stood aside)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from graphql import GraphQLField, GraphQLString

from api.cli.documents import CONSOLE_DOCUMENTS
from api.graphql.compiler import render
from api.graphql.compiler.plan import FieldPlan
from api.graphql.schema import build_schema
from api.services.seed import seed_demo
from domain.document import document_id
from persistence import pagination
from persistence.fast.sql import asyncpg_dsn, create_pool, recording_queries
from persistence.queries import listing, reads
from persistence.queries.filters import CaseFilter, PageRequest
from persistence.queries.listing import Source
from tests.integration.compiler.harness import Differential, differential, principals, register
from tests.integration.tokens import issue_staff_token

pytestmark = pytest.mark.db

AWKWARD = 'quote " backslash \\ tab \t newline \n control \x01\x1f del \x7f separator \u2028 é 漢 😀 </script>'


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(type_name: str, prefix: str = "") -> str:
    """Every plain field of the type (``kind`` aliased ``<prefix>_kind`` with a prefix: a union's members'
    kinds are different enums)."""
    names = ["__typename", "id", *sorted(_camel(c) for c in render.TYPES[type_name].columns)]
    return " ".join(f"{prefix}_{n}: {n}" if prefix and n == "kind" else n for n in names)


POLICY = f"{_plain('Policy')} currentVersionNumber"
ACCOUNT = f"{_plain('Account')} status"
NODE = f"""
  {_plain("Case")} queueId
  subject {{ __typename ... on Content {{ {_plain("Content", "c")} }} ... on Account {{ {_plain("Account", "a")} }}
             ... on Ad {{ {_plain("Ad", "d")} serving }} }}
  account {{ {ACCOUNT} }}
  reports(first: 3) {{ {_plain("Report")} policy {{ {POLICY} }} }}
  strikes {{ {_plain("Strike")} status }}
  decision {{ {_plain("Decision")} actions {{ {_plain("EnforcementAction")} }} }}
  again: reportCount
"""
EVERYTHING = f"""query Everything($first: Int!, $filter: CaseFilter) {{
  cases(first: $first, filter: $filter) {{ __typename nodes {{ {NODE} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }}
}}"""
EDGES = f"""query Edges($after: String) {{
  cases(first: 7, after: $after) {{ edges {{ cursor node {{ {NODE} }} }} pageInfo {{ endCursor }} }}
}}"""
TWICE = """query Twice { cases(first: 3) { nodes { id state } edges { node { id priority } } } }"""
GUARDED = """query Guarded { cases(first: 5) { nodes { id history(first: 2) { nodes { action } } } } }"""
SUBJECT = "subject { __typename ... on Content { id title } ... on Account { id handle } ... on Ad { id headline } }"
NODES = {
    "Decision": f"""{_plain("Decision")} policy {{ {POLICY} }} strikes {{ id status }} case {{ id state }} {SUBJECT}
      actions {{ {_plain("EnforcementAction")} decision {{ id }} strike {{ id status }}
                 target {{ __typename ... on Content {{ id }} ... on Account {{ id }} ... on Ad {{ id }} }} }}""",
    "Strike": f"{_plain('Strike')} status account {{ id handle status }} policy {{ id code }} decision {{ verdict }}",
    "Report": f"{_plain('Report')} policy {{ {POLICY} }} {SUBJECT}",
    "Account": ACCOUNT,
    "Content": f"{_plain('Content')} owner {{ id handle status }}",
    "Ad": f"{_plain('Ad')} serving advertiser {{ id handle }}",
    "Policy": POLICY,
}
ROOT_DOCUMENTS = {
    field: f"""query Root_{field}($first: Int!) {{
  {field}(first: $first) {{ nodes {{ {NODES[type_name]} }} pageInfo {{ hasNextPage endCursor }} }}
}}"""
    for (_, field), type_name in render.ROOTS.items()
    if field != "cases"
}


def test_the_document_covers_every_rendered_field() -> None:
    for type_name, table in render.TYPES.items():
        for column in table.columns:
            assert _camel(column) in EVERYTHING, f"{type_name}.{column}"
    documents = EVERYTHING + "".join(ROOT_DOCUMENTS.values())
    for type_name, field in render.RELATIONS:
        assert _camel(field) in documents, f"{type_name}.{field}"
    for _, field in render.ROOTS:
        assert field == "cases" or field in ROOT_DOCUMENTS, field


AWKWARD_DATA = [
    ("UPDATE contents SET title = $1 WHERE id = (SELECT id FROM contents ORDER BY id LIMIT 1)", [AWKWARD]),
    ("UPDATE contents SET title = NULL, language = NULL"
     " WHERE id = (SELECT id FROM contents ORDER BY id OFFSET 1 LIMIT 1)", []),
    ("UPDATE accounts SET handle = $1::text, display_name = $1::text"
     " WHERE id = (SELECT id FROM accounts ORDER BY id LIMIT 1)", [AWKWARD]),
    ("UPDATE cases SET sla_due_at = date_trunc('second', sla_due_at), escalation_reason = $1"
     " WHERE id IN (SELECT id FROM cases ORDER BY id LIMIT 5)", [AWKWARD]),
    ("UPDATE accounts SET status = 'SUSPENDED', status_until = now() + interval '3 days'"
     " WHERE id IN (SELECT subject_account_id FROM cases ORDER BY id LIMIT 2)", []),
    ("UPDATE strikes SET status = 'REVERSED', reversed_at = now()"
     " WHERE id = (SELECT id FROM strikes ORDER BY id LIMIT 1)", []),
    ("UPDATE strikes SET issued_at = now() - interval '90 days', expires_at = now() - interval '1 day'"
     " WHERE id = (SELECT id FROM strikes ORDER BY id OFFSET 1 LIMIT 1)", []),
    ("UPDATE reports SET region = CASE WHEN region = 'US' THEN 'EU' ELSE 'US' END"
     " WHERE id IN (SELECT DISTINCT ON (case_id) id FROM reports ORDER BY case_id, id LIMIT 6)", []),
    ("INSERT INTO reports (id, region, subject_kind, subject_id, source, reporter_id, reporter_kind, policy_id, text,"
     " idempotency_key, case_id, created_at, updated_at, version)"
     " SELECT gen_random_uuid(), region, subject_kind, subject_id, source, reporter_id || g, reporter_kind, policy_id,"
     " $1, NULL, case_id, created_at + interval '1 minute' * (2 - g), updated_at, 1"
     " FROM reports, generate_series(0, 4) AS g WHERE id = (SELECT min(id::text)::uuid FROM reports)", [AWKWARD]),
    ("INSERT INTO enforcement_actions (id, region, decision_id, kind, target_kind, target_id, starts_at, ends_at,"
     " reversed_at, source, strike_id, created_at, updated_at, version)"
     " SELECT gen_random_uuid(), region, decision_id, kind, target_kind, target_id, starts_at, now(), now(), source,"
     " strike_id, created_at + interval '1 minute' * (1 - g), updated_at, 1"
     " FROM enforcement_actions, generate_series(0, 2) AS g"
     " WHERE id = (SELECT min(id::text)::uuid FROM enforcement_actions)",
     []),
    ("UPDATE policies SET region = 'EU' WHERE id = (SELECT policy_id FROM reports ORDER BY id LIMIT 1)", []),
]  # fmt: skip


@pytest.fixture
async def diff(db_url: str) -> AsyncIterator[Differential]:
    await seed_demo(db_url)
    connection = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        for statement, arguments in AWKWARD_DATA:
            await connection.execute(statement, *arguments)
    finally:
        await connection.close()
    async for d in differential(db_url):
        yield d


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> list[list[str | None] | None]:
    """Each page read: its rendered texts (None: not rendered)."""
    seen: list[list[str | None] | None] = []
    original = reads.fetch_page

    async def observed(*args: Any, **kwargs: Any) -> Any:
        page = await original(*args, **kwargs)
        seen.append(page.rendered)
        return page

    monkeypatch.setattr(reads, "fetch_page", observed)
    return seen


async def test_rendered_pages_answer_as_graphql_core(db_url: str, diff: Differential, pages: list[Any]) -> None:
    await register(db_url, [EVERYTHING, EDGES, TWICE])
    tokens = await principals(db_url)
    tokens["moderator-US"] = await issue_staff_token(db_url, "moderator", "US")
    rendered = 0
    for name, token in tokens.items():
        for variables in ({"first": 100}, {"first": 2}, {"first": 0}, {"first": 50, "filter": {"region": "EU"}}):
            pages.clear()
            answer = await diff.same(EVERYTHING, variables, token)
            if pages:  # the principal may read cases: the ordinary page, then the rendered one
                assert pages[0] is None, name
                assert pages[-1] is not None, name
                assert None not in pages[-1], name
                rendered += 1
            else:
                assert answer["data"]["cases"] is None, name
        after = None
        for _ in range(3):  # pages through with edges and cursors
            answer = await diff.same(EDGES, {"after": after}, token)
            if answer["data"]["cases"] is None:
                break
            after = answer["data"]["cases"]["pageInfo"]["endCursor"]
        pages.clear()
        await diff.same(TWICE, None, token)
        assert all(p is None for p in pages)  # the node selected twice over: completed in Python
    assert rendered >= 4 * 4  # admin, auditor and both moderators at least
    body = await diff.same(EVERYTHING, {"first": 100}, tokens["admin"])
    nodes = body["data"]["cases"]["nodes"]
    texts = str(nodes)
    assert AWKWARD in [n["escalationReason"] for n in nodes]
    assert "REVERSED" in texts
    assert "EXPIRED" in texts
    assert "SUSPENDED" in texts
    assert {n["subject"]["__typename"] for n in nodes if n["subject"]} >= {"Content", "Ad"}
    assert any(n["decision"] and len(n["decision"]["actions"]) > 2 for n in nodes)
    assert any(len(n["reports"]) == 3 for n in nodes)


async def test_every_root_list_renders_as_graphql_core(db_url: str, diff: Differential, pages: list[Any]) -> None:
    await register(db_url, list(ROOT_DOCUMENTS.values()))
    tokens = await principals(db_url)
    tokens["moderator-US"] = await issue_staff_token(db_url, "moderator", "US")
    rendered: set[str] = set()
    for field, text in ROOT_DOCUMENTS.items():
        for name, token in tokens.items():
            for first in (100, 3):
                pages.clear()
                answer = await diff.same(text, {"first": first}, token)
                if pages and pages[-1] is not None and (answer["data"][field] or {}).get("nodes"):
                    assert None not in pages[-1], (field, name)
                    rendered.add(field)
    assert rendered == set(ROOT_DOCUMENTS)


async def test_a_lapsed_suspension_is_answered_the_ordinary_way(
    db_url: str, diff: Differential, pages: list[Any]
) -> None:
    await register(db_url, [EVERYTHING])
    admin = (await principals(db_url))["admin"]
    connection = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await connection.execute(
            "UPDATE accounts SET status = 'SUSPENDED', status_until = now() - interval '1 hour'"
            " WHERE id = (SELECT subject_account_id FROM cases ORDER BY created_at DESC, id DESC LIMIT 1)"
        )
    finally:
        await connection.close()
    pages.clear()
    await diff.same(EVERYTHING, {"first": 10}, admin)
    assert pages[-1] is not None
    assert None in pages[-1]


async def test_a_rendering_postgresql_refuses_reads_the_page_ordinarily(db_url: str) -> None:
    """A value the rendering's SQL cannot write (here a division by zero, a data error like a date-time out of
    ``to_char``'s range) or a statement too large costs a second read, never the page."""
    await seed_demo(db_url)
    pool = await create_pool(db_url, size=1)
    try:
        request = PageRequest(first=5, after=None, regions=None)
        plain = await listing.cases(Source(pool, None), CaseFilter(), request)  # type: ignore[arg-type]
        broken = reads.Rendering("cases", "((1 / (\x000\x00::int))::text)", [0])
        page = await listing.cases(Source(pool, None, broken), CaseFilter(), request)  # type: ignore[arg-type]
    finally:
        await pool.close()
    assert page.rendered is None
    assert [c.id for c in page.items] == [c.id for c in plain.items]
    assert page.cursors == plain.cursors


def test_no_rendered_field_carries_a_guard() -> None:
    """The renderer refuses a field behind a permission class or an extension (``_python_name``); none of the
    fields it lists has one, and ``Case.history`` (audit:read) does."""
    core = build_schema()._schema
    for type_name, table in render.TYPES.items():
        fields = core.type_map[type_name].fields
        for column in table.columns:
            definition = fields[_camel(column)].extensions["strawberry-definition"]
            assert not definition.extensions, f"{type_name}.{column}"
            assert not definition.permission_classes, f"{type_name}.{column}"
    assert core.type_map["Case"].fields["history"].extensions["strawberry-definition"].extensions


async def test_a_guarded_field_keeps_the_page_in_python(db_url: str, diff: Differential, pages: list[Any]) -> None:
    await register(db_url, [GUARDED])
    tokens = await principals(db_url)
    for name in ("admin", "moderator-EU", "auditor"):
        pages.clear()
        await diff.same(GUARDED, None, tokens[name])
        assert pages, name
        assert all(p is None for p in pages), name


@pytest.mark.parametrize(
    "guard", [{"permission_classes": [object]}, {"extensions": [object()]}, {"directives": [object()]}]
)
def test_the_renderer_refuses_a_guarded_field(guard: dict[str, Any]) -> None:
    plain = {"python_name": "state", "permission_classes": [], "extensions": [], "directives": []}
    field = FieldPlan("state", [], GraphQLField(GraphQLString), "leaf")
    field.definition.extensions = {"strawberry-definition": SimpleNamespace(**plain)}
    assert render._python_name(field) == "state"
    field.definition.extensions = {"strawberry-definition": SimpleNamespace(**{**plain, **guard})}
    with pytest.raises(render._Unrenderable):
        render._python_name(field)


async def test_a_rendered_page_is_one_statement(db_url: str, diff: Differential) -> None:
    """The console's page, trusted, whatever its size: one statement (the page, its relations and read checks in
    it), where the page completed in Python sends one per relation besides."""
    page = (CONSOLE_DOCUMENTS / "CasesPage.graphql").read_text()
    await register(db_url, [page])
    admin = (await principals(db_url))["admin"]
    await diff.same(page, {"first": 100}, admin)  # warm: the token cached, the plan compiled
    counts = {}
    for first in (2, 100):
        with recording_queries() as sent:
            await diff.post({"documentId": document_id(page), "variables": {"first": first}}, admin)
        counts[first] = len(sent)
    with recording_queries() as sent:
        await diff.post({"query": page, "variables": {"first": 100}}, admin)
    assert counts == {2: 1, 100: 1}
    assert len(sent) >= 7  # the page, then a batch per relation (subjects of each kind, accounts, reports...)


async def test_only_the_cursors_asked_for_are_written(
    db_url: str, diff: Differential, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page writes the cursors its answer holds, no more: the console's page its first and last (``pageInfo``),
    a page of edges one per edge too; both as graphql-core answers them."""
    page = (CONSOLE_DOCUMENTS / "CasesPage.graphql").read_text()
    await register(db_url, [page, EDGES])
    admin = (await principals(db_url))["admin"]
    written: list[Any] = []
    encode = pagination.encode_cursor

    def counting(value: Any, row_id: Any) -> str:
        written.append(row_id)
        return encode(value, row_id)

    monkeypatch.setattr(pagination, "encode_cursor", counting)
    await diff.same(page, {"first": 100}, admin)  # warm
    written.clear()
    answer = (await diff.post({"documentId": document_id(page), "variables": {"first": 100}}, admin)).json()
    assert len(answer["data"]["cases"]["nodes"]) > 7
    assert len(written) == 2  # the first cursor and the last, for pageInfo
    written.clear()
    answer = (await diff.post({"documentId": document_id(EDGES), "variables": {}}, admin)).json()
    assert len(answer["data"]["cases"]["edges"]) == 7
    assert len(written) == 7  # each edge's, the last read twice but written once
    await diff.same(EDGES, {}, admin)


DYNAMIC = """query Dynamic($n: Int) { cases(first: 20) { nodes { id reports(first: $n) { id source } } } }"""


async def test_a_nested_first_from_a_variable(db_url: str, diff: Differential, pages: list[Any]) -> None:
    """``reports(first: $n)``: the limit is a parameter of the rendered statement; a value the resolver refuses
    (out of range, null) leaves the page to it, whose error the answer carries."""
    await register(db_url, [DYNAMIC])
    admin = (await principals(db_url))["admin"]
    for n, rendered in ((0, True), (1, True), (3, True), (100, True), (101, False), (-1, False), (None, False)):
        pages.clear()
        answer = await diff.same(DYNAMIC, {"n": n} if n is not None else {"n": None}, admin)
        assert (pages[-1] is not None) is rendered, n
        if rendered:
            assert all(len(c["reports"]) <= n for c in answer["data"]["cases"]["nodes"])
        else:
            assert answer["errors"], n
    pages.clear()
    await diff.same(DYNAMIC, {}, admin)  # the argument's default, 50
    assert pages[-1] is not None
