"""Pages of the recorded DSA records (orders of authorities, out-of-court disputes), in the reader's regions."""

from __future__ import annotations

from typing import Any

from persistence.dsa_records import AUTHORITY_ORDERS, DISPUTES
from persistence.pagination import Page
from persistence.queries import filters as f
from persistence.queries.listing import Source


async def orders_page(source: Source, request: f.PageRequest) -> Page[Any]:
    return await source.page(AUTHORITY_ORDERS, [], request, sort="received_at")


async def disputes_page(source: Source, request: f.PageRequest) -> Page[Any]:
    return await source.page(DISPUTES, [], request, sort="submitted_at")
