"""`transparencyReport`: the EU DSA transparency report figures of one region over [from, to)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.permissions import requires
from api.graphql.shared.access import check_metrics_window
from api.graphql.transparency.records import RecordsQuery
from api.graphql.transparency.types import TransparencyReport
from authz.permissions import Permission
from domain.region import Region
from persistence.queries.transparency import transparency_figures


@strawberry.type
class TransparencyQuery(RecordsQuery):
    @strawberry.field(
        extensions=requires(Permission.METRICS_READ),
        description="EU DSA transparency report figures for one region over [from, to), on the sections of the "
        "Commission's templates: authority orders, art. 16 notices, own-initiative moderation, restrictions (each "
        "once), complaints, out-of-court disputes, art. 23 suspensions, automated means and their accuracy, "
        "monthly active recipients. Each figure is one SQL aggregate.",
    )
    async def transparency_report(
        self,
        info: Info,
        region: Region,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> TransparencyReport | None:
        check_metrics_window(info.context, region, from_, to)
        async with info.context.sessions() as session:
            figures = await transparency_figures(session, region.value, from_, to)
        return TransparencyReport(figures=figures, region=region, from_=from_, to=to)
