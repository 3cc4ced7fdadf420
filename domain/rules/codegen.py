"""A bound condition as one generated Python function: ``def condition(c): return <expression>``, compiled once
when the rule set is built, so evaluating it is one Python call plus the ``Context`` methods it needs (the closure
tree of ``compiler._Builder`` makes one call per syntax node). ``compiler._Builder`` stays the reference: the
generated code does what its closures do, in the same order, with the same results and errors (the differential
test ``tests/unit/rules/test_codegen.py`` holds the two together).

No user text is in the generated source: it is assembled from the fixed fragments below and names of the form
``_k3``; every literal, list bit, regex slot and message is a value passed to the factory that defines the function
(free variables of the condition, read like locals).

Shapes kept from the closures:

* ``a and b`` / ``a or b`` (two operands) return an operand; three or more return ``True``/``False``, written
  ``not (not a or not b or not c)`` (each operand's truth tested once, like the closures' loops);
* a two-operand ``and``/``or`` that is the first operand of another is wrapped ``(x,)[0]``: the closures test its
  value again, and CPython would otherwise jump past that second test;
* ``contains``/``starts_with``/``ends_with`` call ``str``'s methods unbound (a non-string fails as it does there);
* the argument of ``normalize``/``has_keyword``/``has_url``/``has_domain``/``matches`` is a generated function the
  ``Context`` calls on its cache's miss, as it calls the closure;
* a list literal with a non-literal item calls the reference closure (rare; building it in order is the point);
* ``has_domain``/``has_url`` look ``domain_mask``/``url_mask`` up on ``c.lists`` before reading the links (the
  closures after): the same for a ``ListIndex``, which has no computed attributes;
* a subtree deeper than ``_LIFT`` below its function becomes a function of its own (the tokenizer's bracket limit).
"""

from __future__ import annotations

import builtins
import functools
import keyword
import operator
from collections.abc import Callable
from types import CodeType
from typing import Any, NoReturn

from domain.rules.catalogue import AttrType, ListKind
from domain.rules.compiler import _ABSENT, Binder, CompiledRule, _Builder, _kind, _literal
from domain.rules.context import Fn, RuleRuntimeError
from domain.rules.language import print_expr
from domain.rules.normalise import normalise
from domain.rules.syntax import And, Bool, Call, Compare, Dur, Expr, ListLit, Not, Num, Or, Path, Str
from domain.rules.types import COUNTER_FUNCTIONS, LIST_FUNCTIONS

_LIFT = 16
"""Syntax depth after which a subtree is generated as a function of its own: each level adds at most two brackets
to the expression, and CPython's tokenizer refuses more than 200 nested."""

_CHECKS: dict[AttrType, str] = {
    AttrType.STRING: "type(_a) is str",
    AttrType.NUMBER: "(type(_a) is int or type(_a) is float)",
    AttrType.BOOL: "type(_a) is bool",
    AttrType.STRING_LIST: "isinstance(_a, _SEQUENCES)",
}
"""The attribute type checks of ``compiler._TYPE_CHECKS``, as source over ``_a``."""
_SEQUENCES = (list, tuple, frozenset, set)
"""What ``isinstance`` takes the union ``list | tuple | frozenset | set`` of ``compiler._TYPE_CHECKS`` as."""
_STR_METHODS: dict[str, Callable[[str, str], bool]] = {
    "contains": str.__contains__,
    "starts_with": str.startswith,
    "ends_with": str.endswith,
}
_LINK_MASKS = {ListKind.DOMAIN: "domain_mask", ListKind.URL: "url_mask"}
_OPERATORS = {op: f" {op} " for op in ("==", "!=", "<", "<=", ">", ">=", "in", "not in")}


def _fail(message: str) -> NoReturn:
    raise RuleRuntimeError(message)


def generate_condition(rule: CompiledRule, binder: Binder) -> Fn:
    """The rule's condition as one generated function (list bits and regex slots taken from ``binder``, in the
    order the closure builder takes them)."""
    source = _Source(_Builder(rule.scope, binder))
    return source.compile(source.function("condition", rule.syntax.condition))


@functools.lru_cache(maxsize=1024)
def _code(source: str) -> CodeType:
    """Compiled once per shape: rules differing only in their values (names, literals, bits) share the code."""
    return compile(source, "<rule condition>", "exec")


