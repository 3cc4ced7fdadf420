"""Enforcement rules: their lifecycle and versions (``createRule``, ``updateRule``, ``transitionRule``, ``rules``,
``rule``)."""
