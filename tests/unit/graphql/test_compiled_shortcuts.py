"""The compiled plans' tables of shortcuts are held by weak keys; a coercion or resolver that takes no weak reference
(``operator.methodcaller``, as some scalars' coercions are) is simply not in them."""

from __future__ import annotations

import operator

from api.graphql.compiler.codegen import _registered
from api.graphql.execution import ENUM_TABLES, SELF_INFO_CALLS


def test_a_key_without_weak_references_is_in_no_table() -> None:
    coerce = operator.methodcaller("isoformat")
    assert _registered(ENUM_TABLES, coerce) is None
    assert _registered(SELF_INFO_CALLS, coerce) is None
    assert _registered(SELF_INFO_CALLS, None) is None
