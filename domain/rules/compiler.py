"""Rule text -> ``CompiledRule`` (parse, type-check against the catalogue, build the actions), and a compiled
rule's condition -> a tree of Python closures over a ``context.Context``. No user text is ever ``eval``-ed: every
closure is one of the fixed functions below, parameterised by literals the checker has vetted. The rule set runs
the same condition as one generated function (``codegen``: fixed fragments of source, the literals passed in as
values); the closures are its reference, and a differential test holds the two to the same reads and answers.

A rule is defined once (``define_rule``: all errors are raised there) and its condition is bound to a rule set
(``bind_condition``) when the rule set is built: list names become bits of the shared list masks, regexes become
members of the shared RE2 sets (one per field expression).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from domain.rules.actions import Action, Decide, Delayed, Hold, Label, OpenCase
from domain.rules.catalogue import AttrType, Catalogue, ListKind
from domain.rules.context import Context, Fn, RuleRuntimeError
from domain.rules.errors import RuleDefinitionError, RuleErrorCode
from domain.rules.language import parse_rule, print_expr
from domain.rules.normalise import normalise
from domain.rules.syntax import And, Bool, Call, Compare, Dur, Expr, ListLit, Node, Not, Num, Or, Path, Rule, Str
from domain.rules.types import COUNTER_FUNCTIONS, LIST_FUNCTIONS, Scope, check_rule

MAX_DELAY = timedelta(days=30)
"""The longest window of ``delay(min, max, action)``: a scheduled action acts on facts of its hit's time."""
_ENFORCEMENT = re.compile(r"[A-Z][A-Z_]*(:[1-9][0-9]{0,3})?")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class CounterSpec:
    source: str
    entity_kind: str
    window_seconds: int


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """A defined rule. The header fields are public (the caller stores and shows them); ``syntax`` is the checked
    tree the engine binds."""

    rule_id: str
    version: int
    name: str
    event_types: frozenset[str]
    regions: frozenset[str]
    policy: str
    actions: tuple[Action, ...]
    rollout_percent: float
    """0 < p <= 100: the share of entities (by a stable hash of rule id and entity id) the rule applies to."""
    rollout_by: str | None
    """Entity kind whose id the rollout hashes (None: the event's subject)."""
    lists: frozenset[str]
    """Names of the lists the condition reads."""
    source: str
    syntax: Rule
    scope: Scope
    entities: frozenset[str]
    """Entity kinds whose facts the condition reads (prefetch them)."""
    reads_subject_signals: bool
    """Whether it reads ``signal(name)`` without an entity (prefetch the subject's facts)."""
    counters: frozenset[CounterSpec]


def define_rule(text: str, catalogue: Catalogue, *, rule_id: str, version: int) -> CompiledRule:
    """Parse, check and compile ``text``. Raises ``RuleSyntaxError`` or ``RuleDefinitionError``."""
    rule = parse_rule(text)
    try:
        scope = check_rule(rule, catalogue)
        actions = tuple(_action(call, rule, catalogue, scope) for call in rule.actions)
    except RecursionError:
        raise RuleDefinitionError(RuleErrorCode.TOO_LARGE, "rule is nested too deeply") from None
    reads = _Reads()
    reads.visit(rule.condition)
    return CompiledRule(
        rule_id=rule_id,
        version=version,
        name=rule.name,
        event_types=frozenset(rule.event_types),
        regions=frozenset(rule.regions),
        policy=rule.policy,
        actions=actions,
        rollout_percent=100.0 if rule.rollout is None else rule.rollout,
        rollout_by=rule.rollout_by,
        lists=frozenset(reads.lists),
        source=text,
        syntax=rule,
        scope=scope,
        entities=frozenset(reads.entities),
        reads_subject_signals=reads.subject_signals,
        counters=frozenset(reads.counters),
    )


