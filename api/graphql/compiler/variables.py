"""Compiled variable coercion: a trusted operation's variables coerced by Python generated once from its definitions.

graphql-core coerces a request's variables by walking each value beside its type (``coerce_input_value``), asking
at every level what kind of type it holds; for a ``submitEvents`` of 1,000 events that walk was a quarter of the
server's CPU. An operation's variable definitions never change, so ``compile_variables`` writes the walk out once:
one function per input object type (a dict check, a key check against the type's fields, each field read once
with its default, required and null checks inline), lists as loops, built-in scalars as type checks and enums as a
table of their names; custom scalars call the schema's own ``coerce_input_value`` (``parse_value``).

It reproduces graphql-core 3.3's successful results only (``VariableValues``: the sources and the coerced values,
the same defaults, the same one-item lists, the same output names). On anything else (a wrong type, a missing
required field, an unknown field, a null where none may be, a value nested too deeply, a scalar that refuses its
value, an invalid default) the function gives up and returns None, and the caller lets graphql-core coerce the same
variables: its error messages, paths and extensions stay its own. It may give up where graphql-core would succeed
(a tuple where a list is expected, a subclass of ``dict`` or ``str``): that costs time, never a different answer.

``build_executor`` builds graphql-core's executor as ``Executor.build`` does (the schema check, operation
selection, fragments, the middleware manager) with variables already coerced, or answers None when ``build`` must
run itself (errors to report, a class that builds otherwise, variables the compiled function gave up on).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from copy import deepcopy
from datetime import datetime
from enum import Enum
from typing import Any

from dateutil import tz  # type: ignore[import-untyped]
from dateutil.parser import isoparse  # type: ignore[import-untyped]
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    assert_valid_schema,
    is_required_input_field,
)
from graphql.execution import Executor, MiddlewareManager, default_field_resolver, default_type_resolver
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.get_variable_signature import GraphQLVariableSignature, get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource, input_is_nested_too_deeply
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import Undefined, is_iterable
from graphql.type import scalars
from graphql.utilities.coerce_input_value import coerce_default_value
from strawberry.schema.schema_converter import CustomGraphQLEnumType

__all__ = ["VariableCoercer", "build_executor", "compile_variables"]

VariableCoercer = Callable[[Mapping[str, Any]], VariableValues | None]
"""Raw variables -> graphql-core's ``VariableValues``, or None: graphql-core must coerce them itself."""


class _GiveUp(Exception):
    """Raised inside generated code where graphql-core would not coerce the value as the fast path does."""


_IMMUTABLE = (str, int, float, bool, type(None), Enum)
_ENUM_COERCERS = (GraphQLEnumType.coerce_input_value, CustomGraphQLEnumType.coerce_input_value)
_INT_MIN, _INT_MAX = scalars.GRAPHQL_MIN_INT, scalars.GRAPHQL_MAX_INT


def compile_variables(schema: GraphQLSchema, operation: OperationDefinitionNode) -> VariableCoercer:
    """The coercion of ``operation``'s variables, generated once (cache it with the operation's plan)."""
    return _Generator(schema).variables(operation)


