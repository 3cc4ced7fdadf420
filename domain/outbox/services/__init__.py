"""The outbox's application services (see ``domain.outbox``). Each takes the caller's unit of work and never commits."""
