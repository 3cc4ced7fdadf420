"""Bulk jobs: one decision applied to many cases, item by item, in chunks.

A job is RUNNING from its submission until every item is done (COMPLETED) or someone cancels it (CANCELLED).
Each item succeeds or fails alone: a failed item keeps its typed error (code, message, field) and the others go
on. The job acts with what its submitter was allowed when submitting (``decide_regions``: where it may decide,
None for everywhere; ``sanction_regions``: where it may ban or suspend accounts; ``seniority``), so each item is
checked in its own case's region exactly as a single decision would be.

While a process runs a job it holds a *lease* (``lease_owner`` until ``lease_expires_at``), renewed by every
chunk; a job whose lease expired (its process died) is taken over by another process, which resumes with the
items still PENDING.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain import limits
from domain.actor import Actor, ActorKind, Capability
from domain.decision import Verdict
from domain.enforcement import TARGET_KIND, ActionKind, RequestedAction, validate_requested
from domain.errors import DomainError
from domain.region import Region
from domain.subject import SubjectKind

MAX_ITEMS = 1_000
CHUNK_SIZE = 50
LEASE = timedelta(seconds=60)


class BulkJobState(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class LadderLevel(StrEnum):
    """How far up the strike ladder a bulk job may go (``maxLadderStep``); steps above it are skipped."""

    WARN = "WARN"
    RESTRICT = "RESTRICT"
    SUSPEND = "SUSPEND"
    BAN = "BAN"


#: The level of each action a ladder step can apply (holding an advertiser's ads restricts the account).
LADDER_LEVEL: dict[ActionKind, LadderLevel] = {
    ActionKind.WARN: LadderLevel.WARN,
    ActionKind.RESTRICT_FEATURES: LadderLevel.RESTRICT,
    ActionKind.HOLD_ADS: LadderLevel.RESTRICT,
    ActionKind.SUSPEND_ACCOUNT: LadderLevel.SUSPEND,
    ActionKind.BAN_ACCOUNT: LadderLevel.BAN,
}
_ORDER = tuple(LadderLevel)


def level_of(kind: ActionKind) -> LadderLevel:
    """A ladder action's level (an action no ladder level names counts as the highest: never applied by a cap)."""
    return LADDER_LEVEL.get(kind, LadderLevel.BAN)


def within(kind: ActionKind, cap: LadderLevel | None) -> bool:
    """Whether a ladder step applying ``kind`` is at or below ``cap`` (None: no cap)."""
    return cap is None or _ORDER.index(level_of(kind)) <= _ORDER.index(cap)


