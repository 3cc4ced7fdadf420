"""The root Query and Mutation types, merged from one partial type per area (each area owns its module)."""

from __future__ import annotations

from strawberry.tools import merge_types

from api.graphql.audit import AuditQuery
from api.graphql.automation import AutomationMutation, AutomationQuery
from api.graphql.bulk import BulkMutation, BulkQuery
from api.graphql.ladders import LadderMutation, LadderQuery
from api.graphql.lookup import LookupQuery
from api.graphql.mutations.appeal_queue import AppealQueueMutation
from api.graphql.mutations.appeals import AppealMutation
from api.graphql.mutations.intake import IntakeMutation
from api.graphql.mutations.policies import PolicyMutation
from api.graphql.mutations.review import ReviewMutation
from api.graphql.operations import OperationsMutation, OperationsQuery
from api.graphql.queries import CoreQuery
from api.graphql.tokens import TokenMutation, TokenQuery
from api.graphql.transparency import TransparencyQuery
from api.graphql.viewer_query import ViewerQuery
from api.graphql.webhooks import WebhookMutation, WebhookQuery

QUERIES: tuple[type, ...] = (
    ViewerQuery,
    CoreQuery,
    TokenQuery,
    AuditQuery,
    OperationsQuery,
    TransparencyQuery,
    AutomationQuery,
    LadderQuery,
    LookupQuery,
    BulkQuery,
    WebhookQuery,
)
MUTATIONS: tuple[type, ...] = (
    IntakeMutation,
    PolicyMutation,
    ReviewMutation,
    AppealMutation,
    AppealQueueMutation,
    TokenMutation,
    OperationsMutation,
    AutomationMutation,
    LadderMutation,
    BulkMutation,
    WebhookMutation,
)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
