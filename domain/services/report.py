"""Report intake: reports fold into the subject's one open case."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from domain import limits
from domain.actor import Actor
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.errors import DomainError, ErrorCode
from domain.ports import UnitOfWork
from domain.report import Report, ReportSource
from domain.services.policy import policy_in_force
from domain.services.queue import open_routed_case, sla_of
from domain.services.subject import load_subject
from domain.subject import SubjectKind, ensure_policy_applies


@dataclass(frozen=True)
class SubmitReport:
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    policy_id: uuid.UUID
    source: ReportSource
    text: str | None = None
    idempotency_key: str | None = None

    def same_as(self, report: Report) -> bool:
        """Whether ``report`` is what this command asks for (a retry), not another report under the same key."""
        return (
            report.subject_kind is self.subject_kind
            and report.subject_id == self.subject_id
            and report.policy_id == self.policy_id
            and report.source is self.source
            and report.text == self.text
        )

    def validate(self) -> None:
        limits.optional_text(self.text, field="text", max_len=limits.TEXT_MAX)
        if self.idempotency_key is not None:
            limits.text(self.idempotency_key, field="idempotencyKey", max_len=limits.IDEMPOTENCY_KEY_MAX)


@dataclass(frozen=True)
class IntakeReads:
    """What ``submit_report`` / ``submit_reports`` read, known from the commands before they run: the reporter's
    earlier reports under the commands' idempotency keys, the subjects (with their open cases and the queues of
    their regions) and the cited policies (with their versions in force). A prefetching engine loads exactly this
    and nothing else (``persistence.fast.intake``); a read outside it is a programming error there."""

    reporter_id: str
    subjects: tuple[tuple[SubjectKind, uuid.UUID], ...]
    policy_ids: tuple[uuid.UUID, ...]
    idempotency_keys: tuple[str, ...]
    classifier: str | None = None
    """A classifier's signal (``submit_signal``) also reads the subjects' regions' automation rules for it."""
    rule_regions: frozenset[str] = frozenset()
    """The regions with active rules: the reports filed there become events for the rules
    (``domain.services.intake_events.filed_report_events``), so the owners of the subjects in these regions are
    read too (their platform ids name the events' accounts)."""

    @classmethod
    def of(cls, actor: Actor, cmds: Sequence[SubmitReport], rule_regions: frozenset[str] = frozenset()) -> IntakeReads:
        return cls(
            reporter_id=actor.id,
            subjects=tuple(dict.fromkeys((c.subject_kind, c.subject_id) for c in cmds)),
            policy_ids=tuple(dict.fromkeys(c.policy_id for c in cmds)),
            idempotency_keys=tuple(dict.fromkeys(c.idempotency_key for c in cmds if c.idempotency_key is not None)),
            rule_regions=rule_regions,
        )


async def submit_report(
    uow: UnitOfWork, actor: Actor, cmd: SubmitReport, config: DomainConfig = DEFAULT_CONFIG
) -> Report:
    """File a report; a retry with the same (actor, idempotency_key) returns the first report unchanged."""
    cmd.validate()
    if cmd.idempotency_key is not None:
        existing = await uow.reports.get_by_idempotency_key(actor.id, cmd.idempotency_key)
        if existing is not None:
            if not cmd.same_as(existing):
                raise DomainError(
                    ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    "this idempotency key was already used for a different report; use a new key per report",
                    "idempotencyKey",
                )
            return existing
    subject = await load_subject(uow, cmd.subject_kind, cmd.subject_id)
    policy, version = await policy_in_force(uow, cmd.policy_id)
    ensure_policy_applies(subject.kind, policy.surface)
    now = uow.clock.now()
    case = await uow.cases.find_open_for_subject(subject.kind, subject.id)
    if case is None:
        case = await open_routed_case(uow, subject, policy.code, now, config)
        uow.cases.add(case)
    sla = await sla_of(uow, case, config)
    case.fold_report(source=cmd.source, severity=version.severity, reach=subject.reach, sla=sla, now=now)
    report = Report.file(
        subject=subject,
        reporter=actor,
        source=cmd.source,
        policy_id=policy.id,
        text=cmd.text,
        idempotency_key=cmd.idempotency_key,
        case_id=case.id,
        now=now,
    )
    uow.reports.add(report)
    return report


async def submit_reports(
    uow: UnitOfWork, actor: Actor, cmds: Sequence[SubmitReport], config: DomainConfig = DEFAULT_CONFIG
) -> list[Report | DomainError]:
    """Batch of up to ``limits.BATCH_MAX`` independent reports; one result per item, in order."""
    if len(cmds) > limits.BATCH_MAX:
        raise DomainError.invalid_input(f"at most {limits.BATCH_MAX} reports per batch", "reports")
    results: list[Report | DomainError] = []
    for cmd in cmds:
        try:
            results.append(await submit_report(uow, actor, cmd, config))
        except DomainError as error:
            results.append(error)
    return results
