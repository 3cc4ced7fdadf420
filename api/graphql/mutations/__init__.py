"""Mutations, one module per area. Each resolver: parse input → domain command → `run` → payload or typed error."""
