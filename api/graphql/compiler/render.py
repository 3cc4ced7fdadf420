"""Pages PostgreSQL renders: a trusted document's page of records answered as JSON text built by the page's statement.

A console page of 100 cases completes some 2,800 fields over ~850 records; graphql-core, or even the compiled plan,
spends milliseconds of Python on them where PostgreSQL builds the same JSON in a fraction of one. So when a
trusted query's root list field (``ROOTS``: ``cases``, ``decisions``, ``strikes``, ``reports``, ``accounts``,
``contentItems``, ``ads``, ``policies``) selects, on its nodes, only what this module knows how to write in SQL
(below), the plan carries a *rendering*: one SQL expression per row that writes the node's JSON text exactly as
the response would hold it (keys in selection order, aliases, ``__typename``, global ids, enum names, ISO
date-times as Python writes them, nulls, nested objects and lists with the read check of each record). The page's
own statement (its filter, region walls, keyset and cursor, unchanged) is wrapped to return that text with the
row's sort key and id; the connection (cursors, ``pageInfo``, edges) is still completed by the plan, and each node
is the rendered text, spliced into the response by orjson as a ``Fragment``.

What it renders, and nothing else (any other field, a nested argument naming a variable other than a case's
``reports(first:)``, a node selected twice under the connection: the page runs as before; the root field's own
arguments are the resolver's, variables or not):

- plain fields that are columns of the record (``TYPES``), ``id`` (the global id), ``__typename``;
- the relations and computed fields in ``RELATIONS``: a case's subject (the union), account, decision, reports
  (``first:``), strikes and queue id; a decision's case, subject, policy, actions and strikes; an action's target,
  decision and strike; a strike's status, account, policy and decision; a report's subject and policy; an
  account's status, a content's owner, an ad's advertiser and ``serving``, a policy's current version number.

A nested record answers null (an object) or is left out (a list) unless the reader may see it, as
``api.graphql.shared.visibility.visible`` decides: the regions where the reader holds the type's read permission
are parameters of the statement, asked of the request's permission map. Times computed from the clock (a strike's
status, an account's) compare with the request's ``now``, a parameter too. Where the Python path would do more
than this module writes (an account whose suspension lapsed: its status comes from its enforcement actions; a
stored enum value outside its type) the expression is NULL, and the page is read again and answered the ordinary
way. ``tests/integration/compiler/test_rendered_pages.py`` holds every field here to graphql-core, byte for byte.

Every text in the SQL is either this module's own or a GraphQL name (response keys, type names), which the
grammar limits to ``[_A-Za-z][_0-9A-Za-z]*`` (checked again here); values from the request are parameters.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from graphql.execution.values import VariableValues, get_argument_values

from api.graphql.compiler.plan import Completion, FieldPlan, OperationPlan, Selection
from api.graphql.execution import output_coercion
from persistence.pagination import isoformat_sql

NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")
MAX_NESTED = 100
MAX_FIELDS = 300
"""Fields one rendering may hold (a console page renders ~25): past it, the page is completed in Python. Each
field is a link in a chain of ``||`` PostgreSQL parses recursively (thousands exhaust its stack)."""


@dataclass(frozen=True)
class Table:
    table: str
    columns: frozenset[str]
    """Plain fields that are the record's columns as stored (python name = column name)."""
    region_nullable: bool = False


