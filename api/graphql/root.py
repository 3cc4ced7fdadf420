"""The root Query and Mutation types, merged from the partial types of each area (`api/graphql/<area>/`).

The order below is the order of the root fields in `schema.graphql`: where one area's root fields are not next to
each other there (`viewer` ... `apiTokens`), the area gives one partial type per run of fields.
"""

from __future__ import annotations

from strawberry.tools import merge_types

from api.graphql.appeals.mutations import AppealMutation
from api.graphql.appeals.queries import AppealQuery
from api.graphql.audit.queries import AuditQuery
from api.graphql.automation.mutations import AutomationMutation
from api.graphql.automation.queries import AutomationQuery
from api.graphql.documents.mutations import DocumentMutation
from api.graphql.documents.queries import DocumentQuery
from api.graphql.events.mutations import EventMutation
from api.graphql.intake.mutations import IntakeMutation
from api.graphql.intake.queries import IntakeQuery, LookupQuery, ReportQuery
from api.graphql.nodes import NodeQuery
from api.graphql.operations.mutations import OperationsMutation
from api.graphql.operations.queries import OperationsQuery
from api.graphql.policies.mutations import LadderMutation, PolicyMutation
from api.graphql.policies.queries import LadderQuery, PolicyQuery
from api.graphql.review.bulk import BulkMutation, BulkQuery
from api.graphql.review.bulk_preview import BulkPreviewQuery
from api.graphql.review.mutations import ReviewMutation
from api.graphql.review.queries import ReviewQuery
from api.graphql.rules.backtests import BacktestMutation, BacktestQuery
from api.graphql.rules.hits import RuleHitQuery
from api.graphql.rules.lists import NamedListMutation, NamedListQuery
from api.graphql.rules.mutations import RuleMutation
from api.graphql.rules.queries import RuleQuery
from api.graphql.rules.retroaction import RetroactionMutation
from api.graphql.rules.stats import RuleStatsMutation, RuleStatsQuery
from api.graphql.tokens.mutations import TokenMutation
from api.graphql.tokens.queries import TokenQuery, ViewerQuery
from api.graphql.transparency.queries import TransparencyQuery
from api.graphql.transparency.records import TransparencyMutation
from api.graphql.webhooks.mutations import WebhookMutation
from api.graphql.webhooks.queries import WebhookQuery

QUERIES: tuple[type, ...] = (
    ViewerQuery,
    NodeQuery,
    IntakeQuery,
    PolicyQuery,
    ReportQuery,
    ReviewQuery,
    AppealQuery,
    TokenQuery,
    AuditQuery,
    OperationsQuery,
    TransparencyQuery,
    AutomationQuery,
    LadderQuery,
    LookupQuery,
    BulkQuery,
    BulkPreviewQuery,
    WebhookQuery,
    DocumentQuery,
    RuleQuery,
    NamedListQuery,
    RuleHitQuery,
    RuleStatsQuery,
    BacktestQuery,
)
MUTATIONS: tuple[type, ...] = (
    IntakeMutation,
    PolicyMutation,
    ReviewMutation,
    AppealMutation,
    TokenMutation,
    OperationsMutation,
    AutomationMutation,
    LadderMutation,
    BulkMutation,
    WebhookMutation,
    TransparencyMutation,
    DocumentMutation,
    EventMutation,
    RuleMutation,
    NamedListMutation,
    RuleStatsMutation,
    BacktestMutation,
    RetroactionMutation,
)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
