"""The record types one area names in another's fields and payloads, as lazy references (see
`api.graphql.shared.lazy`): `-> CaseRef | None` in an annotation, `one(info, CaseRef, found)` at run time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeAlias

import strawberry

if TYPE_CHECKING:
    from api.graphql.appeals.types import Appeal
    from api.graphql.intake.types import Account, Ad, Report, Subject
    from api.graphql.policies.types import Policy, PolicyVersion, StrikeLadder
    from api.graphql.review.types import Case, Decision, EnforcementAction, Strike
    from api.graphql.rules.hits import RuleHitAction
    from api.graphql.rules.types import Rule
    from api.graphql.transparency.statements import Notice, StatementOfReasons

AppealRef: TypeAlias = Annotated["Appeal", strawberry.lazy("api.graphql.appeals.types")]
AccountRef: TypeAlias = Annotated["Account", strawberry.lazy("api.graphql.intake.types")]
AdRef: TypeAlias = Annotated["Ad", strawberry.lazy("api.graphql.intake.types")]
ReportRef: TypeAlias = Annotated["Report", strawberry.lazy("api.graphql.intake.types")]
SubjectRef: TypeAlias = Annotated["Subject", strawberry.lazy("api.graphql.intake.types")]
PolicyRef: TypeAlias = Annotated["Policy", strawberry.lazy("api.graphql.policies.types")]
PolicyVersionRef: TypeAlias = Annotated["PolicyVersion", strawberry.lazy("api.graphql.policies.types")]
StrikeLadderRef: TypeAlias = Annotated["StrikeLadder", strawberry.lazy("api.graphql.policies.types")]
CaseRef: TypeAlias = Annotated["Case", strawberry.lazy("api.graphql.review.types")]
DecisionRef: TypeAlias = Annotated["Decision", strawberry.lazy("api.graphql.review.types")]
EnforcementActionRef: TypeAlias = Annotated["EnforcementAction", strawberry.lazy("api.graphql.review.types")]
StrikeRef: TypeAlias = Annotated["Strike", strawberry.lazy("api.graphql.review.types")]
RuleRef: TypeAlias = Annotated["Rule", strawberry.lazy("api.graphql.rules.types")]
RuleHitActionRef: TypeAlias = Annotated["RuleHitAction", strawberry.lazy("api.graphql.rules.hits")]
NoticeRef: TypeAlias = Annotated["Notice", strawberry.lazy("api.graphql.transparency.statements")]
StatementOfReasonsRef: TypeAlias = Annotated[
    "StatementOfReasons", strawberry.lazy("api.graphql.transparency.statements")
]
