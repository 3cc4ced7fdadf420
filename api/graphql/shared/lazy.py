"""How an area reaches another area's types and functions without importing it when it loads.

The graph's types refer to each other in circles (a case has reports, a report has its case), so areas do not
import each other's modules. `api.graphql.shared.refs` names the types areas share by lazy references, e.g.
`CaseRef = Annotated["Case", strawberry.lazy("api.graphql.review.types")]`: an annotation (`-> CaseRef | None`)
and `build` / `one` / `many` (`one(info, CaseRef, found)`) take them alike.
The few functions another area calls are reached through `lazy_module`:

    if TYPE_CHECKING:
        from api.graphql.intake import types as intake
    else:
        intake = lazy_module("api.graphql.intake.types")
"""

from __future__ import annotations

import importlib
from typing import Any


def lazy_module(name: str) -> Any:
    """A stand-in for the module `name`: each attribute is read from the module itself, imported on first use."""
    return _LazyModule(name)


class _LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)