TYPES: dict[str, Table] = {
    "Case": Table(
        "cases",
        frozenset(
            [
                "region",
                "subject_kind",
                "surface",
                "state",
                "priority",
                "report_count",
                "sla_due_at",
                "assignee_id",
                "lease_expires_at",
                "escalation_reason",
                "decided_at",
                "closed_at",
                "created_at",
                "updated_at",
                "version",
            ]
        ),
    ),
    "Content": Table(
        "contents",
        frozenset(
            [
                "region",
                "external_id",
                "kind",
                "title",
                "text",
                "url",
                "language",
                "reach",
                "visibility",
                "created_at",
                "updated_at",
            ]
        ),
    ),
    "Account": Table(
        "accounts",
        frozenset(
            [
                "region",
                "external_id",
                "kind",
                "handle",
                "display_name",
                "language",
                "status_until",
                "created_at",
                "updated_at",
            ]
        ),
    ),
    "Ad": Table(
        "ads",
        frozenset(
            [
                "region",
                "external_id",
                "headline",
                "body",
                "landing_url",
                "review_status",
                "restrictions",
                "reviewed_at",
                "created_at",
                "updated_at",
            ]
        ),
    ),
    "Report": Table(
        "reports",
        frozenset(
            [
                "region",
                "subject_kind",
                "source",
                "reporter_id",
                "reporter_kind",
                "text",
                "idempotency_key",
                "created_at",
            ]
        ),
    ),
    "Policy": Table("policies", frozenset(["region", "code", "name", "surface", "created_at", "updated_at"]), True),
    "Decision": Table(
        "decisions",
        frozenset(
            [
                "region",
                "subject_kind",
                "verdict",
                "rationale",
                "decider_id",
                "decider_kind",
                "automated",
                "decided_at",
                "overturned_at",
            ]
        ),
    ),
    "Strike": Table(
        "strikes", frozenset(["region", "surface", "severity", "weight", "issued_at", "expires_at", "reversed_at"])
    ),
    "EnforcementAction": Table(
        "enforcement_actions",
        frozenset(["region", "kind", "target_kind", "starts_at", "ends_at", "reversed_at", "source"]),
    ),
}

ROOTS = {
    ("Query", "cases"): "Case",
    ("Query", "decisions"): "Decision",
    ("Query", "strikes"): "Strike",
    ("Query", "reports"): "Report",
    ("Query", "accounts"): "Account",
    ("Query", "contentItems"): "Content",
    ("Query", "ads"): "Ad",
    ("Query", "policies"): "Policy",
}
"""Root connection fields whose page statement can carry a rendering: (parent type, field) -> node type."""


@dataclass(frozen=True)
class RenderPlan:
    """A root field's rendering: the node expression over the page's row ``p`` (its parameters as tokens), the
    parameters in order, and the node selection it answers (the plan passes its values through)."""

    table: str
    expression: str
    parameters: tuple[tuple[str, str], ...]
    selection: Selection
    limits: tuple[FieldPlan, ...] = ()
    """Nested lists whose ``first`` names a variable: their limits are parameters too."""

    def arguments(self, permissions: Any, reporter_id: str, variables: Any) -> list[Any] | None:
        """The statement's values for this request: ``permissions`` is the request's permission map, ``variables``
        its executor's variable values. None: this request cannot be rendered (a nested ``first`` out of range,
        which the resolver refuses with its own error)."""
        from api.graphql.shared.visibility import READ_PERMISSION  # the one read rule (imports the schema)
        from authz.permissions import Permission

        now = datetime.now(UTC)
        values: list[Any] = []
        for kind, name in self.parameters:
            if kind == "now":
                values.append(now)
            elif kind == "limit":
                field_plan = self.limits[int(name)]
                scoped = VariableValues({}, variables) if isinstance(variables, dict) else variables  # resolve info's
                try:
                    arguments = get_argument_values(field_plan.definition, field_plan.details[0].node, scoped)
                except Exception:  # refused: the field reports it, unrendered, as ever
                    return None
                first = arguments.get("first")
                if first.__class__ is not int or not 0 <= first <= MAX_NESTED:
                    return None
                values.append(first)
            elif kind == "reporter":
                values.append(reporter_id)
            elif kind == "own":
                own = permissions.regions(Permission.REPORTS_READ_OWN)
                values.append(None if own is None else sorted(own))
            elif kind == "global":
                values.append(permissions.allows(READ_PERMISSION[name]))
            else:  # "regions": None reads every region
                regions = permissions.regions(READ_PERMISSION[name])
                values.append(None if regions is None else sorted(regions))
        return values


class _Unrenderable(Exception):
    pass


