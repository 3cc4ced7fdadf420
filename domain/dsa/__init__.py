"""The EU Digital Services Act: what Vigil owes the affected users, the reporters and the DSA Transparency Database.

Entities and rules (pure, no unit of work):

* ``domain.dsa.vocabulary``: the Transparency Database's field vocabularies (categories, grounds, countries...);
* ``domain.dsa.statement``: the statement of reasons (art. 17, 24(5)), a snapshot taken when a decision is
  recorded, and ``domain.dsa.statement_rules``: the database's validation rules for one statement;
* ``domain.dsa.notices`` with the wording of ``domain.dsa.notice_templates``: the notices delivered to the
  affected user (art. 17) and to the reporter (art. 16(5));
* ``domain.dsa.authority_order`` (art. 9, 10), ``domain.dsa.out_of_court_dispute`` (art. 21) and
  ``domain.dsa.active_recipients`` (art. 24(2)): the records the transparency report counts and Vigil cannot see
  for itself.

Application services (``domain.dsa.services``, each in the caller's unit of work, never committing):

* ``statement``: taking the statement of reasons when a decision is recorded;
* ``records``: recording orders, disputes and active recipients, and correcting a rejected statement;
* ``submission``: the rules of a resumable, idempotent submission run to the Transparency Database.

Import each module by its own name: this package re-exports nothing.
"""
