"""Demo data for `make run`: every state of the lifecycle in the US and EU, written through the domain services
(so rules, enforcement and audit events are the real ones). Idempotent: a second run adds nothing.

Per region: queues (content review with its escalation queue, ads review, account review, appeals) that every
demo case and appeal waits in, an automation rule per region (classifier `demo-classifier` on HATE_SPEECH:
enqueue from 0.6, decide with REMOVE_CONTENT from 0.95), an open mass-report case, an escalated case, violating
and not-violating decisions, a clear-cut classifier signal the rule decided, an active and an expired strike, a
repeat offender banned by the ladder whose ban an overturned appeal lifted, a pending appeal, an account banned at
once under a SEVERE policy, and pending / approved / rejected ads.

Queues and rules are a stage of their own: a database seeded before they existed gets them on the next run, and
its cases waiting outside any queue are rerouted into them (``rerouteCases``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from api.services.seed_staff import demo_staff, seed_staff
from authz.actors import actor_for
from authz.enforcer import get_authorizer
from authz.permissions import Permission
from authz.principal import Principal
from domain.account import AccountKind
from domain.actor import Actor, ActorKind
from domain.appeal import AppealState
from domain.automation import RuleSettings
from domain.clock import FixedClock
from domain.content import ContentKind
from domain.decision import Verdict
from domain.enforcement import ActionKind, RequestedAction
from domain.policy import Severity
from domain.queue import QueueSettings, QueueSurface
from domain.region import Region
from domain.report import ReportSource
from domain.services.account import UpsertAccount, upsert_account
from domain.services.ad import AdReviewOutcome, ReviewAd, SubmitAd, review_ad, submit_ad
from domain.services.appeal import DecideAppeal, FileAppeal, decide_appeal, file_appeal
from domain.services.automation import DefineAutomationRule, SubmitSignal, define_automation_rule, submit_signal
from domain.services.case import EscalateCase, escalate_case
from domain.services.content import UpsertContent, upsert_content
from domain.services.decision import DecideCase, decide_case
from domain.services.policy import DefinePolicy, define_policy
from domain.services.queue import DefineQueue, RerouteCases, define_queue, reroute_cases
from domain.services.report import SubmitReport, submit_report
from domain.subject import SubjectKind, Surface
from persistence import demo
from persistence.automation_cut_over import SqlCutOverStore
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.principals import SYSTEM_AUDIT
from persistence.queries.waiting import unqueued_cases
from persistence.repositories import PostgresUnitOfWork
from persistence.uow import AuditContext

T = TypeVar("T")
MARKER = "demo-creator-1"
PLATFORM = Actor(id="partner:platform-demo", kind=ActorKind.TOKEN)
POLICIES = (
    ("HATE_SPEECH", "Hate speech", Surface.CONTENT, Severity.HIGH, "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
    ("SPAM", "Spam", Surface.CONTENT, Severity.LOW, "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"),
    ("MINOR_SAFETY", "Minor safety", Surface.CONTENT, Severity.SEVERE, "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"),
    ("VIOLENT_EXTREMISM", "Violent extremism", Surface.CONTENT, Severity.SEVERE, "STATEMENT_CATEGORY_VIOLENCE"),
    (
        "IMPERSONATION",
        "Impersonation",
        Surface.ACCOUNT,
        Severity.MEDIUM,
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    ),
    ("MISLEADING_AD_CLAIMS", "Misleading ad claims", Surface.ADS, Severity.HIGH, "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"),
    (
        "PROHIBITED_PRODUCTS",
        "Prohibited products",
        Surface.ADS,
        Severity.SEVERE,
        "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    ),
)
#: The DSA keywords (category_specification) each policy's statements carry.
KEYWORDS = {
    "HATE_SPEECH": ("KEYWORD_HATE_SPEECH",),
    "SPAM": (),
    "MINOR_SAFETY": ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
    "VIOLENT_EXTREMISM": ("KEYWORD_TERRORIST_CONTENT",),
    "IMPERSONATION": ("KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",),
    "MISLEADING_AD_CLAIMS": ("KEYWORD_MISLEADING_INFO_GOODS_SERVICES",),
    "PROHIBITED_PRODUCTS": ("KEYWORD_PROHIBITED_PRODUCTS",),
}


def _url(code: str) -> str:
    """Where a demo policy's published rule would be read."""
    return f"https://platform.example/community-guidelines#{code.lower().replace('_', '-')}"