class _Source:
    def __init__(self, reference: _Builder) -> None:
        self.reference = reference
        self.names: list[str] = ["_fail", "_SEQUENCES"]
        self.values: list[object] = [_fail, _SEQUENCES]
        self.helpers: list[str] = []

    def value(self, value: object) -> str:
        """A name the generated code reads ``value`` by."""
        name = f"_k{len(self.values)}"
        self.names.append(name)
        self.values.append(value)
        return name

    def function(self, name: str, node: Expr) -> str:
        """``def name(c): return <node>`` (its lifted subtrees become helpers first)."""
        return f"    def {name}(c):\n        return {self.expr(node, 0)}\n"

    def helper(self, node: Expr) -> str:
        """A function of its own for ``node``: an argument the ``Context`` evaluates, or a lifted subtree."""
        index = len(self.helpers)
        self.helpers.append("")  # its place: the helpers it needs in turn are added while it is generated
        self.helpers[index] = self.function(f"_f{index}", node)
        return f"_f{index}"

    def compile(self, body: str) -> Fn:
        source = f"def _bind({', '.join(self.names)}):\n{''.join(self.helpers)}{body}    return condition\n"
        namespace: dict[str, Any] = {"__builtins__": builtins}
        # the source holds fixed fragments and generated names only (the rule's values are the factory's arguments)
        exec(_code(source), namespace)  # noqa: S102
        condition: Fn = namespace["_bind"](*self.values)
        return condition

    def expr(self, node: Expr, depth: int) -> str:
        """Source of ``node``: a name, call, attribute or bracketed expression (safe as any operand)."""
        if depth > _LIFT and not isinstance(node, Str | Num | Bool | Dur | Path):
            return f"{self.helper(node)}(c)"
        depth += 1
        match node:
            case Str(value=value) | Num(value=value) | Bool(value=value):
                return self.value(value)
            case Dur(seconds=seconds):
                return self.value(seconds)
            case ListLit(items=items):
                if all(isinstance(i, Str) for i in items):
                    return self.value(frozenset(i.value for i in items if isinstance(i, Str)))
                return f"{self.value(self.reference.build(node))}(c)"
            case Path():
                return self._path(node)
            case Call():
                return self._call(node, depth)
            case Not(operand=operand):
                return f"(not {self.expr(operand, depth)})"
            case And(operands=operands):
                return self._bool_op(operands, "and", depth)
            case Or(operands=operands):
                return self._bool_op(operands, "or", depth)
            case Compare():
                return self._compare(node, depth)
        raise TypeError(f"not an expression: {node!r}")  # pragma: no cover

    def _bool_op(self, operands: tuple[Expr, ...], word: str, depth: int) -> str:
        parts = [self.expr(o, depth) for o in operands]
        if len(parts) == 2:
            first = operands[0]
            if isinstance(first, And | Or) and len(first.operands) == 2 and depth <= _LIFT:  # (lifted: a call)
                parts[0] = f"({parts[0]},)[0]"
            return f"({parts[0]} {word} {parts[1]})"
        other = "or" if word == "and" else "and"
        return f"(not (not {f' {other} not '.join(parts)}))"

    def _path(self, node: Path) -> str:
        parts = node.parts
        if len(parts) == 1:
            name = parts[0]
            declared = self.reference.scope.attributes[name]
            absent, check = self.value(_ABSENT[declared]), _CHECKS[declared]
            message = self.value(f"the event's attribute {name!r} is not a {declared.value}")
            return (
                f"({absent} if (_a := c.event.attributes.get({self.value(name)})) is None"
                f" else _a if {check} else _fail({message}))"
            )
        owner, field = parts
        if owner == "event":
            return "c.event.type" if field == "type" else "c.event.region"
        entity = f"c.entity({self.value(owner)})"
        if field == "age":
            return f"{entity}.age.total_seconds()"
        if field.isidentifier() and not keyword.iskeyword(field):
            return f"{entity}.{field}"
        return f"{self.value(operator.attrgetter(field))}({entity})"

    def _argument(self, node: Expr) -> tuple[str, str]:
        """(cache key, function) of an argument the ``Context`` evaluates once per event and key."""
        return self.value(print_expr(node)), self.helper(node)

    def _call(self, node: Call, depth: int) -> str:
        name, args = node.name, node.args
        if name == "has":
            return f"(c.event.attributes.get({self.value(_kind(args[0]))}) is not None)"
        if name == "signal":
            signal = self.value(_literal(args[0]))
            if len(args) == 1:
                return f"c.signal({signal})"
            return f"c.entity_signal({self.value(_kind(args[1]))}, {signal})"
        if name in COUNTER_FUNCTIONS:
            source, kind, window = _kind(args[0]), _kind(args[1]), args[2]
            assert isinstance(window, Dur)
            return f"c.counter({self.value(source)}, {self.value(kind)}, {self.value(window.seconds)})"
        if name == "normalize":
            if isinstance(args[0], Str):
                return self.value(normalise(args[0].value))
            key, value = self._argument(args[0])
            return f"c.normalised({key}, {value})"
        if name in LIST_FUNCTIONS:
            key, value = self._argument(args[0])
            kind = LIST_FUNCTIONS[name]
            bit = self.value(self.reference.binder.list_bit(_literal(args[1]), kind))
            if kind == ListKind.KEYWORD:
                return f"(c.keyword_mask({key}, {value}) & {bit} != 0)"
            return f"(c.lists.{_LINK_MASKS[kind]}(c.links({key}, {value})) & {bit} != 0)"
        if name == "matches":
            value = self.helper(args[0])
            group, index = self.reference.binder.regex_slot(print_expr(args[0]), _literal(args[1]))
            return f"({self.value(index)} in c.regex_hits({self.value(group)}, {value}))"
        built = [self.expr(a, depth) for a in args]
        if name == "lower":
            (text,) = built
            return f"{text}.casefold()"
        if name == "len":
            (text,) = built
            return f"len({text})"
        method = self.value(_STR_METHODS[name])
        text, other = built
        return f"{method}({text}, {other})"

    def _compare(self, node: Compare, depth: int) -> str:
        left = self.expr(node.left, depth)
        right = self.expr(node.right, depth)
        return f"({left}{_OPERATORS[node.op]}{right})"
