"""What the generated code calls for the less common steps, each the same step as graphql-core's executor.

The generated code is the hot path (fields, leaves, objects); these helpers mirror
``graphql.execution.executor.Executor`` where a step needs more than a few lines: awaiting a field's value, lists,
abstract types, objects with ``is_type_of``, fields executed serially (mutations) and the operation's result. Errors
go through the executor's own ``handle_field_error`` (located, collected or propagated) and awaitables are gathered
with graphql-core's ``gather_with_cancel``, in the same places and order as graphql-core, so DataLoaders batch and
errors arrive exactly as on the ordinary path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from graphql import FieldNode, GraphQLError, GraphQLField, GraphQLObjectType, GraphQLString, NameNode, Undefined
from graphql.execution.executor import Executor, collect_iterator_awaitables, invalid_return_type_error
from graphql.pyutils import Path, async_reduce, gather_with_cancel, is_iterable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.graphql.compiler.classes import ClassMemo, learn_is_type_of, remember
from api.graphql.shared.build import NOT_AWAITABLE

Completer = Callable[[Any, Any, Any, Path], Any]
Selector = Callable[[Any, Any, Path], Any]

SYNC = NOT_AWAITABLE
"""Types a value of which is never awaitable: the executor's awaitable check is skipped for them (most of the values
a plan sees: completed objects, lists, leaves, nulls, and the read views of records the resolvers answer)."""

complete_leaf = Executor.complete_leaf_value
new_tuple = tuple.__new__
execute_field = Executor.execute_field


async def gather_fields(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    """``execute_fields``' ``get_results``: the awaitable fields awaited together."""
    if len(awaitable_fields) == 1:
        name = awaitable_fields[0]
        results[name] = await results[name]
    else:
        values = await gather_with_cancel(*(results[name] for name in awaitable_fields))
        results.update(zip(awaitable_fields, values, strict=True))
    return results


async def await_then_complete(
    ex: Any, result: Any, info: Any, path: Path, complete: Completer, return_type: Any, details: Any
) -> Any:
    """``complete_awaitable_value`` (and ``complete_awaitable_list_item_value``, the same for a list's item): a
    resolver's awaitable, awaited and completed."""
    try:
        resolved = await (result if ex.abort_signal is None else ex.with_abort_signal(result))
        completed = complete(ex, resolved, info, path)
        if ex.is_awaitable(completed):
            completed = await completed
    except Exception as raw_error:
        ex.handle_field_error(raw_error, return_type, details, path)
        completed = None
    return completed


async def await_completed(ex: Any, completed: Awaitable[Any], return_type: Any, details: Any, path: Path) -> Any:
    """``execute_field``'s ``await_completed``: a completion that awaits (an object with awaitable fields)."""
    try:
        return await completed
    except Exception as raw_error:
        ex.handle_field_error(raw_error, return_type, details, path)
        return None


def complete_list(
    ex: Any,
    result: Any,
    info: Any,
    path: Path,
    complete_item: Completer,
    list_type: Any,
    details: Any,
) -> Any:
    """``complete_list_value`` and ``complete_iterable_value`` with the item's completion compiled."""
    if ex.is_async_iterable(result):
        return ex.complete_list_value(list_type, details, info, path, result, None)
    if not is_iterable(result):
        raise GraphQLError(f"Expected Iterable, but did not find one for field '{info.parent_type}.{info.field_name}'.")
    item_type = list_type.of_type
    is_awaitable = ex.is_awaitable
    completed_results: list[Any] = []
    append = completed_results.append
    awaitable_indices: list[int] = []
    iterator = iter(result)
    index = 0
    try:
        for item in iterator:
            item_path = new_tuple(Path, (path, index, None))  # path.add_key(index, None)
            if item.__class__ not in SYNC and is_awaitable(item):
                append(await_then_complete(ex, item, info, item_path, complete_item, item_type, details))
                awaitable_indices.append(index)
            else:
                try:
                    completed = complete_item(ex, item, info, item_path)
                    if completed.__class__ not in SYNC and is_awaitable(completed):
                        append(await_completed(ex, completed, item_type, details, item_path))
                        awaitable_indices.append(index)
                    else:
                        append(completed)
                except Exception as raw_error:
                    ex.handle_field_error(raw_error, item_type, details, item_path)
                    append(None)
            index += 1
    except Exception:
        pending = [completed_results[i] for i in awaitable_indices]
        pending.extend(collect_iterator_awaitables(iterator, is_awaitable))
        if pending:
            ex.settle_in_background(pending)
        raise
    if not awaitable_indices:
        return completed_results
    return _gather_items(completed_results, awaitable_indices)


async def _gather_items(completed_results: list[Any], awaitable_indices: list[int]) -> list[Any]:
    if len(awaitable_indices) == 1:
        index = awaitable_indices[0]
        completed_results[index] = await completed_results[index]
    else:
        values = await gather_with_cancel(*(completed_results[i] for i in awaitable_indices))
        for index, value in zip(awaitable_indices, values, strict=True):
            completed_results[index] = value
    return completed_results


def complete_object(
    ex: Any, object_type: GraphQLObjectType, result: Any, info: Any, path: Path, select: Selector, details: Any
) -> Any:
    """``complete_object_value`` with its sub-selection compiled: ``is_type_of`` first, when the type has one."""
    is_type_of = object_type.is_type_of
    if is_type_of is None:
        return select(ex, result, path)
    return complete_object_matched(ex, object_type, result, path, select, details, is_type_of(result, info))


