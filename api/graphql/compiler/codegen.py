"""Python source generated from an ``OperationPlan``, compiled once per plan.

Each selection (a selection set on one concrete type) becomes a function ``(ex, source, path) -> dict |
awaitable``: its fields unrolled in collection order, a plain leaf read as an attribute and coerced inline,
``__typename`` a constant, a record's own object or list attribute read (strawberry's default resolver is not
called), a resolver called with its literal arguments coerced at compile time (those naming
variables are coerced per request, as graphql-core does) and its value completed by a function generated for its
return type (non-null check, list, leaf, object, abstract type; strawberry's union and ``is_type_of`` answers kept
per class where they are the class's, ``classes``). Anything else (introspection fields, a leaf that
is null or refused by its type) calls graphql-core's own ``execute_field``, which answers it the ordinary way.

The generated text holds only names this module makes (``_s3``, ``_k12``) and Python keywords: every value that
comes from the document or the schema (response names, field definitions, AST nodes, messages) is a constant in
the module's namespace, never text in the source, so no client text is ever interpolated into code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLUnionType, Undefined
from graphql.execution.executor import default_field_resolver
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT, serialize_id, serialize_int, serialize_string
from orjson import Fragment
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.union import StrawberryUnion

from api.graphql.compiler import runtime
from api.graphql.compiler.classes import CAST, strawberry_is_type_of, strawberry_union
from api.graphql.compiler.plan import Completion, FieldPlan, OperationPlan, Selection
from api.graphql.compiler.runtime import strawberry_resolve_info
from api.graphql.execution import ENUM_TABLES, SELF_INFO_CALLS, ExecutionTimedOut, output_coercion
from api.graphql.shared.build import READ_VIEWS


class Generator:
    def __init__(
        self,
        *,
        is_awaitable: Callable[[Any], bool],
        deadline: bool,
        timeout: float,
        executor: Any = None,
        classes: bool = True,
        rendered: frozenset[int] = frozenset(),
    ) -> None:
        self.executor = executor
        self.rendered = rendered
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "Path": Path,
            "tuple_new": tuple.__new__,
            "Undefined": Undefined,
            "is_aw": is_awaitable,
            "SYNC": runtime.SYNC,
            "get_args": get_argument_values,
            "exec_field": runtime.execute_field,
            "gather_fields": runtime.gather_fields,
            "await_then_complete": runtime.await_then_complete,
            "await_completed": runtime.await_completed,
            "complete_list": runtime.complete_list,
            "complete_leaf": runtime.complete_leaf,
            "complete_object": runtime.complete_object,
            "complete_object_matched": runtime.complete_object_matched,
            "complete_abstract": runtime.complete_abstract,
            "is_type_of_learning": runtime.is_type_of_learning,
            "CAST": CAST,
            "execute_serially": runtime.execute_serially,
            "view_of": READ_VIEWS.get,
            "RENDERED": Fragment,
            "TimedOut": ExecutionTimedOut,
            "TIMEOUT": timeout,
        }
        self.deadline = deadline
        self.classes = classes
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"_{prefix}{self.counter}"

    def const(self, value: Any) -> str:
        name = self.name("k")
        self.namespace[name] = value
        return name

    def emit(self, indent: int, *lines: str) -> None:
        self.lines.extend("    " * indent + line for line in lines)

    # --- the operation ---

    def operation(self, plan: OperationPlan) -> Callable[[Any], Any]:
        if plan.serial:
            parent = self.const(plan.root.type.name)
            items = [(self.const(f.response_name), self.standalone_field(plan.root, f)) for f in plan.root.fields]
            fields = self.name("k")
            self.emit(0, f"{fields} = [" + ", ".join(f"({key}, {function})" for key, function in items) + "]", "")
            self.emit(0, "def run(ex):", f"    return execute_serially(ex, ex.root_value, {parent}, {fields})", "")
        else:
            root = self.selection(plan.root)
            self.emit(0, "def run(ex):", f"    return {root}(ex, ex.root_value, None)", "")
        source = "\n".join(self.lines) + "\n"
        code = compile(source, "<vigil compiled operation>", "exec")
        exec(code, self.namespace)  # noqa: S102 (generated from names and constants only, see the module doc)
        run: Callable[[Any], Any] = self.namespace["run"]
        run.source = source  # type: ignore[attr-defined]
        return run

    # --- selections and fields ---

    def selection(self, selection: Selection) -> str:
        """A function executing ``selection``'s fields on a source of its type; its name."""
        bodies: list[list[str]] = []
        for field in selection.fields:
            bodies.append(self.field_block(selection, field, standalone=False))
        name = self.name("s")
        self.emit(0, f"def {name}(ex, source, path):", "    results = {}", "    aw = []", "    try:")
        for body in bodies:
            self.emit(2, *body)
        if not bodies:
            self.emit(2, "pass")
        self.emit(
            1,
            "except Exception:",
            "    if aw:",
            "        ex.settle_in_background([results[k] for k in aw])",
            "    raise",
            "if not aw:",
            "    return results",
            "return gather_fields(results, aw)",
        )
        self.emit(0, "")
        return name

    def standalone_field(self, parent: Selection, field: FieldPlan) -> str:
        """A function executing one field as ``execute_field`` does (a mutation's root field); its name."""
        body = self.field_block(parent, field, standalone=True)
        name = self.name("f")
        self.emit(0, f"def {name}(ex, source, p):")
        self.emit(1, *body)
        self.emit(0, "")
        return name

    def countdown(self) -> list[str]:
        if not self.deadline:
            return []
        return ["ex.countdown -= 1", "if ex.countdown <= 0 and ex.past_deadline():", "    raise TimedOut(TIMEOUT)"]

    def field_block(self, parent: Selection, field: FieldPlan, *, standalone: bool) -> list[str]:
        key = self.const(field.response_name)
        parent_type = self.const(parent.type)
        parent_name = self.const(parent.type.name)
        details = self.const(field.details)
        path = "p" if standalone else f"Path(path, {key}, {parent_name})"

        def store(value: str) -> list[str]:
            return [f"return {value}"] if standalone else [f"results[{key}] = {value}"]

        def store_awaitable(value: str) -> list[str]:
            return [f"return {value}"] if standalone else [f"results[{key}] = {value}", f"aw.append({key})"]

        if field.kind == "generic" or (standalone and field.kind != "resolver"):
            call = f"ex.execute_field({parent_type}, source, {details}, {path}, None)"
            if standalone:
                return [f"return {call}"]
            return [
                f"v = {call}",
                "if v is not Undefined:",
                f"    results[{key}] = v",
                "    if v.__class__ not in SYNC and is_aw(v):",
                f"        aw.append({key})",
            ]
        lines = self.countdown()
        if field.kind == "typename":
            return lines + store(self.const(parent.type.name))
        if field.kind == "leaf":
            assert field.leaf is not None
            read, coerce = self.const(field.leaf[0]), self.const(field.leaf[1])
            fallback = [
                f"v = exec_field(ex, {parent_type}, source, {details}, {path}, None)",
                "if v is not Undefined:",
                f"    results[{key}] = v",
                "    if v.__class__ not in SYNC and is_aw(v):",
                f"        aw.append({key})",
            ]
            shortcut = self.leaf_shortcut(field.leaf[1], "v")
            first = [] if shortcut is None else [f"if {shortcut[0]}:", f"    results[{key}] = {shortcut[1]}", "el"]
            return [
                *lines,
                "try:",
                f"    v = {read}(source)",
                "except Exception:",  # the ordinary path reads it again and reports it, located at this field
                "    v = None",
                *first[:-1],
                first[-1] + "if v is not None and not isinstance(v, Exception):"
                if first
                else "if v is not None and not isinstance(v, Exception):",
                "    try:",
                f"        v = {coerce}(v)",
                "    except Exception:",
                "        v = None",
                "    if v is not None and v is not Undefined:",
                f"        results[{key}] = v",
                "    else:",
                *("        " + line for line in fallback),
                "else:",
                *("    " + line for line in fallback),
            ]
        assert field.completion is not None
        definition = field.definition
        resolve = self.const(definition.resolve or default_field_resolver)
        complete = self.completion(field.completion, parent, field)
        return_type = self.const(definition.type)
        nodes = self.const([d.node for d in field.details])
        fdef = self.const(definition)
        if field.reader is not None:
            call = f"{self.const(field.reader)}(source)"
        elif field.dynamic_arguments:
            node = self.const(field.details[0].node)
            call = f"{resolve}(source, info, **get_args({fdef}, {node}, ex.variable_values, None, ex.hide_suggestions))"
        elif field.arguments:
            call = f"{resolve}(source, info, **{self.const(field.arguments)})"
        elif (direct := _registered(SELF_INFO_CALLS, definition.resolve)) is not None:  # its own call, inline
            function, make_info, strawberry_field = direct
            call = f"{self.const(function)}(source, info={self.const(make_info)}(info, {self.const(strawberry_field)}))"
        else:
            call = f"{resolve}(source, info)"
        if not standalone:
            lines.append(f"p = tuple_new(Path, (path, {key}, {parent_name}))")  # Path(path, key, parent_name)
        build_info = f"ex.build_resolve_info({fdef}, {nodes}, {parent_type}, p)"
        head = self.info_head(definition, [d.node for d in field.details], parent.type)
        if head is not None:  # the executor's own info, from the parts that do not change (see ``info_head``)
            info_type, fields = self.const(head[0]), self.const(head[1])
            build_info = f"tuple_new({info_type}, {fields} + (p,) + tail) if (tail := ex.info_tail) else {build_info}"
        return [
            *lines,
            f"info = {build_info}",
            "try:",
            f"    v = {call}",
            "    if v.__class__ not in SYNC and is_aw(v):",
            *(
                "        " + line
                for line in store_awaitable(
                    f"await_then_complete(ex, v, info, p, {complete}, {return_type}, {details})"
                )
            ),
            "    else:",
            f"        v = {complete}(ex, v, info, p)",
            "        if v.__class__ not in SYNC and is_aw(v):",
            *(
                "            " + line
                for line in store_awaitable(f"await_completed(ex, v, {return_type}, {details}, p)")
            ),
            "        else:",
            *("            " + line for line in store("v")),
            "except Exception as error:",
            f"    ex.handle_field_error(error, {return_type}, {details}, p)",
            *("    " + line for line in store("None")),
        ]

    def info_head(self, definition: Any, nodes: list[Any], parent_type: Any) -> tuple[type, tuple[Any, ...]] | None:
        """strawberry's resolve info for a field, less its path and what follows: (its class, its first four
        values), asked of the executor itself. strawberry builds it from the field and parent type, the path,
        then what belongs to the execution alone (schema, fragments, root value, operation, variables, context,
        ...), which ``runtime.info_tail`` asks once per execution; the plan joins the three. None when the
        executor's ``build_resolve_info`` is not strawberry's own."""
        if self.executor is None or not strawberry_resolve_info(self.executor):
            return None
        probe = self.executor.build_resolve_info(definition, nodes, parent_type, None)
        return type(probe), tuple(probe[:4])

    def leaf_shortcut(self, coerce: Any, value: str) -> tuple[str, str] | None:
        """(condition, expression): where ``coerce(value)`` is known without the call. A ``str`` is its own
        ``String`` and ``ID``; an ``int`` within 32 bits its own ``Int`` (``serialize_int`` answers ``int(value)``,
        the same object); a member of a strawberry enum is its name in the table ``output_coercion`` made (what
        ``coerce_member`` answers, inline)."""
        if coerce is serialize_string or coerce is serialize_id:
            return f"{value}.__class__ is str", value
        if coerce is serialize_int:
            return f"{value}.__class__ is int and {int(GRAPHQL_MIN_INT)} <= {value} <= {int(GRAPHQL_MAX_INT)}", value
        table = _registered(ENUM_TABLES, coerce)
        if table is None:
            return None
        members, names = self.const(table[0]), self.const(table[1].get)
        return f"{value}.__class__ is {members} and (name := {names}({value})) is not None", "name"

    # --- completion of a resolver's value ---

    def completion(self, completion: Completion, parent: Selection, field: FieldPlan) -> str:
        """A function ``(ex, result, info, path)`` completing a value of ``completion.type``; its name.

        A non-null type's function completes its inner type itself (``complete_value`` twice in graphql-core):
        a null, or an inner completion answering null, is the same ``TypeError``."""
        name = self.name("c")
        lines = [
            f"def {name}(ex, result, info, path):",
            "    if isinstance(result, Exception):",
            "        raise result",
        ]
        if completion.kind == "non_null":
            assert completion.inner is not None
            message = self.const(
                f"Cannot return null for non-nullable field {parent.type.name}.{field.details[0].node.name.value}."
            )
            before, value = self.value(completion.inner, parent, field)
            lines += [
                "    if result is None or result is Undefined:",
                f"        raise TypeError({message})",
                *("    " + line for line in before),
                f"    completed = {value}",
                "    if completed is None:",
                f"        raise TypeError({message})",
                "    return completed",
            ]
        else:
            before, value = self.value(completion, parent, field)
            lines += [
                "    if result is None or result is Undefined:",
                "        return None",
                *("    " + line for line in before),
                f"    return {value}",
            ]
        self.emit(0, *lines, "")
        return name

    def value(self, completion: Completion, parent: Selection, field: FieldPlan) -> tuple[list[str], str]:
        """Statements and an expression completing ``result`` (present, not an exception) as a value of the
        nullable type ``completion.type``."""
        details = self.const(field.details)
        type_ = self.const(completion.type)
        if completion.kind == "leaf":
            coercion = output_coercion(completion.type)  # type: ignore[arg-type]
            coerce = self.const(coercion)
            shortcut = self.leaf_shortcut(coercion, "result")
            first = f"coerced = {coerce}(result)"
            if shortcut is not None:
                first = f"coerced = {shortcut[1]} if {shortcut[0]} else {coerce}(result)"
            return [
                first,
                "if coerced is None or coerced is Undefined:",
                f"    coerced = complete_leaf({type_}, result)",  # raises graphql-core's TypeError
            ], "coerced"
        if completion.kind == "list":
            assert completion.inner is not None
            item = self.completion(completion.inner, parent, field)
            return [], f"complete_list(ex, result, info, path, {item}, {type_}, {details})"
        if completion.kind == "object":
            assert completion.selection is not None
            select = self.selection(completion.selection)
            is_type_of = completion.selection.type.is_type_of
            if is_type_of is None:
                if id(completion.selection) in self.rendered:
                    return [], f"result if result.__class__ is RENDERED else {select}(ex, result, path)"
                return [], f"{select}(ex, result, path)"
            check = self.const(is_type_of)
            if self.classes and strawberry_is_type_of(is_type_of):  # its answer kept per class when it is one
                memo = self.const({})
                check = f"is_type_of_learning({memo}, {type_}, result, info)"
                known = (
                    f"(known := {memo}.get(type(result))) is not None"
                    " and result.__strawberry_definition__ is known and getattr(result, CAST, None) is None"
                )
                check = f"True if {known} else {check}"
            else:
                check = f"{check}(result, info)"
            definition = _default_is_type_of(completion.selection.type)
            if definition is None:
                test = f"matches = {check}"
            else:  # strawberry's own is_type_of: true of the type's read views
                view = self.const(definition)
                test = f"matches = True if view_of(result.__class__) is {view} else {check}"
            completed = (
                f"{select}(ex, result, path) if matches is True"
                f" else complete_object_matched(ex, {type_}, result, path, {select}, {details}, matches)"
            )
            if id(completion.selection) in self.rendered:  # PostgreSQL's JSON of the node (``render``), as it is
                return ["if result.__class__ is RENDERED:", "    return result", test], completed
            return [test], completed
        choices = {
            name: (selection.type, self.selection(selection)) for name, selection in completion.selections.items()
        }
        table = self.const({})
        self.emit(0, *(f"{table}[{self.const(n)}] = ({self.const(t)}, {s})" for n, (t, s) in choices.items()), "")
        kept = self.const({}) if self.classes and strawberry_union(completion.type) else None
        ordinary = f"complete_abstract(ex, {type_}, result, info, path, {table}, {details}, {kept})"
        members = _union_views(completion.type, {name: s for name, (_, s) in choices.items()})
        if members is not None:
            views = self.const({})
            self.emit(0, *(f"{views}[{self.const(d)}] = {s}" for d, s in members.items()), "")
            # a strawberry union answers a read view's node type, whose is_type_of (strawberry's) is true of it
            chosen = f"(chosen := {views}.get(view_of(result.__class__)))"
            ordinary = f"chosen(ex, result, path) if {chosen} else {ordinary}"
        if kept is None:
            return [], ordinary
        # the member strawberry answered for a value of this class, when it is the class's (``classes.remember``)
        known = (
            f"(known := {kept}.get(type(result))) is not None"
            " and result.__strawberry_definition__ is known[0] and getattr(result, CAST, None) is None"
        )
        return [], f"known[1](ex, result, path) if {known} else ({ordinary})"