@dataclass
class _Builder:
    parameters: list[tuple[str, str]] = field(default_factory=list)
    aliases: int = 0
    fields: int = 0
    limits: list[FieldPlan] = field(default_factory=list)

    def param(self, kind: str, name: str = "") -> str:
        key = (kind, name)
        if key not in self.parameters:
            self.parameters.append(key)
        return f"\x00{self.parameters.index(key)}\x00"

    def alias(self) -> str:
        self.aliases += 1
        return f"r{self.aliases}"

    # --- records ---

    def visible(self, type_name: str, alias: str) -> str:
        regions = self.param("regions", type_name)
        allowed = f"({regions}::text[] IS NULL OR {alias}.region = ANY({regions}::text[]))"
        if TYPES[type_name].region_nullable:
            everywhere = self.param("global", type_name)
            allowed = f"(CASE WHEN {alias}.region IS NULL THEN {everywhere}::boolean ELSE {allowed} END)"
        if type_name == "Report":
            own = self.param("own")
            allowed = (
                f"({allowed} OR (({own}::text[] IS NULL OR {alias}.region = ANY({own}::text[])) "
                f"AND {alias}.reporter_id = {self.param('reporter')}::text))"
            )
        return allowed

    def record(self, selection: Selection, alias: str) -> str:
        """The JSON object of ``selection`` over the row ``alias``: NULL when the page must be answered the
        ordinary way."""
        type_name = selection.type.name
        if type_name not in TYPES:
            raise _Unrenderable(type_name)
        self.fields += len(selection.fields)
        if self.fields > MAX_FIELDS:
            raise _Unrenderable("too many fields")
        parts: list[str] = []
        for index, field_plan in enumerate(selection.fields):
            key = _name(field_plan.response_name)
            parts.append(_literal(("{" if index == 0 else ",") + f'"{key}":'))
            parts.append(self.field(selection.type, field_plan, alias))
        parts.append(_literal("}" if parts else "{}"))
        return "(" + " || ".join(parts) + ")"

    def field(self, parent: GraphQLObjectType, plan: FieldPlan, alias: str) -> str:
        type_name = parent.name
        if plan.kind == "typename":
            return _literal(f'"{_name(type_name)}"')
        python_name = _python_name(plan)
        if plan.kind == "leaf":
            if python_name == "id":
                return _global_id(type_name, f"{alias}.id")
            if python_name not in TYPES[type_name].columns:
                raise _Unrenderable(f"{type_name}.{python_name}")
            return _leaf(plan.definition.type, f"{alias}.{python_name}")
        if plan.kind != "resolver" or plan.completion is None:
            raise _Unrenderable(f"{type_name}.{python_name}")
        relation = RELATIONS.get((type_name, python_name))
        if relation is None or (plan.dynamic_arguments and relation is not _case_reports):
            raise _Unrenderable(f"{type_name}.{python_name}")
        return relation(self, plan, alias)

    def one(self, type_name: str, key: str, completion: Completion) -> str:
        """A related record by id: its object, null when absent or not visible, NULL to give up (the row's text
        is NULL)."""
        selection = _object(completion)
        alias = self.alias()
        table = TYPES[type_name].table
        inner = self.record(selection, alias)
        rows = self.alias()
        # no row: null; a row whose text is NULL: NULL (given up). Each row's text is written once: a ``nullif``
        # or ``coalesce`` around the subquery would run it twice
        return (
            f"(SELECT CASE WHEN count(*) = 0 THEN 'null' ELSE min({rows}.j) END FROM "  # noqa: S608 (this module's)
            f"(SELECT {inner} AS j FROM {table} {alias} "
            f"WHERE {alias}.id = {key} AND {self.visible(type_name, alias)}) {rows})"
        )

    def many(self, type_name: str, column: str, key: str, completion: Completion, limit: str | None) -> str:
        """The related records by a parent key, ordered by (created_at, id), the visible ones: a JSON list."""
        item = completion.inner if completion.kind == "non_null" else completion
        if item is None or item.kind != "list" or item.inner is None:
            raise _Unrenderable("not a list")
        selection = _object(item.inner)
        alias, rows = self.alias(), self.alias()
        table = TYPES[type_name].table
        cut = "" if limit is None else f" LIMIT {limit}"
        record, visible = self.record(selection, alias), self.visible(type_name, alias)
        # only the columns the text and the read check use are sorted (a report's row is ~1 KB)
        used = sorted({"created_at", "id", *re.findall(rf"\b{alias}\.([a-z_]+)\b", record + visible)})
        source = (
            f"(SELECT {', '.join(used)} FROM {table} "  # noqa: S608 (this module's names)
            f"WHERE {column} = {key} ORDER BY created_at, id{cut})"
        )
        inner = (
            f"SELECT {alias}.created_at, {alias}.id, {record} AS j "  # noqa: S608
            f"FROM {source} {alias} WHERE {visible} OFFSET 0"  # kept whole: ``j`` once
        )
        return (
            f"(SELECT CASE WHEN bool_or({rows}.j IS NULL) THEN NULL ELSE "  # noqa: S608 (this module's text)
            f"'[' || coalesce(string_agg({rows}.j, ',' ORDER BY {rows}.created_at, {rows}.id), '') || ']' END "
            f"FROM ({inner}) {rows})"
        )


