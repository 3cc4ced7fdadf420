"""The type checker: a parsed rule against the catalogue. Every name must exist, every expression must have the
type its place needs; the first problem is raised as a ``RuleDefinitionError`` naming its line and column.

Types are ``catalogue.AttrType`` values. What a rule may read (attributes, entities) is what *all* its event types
offer: an attribute must be declared, with one type, on every event type of the rule; an entity kind must be carried
by every one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import re2

from domain.rules.catalogue import AttrType, Catalogue, CounterKind, ListKind
from domain.rules.errors import RuleDefinitionError, RuleErrorCode
from domain.rules.syntax import And, Bool, Call, Compare, Dur, Expr, ListLit, Node, Not, Num, Or, Path, Rule, Str

T = AttrType

#: Facts of an entity a rule may read (``account.age``...), with their types.
ENTITY_FACTS: Mapping[str, AttrType] = {
    "age": T.DURATION,
    "active_strikes": T.NUMBER,
    "status": T.STRING,
    "region": T.STRING,
    "prior_decisions": T.NUMBER,
    "labels": T.STRING_LIST,
}
#: Fields of the event itself (``event.region``).
EVENT_FIELDS: Mapping[str, AttrType] = {"type": T.STRING, "region": T.STRING}

#: Plain functions: argument types -> result type.
SIGNATURES: Mapping[str, tuple[tuple[AttrType, ...], AttrType]] = {
    "normalize": ((T.STRING,), T.STRING),
    "lower": ((T.STRING,), T.STRING),
    "len": ((T.STRING,), T.NUMBER),
    "contains": ((T.STRING, T.STRING), T.BOOL),
    "starts_with": ((T.STRING, T.STRING), T.BOOL),
    "ends_with": ((T.STRING, T.STRING), T.BOOL),
}
LIST_FUNCTIONS: Mapping[str, ListKind] = {
    "has_keyword": ListKind.KEYWORD,
    "has_domain": ListKind.DOMAIN,
    "has_url": ListKind.URL,
}
COUNTER_FUNCTIONS: Mapping[str, CounterKind] = {"count": CounterKind.COUNT, "distinct": CounterKind.DISTINCT}
MAX_WINDOW_SECONDS = 31 * 86400
"""Longest counter window (the counter stores keep 31 days)."""
MAX_REGEX_MEMORY = 1 << 20
"""RE2's memory for one regex at definition (bounds its compile time to tens of milliseconds)."""
MAX_REGEX_PROGRAM = 20_000
"""Largest compiled regex accepted (RE2 program instructions; ``\\pL{20}`` is about 24,000)."""

REGEX_OPTIONS = re2.Options()
REGEX_OPTIONS.log_errors = False
REGEX_OPTIONS.max_mem = MAX_REGEX_MEMORY


@dataclass(frozen=True)
class Scope:
    """What the rule's condition may read: attributes (name -> type) and entity kinds."""

    attributes: Mapping[str, AttrType]
    entities: frozenset[str]


def _error(code: RuleErrorCode, message: str, node: Node) -> RuleDefinitionError:
    return RuleDefinitionError(code, message, node.line, node.column)


def _spot_error(code: RuleErrorCode, message: str, rule: Rule, spot: str) -> RuleDefinitionError:
    line, column = rule.spots.get(spot, (rule.line, rule.column))
    return RuleDefinitionError(code, message, line, column)


def check_header(rule: Rule, catalogue: Catalogue) -> Scope:
    """Check the header's names; return the scope its event types give the condition."""
    for name in rule.event_types:
        if name not in catalogue.event_types:
            raise _spot_error(RuleErrorCode.UNKNOWN_EVENT_TYPE, f"unknown event type {name!r}", rule, f"on:{name}")
    for region in rule.regions:
        if region not in catalogue.regions:
            raise _spot_error(RuleErrorCode.UNKNOWN_REGION, f"unknown region {region!r}", rule, f"in:{region}")
    if rule.policy not in catalogue.policies:
        raise _spot_error(RuleErrorCode.UNKNOWN_POLICY, f"unknown policy {rule.policy!r}", rule, "policy")
    types = [catalogue.event_types[name] for name in rule.event_types]
    entities = frozenset.intersection(*(t.entities for t in types))
    attributes = {
        name: kind
        for name, kind in types[0].attributes.items()
        if all(t.attributes.get(name) == kind for t in types[1:])
    }
    if rule.rollout is not None and not 0 < rule.rollout <= 100:
        raise _spot_error(RuleErrorCode.BAD_ROLLOUT, "rollout must be above 0% and at most 100%", rule, "rollout")
    if rule.rollout_by is not None and rule.rollout_by not in entities:
        raise _spot_error(
            RuleErrorCode.UNKNOWN_ENTITY,
            f"rollout by {rule.rollout_by!r}: not an entity every event of the rule carries",
            rule,
            "by",
        )
    return Scope(attributes, entities)


