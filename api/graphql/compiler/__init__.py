"""Compiled execution of trusted documents (issue 24 point 3).

A trusted document never changes, so its operations compile once into plans (``plan``: fields collected against
the schema; ``codegen``: Python generated from them; ``runtime``: the helpers it calls; ``cache``: a bounded LRU)
and run without graphql-core's interpretation: no field collection per object, no resolve-info object for plain
leaves, no ``complete_value`` dispatch, no coercion of literal arguments per request; a request's variables are
coerced by a function generated once per operation (``variables``), graphql-core coercing them only where it gives
up (refused or unusual values: the errors stay graphql-core's own); strawberry's union and ``is_type_of`` answers are
kept per class where they are provably the class's (``classes``: a value cast, or carrying another definition, is
still asked). Everything around execution
is unchanged (strawberry's request pipeline: parser cache, validation, cost limit, the deadline, error masking and
formatting, the extensions' results): ``CompiledExecution`` takes the place of graphql-core's ``execute`` function,
and only for a request that runs a trusted document (``api.trusted_documents.trusted_document``).

The field resolvers are the schema's own (strawberry's wrappers run permission classes, field extensions, the
payload read check and DataLoaders), errors go through the executor's ``handle_field_error`` and awaitables are
gathered where graphql-core gathers them, so a plan answers byte for byte what graphql-core answers
(``tests/integration/compiler`` holds the two to it). Subscriptions, ``@defer``/``@stream``, fragment variables,
error propagation switched off, middleware and abort signals run on graphql-core (``fallbacks`` counts them).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from graphql import DocumentNode, ExecutionResult, GraphQLSchema, execute
from graphql.language import OperationDefinitionNode

from api.graphql.compiler.cache import LRU, PLAN_CACHE_SIZE
from api.graphql.compiler.codegen import generate
from api.graphql.compiler.plan import Planner, Unsupported, check_document
from api.graphql.compiler.render import renderings
from api.graphql.compiler.runtime import operation_result
from api.graphql.compiler.variables import VariableCoercer, build_executor, compile_variables
from api.graphql.execution import leaf_plans
from api.graphql.internals import core_schema, has_middleware, replace_execute_function
from api.trusted_documents import trusted_document

log = logging.getLogger("vigil.graphql.compiler")

__all__ = ["PLAN_CACHE_SIZE", "CompiledExecution", "install_compiled_execution"]


class _Fallback:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class CompiledExecution:
    """graphql-core's ``execute`` for strawberry, running a trusted document's compiled plan when there is one."""

    def __init__(self, schema: GraphQLSchema, *, timeout: float, size: int = PLAN_CACHE_SIZE) -> None:
        self.schema = schema
        self.timeout = timeout
        self.leaves = leaf_plans(schema)
        self.plans = LRU(size)
        self.documents = LRU(size)  # document id -> the @skip/@include variables its plans depend on
        self.variables = LRU(size)  # (document id, operation name) -> its variables' compiled coercion
        self.fast_variables = True  # False: graphql-core coerces every request's variables (bench.variables)
        self.class_answers = True  # False: plans compiled from now on ask strawberry's unions for every value
        self.render_pages = True  # False: plans compiled from now on complete every page in Python (``render``)
        self.variable_fallbacks = 0  # requests whose variables graphql-core coerced (refused, or unusual)
        self.fallbacks: Counter[str] = Counter()
        self.compiled = 0

    def __call__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if getattr(context_value, "renders", None):  # a context used again: only this execution's plan renders
            context_value.renders = None
        trusted = trusted_document()
        if trusted is None or args or schema is not self.schema:
            return execute(
                schema, document, root_value, context_value, variable_values, operation_name, *args, **kwargs
            )
        return self.run(trusted.id, document, root_value, context_value, variable_values, operation_name, kwargs)

    def run(
        self,
        document_id: str,
        document: DocumentNode,
        root_value: Any,
        context_value: Any,
        variable_values: dict[str, Any] | None,
        operation_name: str | None,
        kwargs: dict[str, Any],
    ) -> Any:
        schema = self.schema
        middleware = kwargs.get("middleware")
        executor_class = kwargs.pop("executor_class", None)
        conditions = self.documents.get(document_id)
        if conditions is None:
            try:
                conditions = check_document(document)
            except Unsupported as unsupported:
                conditions = _Fallback(str(unsupported))
            self.documents.put(document_id, conditions)
        reason = self._unsupported(conditions, middleware, executor_class)
        if reason is not None:
            self.fallbacks[reason] += 1
            if executor_class is not None:
                kwargs["executor_class"] = executor_class
            return execute(schema, document, root_value, context_value, variable_values, operation_name, **kwargs)
        assert isinstance(conditions, tuple)
        assert executor_class is not None
        ex = None
        if self.fast_variables:
            ex = build_executor(
                executor_class,
                schema,
                document,
                root_value,
                context_value,
                variable_values,
                operation_name,
                kwargs,
                lambda operation: self._variables(document_id, operation_name, operation),
            )
        if ex is None:  # errors to report, or variables the compiled coercion left to graphql-core
            self.variable_fallbacks += 1
            ex = executor_class.build(
                schema, document, root_value, context_value, variable_values, operation_name, **kwargs
            )
        if isinstance(ex, list):
            return ExecutionResult(None, errors=ex)
        if ex.abort_signal is not None or not ex.error_propagation:
            self.fallbacks["abort signal or no error propagation"] += 1
            return ex.execute_operation()
        coerced = ex.variable_values.coerced
        key = (document_id, operation_name, tuple(coerced.get(name) for name in conditions))
        try:
            run = self.plans.get(key)
        except TypeError:  # an unhashable condition value (cannot happen for a Boolean!): the ordinary path
            return ex.execute_operation()
        if run is None:
            run = self._compile(ex, executor_class)
            self.plans.put(key, run)
        if isinstance(run, _Fallback):
            self.fallbacks[run.reason] += 1
            return ex.execute_operation()
        renders = run.renders
        if renders:  # the root fields PostgreSQL renders read their rendering from the context (``render``)
            context_value.renders = renders
        return operation_result(ex, run)

    def _variables(
        self, document_id: str, operation_name: str | None, operation: OperationDefinitionNode
    ) -> VariableCoercer:
        key = (document_id, operation_name)
        coerce: VariableCoercer | None = self.variables.get(key)
        if coerce is None:
            coerce = compile_variables(self.schema, operation)
            self.variables.put(key, coerce)
        return coerce

    def _unsupported(self, conditions: Any, middleware: Any, executor_class: Any) -> str | None:
        if isinstance(conditions, _Fallback):
            return conditions.reason
        if executor_class is None:
            return "no executor class"
        if has_middleware(middleware):
            return "middleware"
        if self.schema.get_directive("defer") or self.schema.get_directive("stream"):
            return "incremental delivery"
        return None

    def _compile(self, ex: Any, executor_class: Any) -> Any:
        operation: OperationDefinitionNode = ex.operation
        try:
            plan = Planner(self.schema, ex, self.leaves).plan()
            renders = renderings(plan) if self.render_pages else {}
            run = generate(
                plan,
                rendered=frozenset(id(r.selection) for r in renders.values()),
                is_awaitable=ex.is_awaitable,
                deadline=hasattr(executor_class, "past_deadline"),
                timeout=self.timeout,
                executor=ex,
                classes=self.class_answers,
            )
        except Unsupported as unsupported:
            return _Fallback(str(unsupported))
        except RecursionError:
            return _Fallback("nested too deeply to compile")
        run.renders = renders
        self.compiled += 1
        log.debug(
            "compiled %s (%d selections)", operation.name.value if operation.name else "an operation", plan.selections
        )
        return run


def install_compiled_execution(schema: Any, *, timeout: float, size: int = PLAN_CACHE_SIZE) -> CompiledExecution:
    """Make strawberry ``schema`` run trusted documents through compiled plans; returns the compiler (its cache
    and counters). Ad-hoc text still runs on graphql-core's ``execute``."""
    compiled = CompiledExecution(core_schema(schema), timeout=timeout, size=size)
    if not replace_execute_function(schema, compiled):  # a strawberry without the hook: no plans
        log.warning("compiled execution is off: this strawberry does not say which execute function it calls")
    return compiled
