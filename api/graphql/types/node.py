"""The Relay `Node` interface (its own module so every area can implement it without import cycles)."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a globally unique ID (Relay).")
class Node:
    id: strawberry.ID