class BulkItemState(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@dataclass(kw_only=True)
class BulkJob:
    """A bulk decision. Global (no region): its items live in their cases' regions."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    state: BulkJobState = BulkJobState.RUNNING
    actor_id: str
    actor_kind: ActorKind
    principal_kind: str  # as audit events name the submitter (STAFF, PARTNER, SYSTEM)
    seniority: int = 0
    decide_regions: str | None = None  # comma-separated (a job's row is rewritten whole: no array columns)
    sanction_regions: str | None = None
    request_id: str | None = None
    verdict: Verdict
    policy_id: uuid.UUID
    rationale: str
    actions: str = ""  # comma-separated "KIND" or "KIND:days"
    dsa_keywords: str = ""  # comma-separated: the DSA keywords each decision's statement states
    max_ladder_step: LadderLevel | None = None  # ladder steps above it are skipped (each item records its own)
    traceparent: str | None = None  # the submitting request's W3C trace context: its chunks' spans link to it
    total: int
    succeeded: int = 0
    failed: int = 0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    finished_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def actor(self) -> Actor:
        """The submitter as the job acts for them: their seniority, and the right to sanction where they had it
        (checked per item by the domain's one rule, ``ensure_may_apply``)."""
        sanction = _split(self.sanction_regions)
        regions = tuple(Region) if sanction is None else tuple(Region(r) for r in sorted(sanction))
        grants = frozenset((Capability.SANCTION_ACCOUNTS, region) for region in regions)
        return Actor(id=self.actor_id, kind=self.actor_kind, seniority=self.seniority, capabilities=grants)

    @property
    def requested(self) -> tuple[RequestedAction, ...]:
        return tuple(decode_action(a) for a in self.actions.split(",") if a)

    @property
    def decide_region_set(self) -> frozenset[str] | None:
        return _split(self.decide_regions)

    @property
    def done(self) -> int:
        return self.succeeded + self.failed

    def narrow(self, decide: frozenset[str] | None, sanction: frozenset[str] | None, seniority: int) -> None:
        """Keep only what the submitter still holds (a revoked role stops the job acting there); never widens."""
        self.decide_regions = _joined(_meet(self.decide_region_set, decide))
        self.sanction_regions = _joined(_meet(_split(self.sanction_regions), sanction))
        self.seniority = min(self.seniority, seniority)

    def may_sanction_in(self, region: str) -> bool:
        sanction = _split(self.sanction_regions)
        return sanction is None or region in sanction

    def holds_lease(self, owner: str, now: datetime) -> bool:
        return self.lease_owner == owner and self.lease_expires_at is not None and now < self.lease_expires_at

    def lease_free(self, now: datetime) -> bool:
        return self.lease_expires_at is None or self.lease_expires_at <= now

    def take_lease(self, owner: str, now: datetime) -> None:
        if self.state is not BulkJobState.RUNNING:
            raise DomainError.invalid_state(f"the job is {self.state.value}")
        self.lease_owner, self.lease_expires_at, self.updated_at = owner, now + LEASE, now

    def release_lease(self, owner: str, now: datetime) -> bool:
        """Give the lease up (a process stopping cleanly), so the next process resumes at once; False if not held."""
        if self.lease_owner != owner:
            return False
        self.lease_owner, self.lease_expires_at, self.updated_at = None, None, now
        return True

    def record(self, succeeded: int, failed: int, now: datetime, *, finished: bool) -> None:
        self.succeeded += succeeded
        self.failed += failed
        self.updated_at = now
        if finished:
            self.state, self.finished_at, self.lease_owner, self.lease_expires_at = (
                BulkJobState.COMPLETED,
                now,
                None,
                None,
            )
        elif self.lease_expires_at is not None:
            self.lease_expires_at = now + LEASE

    def cancel(self, now: datetime) -> None:
        if self.state is not BulkJobState.RUNNING:
            raise DomainError.invalid_state(f"the job is already {self.state.value}", "id")
        self.state, self.finished_at, self.updated_at = BulkJobState.CANCELLED, now, now
        self.lease_owner, self.lease_expires_at = None, None


@dataclass(kw_only=True)
class BulkJobItem:
    """One case of a job; ``position`` is its place in the submitted list (0-based)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    job_id: uuid.UUID
    position: int
    case_id: uuid.UUID
    state: BulkItemState = BulkItemState.PENDING
    decision_id: uuid.UUID | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_field: str | None = None
    skipped_ladder_step: str | None = None  # "KIND" or "KIND:days": reached, not applied (the job's maxLadderStep)
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def succeed(self, decision_id: uuid.UUID, now: datetime, *, skipped: RequestedAction | None = None) -> None:
        self.state, self.decision_id, self.updated_at = BulkItemState.SUCCEEDED, decision_id, now
        self.skipped_ladder_step = None if skipped is None else encode_action(skipped)

    def fail(self, error: DomainError, now: datetime) -> None:
        self.state, self.updated_at = BulkItemState.FAILED, now
        self.error_code, self.error_message, self.error_field = error.code.value, error.message, error.field

    def cancel(self, now: datetime) -> None:
        self.state, self.updated_at = BulkItemState.CANCELLED, now


def _split(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(filter(None, text.split(",")))


def _joined(regions: frozenset[str] | None) -> str | None:
    return None if regions is None else ",".join(sorted(regions))


def _meet(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Intersection of two region sets, None standing for every region."""
    if a is None:
        return b
    return a if b is None else a & b


def encode_action(action: RequestedAction) -> str:
    days = action.duration_days
    return action.kind.value if days is None else f"{action.kind.value}:{days}"


def decode_action(text: str) -> RequestedAction:
    kind, _, days = text.partition(":")
    return RequestedAction(kind=ActionKind(kind), duration_days=int(days) if days else None)


def check_case_ids(case_ids: list[uuid.UUID]) -> None:
    """Up front: 1 to ``MAX_ITEMS`` cases, none twice."""
    if not case_ids:
        raise DomainError.invalid_input("name at least one case", "caseIds")
    if len(case_ids) > MAX_ITEMS:
        raise DomainError.invalid_input(f"at most {MAX_ITEMS} cases per job", "caseIds")
    if len(set(case_ids)) != len(case_ids):
        raise DomainError.invalid_input("a case may be named only once", "caseIds")


def check_decision(verdict: Verdict, rationale: str, actions: tuple[RequestedAction, ...]) -> None:
    """What can be checked without the cases (each case is checked again, in full, as its item runs)."""
    limits.text(rationale, field="rationale", max_len=limits.RATIONALE_MAX)
    if verdict is Verdict.NOT_VIOLATING and actions:
        raise DomainError.invalid_input("a NOT_VIOLATING decision carries no actions", "actions")
    targets = {TARGET_KIND[a.kind] for a in actions} - {SubjectKind.ACCOUNT}
    if len(targets) > 1:
        raise DomainError.invalid_input("no case is both content and an ad: ask for one kind's actions", "actions")
    validate_requested(actions, next(iter(targets), SubjectKind.ACCOUNT))
