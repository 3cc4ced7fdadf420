"""The Relay `Node` interface (every area's record types implement it)."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a globally unique ID (Relay).")
class Node:
    id: strawberry.ID
