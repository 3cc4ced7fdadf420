"""Submitting statements of reasons to the DSA Transparency Database: the rules of a resumable, idempotent run.

A batch is marked IN_FLIGHT (committed) *before* it is sent, and settled from the database's answer after. A run
that dies in between leaves IN_FLIGHT statements behind: the next run asks the database for each one's puid first
(``reconcile``): found means it arrived (SUBMITTED, with the database's id), not found means it did not (back to
PENDING). So no statement is ever sent twice, and a duplicate-puid answer is taken as "already submitted".
The caller opens and commits a unit of work around each step; these functions only change statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from domain.dsa.statement import StatementOfReasons, SubmissionState
from domain.dsa.statement_rules import statement_errors
from domain.ports import UnitOfWork

BATCH_MAX = 100  # the database's batch endpoint takes 1 to 100 statements


@dataclass(frozen=True)
class BatchAnswer:
    """The database's answer to one batch. It creates all of a batch or none of it: ``accepted`` (puid → the
    database's id) is empty unless the batch went through; ``refused`` holds each invalid statement's reasons
    and ``duplicates`` the puids it already holds."""

    accepted: dict[str, str] = field(default_factory=dict)
    refused: dict[str, list[str]] = field(default_factory=dict)
    duplicates: frozenset[str] = frozenset()


class TransparencyDatabase(Protocol):
    async def send(self, statements: Sequence[Mapping[str, Any]]) -> BatchAnswer:
        """Send one batch (retrying what is worth retrying); raises when it cannot get an answer."""
        ...

    async def find(self, puid: str) -> str | None:
        """The database's id of the statement with this puid, or None if it holds none."""
        ...


@dataclass
class Tally:
    submitted: int = 0
    rejected: int = 0
    reconciled: int = 0
    batches: int = 0


def _reasons(errors: Mapping[str, Sequence[str]]) -> list[str]:
    return [f"{name}: {message}" for name, messages in errors.items() for message in messages]


async def in_flight(uow: UnitOfWork) -> list[StatementOfReasons]:
    return await uow.statements_of_reasons.list_in_state(SubmissionState.IN_FLIGHT, limit=None)


def reconcile(statements: Sequence[StatementOfReasons], found: Mapping[str, str | None], now: datetime) -> int:
    """Settle statements a dead run left IN_FLIGHT from what the database holds; returns how many it held."""
    held = 0
    for statement in statements:
        database_id = found.get(statement.puid)
        if database_id is None:
            statement.not_sent(now)
        else:
            statement.accepted(database_id, now)
            held += 1
    return held


async def take_batch(uow: UnitOfWork, limit: int, now: datetime) -> tuple[list[StatementOfReasons], int]:
    """The oldest PENDING statements, marked IN_FLIGHT in one new batch, and how many were REJECTED here instead
    of being sent (the database's rules would refuse them; their reasons say so)."""
    batch_id = uuid.uuid4()
    taken = []
    rejected = 0
    for statement in await uow.statements_of_reasons.list_in_state(SubmissionState.PENDING, limit=limit):
        errors = statement_errors(statement.fields)
        if errors:
            statement.rejected(["not sent: " + reason for reason in _reasons(errors)], now)
            rejected += 1
            continue
        statement.send_in(batch_id, now)
        taken.append(statement)
    return taken, rejected


def settle(
    batch: Sequence[StatementOfReasons], answer: BatchAnswer, found: Mapping[str, str | None], now: datetime
) -> Tally:
    """Apply the database's answer; ``found`` holds the database's ids of the duplicates (looked up by puid).
    A statement the database neither took nor refused (its batch failed for another one) goes back to PENDING."""
    tally = Tally(batches=1)
    for statement in batch:
        puid = statement.puid
        if puid in answer.accepted:
            statement.accepted(answer.accepted[puid], now)
            tally.submitted += 1
        elif puid in answer.duplicates and found.get(puid):
            statement.accepted(found[puid] or "", now)
            tally.submitted += 1
        elif puid in answer.refused:
            statement.rejected(answer.refused[puid], now)
            tally.rejected += 1
        else:
            statement.not_sent(now)
    return tally
