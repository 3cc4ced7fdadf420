"""Types the schema must know even when no field names them directly (Node implementations, error types)."""

from __future__ import annotations

from typing import Any

ALL_TYPES: list[Any] = []