class _Reads:
    """What a checked condition reads, for prefetching and binding."""

    def __init__(self) -> None:
        self.lists: set[str] = set()
        self.entities: set[str] = set()
        self.counters: set[CounterSpec] = set()
        self.subject_signals = False

    def visit(self, node: Expr) -> None:
        match node:
            case Path(parts=(kind, _)) if kind != "event":
                self.entities.add(kind)
            case Call(name="signal", args=(_,)):
                self.subject_signals = True
            case Call(name="signal", args=(_, Path(parts=(kind,)))):
                self.entities.add(kind)
            case Call(name=name, args=(Path(parts=(source,)), Path(parts=(kind,)), Dur(seconds=seconds))) if (
                name in COUNTER_FUNCTIONS
            ):
                self.counters.add(CounterSpec(source, kind, seconds))
            case Call(name=name, args=(arg, Str(value=list_name))) if name in LIST_FUNCTIONS:
                self.lists.add(list_name)
                self.visit(arg)
            case Call(args=args):
                for arg in args:
                    self.visit(arg)
            case Not(operand=operand):
                self.visit(operand)
            case And(operands=operands) | Or(operands=operands) | ListLit(items=operands):
                for operand in operands:
                    self.visit(operand)
            case Compare(left=left, right=right):
                self.visit(left)
                self.visit(right)


# -- actions -----------------------------------------------------------------------------------------------------


def _bad(message: str, node: Node, code: RuleErrorCode = RuleErrorCode.BAD_ACTION) -> RuleDefinitionError:
    return RuleDefinitionError(code, message, node.line, node.column)


def _arguments(call: Call, names: tuple[str, ...], required: int) -> dict[str, Expr]:
    """Positional and named arguments of an action call, by parameter name."""
    if len(call.args) > len(names):
        raise _bad(f"{call.name}() takes at most {len(names)} arguments", call)
    given = dict(zip(names, call.args, strict=False))
    for name, value in call.kwargs:
        if name not in names:
            raise _bad(f"{call.name}() has no argument {name!r}", value)
        if name in given:
            raise _bad(f"{call.name}() got {name!r} twice", value)
        given[name] = value
    for name in names[:required]:
        if name not in given:
            raise _bad(f"{call.name}() needs {name!r}", call)
    return given


def _string(node: Expr, what: str) -> str:
    if not isinstance(node, Str):
        raise _bad(f"{what} must be a string", node)
    return node.value


def _duration(node: Expr, what: str) -> timedelta:
    if not isinstance(node, Dur):
        raise _bad(f"{what} must be a duration", node)
    return timedelta(seconds=node.seconds)


def _action(call: Call, rule: Rule, catalogue: Catalogue, scope: Scope, nested: bool = False) -> Action:
    if call.name == "open_case":
        given = _arguments(call, ("queue", "priority"), 2)
        queue = _string(given["queue"], "the queue")
        if catalogue.queues is not None and queue not in catalogue.queues:
            raise _bad(f"unknown queue {queue!r}", given["queue"], RuleErrorCode.UNKNOWN_QUEUE)
        priority = given["priority"]
        if not isinstance(priority, Num) or priority.value != int(priority.value) or not 0 <= priority.value <= 100:
            raise _bad("the priority must be a whole number from 0 to 100", priority)
        return OpenCase(queue, int(priority.value))
    if call.name == "decide":
        if call.kwargs:
            raise _bad("decide() takes no named arguments", call)
        requested = []
        for arg in call.args:
            encoded = _string(arg, "an enforcement action")
            kind = encoded.partition(":")[0]
            if not _ENFORCEMENT.fullmatch(encoded) or (
                catalogue.enforcement_actions and kind not in catalogue.enforcement_actions
            ):
                raise _bad(f"unknown enforcement action {encoded!r} (KIND or KIND:days)", arg)
            requested.append(encoded)
        return Decide(rule.policy, tuple(requested))
    if call.name == "label":
        given = _arguments(call, ("entity", "name", "expiry"), 2)
        entity = given["entity"]
        if not isinstance(entity, Path) or len(entity.parts) != 1 or entity.parts[0] not in scope.entities:
            raise _bad("label() needs an entity kind every event of the rule carries", entity)
        name = _string(given["name"], "the label")
        if not name or len(name) > 100:
            raise _bad("a label has 1 to 100 characters", given["name"])
        expiry = _duration(given["expiry"], "the expiry") if "expiry" in given else None
        return Label(entity.parts[0], name, expiry)
    if call.name == "delay" and not nested:
        given = _arguments(call, ("min", "max", "action"), 3)
        low, high = _duration(given["min"], "the minimum delay"), _duration(given["max"], "the maximum delay")
        if low > high:
            raise _bad("the minimum delay is above the maximum", given["min"])
        if high > MAX_DELAY:
            raise _bad(f"a delay is at most {MAX_DELAY.days} days", given["max"])
        inner = given["action"]
        if not isinstance(inner, Call):
            raise _bad("delay() delays an action", inner)
        action = _action(inner, rule, catalogue, scope, nested=True)
        assert not isinstance(action, Delayed)
        return Delayed(action, low, high)
    if call.name == "hold":
        _arguments(call, (), 0)
        return Hold()
    raise _bad(f"unknown action {call.name}()", call)


