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
        self._module: Any = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:  # imported once (``import_module`` on every read cost a page ~2% of its CPU)
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)