FIRST_LINE = ("moderator", "senior_moderator", "vendor_moderator")
SENIORS = ("senior_moderator", "policy_manager")
#: Per region: (name, surface, roles, default queue?); the content queue escalates to "content-escalations".
QUEUES = (
    ("content-escalations", QueueSurface.CONTENT, SENIORS, False),
    ("content-review", QueueSurface.CONTENT, FIRST_LINE, True),
    ("ads-review", QueueSurface.ADS, ("moderator", "senior_moderator", "vendor_moderator"), True),
    ("account-review", QueueSurface.ACCOUNT, ("moderator", "senior_moderator"), True),
    ("appeals", QueueSurface.APPEALS, SENIORS, True),
)
CLASSIFIER = "demo-classifier"
STAFF_ROLES = {name: (role, region) for name, role, region in demo_staff()}


class Seeder:
    def __init__(self, sessions: SessionFactory, staff: dict[str, str], now: datetime) -> None:
        self.sessions = sessions
        self.staff = staff
        self.now = now
        self.policy_ids: dict[str, uuid.UUID] = {}

    def actor(self, name: str) -> Actor:
        """The demo staff member ``name`` as the API would see them (seniority and capabilities from authz)."""
        role, region = STAFF_ROLES[name]
        principal = Principal.staff(self.staff[name], name, frozenset({(role.value, region)}))
        return actor_for(principal, get_authorizer().permission_map(principal), Permission.CASES_DECIDE)

    async def step(
        self, operation: str, actor: Actor, work: Callable[[PostgresUnitOfWork], Awaitable[T]], *, days_ago: float = 0
    ) -> T:
        clock = FixedClock(self.now - timedelta(days=days_ago))
        kind = "PARTNER" if actor.kind is ActorKind.TOKEN else actor.kind.value
        audit = AuditContext(actor_kind=kind, actor_id=actor.id, operation=operation, reason="demo data")
        async with PostgresUnitOfWork(self.sessions, audit, clock=clock) as uow:
            return await work(uow)

    async def policies(self) -> None:
        admin = self.actor("admin-global")
        for code, name, surface, severity, dsa in POLICIES:
            description = f"{name}: see the community guidelines."
            cmd = DefinePolicy(
                code, name, surface, severity, dsa, description, dsa_keywords=KEYWORDS[code], guidelines_url=_url(code)
            )
            defined = await self.step("definePolicy", admin, partial(define_policy, actor=admin, cmd=cmd), days_ago=400)
            self.policy_ids[code] = defined.policy.id
        update = DefinePolicy(
            "HATE_SPEECH",
            "Hate speech",
            Surface.CONTENT,
            Severity.HIGH,
            POLICIES[0][4],
            "Hate speech, v2: coded slurs are covered too.",
            dsa_keywords=KEYWORDS["HATE_SPEECH"],
            guidelines_url=_url("HATE_SPEECH"),
        )
        await self.step("definePolicy", admin, lambda u: define_policy(u, admin, update), days_ago=30)

    async def load_policy_ids(self) -> None:
        async with self.sessions() as session:
            self.policy_ids = await demo.policy_ids(session)

    async def operations(self, region: Region) -> str:
        """The region's queues and automation rule, unless they exist; then reroute its unqueued cases."""
        admin = self.actor("admin-global")
        queue_ids: dict[str, uuid.UUID] = {}
        async with self.sessions() as session:
            queue_ids = await demo.queue_ids(session, region)
        added = 0
        for name, surface, roles, default in QUEUES:
            if name in queue_ids:
                continue
            escalation = queue_ids.get("content-escalations") if name == "content-review" else None
            settings = QueueSettings(surface=surface, roles=roles, is_default=default, escalation_queue_id=escalation)
            cmd = DefineQueue(region=region, name=name, settings=settings)
            queue = await self.step("defineQueue", admin, partial(define_queue, actor=admin, cmd=cmd), days_ago=400)
            queue_ids[name] = queue.id
            added += 1
        rule = DefineAutomationRule(
            region=region,
            policy_id=self.policy_ids["HATE_SPEECH"],
            classifier=CLASSIFIER,
            settings=RuleSettings(
                enqueue_threshold=0.6,
                decide_threshold=0.95,
                actions=(RequestedAction(ActionKind.REMOVE_CONTENT),),
            ),
        )
        async with self.sessions() as session:
            has_rule = await demo.has_automation_rule(session, region, CLASSIFIER)
        if not has_rule:
            await self.step(
                "defineAutomationRule",
                admin,
                lambda uow: define_automation_rule(uow, admin, rule, SqlCutOverStore(uow)),
                days_ago=400,
            )

        async def reroute(uow: PostgresUnitOfWork) -> int:
            outcome = await reroute_cases(uow, admin, RerouteCases(region=region), unqueued_cases(uow))
            return len(outcome.routed)

        rerouted = await self.step("rerouteCases", admin, reroute)
        return f"{region.value}: {added} queue(s) added, {rerouted} waiting case(s) routed"

    async def account(self, region: Region, ext: str, kind: AccountKind, days_ago: float = 200) -> uuid.UUID:
        cmd = UpsertAccount(
            region=region,
            external_id=ext,
            kind=kind,
            handle=ext,
            display_name=ext.replace("-", " "),
            email=f"{ext}@example.{region.value.lower()}",
            phone="+15550100",
            last_ip="203.0.113.7",
            language="en",
        )
        found = await self.step(
            "upsertAccount", PLATFORM, lambda u: upsert_account(u, PLATFORM, cmd), days_ago=days_ago
        )
        return found.id

    async def content(self, owner: uuid.UUID, ext: str, reach: int, days_ago: float = 150) -> uuid.UUID:
        cmd = UpsertContent(owner_account_id=owner, external_id=ext, kind=ContentKind.VIDEO, title=ext, reach=reach)
        found = await self.step(
            "upsertContent", PLATFORM, lambda u: upsert_content(u, PLATFORM, cmd), days_ago=days_ago
        )
        return found.id

    async def report(
        self,
        kind: SubjectKind,
        subject: uuid.UUID,
        policy: str,
        *,
        source: ReportSource = ReportSource.USER,
        key: str | None = None,
        days_ago: float = 0,
    ) -> uuid.UUID:
        cmd = SubmitReport(
            subject_kind=kind,
            subject_id=subject,
            policy_id=self.policy_ids[policy],
            source=source,
            text="Reported from the app.",
            idempotency_key=key,
        )
        report = await self.step("submitReport", PLATFORM, lambda u: submit_report(u, PLATFORM, cmd), days_ago=days_ago)
        return report.case_id

    async def decide(
        self,
        case_id: uuid.UUID,
        policy: str,
        actor: Actor,
        *,
        verdict: Verdict = Verdict.VIOLATING,
        actions: tuple[RequestedAction, ...] = (),
        days_ago: float = 0,
    ) -> uuid.UUID:
        cmd = DecideCase(
            case_id=case_id,
            verdict=verdict,
            policy_id=self.policy_ids[policy],
            rationale="Reviewed against the policy in force.",
            actions=actions,
        )
        result = await self.step("decideCase", actor, lambda u: decide_case(u, actor, cmd), days_ago=days_ago)
        return result.decision.id

    async def region(self, region: Region) -> None:
        r = region.value
        mod, senior = self.actor(f"moderator-{r}"), self.actor(f"senior_moderator-{r}")
        creator = await self.account(
            region, f"demo-creator-1-{r.lower()}" if region is not Region.US else MARKER, AccountKind.CREATOR
        )
        offender = await self.account(region, f"demo-repeat-offender-{r.lower()}", AccountKind.CREATOR)
        veteran = await self.account(region, f"demo-veteran-{r.lower()}", AccountKind.CREATOR)
        advertiser = await self.account(region, f"demo-advertiser-{r.lower()}", AccountKind.ADVERTISER)

        viral = await self.content(creator, f"viral-video-{r.lower()}", 3_000_000)
        for i in range(12):  # a mass-report wave: one open case with every report attached
            source = ReportSource.TRUSTED_FLAGGER if i == 0 else ReportSource.USER
            await self.report(SubjectKind.CONTENT, viral, "HATE_SPEECH", source=source, key=f"wave-{r}-{i}")

        borderline = await self.content(creator, f"borderline-clip-{r.lower()}", 20_000)
        case = await self.report(SubjectKind.CONTENT, borderline, "VIOLENT_EXTREMISM", days_ago=1)
        esc = EscalateCase(case_id=case, reason="Newsworthy footage: needs a policy call.")
        await self.step("escalateCase", mod, lambda u: escalate_case(u, mod, esc), days_ago=0.5)

        benign = await self.content(creator, f"cooking-show-{r.lower()}", 5_000)
        case = await self.report(SubjectKind.CONTENT, benign, "SPAM", days_ago=3)
        await self.decide(case, "SPAM", mod, verdict=Verdict.NOT_VIOLATING, days_ago=2)

        old = await self.content(veteran, f"old-rant-{r.lower()}", 800, days_ago=200)
        case = await self.report(SubjectKind.CONTENT, old, "HATE_SPEECH", days_ago=130)
        await self.decide(
            case, "HATE_SPEECH", mod, actions=(RequestedAction(ActionKind.REMOVE_CONTENT),), days_ago=120
        )  # its strike has expired by now

        decisions = []
        for n, days in enumerate((40, 20, 5)):  # warn, restrict 7 days, ban at the third strike
            video = await self.content(offender, f"offence-{n + 1}-{r.lower()}", 50_000, days_ago=days + 2)
            case = await self.report(SubjectKind.CONTENT, video, "HATE_SPEECH", days_ago=days + 1)
            decisions.append(
                await self.decide(
                    case, "HATE_SPEECH", mod, days_ago=days, actions=(RequestedAction(ActionKind.REMOVE_CONTENT),)
                )
            )
        appeal_cmd = FileAppeal(
            decision_id=decisions[2], appellant_account_id=offender, statement="The clip was satire; context was cut."
        )
        appeal = await self.step("fileAppeal", PLATFORM, lambda u: file_appeal(u, PLATFORM, appeal_cmd), days_ago=4)
        overturn = DecideAppeal(appeal_id=appeal.id, outcome=AppealState.OVERTURNED, rationale="Satire; restored.")
        await self.step("decideAppeal", senior, lambda u: decide_appeal(u, senior, overturn), days_ago=3)
        pending = FileAppeal(decision_id=decisions[1], appellant_account_id=offender, statement="I disagree.")
        await self.step("fileAppeal", PLATFORM, lambda u: file_appeal(u, PLATFORM, pending), days_ago=1)

        banned = await self.account(region, f"demo-banned-{r.lower()}", AccountKind.USER)
        upload = await self.content(banned, f"abuse-upload-{r.lower()}", 10, days_ago=9)
        case = await self.report(SubjectKind.CONTENT, upload, "MINOR_SAFETY", source=ReportSource.AUTOMATED, days_ago=8)
        await self.decide(case, "MINOR_SAFETY", mod, actions=(RequestedAction(ActionKind.REMOVE_CONTENT),), days_ago=8)

        clip = await self.content(creator, f"slur-clip-{r.lower()}", 900, days_ago=2)  # decided by the classifier rule
        signal = SubmitSignal(
            subject_kind=SubjectKind.CONTENT,
            subject_id=clip,
            classifier=CLASSIFIER,
            scores=((self.policy_ids["HATE_SPEECH"], 0.98),),
            idempotency_key=f"demo-signal-{r}",
        )
        await self.step("submitSignal", PLATFORM, lambda u: submit_signal(u, PLATFORM, signal), days_ago=1)

        await self.ads(region, advertiser, mod)

    async def ads(self, region: Region, advertiser: uuid.UUID, mod: Actor) -> None:
        r = region.value.lower()
        ad_ids = []
        for name, headline in (
            ("pending", "Spring sale"),
            ("approved", "New running shoes"),
            ("rejected", "Miracle cure: lose 10 kg in a week"),
        ):
            cmd = SubmitAd(
                advertiser_account_id=advertiser,
                external_id=f"ad-{name}-{r}",
                headline=headline,
                body=headline + "!",
                landing_url=f"https://shop.example/{name}",
                target_regions=(region,),
            )
            submitted = await self.step("submitAd", PLATFORM, partial(submit_ad, actor=PLATFORM, cmd=cmd), days_ago=6)
            ad_ids.append(submitted.ad.id)
        approve = ReviewAd(ad_id=ad_ids[1], outcome=AdReviewOutcome.APPROVE, rationale="Compliant.")
        await self.step("reviewAd", mod, lambda u: review_ad(u, mod, approve), days_ago=5)
        reject = ReviewAd(
            ad_id=ad_ids[2],
            outcome=AdReviewOutcome.REJECT,
            rationale="Unsubstantiated health claim.",
            policy_id=self.policy_ids["MISLEADING_AD_CLAIMS"],
        )
        await self.step("reviewAd", mod, lambda u: review_ad(u, mod, reject), days_ago=5)


async def seed_demo(url: str) -> str:
    engine = create_engine(url, pool_size=2)
    try:
        sessions = create_session_factory(engine)
        async with PostgresUnitOfWork(sessions, SYSTEM_AUDIT) as staff_uow:
            staff_summary = await seed_staff(staff_uow)
        async with sessions() as session:
            done = await demo.has_account(session, MARKER)
            staff = await demo.principal_ids(session)
        seeder = Seeder(sessions, staff, datetime.now(UTC))
        if done:
            await seeder.load_policy_ids()
        else:
            await seeder.policies()
        operations = [await seeder.operations(region) for region in (Region.US, Region.EU)]
        if done:
            return f"already loaded ({'; '.join(operations)}; staff: {staff_summary})"
        for region in (Region.US, Region.EU):
            await seeder.region(region)
        return f"loaded: 7 policies, queues and automation rules, US and EU lifecycles, staff {staff_summary}"
    finally:
        await engine.dispose()