def _registered(table: Any, key: Any) -> Any:
    """``table.get(key)`` for a table held by weak keys: None for a key that takes no weak reference (such as an
    ``operator.methodcaller`` coercion), which no such table holds."""
    try:
        return table.get(key)
    except TypeError:
        return None


def _default_is_type_of(object_type: GraphQLObjectType) -> type[Any] | None:
    """The class of ``object_type`` (its strawberry definition's origin) when its ``is_type_of`` is strawberry's
    own (the type defines none, nor generics), else None."""
    definition = object_type.extensions.get("strawberry-definition")
    if (
        isinstance(definition, StrawberryObjectDefinition)
        and definition.is_type_of is None
        and not definition.is_graphql_generic
        and definition.concrete_of is None
    ):
        return definition.origin
    return None


def _union_views(abstract_type: Any, selections: dict[str, Any]) -> dict[Any, Any] | None:
    """For a strawberry union whose members keep strawberry's own ``is_type_of``: each member's class -> its
    compiled selection. strawberry's union resolution answers the member whose definition a value's class carries
    (a read view carries its node type's, and no cast); else None."""
    if not isinstance(abstract_type, GraphQLUnionType):
        return None
    if not isinstance(abstract_type.extensions.get("strawberry-definition"), StrawberryUnion):
        return None
    views: dict[type[Any], Any] = {}
    for member in abstract_type.types:
        definition = _default_is_type_of(member)
        if definition is None or member.name not in selections:
            return None
        views[definition] = selections[member.name]
    return views


def generate(
    plan: OperationPlan,
    *,
    is_awaitable: Callable[[Any], bool],
    deadline: bool,
    timeout: float,
    executor: Any = None,
    classes: bool = True,
    rendered: frozenset[int] = frozenset(),
) -> Any:
    """The compiled ``run(ex)`` of ``plan`` (its generated text on ``run.source``); ``executor``, the execution
    it is compiled for, lends its resolve info's make-up (``Generator.info_head``); ``classes``: strawberry's union
    and ``is_type_of`` answers kept per class where they are the class's (``classes``, the module)."""
    generator = Generator(
        is_awaitable=is_awaitable,
        deadline=deadline,
        timeout=timeout,
        executor=executor,
        classes=classes,
        rendered=rendered,
    )
    return generator.operation(plan)