class _Generator:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.namespace: dict[str, Any] = {
            "U": Undefined,
            "GiveUp": _GiveUp,
            "is_iterable": is_iterable,
            "deepcopy": deepcopy,
            "VariableValues": VariableValues,
            "Source": VariableValueSource,
            "too_deep": input_is_nested_too_deeply,
        }
        self.functions: list[str] = []
        self.objects: dict[str, str] = {}  # input object type name -> its function's name
        self.counter = 0

    def constant(self, value: Any, prefix: str = "K") -> str:
        self.counter += 1
        name = f"{prefix}{self.counter}"
        self.namespace[name] = value
        return name

    def local(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def variables(self, operation: OperationDefinitionNode) -> VariableCoercer:
        body: list[str] = []
        for definition in operation.variable_definitions or ():
            signature = get_variable_signature(self.schema, definition)
            if isinstance(signature, GraphQLError):  # validation keeps these out of a trusted document
                return _never
            body.extend(self.variable(signature, bool(definition.default_value)))
        lines = [
            "def coerce_variables(inputs):",
            "    coerced = {}",
            "    sources = {}",
            "    try:",
            *("        " + line for line in body or ["pass"]),
            "    except GiveUp:",
            "        return None",
            "    return VariableValues(sources, coerced)",
        ]
        source = "\n\n".join([*self.functions, "\n".join(lines)])
        exec(compile(source, f"<variables of {_operation_name(operation)}>", "exec"), self.namespace)  # noqa: S102
        coerce: VariableCoercer = self.namespace["coerce_variables"]
        return coerce

    def variable(self, signature: GraphQLVariableSignature, has_default: bool) -> list[str]:
        name = repr(signature.name)
        value = self.local("v")
        lines = [f"{value} = inputs.get({name}, U)", f"if {value} is U:"]
        lines.append(f"    sources[{name}] = {self.constant(VariableValueSource(signature), 'S')}")
        if has_default:
            try:
                default = coerce_default_value(signature)
            except TypeError:  # an invalid default: graphql-core reports it
                lines.append("    raise GiveUp")
            else:
                if default is not Undefined:
                    constant = self.constant(default, "D")
                    copy = constant if isinstance(default, _IMMUTABLE) else f"deepcopy({constant})"
                    lines.append(f"    coerced[{name}] = {copy}")
                else:
                    lines.append("    pass")
        elif isinstance(signature.type, GraphQLNonNull):
            lines.append("    raise GiveUp")
        else:
            lines.append("    pass")
        lines.append("else:")
        lines.append(f"    sources[{name}] = Source({self.constant(signature, 'G')}, {value})")
        if _depth(signature.type, set()) > MAX_NESTING_DEPTH:  # a recursive or very deep input type
            lines.append(f"    if too_deep({value}, {self.constant(signature.type, 'T')}):")
            lines.append("        raise GiveUp")
        result = self.local("r")
        lines.extend("    " + line for line in self.value(signature.type, value, result))
        lines.append(f"    coerced[{name}] = {result}")
        return lines

    def value(self, type_: GraphQLInputType, src: str, dst: str) -> list[str]:
        """Lines setting ``dst`` to ``src`` coerced to ``type_`` (or raising ``GiveUp``)."""
        if isinstance(type_, GraphQLNonNull):
            inner = type_.of_type
            if isinstance(inner, GraphQLInputObjectType):  # its function refuses None (not a dict)
                return [f"{dst} = {self.input_object(inner)}({src})"]
            return [f"if {src} is None:", "    raise GiveUp", *self.nullable(inner, src, dst)]
        return [
            f"if {src} is None:",
            f"    {dst} = None",
            "else:",
            *("    " + x for x in self.nullable(type_, src, dst)),
        ]

    def nullable(self, type_: GraphQLInputType, src: str, dst: str) -> list[str]:
        """Lines for a value known not to be None."""
        if isinstance(type_, GraphQLList):
            return self.list_of(type_.of_type, src, dst)
        if isinstance(type_, GraphQLInputObjectType):
            return [f"{dst} = {self.input_object(type_)}({src})"]
        if isinstance(type_, GraphQLEnumType):
            return self.enum(type_, src, dst)
        assert isinstance(type_, GraphQLScalarType)
        return self.scalar(type_, src, dst)

    def list_of(self, item_type: GraphQLInputType, src: str, dst: str) -> list[str]:
        item, coerced = self.local("i"), self.local("c")
        if isinstance(item_type, GraphQLNonNull) and isinstance(item_type.of_type, GraphQLInputObjectType):
            loop = [f"{dst} = [{self.input_object(item_type.of_type)}({item}) for {item} in {src}]"]
        else:
            append = self.local("a")
            loop = [
                f"{dst} = []",
                f"{append} = {dst}.append",
                f"for {item} in {src}:",
                *("    " + x for x in self.value(item_type, item, coerced)),
                f"    {append}({coerced})",
            ]
        return [
            f"if type({src}) is list:",
            *("    " + x for x in loop),
            f"elif is_iterable({src}):",  # a tuple, a set, a generator: graphql-core's own walk
            "    raise GiveUp",
            "else:",  # a single value where a list is expected: a list of one
            *("    " + x for x in self.value(item_type, src, coerced)),
            f"    {dst} = [{coerced}]",
        ]

    def input_object(self, type_: GraphQLInputObjectType) -> str:
        name = self.objects.get(type_.name)
        if name is not None:
            return name
        name = self.objects[type_.name] = f"_o_{type_.name}"
        keys = self.constant(frozenset(type_.fields), "F")
        lines = [
            f"def {name}(v):",
            "    if type(v) is not dict or not " + keys + ".issuperset(v):",
            "        raise GiveUp",
            "    out = {}",
        ]
        for field_name, field in type_.fields.items():
            out = repr(field.out_name or field_name)
            value, result = self.local("x"), self.local("r")
            lines.append(f"    {value} = v.get({field_name!r}, U)")
            lines.append(f"    if {value} is U:")
            if is_required_input_field(field):
                lines.append("        raise GiveUp")
            else:
                try:
                    default = coerce_default_value(field)  # graphql-core memoizes it on the field: shared alike
                except TypeError:
                    lines.append("        raise GiveUp")
                else:
                    if default is Undefined:
                        lines.append("        pass")
                    else:
                        lines.append(f"        out[{out}] = {self.constant(default, 'D')}")
            lines.append("    else:")
            lines.extend("        " + x for x in self.value(field.type, value, result))
            lines.append(f"        out[{out}] = {result}")
        if type_.is_one_of:
            lines.append("    if len(v) != 1 or len(out) != 1 or next(iter(out.values())) is None:")
            lines.append("        raise GiveUp")
        if type_.out_type is GraphQLInputObjectType.out_type:
            lines.append("    return out")
        else:
            lines.extend(
                [
                    "    try:",
                    f"        return {self.constant(type_.out_type, 'O')}(out)",
                    "    except Exception:",
                    "        raise GiveUp from None",
                ]
            )
        self.functions.append("\n".join(lines))
        return name

    def enum(self, type_: GraphQLEnumType, src: str, dst: str) -> list[str]:
        coerce = type_.coerce_input_value
        if getattr(coerce, "__func__", None) not in _ENUM_COERCERS:
            return self.generic(coerce, src, dst)
        table = self.constant({name: coerce(name) for name in type_.values}, "E")
        return [
            f"{dst} = {table}.get({src}, U) if type({src}) is str else U",
            f"if {dst} is U:",
            "    raise GiveUp",
        ]

    def scalar(self, type_: GraphQLScalarType, src: str, dst: str) -> list[str]:
        coerce = type_.coerce_input_value
        if coerce is scalars.coerce_string or coerce is scalars.coerce_id:
            fast = f"type({src}) is str"
        elif coerce is scalars.coerce_int:
            fast = f"type({src}) is int and {_INT_MIN} <= {src} <= {_INT_MAX}"
        elif coerce is scalars.coerce_boolean:
            fast = f"{src} is True or {src} is False"
        elif coerce is scalars.coerce_float:
            fast = f"type({src}) is float and {src} - {src} == 0.0"  # finite
        elif _parses_with(coerce, isoparse):
            return self.generic(_iso_datetime(coerce), src, dst)
        else:
            return self.generic(coerce, src, dst)
        return [f"if {fast}:", f"    {dst} = {src}", "else:", *("    " + x for x in self.generic(coerce, src, dst))]

    def generic(self, coerce: Callable[[Any], Any], src: str, dst: str) -> list[str]:
        """The type's own coercion, as graphql-core calls it (any exception: the value is refused)."""
        return [
            f"if {src} is U:",
            "    raise GiveUp",
            "try:",
            f"    {dst} = {self.constant(coerce, 'C')}({src})",
            "except Exception:",
            "    raise GiveUp from None",
            f"if {dst} is U:",
            "    raise GiveUp",
        ]


_ISO_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?"
    r"(Z|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))",
    re.ASCII,
)


