"""Types the schema must know even when no field names them directly (Node implementations, error types)."""

from __future__ import annotations

from typing import Any

from api.graphql.types.nodes import NODE_TYPES

ALL_TYPES: list[Any] = [node_type for node_type, _ in NODE_TYPES.values()]
