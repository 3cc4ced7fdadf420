"""The DSA records' store (``domain.dsa.services.records.DsaRecords``) inside a SQL unit of work: tracked, region
filtered and audited like the unit of work's own repositories."""

from __future__ import annotations

from datetime import datetime

from domain.dsa.active_recipients import ActiveRecipients
from domain.dsa.authority_order import AuthorityOrder
from domain.dsa.out_of_court_dispute import OutOfCourtDispute
from domain.dsa.vocabulary import Country
from domain.region import Region
from persistence.mapping import EntityMapping
from persistence.repositories import SqlRepository
from persistence.tables.dsa_reporting import active_recipients, authority_orders, out_of_court_disputes
from persistence.uow import SqlUnitOfWork

AUTHORITY_ORDERS = EntityMapping(AuthorityOrder, authority_orders, "AuthorityOrder")
DISPUTES = EntityMapping(OutOfCourtDispute, out_of_court_disputes, "OutOfCourtDispute")
ACTIVE_RECIPIENTS = EntityMapping(ActiveRecipients, active_recipients, "ActiveRecipients")


class RecipientRepository(SqlRepository[ActiveRecipients]):
    async def find(self, region: Region, month: datetime, member_state: Country) -> ActiveRecipients | None:
        t = active_recipients.c
        return await self._one(t.region == region, t.month == month, t.member_state == member_state)


class SqlDsaRecords:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.orders = SqlRepository(uow, AUTHORITY_ORDERS)
        self.disputes = SqlRepository(uow, DISPUTES)
        self.recipients = RecipientRepository(uow, ACTIVE_RECIPIENTS)