# -- conditions --------------------------------------------------------------------------------------------------


class Binder(Protocol):
    """What the rule set gives a condition being bound: list bits and regex slots."""

    def list_bit(self, name: str, kind: ListKind) -> int: ...

    def regex_slot(self, key: str, pattern: str) -> tuple[int, int]:
        """(set index, pattern index in that set) for the pattern run over the field expression ``key``."""
        ...


def bind_condition(rule: CompiledRule, binder: Binder) -> Callable[[Context], bool]:
    """The condition as one generated function (``codegen``), which does what ``reference_condition``'s closures
    do."""
    from domain.rules.codegen import generate_condition  # codegen builds on this module's reference

    return generate_condition(rule, binder)


def reference_condition(rule: CompiledRule, binder: Binder) -> Callable[[Context], bool]:
    """The condition as a tree of closures, one per syntax node: the reference the generated code is held to."""
    return _Builder(rule.scope, binder).build(rule.syntax.condition)


_TYPE_CHECKS: dict[AttrType, Callable[[object], bool]] = {
    AttrType.STRING: lambda v: type(v) is str,
    AttrType.NUMBER: lambda v: type(v) is int or type(v) is float,
    AttrType.BOOL: lambda v: type(v) is bool,
    AttrType.STRING_LIST: lambda v: isinstance(v, list | tuple | frozenset | set),
}


_ABSENT: dict[AttrType, object] = {
    AttrType.STRING: "",
    AttrType.NUMBER: 0,
    AttrType.BOOL: False,
    AttrType.STRING_LIST: frozenset(),
}
"""What an attribute the event does not carry reads as (attributes are optional; ``has(name)`` tells)."""


