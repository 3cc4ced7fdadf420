"""`subjectId` and `policyId`: how a reporter (a trusted flagger, a platform) finds the IDs `submitReport` and
`submitSignal` take, from what it knows: the platform's own id for an account, a piece of content or an ad, and
the policy's code (the published rules). They answer an ID alone: reporting needs no read access to the record
(a flagger holds `reports:create`, not `content:read` nor `policies:read`)."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest, Forbidden
from api.graphql.ids import to_global_id
from api.graphql.permissions import requires
from authz.permissions import Permission
from domain import limits
from domain.errors import DomainError
from domain.region import Region
from domain.subject import SubjectKind
from persistence.lookup import policy_id_by_code, subject_id_by_external_id

TYPE_NAMES = {SubjectKind.ACCOUNT: "Account", SubjectKind.CONTENT: "Content", SubjectKind.AD: "Ad"}


@strawberry.type
class LookupQuery:
    @strawberry.field(
        extensions=requires(Permission.REPORTS_CREATE),
        description="The global ID of the account, content or ad that the platform knows as `externalId` in "
        "`region` (the ID `submitReport` takes as `subjectId`); null when there is none. Needs reports:create "
        "in that region.",
    )
    async def subject_id(self, info: Info, region: Region, kind: SubjectKind, external_id: str) -> strawberry.ID | None:
        if not info.context.permissions.allows(Permission.REPORTS_CREATE, region.value):
            raise Forbidden(f"permission {Permission.REPORTS_CREATE.value} is required in region {region.value}")
        try:
            limits.text(external_id, field="externalId", max_len=limits.NAME_MAX)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        async with info.context.sessions() as session:
            found = await subject_id_by_external_id(session, kind, region, external_id)
        return None if found is None else strawberry.ID(to_global_id(TYPE_NAMES[kind], found))

    @strawberry.field(
        extensions=requires(Permission.REPORTS_CREATE, Permission.SIGNALS_CREATE),
        description="The global ID of the policy with this code (e.g. HATE_SPEECH), as reports and signals cite "
        "it; null when there is none. Needs reports:create or signals:create.",
    )
    async def policy_id(self, info: Info, code: str) -> strawberry.ID | None:
        try:
            limits.text(code, field="code", max_len=limits.NAME_MAX)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        async with info.context.sessions() as session:
            found = await policy_id_by_code(session, code)
        return None if found is None else strawberry.ID(to_global_id("Policy", found))
