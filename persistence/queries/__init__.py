"""The read side: what the API reads without changing anything, region-guarded in SQL (never a Python loop).

The API turns its GraphQL inputs into the filter objects of ``persistence.queries.filters`` (ids parsed, enums
typed) and asks ``persistence.queries.listing`` for a page; the SQL lives here, on the plain asyncpg pool in the
running app. Derived statuses that a filter matches on (an account's status in force now, a strike's status by
the clock) are written in ``persistence.queries.status`` next to the domain rule they mirror, and a test holds the
two to the same answers on the same rows.

Beside the listings:

* ``reads``: batched loads by id or by a parent key (the GraphQL data loaders) and filtered keyset pages;
* ``audit``: the audit trail's listings, per-subject histories and export;
* ``outbox``: outbound events, a partner's own webhook endpoints and their delivery histories;
* ``lookup``: a subject's or a policy's id from what a reporter knows (the external id, the policy code);
* ``waiting``: the cases waiting outside any queue (for ``rerouteCases``);
* ``dsa_records``, ``statements``, ``statement_gauges``, ``transparency``: the DSA records, the statements of
  reasons in bulk and the transparency report's figures; ``gauges``: what an operator's dashboard reads.
"""
