"""Vigil domain layer: entities, value objects, rules and services.

Imports only the Python standard library. Persistence and API layers depend on this package, never the
other way round. See ``domain.ports`` for the repository / unit-of-work contract.
"""
