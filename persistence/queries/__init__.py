"""The read side: filtered, region-guarded keyset pages of each record type, from typed filters.

The API turns its GraphQL inputs into the filter objects of ``persistence.queries.filters`` (ids parsed, enums
typed) and asks ``persistence.queries.listing`` for a page; the SQL lives here, on the plain asyncpg pool in the
running app. Derived statuses that a filter matches on (an account's status in force now, a strike's status by
the clock) are written in ``persistence.queries.status`` next to the domain rule they mirror, and a test holds the
two to the same answers on the same rows.
"""