def _name(name: str) -> str:
    if not NAME.match(name):
        raise _Unrenderable(name)
    return name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _python_name(plan: FieldPlan) -> str:
    """The field's Python name; a field with a permission class, a field extension (``requires``, the payload read
    check...) or directives of its own is never rendered: only its resolver applies them."""
    definition = plan.definition.extensions.get("strawberry-definition")
    name = getattr(definition, "python_name", None)
    if not isinstance(name, str):
        raise _Unrenderable(plan.response_name)
    if getattr(definition, "permission_classes", None) or getattr(definition, "extensions", None):
        raise _Unrenderable(f"{plan.response_name}: guarded")
    if getattr(definition, "directives", None):
        raise _Unrenderable(f"{plan.response_name}: directives")
    return name


def _global_id(type_name: str, column: str) -> str:
    """``to_global_id``: base64 of ``Type:<uuid>``, as a JSON string. PostgreSQL's base64 breaks lines every 76
    characters, which an id of a type name up to 20 characters never reaches (57 bytes)."""
    prefix = _literal(f"{_name(type_name)}:")
    encoded = f"encode(convert_to({prefix} || {column}::text, 'UTF8'), 'base64')"
    if len(type_name) + 1 + 36 > 57:
        encoded = f"translate({encoded}, E'\\n', '')"
    return f"""('"' || {encoded} || '"')"""


def _object(completion: Completion) -> Selection:
    inner = completion.inner if completion.kind == "non_null" else completion
    if inner is None or inner.kind != "object" or inner.selection is None:
        raise _Unrenderable("not an object")
    return inner.selection


def _enum(enum_type: GraphQLEnumType, value: str) -> str:
    wrapped = getattr(enum_type, "wrapped_cls", None)
    if not isinstance(wrapped, type) or not issubclass(wrapped, enum.Enum):
        raise _Unrenderable(enum_type.name)
    whens = []
    for member in wrapped:
        name = output_coercion(enum_type)(member)
        if not isinstance(member.value, str) or not isinstance(name, str):
            raise _Unrenderable(enum_type.name)
        answer = _literal('"' + _name(name) + '"')
        whens.append(f"WHEN {_literal(member.value)} THEN {answer}")
    return f"(CASE {value} {' '.join(whens)} END)"


def _leaf(graphql_type: Any, column: str) -> str:
    """A column as the JSON the response holds for it (NULL for a value the Python path answers otherwise)."""
    nullable = not isinstance(graphql_type, GraphQLNonNull)
    leaf = graphql_type if nullable else graphql_type.of_type
    if isinstance(leaf, GraphQLEnumType):
        text = _enum(leaf, column)
    elif isinstance(leaf, GraphQLScalarType) and leaf.name in ("String", "ID"):
        text = f"to_json({column}::text)::text"
    elif isinstance(leaf, GraphQLScalarType) and leaf.name == "Int":
        text = f"({column})::int::text"
    elif isinstance(leaf, GraphQLScalarType) and leaf.name == "Boolean":
        text = f"(CASE WHEN {column} THEN 'true' ELSE 'false' END)"
    elif isinstance(leaf, GraphQLScalarType) and leaf.name == "DateTime":
        text = _datetime(column)
    else:
        raise _Unrenderable(str(leaf))
    if nullable:
        return f"(CASE WHEN {column} IS NULL THEN 'null' ELSE {text} END)"
    return text


def _datetime(column: str) -> str:
    return f"""('"' || {isoformat_sql(column)} || '"')"""