class Checker:
    def __init__(self, catalogue: Catalogue, scope: Scope) -> None:
        self.catalogue = catalogue
        self.scope = scope

    def expect(self, node: Expr, wanted: AttrType, what: str) -> None:
        found = self.type_of(node)
        if found != wanted:
            raise _error(RuleErrorCode.TYPE_ERROR, f"{what} must be a {wanted.value}, not a {found.value}", node)

    def type_of(self, node: Expr) -> AttrType:
        match node:
            case Str():
                return T.STRING
            case Num():
                return T.NUMBER
            case Dur():
                return T.DURATION
            case Bool():
                return T.BOOL
            case ListLit(items=items):
                for item in items:
                    self.expect(item, T.STRING, "a list item")
                return T.STRING_LIST
            case Path():
                return self._path(node)
            case Call():
                return self._call(node)
            case Not(operand=operand):
                self.expect(operand, T.BOOL, "the operand of 'not'")
                return T.BOOL
            case And(operands=operands) | Or(operands=operands):
                word = "and" if isinstance(node, And) else "or"
                for operand in operands:
                    self.expect(operand, T.BOOL, f"an operand of '{word}'")
                return T.BOOL
            case Compare():
                return self._compare(node)
        raise TypeError(f"not an expression: {node!r}")  # pragma: no cover

    def _path(self, node: Path) -> AttrType:
        parts = node.parts
        if len(parts) == 1:
            name = parts[0]
            if name in self.scope.attributes:
                return self.scope.attributes[name]
            if name in self.catalogue.entity_kinds or name == "event":
                raise _error(RuleErrorCode.TYPE_ERROR, f"{name!r} is not a value; read one of its fields", node)
            raise _error(RuleErrorCode.UNKNOWN_ATTRIBUTE, f"unknown attribute {name!r} (not on every event type)", node)
        if len(parts) == 2 and parts[0] == "event":
            if parts[1] in EVENT_FIELDS:
                return EVENT_FIELDS[parts[1]]
            raise _error(RuleErrorCode.UNKNOWN_FACT, f"unknown event field {parts[1]!r}", node)
        self.entity(Path(parts[:1], line=node.line, column=node.column))
        if len(parts) == 2 and parts[1] in ENTITY_FACTS:
            return ENTITY_FACTS[parts[1]]
        raise _error(RuleErrorCode.UNKNOWN_FACT, f"unknown fact {'.'.join(parts[1:])!r}", node)

    def entity(self, node: Expr) -> str:
        """An entity-kind argument (``account``): it must be carried by every event type of the rule."""
        if not isinstance(node, Path) or len(node.parts) != 1:
            raise _error(RuleErrorCode.TYPE_ERROR, "expected an entity kind such as account", node)
        kind = node.parts[0]
        if kind not in self.catalogue.entity_kinds:
            raise _error(RuleErrorCode.UNKNOWN_ENTITY, f"unknown entity kind {kind!r}", node)
        if kind not in self.scope.entities:
            raise _error(RuleErrorCode.UNKNOWN_ENTITY, f"not every event type of the rule carries a {kind}", node)
        return kind

    def literal(self, node: Expr, what: str) -> str:
        if not isinstance(node, Str):
            raise _error(RuleErrorCode.TYPE_ERROR, f"{what} must be a string literal", node)
        return node.value

    def _arity(self, node: Call, low: int, high: int | None = None) -> None:
        high = low if high is None else high
        if node.kwargs:
            raise _error(RuleErrorCode.TYPE_ERROR, f"{node.name}() takes no named arguments", node)
        if not low <= len(node.args) <= high:
            count = str(low) if low == high else f"{low} or {high}"
            raise _error(RuleErrorCode.TYPE_ERROR, f"{node.name}() takes {count} arguments", node)

    def _call(self, node: Call) -> AttrType:
        name = node.name
        if name in SIGNATURES:
            params, result = SIGNATURES[name]
            self._arity(node, len(params))
            for index, (arg, param) in enumerate(zip(node.args, params, strict=True)):
                self.expect(arg, param, f"argument {index + 1} of {name}()")
            return result
        if name == "matches":
            self._arity(node, 2)
            self.expect(node.args[0], T.STRING, "argument 1 of matches()")
            check_regex(node.args[1])
            return T.BOOL
        if name in LIST_FUNCTIONS:
            self._arity(node, 2)
            self.expect(node.args[0], T.STRING, f"argument 1 of {name}()")
            list_name = self.literal(node.args[1], f"argument 2 of {name}() (a list name)")
            kind = self.catalogue.lists.get(list_name)
            if kind is None:
                raise _error(RuleErrorCode.UNKNOWN_LIST, f"unknown list {list_name!r}", node.args[1])
            if kind != LIST_FUNCTIONS[name]:
                raise _error(
                    RuleErrorCode.LIST_KIND_MISMATCH,
                    f"{list_name!r} is a {kind.value} list; {name}() needs a {LIST_FUNCTIONS[name].value} list",
                    node.args[1],
                )
            return T.BOOL
        if name == "has":
            self._arity(node, 1)
            arg = node.args[0]
            if not isinstance(arg, Path) or len(arg.parts) != 1:
                raise _error(RuleErrorCode.TYPE_ERROR, "has() takes an attribute name", arg)
            self._path(arg)
            return T.BOOL
        if name == "signal":
            self._arity(node, 1, 2)
            signal = self.literal(node.args[0], "argument 1 of signal() (a signal name)")
            if signal not in self.catalogue.signals:
                raise _error(RuleErrorCode.UNKNOWN_SIGNAL, f"unknown signal {signal!r}", node.args[0])
            if len(node.args) == 2:
                self.entity(node.args[1])
            return T.NUMBER
        if name in COUNTER_FUNCTIONS:
            self._counter(node, COUNTER_FUNCTIONS[name])
            return T.NUMBER
        raise _error(RuleErrorCode.UNKNOWN_FUNCTION, f"unknown function {name}()", node)

    def _counter(self, node: Call, kind: CounterKind) -> None:
        self._arity(node, 3)
        source_node, entity_node, window = node.args
        if not isinstance(source_node, Path) or len(source_node.parts) != 1:
            raise _error(RuleErrorCode.TYPE_ERROR, f"argument 1 of {node.name}() must be a counter name", source_node)
        source = self.catalogue.counters.get(source_node.parts[0])
        if source is None:
            raise _error(RuleErrorCode.UNKNOWN_COUNTER, f"unknown counter {source_node.parts[0]!r}", source_node)
        if source.kind != kind:
            raise _error(
                RuleErrorCode.UNKNOWN_COUNTER,
                f"{source.name!r} is a {source.kind.value} counter: use {source.kind.value}(...)",
                source_node,
            )
        self.entity(entity_node)
        if not isinstance(window, Dur) or not 0 < window.seconds <= MAX_WINDOW_SECONDS:
            raise _error(RuleErrorCode.TYPE_ERROR, "the window must be a duration from 1s to 31d", window)

    def _compare(self, node: Compare) -> AttrType:
        left, right = self.type_of(node.left), self.type_of(node.right)
        if node.op in ("in", "not in"):
            if left != T.STRING or right != T.STRING_LIST:
                raise _error(
                    RuleErrorCode.TYPE_ERROR,
                    f"'{node.op}' needs a string on the left and a list on the right, not {left.value} and "
                    f"{right.value}",
                    node,
                )
        elif node.op in ("==", "!="):
            if left != right:
                raise _error(RuleErrorCode.TYPE_ERROR, f"cannot compare a {left.value} with a {right.value}", node)
        elif left != right or left not in (T.NUMBER, T.DURATION):
            raise _error(
                RuleErrorCode.TYPE_ERROR,
                f"'{node.op}' needs two numbers or two durations, not {left.value} and {right.value}",
                node,
            )
        return T.BOOL


def check_regex(node: Expr) -> str:
    """A regex argument: a string literal RE2 compiles (linear time; no backreferences or look-around)."""
    if not isinstance(node, Str):
        raise _error(RuleErrorCode.TYPE_ERROR, "a regular expression must be a string literal", node)
    try:
        compiled = re2.compile(node.value, REGEX_OPTIONS)
    except re2.error as error:
        detail = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        raise _error(RuleErrorCode.BAD_REGEX, f"not a valid RE2 regular expression: {detail}", node) from None
    if compiled.programsize > MAX_REGEX_PROGRAM:
        raise _error(RuleErrorCode.BAD_REGEX, "the regular expression is too large (repeat less)", node)
    return node.value


def check_rule(rule: Rule, catalogue: Catalogue) -> Scope:
    """Check the whole rule but its actions (the compiler checks those while building them)."""
    scope = check_header(rule, catalogue)
    Checker(catalogue, scope).expect(rule.condition, T.BOOL, "the condition")
    return scope
