"""`lazy_module`: another area's module, imported when first used.

Areas do not import each other when they load (the graph's types refer to each other in circles: a case has
reports, a report has its case). A reference to another area's type is written twice: in GraphQL annotations with
`strawberry.lazy` (`CaseRef = Annotated["Case", strawberry.lazy("api.graphql.review.types")]`), and at run time
through the other area's module, looked up when a resolver first needs it:

    if TYPE_CHECKING:
        from api.graphql.review import types as review
    else:
        review = lazy_module("api.graphql.review.types")
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
