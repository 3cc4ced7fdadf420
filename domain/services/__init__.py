"""Application services: one module per aggregate. Each takes ``(uow, actor, command)``, never commits."""