class _Builder:
    def __init__(self, scope: Scope, binder: Binder) -> None:
        self.scope = scope
        self.binder = binder

    def build(self, node: Expr) -> Fn:
        match node:
            case Str(value=value) | Num(value=value) | Bool(value=value):
                return lambda c: value
            case Dur(seconds=seconds):
                return lambda c: seconds
            case ListLit(items=items):
                if all(isinstance(i, Str) for i in items):
                    constant = frozenset(i.value for i in items if isinstance(i, Str))
                    return lambda c: constant
                parts = [self.build(i) for i in items]
                return lambda c: frozenset(p(c) for p in parts)
            case Path():
                return self._path(node)
            case Call():
                return self._call(node)
            case Not(operand=operand):
                inner = self.build(operand)
                return lambda c: not inner(c)
            case And(operands=operands):
                return self._and([self.build(o) for o in operands])
            case Or(operands=operands):
                return self._or([self.build(o) for o in operands])
            case Compare():
                return self._compare(node)
        raise TypeError(f"not an expression: {node!r}")  # pragma: no cover

    @staticmethod
    def _and(parts: list[Fn]) -> Fn:
        if len(parts) == 2:
            first, second = parts
            return lambda c: first(c) and second(c)

        def all_of(c: Context) -> bool:
            for part in parts:  # noqa: SIM110 - a plain loop is faster than all() over a generator
                if not part(c):
                    return False
            return True

        return all_of

    @staticmethod
    def _or(parts: list[Fn]) -> Fn:
        if len(parts) == 2:
            first, second = parts
            return lambda c: first(c) or second(c)

        def any_of(c: Context) -> bool:
            for part in parts:  # noqa: SIM110 - a plain loop is faster than any() over a generator
                if part(c):
                    return True
            return False

        return any_of

    def _path(self, node: Path) -> Fn:
        parts = node.parts
        if len(parts) == 1:
            name = parts[0]
            declared = self.scope.attributes[name]
            check, absent = _TYPE_CHECKS[declared], _ABSENT[declared]

            def attribute(c: Context) -> object:
                value = c.event.attributes.get(name)
                if value is None:
                    return absent
                if not check(value):
                    raise RuleRuntimeError(f"the event's attribute {name!r} is not a {declared.value}")
                return value

            return attribute
        owner, field = parts
        if owner == "event":
            return (lambda c: c.event.type) if field == "type" else (lambda c: c.event.region)
        if field == "age":
            return lambda c: c.entity(owner).age.total_seconds()
        getter = operator.attrgetter(field)
        return lambda c: getter(c.entity(owner))

    def _call(self, node: Call) -> Fn:
        name, args = node.name, node.args
        if name == "has":
            attribute = _kind(args[0])
            return lambda c: c.event.attributes.get(attribute) is not None
        if name == "signal":
            signal = _literal(args[0])
            if len(args) == 1:
                return lambda c: c.signal(signal)
            kind = _kind(args[1])
            return lambda c: c.entity_signal(kind, signal)
        if name in COUNTER_FUNCTIONS:
            source, kind, window = _kind(args[0]), _kind(args[1]), args[2]
            assert isinstance(window, Dur)
            seconds = window.seconds
            return lambda c: c.counter(source, kind, seconds)
        if name == "normalize":
            if isinstance(args[0], Str):
                constant = normalise(args[0].value)
                return lambda c: constant
            key, value = print_expr(args[0]), self.build(args[0])
            return lambda c: c.normalised(key, value)
        if name in LIST_FUNCTIONS:
            key, value = print_expr(args[0]), self.build(args[0])
            kind = LIST_FUNCTIONS[name]
            bit = self.binder.list_bit(_literal(args[1]), kind)
            if kind == ListKind.KEYWORD:
                return lambda c: c.keyword_mask(key, value) & bit != 0
            masks = _LINK_MASKS[kind]
            return lambda c: masks(c.lists, c.links(key, value)) & bit != 0
        if name == "matches":
            key, value = print_expr(args[0]), self.build(args[0])
            group, index = self.binder.regex_slot(key, _literal(args[1]))
            return lambda c: index in c.regex_hits(group, value)
        built = [self.build(a) for a in args]
        if name == "lower":
            (text,) = built
            return lambda c: text(c).casefold()
        if name == "len":
            (text,) = built
            return lambda c: len(text(c))
        method = {"contains": str.__contains__, "starts_with": str.startswith, "ends_with": str.endswith}[name]
        text, other = built
        if isinstance(args[1], Str):
            constant = args[1].value
            return lambda c: method(text(c), constant)
        return lambda c: method(text(c), other(c))

    def _compare(self, node: Compare) -> Fn:
        left = self.build(node.left)
        if node.op in ("in", "not in"):
            right = self.build(node.right)
            if node.op == "in":
                return lambda c: left(c) in right(c)
            return lambda c: left(c) not in right(c)
        op = _COMPARE[node.op]
        if isinstance(node.right, Str | Num | Dur | Bool):
            constant = node.right.seconds if isinstance(node.right, Dur) else node.right.value
            return _CONSTANT_COMPARE[node.op](left, constant)
        right = self.build(node.right)
        return lambda c: op(left(c), right(c))


_CONSTANT_COMPARE: dict[str, Callable[[Fn, Any], Fn]] = {
    "==": lambda left, k: lambda c: left(c) == k,
    "!=": lambda left, k: lambda c: left(c) != k,
    "<": lambda left, k: lambda c: left(c) < k,
    "<=": lambda left, k: lambda c: left(c) <= k,
    ">": lambda left, k: lambda c: left(c) > k,
    ">=": lambda left, k: lambda c: left(c) >= k,
}
"""Comparisons with a literal on the right (the common case), one closure less than ``op(left(c), right(c))``."""

_LINK_MASKS: dict[ListKind, Callable[[Any, list[tuple[str, str]]], int]] = {
    ListKind.DOMAIN: lambda lists, found: lists.domain_mask(found),
    ListKind.URL: lambda lists, found: lists.url_mask(found),
}


def _literal(node: Expr) -> str:
    assert isinstance(node, Str)
    return node.value


def _kind(node: Expr) -> str:
    assert isinstance(node, Path)
    return node.parts[0]
