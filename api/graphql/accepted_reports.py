"""The reports a mutation filed anew, counted in ``vigil_reports_received_total`` once its write has committed.

A command notes each report it returns; ``count`` runs after the runner answered a success, so an attempt that
lost a race (and ran again) or failed is not counted. An idempotent replay is not a new report: it was created
by an earlier unit of work, before this attempt began (``created_at`` before the attempt's clock reading), and a
report returned twice by one batch is counted once. Labels come from what the unit of work already holds (the
report, and its policy, loaded to file it): no statement is added.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from api.metrics import observe_reports
from domain.report import Report


class AcceptedReports:
    def __init__(self) -> None:
        self._labels: dict[uuid.UUID, tuple[str, str, str]] = {}
        self._since: datetime | None = None

    def begin(self, uow: Any) -> None:
        """At the start of each attempt: forget what a failed one noted."""
        self._labels.clear()
        self._since = uow.clock.now()

    async def note(self, uow: Any, report: Report) -> None:
        if self._since is None or report.created_at < self._since:
            return  # a replay of an earlier request's report
        policy = await uow.policies.get(report.policy_id)  # loaded to file the report: answered from memory
        code = policy.code if policy is not None else "unknown"
        self._labels[report.id] = (report.source.value, code, report.region.value)

    def count(self, committed: bool) -> None:
        if committed:
            observe_reports(self._labels.values())
        self._labels.clear()
