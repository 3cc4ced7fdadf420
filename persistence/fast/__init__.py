"""The fast engine: hot commands on plain asyncpg, their reads in one prefetch statement and their writes in one.

* ``persistence.fast.sql``: the asyncpg pool, statements generated once per table (insert and version-guarded
  update CTEs over ``unnest``), rows decoded straight into domain entities; the read side's pool too;
* ``persistence.fast.prefetched``: the prefetching unit of work, the domain's ``UnitOfWork`` port over one
  transaction (``BEGIN`` · prefetch · write · ``COMMIT``), and its optimistic mode;
* one unit of work per hot command, each loading its command's read set: ``persistence.fast.intake`` (report
  intake: ``submitReport``, ``submitReports``), ``persistence.fast.claims`` (``claimNextCase``) and
  ``persistence.fast.bulk`` (a chunk of a bulk job; cancelling, taking over expired leases).

What both engines share stays beside the SQL unit of work: the change set (``persistence.changeset``), the retry
policy (``persistence.retry``), the repositories and the mappings. Import each module by its own name: this package
re-exports nothing.
"""
