"""Vigil's ``MaskErrors`` masks exactly what strawberry's masks: both run on the same results (graphql-core's and
strawberry's, with errors, without, with an empty list, an incremental result's parts, something else) and every
error message, extension and path they leave is compared."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from graphql import ExecutionResult as CoreResult
from graphql import GraphQLError
from strawberry.extensions import MaskErrors as StrawberryMaskErrors
from strawberry.types import ExecutionResult as StrawberryResult

from api.graphql.extensions import MaskErrors


def _should_mask(error: GraphQLError) -> bool:
    return not (error.extensions or {}).get("code")


def _errors() -> list[GraphQLError]:
    return [
        GraphQLError("database password is hunter2", path=["a"]),
        GraphQLError("not found", extensions={"code": "NOT_FOUND"}, path=["b", 0]),
    ]


def _results() -> list[Any]:
    return [
        CoreResult(data={"a": None}, errors=_errors()),
        CoreResult(data={"a": 1}, errors=None),
        CoreResult(data={"a": 1}, errors=[]),
        StrawberryResult(data=None, errors=_errors()),
        StrawberryResult(data={"a": 1}, errors=None),
        SimpleNamespace(initial_result=CoreResult(data=None, errors=_errors())),
        SimpleNamespace(initial_result=None),
        SimpleNamespace(errors=_errors()),  # neither result class: neither masks it
        None,
    ]


def _seen(result: Any) -> Any:
    target = getattr(result, "initial_result", result)
    errors = getattr(target, "errors", None)
    if errors is None:
        return errors
    return [(e.message, e.extensions, e.path, e.original_error is None) for e in errors]


def _run(extension_class: type[StrawberryMaskErrors], result: Any) -> Any:
    extension = extension_class(should_mask_error=_should_mask)
    extension.execution_context = SimpleNamespace(result=result)  # type: ignore[assignment]
    hook = extension.on_operation()
    next(hook)
    with pytest.raises(StopIteration):
        next(hook)
    return _seen(result)


@pytest.mark.parametrize("index", range(len(_results())))
def test_vigil_masks_what_strawberry_masks(index: int) -> None:
    theirs = _run(StrawberryMaskErrors, _results()[index])
    ours = _run(MaskErrors, _results()[index])
    assert ours == theirs


def test_the_comparison_sees_masking() -> None:
    """The compared values differ when an error is masked: a masking that went wrong would show."""
    masked = _run(MaskErrors, CoreResult(data=None, errors=_errors()))
    assert masked is not None
    assert masked[0][0] == "Unexpected error."
    assert masked[1][0] == "not found"
    assert masked != _seen(CoreResult(data=None, errors=_errors()))
