"""The outbox and webhooks: the facts partners hear of, and the endpoints that hear them.

* ``domain.outbox.events``: outbound events, derived from the changes a unit of work commits (``events_of``), with
  the catalogue of every event type and its payload;
* ``domain.outbox.webhook``: webhook endpoints (who hears which events, the signing secrets) and deliveries (the
  rules of trying to tell them, backoff and dead-lettering);
* ``domain.outbox.webhook_address``: where a webhook may be sent (a URL's host parsed once, public addresses only);
* ``domain.outbox.services.webhooks``: what a partner does to its own endpoints, each change audited.

Import each module by its own name: this package re-exports nothing.
"""