def _enum_literal(plan: FieldPlan, member: enum.Enum) -> str:
    leaf = plan.definition.type
    leaf = leaf.of_type if isinstance(leaf, GraphQLNonNull) else leaf
    if not isinstance(leaf, GraphQLEnumType):
        raise _Unrenderable(plan.response_name)
    name = output_coercion(leaf)(member)
    if not isinstance(name, str):
        raise _Unrenderable(plan.response_name)
    return _literal(f'"{_name(name)}"')


# --- relations (resolver fields), each as its resolver answers ---


def _subject(kind: str, key: str) -> Callable[[_Builder, FieldPlan, str], str]:
    """``load_subject`` (and ``subject_of``): the account, content or ad the row's ``kind`` and ``key`` name."""

    def render(b: _Builder, plan: FieldPlan, alias: str) -> str:
        completion = plan.completion
        assert completion is not None
        inner = completion.inner if completion.kind == "non_null" else completion
        if inner is None or inner.kind != "abstract":
            raise _Unrenderable("a subject")
        members = {}
        for type_name in ("Account", "Content", "Ad"):
            selection = inner.selections.get(type_name)
            if selection is None:
                raise _Unrenderable("a subject")
            member = Completion(selection.type, "object", None, selection)
            members[type_name] = b.one(type_name, f"{alias}.{key}", member)
        return (
            f"(CASE {alias}.{kind} WHEN 'ACCOUNT' THEN {members['Account']} "
            f"WHEN 'CONTENT' THEN {members['Content']} ELSE {members['Ad']} END)"
        )

    return render


def _one(type_name: str, key: str) -> Callable[[_Builder, FieldPlan, str], str]:
    """A resolver answering ``one(info, <type>, <loader by id>.load(<key>))`` (null for a null key)."""
    return lambda b, plan, alias: b.one(type_name, f"{alias}.{key}", _completion(plan))


def _many(type_name: str, column: str, key: str) -> Callable[[_Builder, FieldPlan, str], str]:
    """A resolver answering ``many(info, <type>, <loader grouped by column>.load(<key>))``, ordered by
    (created_at, id)."""
    return lambda b, plan, alias: b.many(type_name, column, f"{alias}.{key}", _completion(plan), None)


def _case_reports(b: _Builder, plan: FieldPlan, alias: str) -> str:
    assert plan.completion is not None
    if plan.dynamic_arguments:  # ``first: $n``: a parameter, checked per request (``RenderPlan.arguments``)
        b.limits.append(plan)
        limit = f"{b.param('limit', str(len(b.limits) - 1))}::int"
    else:
        first = (plan.arguments or {}).get("first", 50)
        if first.__class__ is not int or not 0 <= first <= MAX_NESTED:
            raise _Unrenderable("Case.reports")  # the resolver refuses it: the ordinary path answers the error
        limit = str(first)
    return b.many("Report", "case_id", f"{alias}.id", plan.completion, limit)


def _case_queue_id(b: _Builder, plan: FieldPlan, alias: str) -> str:
    return f"(CASE WHEN {alias}.queue_id IS NULL THEN 'null' ELSE {_global_id('Queue', f'{alias}.queue_id')} END)"


def _strike_status(b: _Builder, plan: FieldPlan, alias: str) -> str:
    from domain.strike import StrikeStatus

    now = b.param("now")
    return (
        f"(CASE WHEN {alias}.status = 'REVERSED' THEN {_enum_literal(plan, StrikeStatus.REVERSED)} "
        f"WHEN {alias}.issued_at <= {now}::timestamptz AND {now}::timestamptz < {alias}.expires_at "
        f"THEN {_enum_literal(plan, StrikeStatus.ACTIVE)} ELSE {_enum_literal(plan, StrikeStatus.EXPIRED)} END)"
    )


def _account_status(b: _Builder, plan: FieldPlan, alias: str) -> str:
    leaf = plan.definition.type
    leaf = leaf.of_type if isinstance(leaf, GraphQLNonNull) else leaf
    if not isinstance(leaf, GraphQLEnumType):
        raise _Unrenderable("Account.status")
    now = b.param("now")
    # a lapsed suspension's status comes from the account's actions: NULL, the ordinary path answers it
    return (
        f"(CASE WHEN {alias}.status_until IS NULL OR {alias}.status_until > {now}::timestamptz "
        f"THEN {_enum(leaf, f'{alias}.status')} END)"
    )