def complete_object_matched(
    ex: Any, object_type: GraphQLObjectType, result: Any, path: Path, select: Selector, details: Any, matches: Any
) -> Any:
    """``complete_object_value`` once ``is_type_of`` answered ``matches`` (a boolean, or an awaitable of one)."""
    if ex.is_awaitable(matches):

        async def execute_subfields_async() -> Any:
            if not await (matches if ex.abort_signal is None else ex.with_abort_signal(matches)):
                raise invalid_return_type_error(object_type, result, details)
            selected = select(ex, result, path)
            if ex.is_awaitable(selected):
                return await selected
            return selected

        return execute_subfields_async()
    if not matches:
        raise invalid_return_type_error(object_type, result, details)
    return select(ex, result, path)


def is_type_of_learning(memo: dict[type[Any], Any], object_type: GraphQLObjectType, result: Any, info: Any) -> Any:
    """``object_type.is_type_of(result, info)``, what it says of the value's class kept in ``memo`` the first time
    (``classes.learn_is_type_of``)."""
    matches = object_type.is_type_of(result, info)  # type: ignore[misc]
    if type(result) not in memo:
        learn_is_type_of(memo, object_type, result, matches)
    return matches


def complete_abstract(
    ex: Any,
    abstract_type: Any,
    result: Any,
    info: Any,
    path: Path,
    selections: dict[str, tuple[GraphQLObjectType, Selector]],
    details: Any,
    memo: ClassMemo | None = None,
) -> Any:
    """``complete_abstract_value``: the runtime type from the type's resolver, then its compiled selection (kept in
    ``memo`` for the value's class when the answer is provably the class's: ``classes.remember``)."""
    resolve_type = abstract_type.resolve_type or ex.type_resolver
    runtime_type = resolve_type(result, info, abstract_type)
    if ex.is_awaitable(runtime_type):

        async def await_complete_object_value() -> Any:
            name = await (runtime_type if ex.abort_signal is None else ex.with_abort_signal(runtime_type))
            value = _complete_runtime(ex, name, abstract_type, result, info, path, selections, details, None)
            if ex.is_awaitable(value):
                return await value
            return value

        return await_complete_object_value()
    return _complete_runtime(ex, runtime_type, abstract_type, result, info, path, selections, details, memo)


def _complete_runtime(
    ex: Any,
    runtime_type_name: Any,
    abstract_type: Any,
    result: Any,
    info: Any,
    path: Path,
    selections: dict[str, tuple[GraphQLObjectType, Selector]],
    details: Any,
    memo: ClassMemo | None,
) -> Any:
    object_type = ex.ensure_valid_runtime_type(runtime_type_name, abstract_type, details, info, result)
    chosen = selections.get(object_type.name)
    if chosen is None or chosen[0] is not object_type:  # not planned: graphql-core's own completion
        return ex.complete_object_value(object_type, details, info, path, result, None)
    if memo is not None and type(result) not in memo:
        remember(memo, ex, abstract_type, object_type, result, chosen[1])
    return complete_object(ex, object_type, result, info, path, chosen[1], details)


def execute_serially(
    ex: Any, source: Any, parent_name: str, fields: Sequence[tuple[str, Callable[[Any, Any, Path], Any]]]
) -> Any:
    """``execute_fields_serially``: the root fields of a mutation one after the other, in document order."""
    is_awaitable = ex.is_awaitable

    def reducer(results: dict[str, Any], item: tuple[str, Callable[[Any, Any, Path], Any]]) -> Any:
        response_name, run_field = item
        if ex.abort_signal is not None and ex.abort_signal.aborted:
            raise ex.abort_error()
        result = run_field(ex, source, Path(None, response_name, parent_name))
        if result is Undefined:
            return results
        if is_awaitable(result):

            async def set_result() -> dict[str, Any]:
                results[response_name] = await result
                return results

            return set_result()
        results[response_name] = result
        return results

    return async_reduce(reducer, fields, {})


_PROBE_FIELD = GraphQLField(GraphQLString)
_PROBE_NODES = [FieldNode(name=NameNode(value="probe"))]


def strawberry_resolve_info(ex: Any) -> bool:
    """Whether ``ex`` builds its resolve info with strawberry's own ``build_resolve_info`` (a named tuple: the
    field's name, nodes, return type and parent type, the path, then the execution's own values)."""
    if getattr(type(ex), "build_resolve_info", None) is not StrawberryGraphQLCoreExecutionContext.build_resolve_info:
        return False
    probe = ex.build_resolve_info(_PROBE_FIELD, _PROBE_NODES, None, None)
    return isinstance(probe, tuple) and getattr(type(probe), "_fields", ())[4:5] == ("path",)


def info_tail(ex: Any) -> tuple[Any, ...] | None:
    """What follows the path in every resolve info of this execution (``ex.build_resolve_info`` asked once), or
    None when the executor does not build strawberry's (the plans then ask it for each field)."""
    if not strawberry_resolve_info(ex):
        return None
    return tuple(ex.build_resolve_info(_PROBE_FIELD, _PROBE_NODES, None, None)[5:])


def operation_result(ex: Any, run: Callable[[Any], Any]) -> Any:
    """``execute_operation`` around the compiled root selection: the response, or an awaitable of it."""
    ex.info_tail = info_tail(ex)
    try:
        result = run(ex)
        if ex.is_awaitable(result):

            async def await_result() -> Any:
                try:
                    data = await result
                except GraphQLError as error:
                    ex.collected_errors.add(error, None)
                    return ex.build_response(None)
                except Exception:
                    await ex.cancel_incremental_work()
                    ex.run_async_work_finished_hook()
                    raise
                return ex.build_response(data)

            return await_result()
        data = result
    except GraphQLError as error:
        ex.collected_errors.add(error, None)
        return ex.finish(ex.build_response(None))
    return ex.finish(ex.build_response(data))