def _parses_with(coerce: Any, parser: Callable[[str], Any]) -> bool:
    """Whether ``coerce`` is strawberry's ``wrap_parser(parser, ...)`` (its closure holds ``parser``)."""
    return any(cell.cell_contents is parser for cell in getattr(coerce, "__closure__", None) or ())


def _iso_datetime(coerce: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Strawberry's ``DateTime`` (dateutil's ``isoparse``) for the common form ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` with
    ``Z`` or ``±HH:MM``: the same datetime and the same tzinfo (``tz.UTC`` for a zero offset, ``tzoffset(None, s)``
    otherwise), built without isoparse's byte-by-byte walk; any other text, or a value ``datetime`` refuses, goes
    to ``coerce`` itself."""
    match = _ISO_DATETIME.fullmatch
    utc, offset, datetime_, from_iso = tz.UTC, tz.tzoffset, datetime, datetime.fromisoformat

    def parse(value: Any) -> Any:
        found = match(value) if type(value) is str else None
        if found is None:
            return coerce(value)
        zone, sign, zone_hours, zone_minutes = found.group(8, 9, 10, 11)
        if zone == "Z" or (zone_hours == "00" and zone_minutes == "00"):
            zone_info: Any = utc
        else:
            zone_info = offset(None, (-1 if sign == "-" else 1) * (int(zone_hours) * 60 + int(zone_minutes)) * 60)
        try:  # the text's own fields, read in C (the form matched is one ``fromisoformat`` reads); tzinfo as isoparse's
            read = from_iso(value)
        except ValueError:  # hour 24, a 30th of February: isoparse's own answer
            return coerce(value)
        return datetime_(
            read.year, read.month, read.day, read.hour, read.minute, read.second, read.microsecond, zone_info
        )

    return parse


def _depth(type_: GraphQLInputType, seen: set[str]) -> float:
    """The deepest nesting graphql-core's depth check could count in a value of ``type_`` (inf when recursive)."""
    if isinstance(type_, GraphQLNonNull):
        return _depth(type_.of_type, seen)
    if isinstance(type_, GraphQLList):
        return 1 + _depth(type_.of_type, seen)
    if isinstance(type_, GraphQLInputObjectType):
        if type_.name in seen:
            return math.inf
        inner = seen | {type_.name}
        return 1 + max((_depth(field.type, inner) for field in type_.fields.values()), default=0)
    return 0


def _operation_name(operation: OperationDefinitionNode) -> str:
    return operation.name.value if operation.name else "an anonymous operation"


def _never(inputs: Mapping[str, Any]) -> VariableValues | None:
    return None


_BUILD_OPTIONS = (
    "field_resolver",
    "type_resolver",
    "subscribe_field_resolver",
    "max_coercion_errors",
    "enable_early_execution",
    "middleware",
    "is_awaitable",
    "is_async_iterable",
    "hide_suggestions",
    "abort_signal",
    "hooks",
)


def build_executor(
    executor_class: type[Executor[Any]],
    schema: GraphQLSchema,
    document: DocumentNode,
    root_value: Any,
    context_value: Any,
    raw_variable_values: Mapping[str, Any] | None,
    operation_name: str | None,
    kwargs: Mapping[str, Any],
    coercer: Callable[[OperationDefinitionNode], VariableCoercer],
) -> Executor[Any] | None:
    """``executor_class.build(...)`` with the variables coerced by ``coercer(operation)``; None where ``build``
    itself must run (it reports the errors: no such operation, fragment variables, a middleware it refuses,
    variables the compiled coercion gave up on), or where the class builds otherwise."""
    if getattr(executor_class.build, "__func__", None) is not _EXECUTOR_BUILD:
        return None
    assert_valid_schema(schema)
    middleware = kwargs.get("middleware")
    manager: MiddlewareManager | None
    if middleware is None:
        manager = None
    elif isinstance(middleware, list | tuple):
        manager = MiddlewareManager(*middleware)
    elif isinstance(middleware, MiddlewareManager):
        manager = middleware
    else:
        return None
    operation: OperationDefinitionNode | None = None
    fragment_definitions: dict[str, FragmentDefinitionNode] = {}
    fragments: dict[str, FragmentDetails] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None:
                if operation is not None:
                    return None
                operation = definition
            elif definition.name and definition.name.value == operation_name:
                operation = definition
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:  # fragment variables: build's own signatures and errors
                return None
            fragment_definitions[definition.name.value] = definition
            fragments[definition.name.value] = FragmentDetails(definition, None)
    if operation is None or not isinstance(raw_variable_values or {}, dict):
        return None
    variable_values = coercer(operation)(raw_variable_values or {})
    if variable_values is None:
        return None
    options = {name: kwargs.get(name) for name in _BUILD_OPTIONS}
    custom_args = {name: value for name, value in kwargs.items() if name not in options}
    return executor_class(
        schema,
        fragment_definitions,
        fragments,
        root_value,
        context_value,
        operation,
        variable_values,
        options["field_resolver"] or default_field_resolver,
        options["type_resolver"] or default_type_resolver,
        options["subscribe_field_resolver"] or default_field_resolver,
        bool(options["enable_early_execution"]),
        manager,
        options["is_awaitable"],
        options["is_async_iterable"],
        hide_suggestions=bool(options["hide_suggestions"]),
        abort_signal=options["abort_signal"],
        hooks=options["hooks"],
        **custom_args,
    )


_EXECUTOR_BUILD = Executor.build.__func__  # type: ignore[attr-defined]