def _ad_serving(b: _Builder, plan: FieldPlan, alias: str) -> str:
    return f"(CASE WHEN {alias}.review_status IN ('APPROVED', 'APPROVED_RESTRICTED') THEN 'true' ELSE 'false' END)"


def _policy_version_number(b: _Builder, plan: FieldPlan, alias: str) -> str:
    return f"({alias}.current_version)::int::text"


def _completion(plan: FieldPlan) -> Completion:
    assert plan.completion is not None
    return plan.completion


RELATIONS: dict[tuple[str, str], Callable[[_Builder, FieldPlan, str], str]] = {
    ("Case", "subject"): _subject("subject_kind", "subject_id"),
    ("Case", "account"): _one("Account", "subject_account_id"),
    ("Case", "decision"): _one("Decision", "decision_id"),
    ("Case", "reports"): _case_reports,
    ("Case", "strikes"): _many("Strike", "decision_id", "decision_id"),
    ("Case", "queue_id"): _case_queue_id,
    ("Decision", "case"): _one("Case", "case_id"),
    ("Decision", "subject"): _subject("subject_kind", "subject_id"),
    ("Decision", "policy"): _one("Policy", "policy_id"),
    ("Decision", "actions"): _many("EnforcementAction", "decision_id", "id"),
    ("Decision", "strikes"): _many("Strike", "decision_id", "id"),
    ("EnforcementAction", "target"): _subject("target_kind", "target_id"),
    ("EnforcementAction", "decision"): _one("Decision", "decision_id"),
    ("EnforcementAction", "strike"): _one("Strike", "strike_id"),
    ("Strike", "status"): _strike_status,
    ("Strike", "account"): _one("Account", "account_id"),
    ("Strike", "policy"): _one("Policy", "policy_id"),
    ("Strike", "decision"): _one("Decision", "decision_id"),
    ("Report", "subject"): _subject("subject_kind", "subject_id"),
    ("Report", "policy"): _one("Policy", "policy_id"),
    ("Account", "status"): _account_status,
    ("Content", "owner"): _one("Account", "owner_account_id"),
    ("Ad", "serving"): _ad_serving,
    ("Ad", "advertiser"): _one("Account", "advertiser_account_id"),
    ("Policy", "current_version_number"): _policy_version_number,
}
"""Each resolver field the renderer writes, as its resolver answers it (``api/graphql/review/types.py``,
``intake/types.py``, ``policies/types.py``)."""


# --- the plan's renderings ---


def _node_selections(completion: Completion | None, node_type: str, depth: int = 0) -> list[Selection]:
    """Every selection on ``node_type`` the connection's completion reaches (nodes, edges' node)."""
    if completion is None or depth > 8:
        return []
    if completion.kind in ("non_null", "list"):
        return _node_selections(completion.inner, node_type, depth + 1)
    if completion.kind == "object" and completion.selection is not None:
        if completion.selection.type.name == node_type:
            return [completion.selection]
        found: list[Selection] = []
        for field_plan in completion.selection.fields:
            found += _node_selections(field_plan.completion, node_type, depth + 1)
        return found
    if completion.kind == "abstract":
        found = []
        for selection in completion.selections.values():
            found += _node_selections(Completion(selection.type, "object", None, selection), node_type, depth + 1)
        return found
    return []


def renderings(plan: OperationPlan) -> dict[int, RenderPlan]:
    """The renderings of a query's root fields, by ``id`` of each field's first AST node."""
    if plan.serial or plan.operation.operation.value != "query":
        return {}
    found: dict[int, RenderPlan] = {}
    for field_plan in plan.root.fields:
        node_type = ROOTS.get((plan.root.type.name, field_plan.details[0].node.name.value))
        if node_type is None or field_plan.kind != "resolver":
            continue
        selections = _node_selections(field_plan.completion, node_type)
        if len(selections) != 1:
            continue
        builder = _Builder()
        try:
            expression = builder.record(selections[0], "p")
        except _Unrenderable:
            continue
        found[id(field_plan.details[0].node)] = RenderPlan(
            TYPES[node_type].table, expression, tuple(builder.parameters), selections[0], tuple(builder.limits)
        )
    return found
