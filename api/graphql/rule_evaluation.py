"""Running the rules on events a mutation accepted (``submitEvents``; ``submitSignal``'s signal events), after its
commit: hits per event id. A failure here is logged and leaves what was stored as it is; the evaluation is what is
lost."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from api.graphql.context import Context
from domain.services.events import Accepted
from domain.services.rule_runs import run_rules
from persistence.counters import counter_store
from persistence.rule_ports import PostgresRunPorts
from persistence.rule_runtime import cache_for

log = logging.getLogger("vigil.rules")


async def evaluate(context: Context, accepted: Sequence[Accepted]) -> Counter[uuid.UUID]:
    if not accepted or context.pool is None:
        return Counter()
    try:
        loaded = await cache_for(context.pool).get()
        store = counter_store(context.pool, context.settings.redis_url)
        ports = PostgresRunPorts(context.pool, context.sessions, store, request_id=context.request_id or None)
        summary = await run_rules(loaded, accepted, ports, datetime.now(UTC))
    except Exception:
        log.exception("rules could not run on %d accepted events", len(accepted))
        return Counter()
    return Counter(h.event_id for h in summary.hits)
