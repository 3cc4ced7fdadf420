"""The most items each list field of the schema serves: what the cost counts for it.

Lists of scalars and enums have no sub-selection, so their size never multiplies anything; every list of objects
is declared here (``tests/unit/graphql/test_list_maxima.py`` walks the schema and checks it), in one of three
ways:

- ``first``: a field with a `first` argument serves at most `first` items, capped at ``MAX_PAGE`` (connections:
  strawberry's `relay_max_results`; `Case.reports`: ``MAX_NESTED``).
- ``ListSize(maximum, argument)``: `nodes(ids:)` serves one item per id, at most ``maximum`` ids: the length of
  the literal or variable list given, else ``maximum``.
- ``ListSize(maximum)``: a bound the command or the data enforce (a batch's items, a decision's actions).
  ``maximum`` may be an estimate where the data set it (an account's strikes, a policy's versions): those are
  marked ``enforced=False``.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.document import MAX_BATCH as DOCUMENTS_MAX
from domain.enforcement import MAX_REQUESTED_ACTIONS
from domain.errors import ErrorCode
from domain.limits import BATCH_MAX
from domain.services.automation import SCORES_MAX
from domain.services.backtests import SAMPLE as BACKTEST_SAMPLE
from domain.services.events import BATCH_MAX as EVENTS_MAX
from domain.services.queue import REROUTE_MAX

MAX_PAGE = 100
"""The largest page any connection or nested list serves (relay_max_results, `Case.reports(first)`)."""
DEFAULT_LIST_SIZE = 10
"""What a list counts for when nothing bounds it (strikes, versions, roles...): an estimate, not a cap."""
MAX_NODES = 100
"""`nodes(ids:)` takes at most this many ids (``api.graphql.nodes.MAX_NODES``)."""


@dataclass(frozen=True)
class ListSize:
    maximum: int
    argument: str | None = None
    """The argument holding one id per item served (its length counts, capped at ``maximum``)."""
    enforced: bool = True
    """False when ``maximum`` is an estimate: the data, not the code, bound the list."""


ESTIMATE = ListSize(DEFAULT_LIST_SIZE, enforced=False)

LIST_SIZES: dict[tuple[str, str], ListSize] = {
    ("Query", "nodes"): ListSize(MAX_NODES, argument="ids"),
    # one item per input item of the command, which refuses more
    ("SubmitReportsSuccess", "results"): ListSize(BATCH_MAX),
    ("SubmitEventsSuccess", "results"): ListSize(EVENTS_MAX),
    ("RegisterTrustedDocumentsSuccess", "documents"): ListSize(DOCUMENTS_MAX),
    ("SubmitSignalSuccess", "outcomes"): ListSize(SCORES_MAX),
    ("RerouteCasesSuccess", "cases"): ListSize(REROUTE_MAX),
    # one row per error code an item can fail with
    ("BulkDecidePreview", "failures"): ListSize(len(ErrorCode)),
    ("RuleBacktest", "sample"): ListSize(BACKTEST_SAMPLE),  # the store samples this many hits
    # the actions a decision or a rule requests (validate_requested refuses more)
    ("AutomationRule", "actions"): ListSize(MAX_REQUESTED_ACTIONS),
    ("Decision", "actions"): ListSize(MAX_REQUESTED_ACTIONS),
    ("DecideCaseSuccess", "actions"): ListSize(MAX_REQUESTED_ACTIONS),
    ("ReviewAdSuccess", "actions"): ListSize(MAX_REQUESTED_ACTIONS),
    # set by the data
    ("Account", "strikes"): ESTIMATE,
    ("Case", "strikes"): ESTIMATE,
    ("Decision", "strikes"): ESTIMATE,
    ("DecideCaseSuccess", "strikes"): ESTIMATE,
    ("ReviewAdSuccess", "strikes"): ESTIMATE,
    ("DecideAppealSuccess", "reversedActions"): ESTIMATE,
    ("DecideAppealSuccess", "reversedStrikes"): ESTIMATE,
    ("DecideAppealSuccess", "restoredActions"): ESTIMATE,
    ("Policy", "versions"): ESTIMATE,
    ("Query", "ruleVersions"): ESTIMATE,
    ("RuleStats", "versions"): ESTIMATE,
    ("RuleHit", "actions"): ESTIMATE,  # the actions of the rule's text
    ("SignalRuleHit", "actions"): ESTIMATE,
    ("SignalScoreOutcome", "ruleHits"): ESTIMATE,  # the region's rules on signals (a cut-over gives two per policy)
    ("CutOverAutomationRuleSuccess", "rules"): ListSize(2, enforced=False),  # the decide and enqueue rules
    ("StrikeLadder", "steps"): ESTIMATE,
    ("Viewer", "roles"): ESTIMATE,
    ("Viewer", "permissions"): ESTIMATE,
    ("ModerationMetrics", "backlog"): ESTIMATE,
    ("ModerationMetrics", "decisions"): ESTIMATE,
    ("ModerationMetrics", "qaAgreementByModerator"): ESTIMATE,
    ("ModerationMetrics", "qaAgreementByVendor"): ESTIMATE,
    ("ModerationMetrics", "dsaStatements"): ESTIMATE,
}
"""Every list of objects without a `first` argument, by (type, field), but those of ``TYPE_LIST_SIZES``."""

TYPE_LIST_SIZES: dict[str, ListSize] = {
    "TransparencyReport": ESTIMATE,  # one row per category, ground, member state... of the period
}
"""Every list of objects of these types (without a `first` argument) counts this much."""


def declared_size(type_name: str, field_name: str) -> ListSize | None:
    return LIST_SIZES.get((type_name, field_name)) or TYPE_LIST_SIZES.get(type_name)
