"""The rules language's parser (lark, LALR) and printer: rule text <-> ``syntax.Rule``.

``parse_rule(text)`` raises ``RuleSyntaxError`` with the line and column of the first offending token;
``print_rule(rule)`` writes text that parses back to an equal tree.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from domain.rules.errors import RuleDefinitionError, RuleErrorCode, RuleSyntaxError
from domain.rules.syntax import (
    And,
    Bool,
    Call,
    Compare,
    Dur,
    Expr,
    ListLit,
    Node,
    Not,
    Num,
    Or,
    Path,
    Rule,
    Str,
)

MAX_TEXT = 20_000
"""Longest rule text accepted (characters)."""
MAX_NESTING = 40
"""Deepest nesting of brackets accepted (checked on the text, before parsing)."""
MAX_DEPTH = 64
"""Deepest syntax tree accepted (``not not ...`` nests without brackets): checking, binding and evaluation recurse
over the tree, and stay far from Python's recursion limit."""

GRAMMAR = r"""
start: "rule" STRING "on" event_types "in" names "policy" NAME rollout? "when" expr "then" actions

event_types: dotted ("," dotted)*
dotted: NAME ("." NAME)*
names: NAME ("," NAME)*
rollout: "rollout" NUMBER "%" ("by" NAME)?
actions: call ("," call)*

?expr: or_expr
?or_expr: and_expr ("or" and_expr)*
?and_expr: not_expr ("and" not_expr)*
?not_expr: "not" not_expr -> not_
         | comparison
?comparison: atom
           | atom COMPARE atom -> compare
           | atom "in" atom -> in_
           | atom "not" "in" atom -> not_in
?atom: STRING -> string
     | NUMBER -> number
     | DURATION -> duration
     | "true" -> true
     | "false" -> false
     | "[" [expr ("," expr)*] "]" -> list_
     | NAME ("." NAME)* -> path
     | call
     | "(" expr ")"
call: NAME "(" [arg ("," arg)*] ")"
?arg: expr
    | NAME "=" expr -> kwarg

COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">"
DURATION.2: /[0-9]+[smhd](?![A-Za-z0-9_])/
NUMBER: /-?[0-9]+(\.[0-9]+)?/
STRING: /"([^"\\\n]|\\["\\nt])*"/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
COMMENT: /#[^\n]*/

%import common.WS
%ignore WS
%ignore COMMENT
"""


@functools.cache
def _parser() -> Lark:
    """The LALR parser, built on the first rule parsed (~40 ms: not at import, so a start that compiles no rule
    does not pay it)."""
    return Lark(GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)")

_TERMINALS = {
    "STRING": "a string",
    "NUMBER": "a number",
    "DURATION": "a duration",
    "NAME": "a name",
    "COMPARE": "a comparison",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "DOT": "'.'",
    "EQUAL": "'='",
    "PERCENT": "'%'",
    "$END": "the end of the text",
}


def _pos(meta: Any) -> dict[str, int]:
    return {"line": getattr(meta, "line", 0), "column": getattr(meta, "column", 0)}


def _tok(token: Token) -> dict[str, int]:
    return {"line": token.line or 0, "column": token.column or 0}


def _unquote(token: Token) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], token[1:-1])


@v_args(meta=True)
class _ToTree(Transformer[Token, Any]):
    def start(self, meta: Any, children: list[Any]) -> Rule:
        name, event_types, regions, policy, *rest = children
        spots = {f"on:{n}": (line, column) for n, line, column in event_types}
        spots.update({f"in:{t}": (t.line or 0, t.column or 0) for t in regions})
        spots["policy"] = (policy.line or 0, policy.column or 0)
        rollout: tuple[float | None, str | None] = (None, None)
        if len(rest) == 3:
            percent, *by = rest.pop(0)
            rollout = (float(percent), str(by[0]) if by else None)
            spots["rollout"] = (percent.line or 0, percent.column or 0)
            if by:
                spots["by"] = (by[0].line or 0, by[0].column or 0)
        condition, actions = rest
        return Rule(
            _unquote(name),
            tuple(n for n, _, _ in event_types),
            tuple(str(t) for t in regions),
            str(policy),
            rollout[0],
            rollout[1],
            condition,
            actions,
            spots,
            **_pos(meta),
        )

    def event_types(self, meta: Any, children: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
        return children

    def dotted(self, meta: Any, children: list[Token]) -> tuple[str, int, int]:
        return ".".join(children), children[0].line or 0, children[0].column or 0

    def names(self, meta: Any, children: list[Token]) -> list[Token]:
        return children

    def rollout(self, meta: Any, children: list[Token]) -> list[Token]:
        return children

    def actions(self, meta: Any, children: list[Call]) -> tuple[Call, ...]:
        return tuple(children)

    def or_expr(self, meta: Any, children: list[Expr]) -> Or:
        return Or(tuple(children), **_pos(meta))

    def and_expr(self, meta: Any, children: list[Expr]) -> And:
        return And(tuple(children), **_pos(meta))

    def not_(self, meta: Any, children: list[Expr]) -> Not:
        return Not(children[0], **_pos(meta))

    def compare(self, meta: Any, children: list[Any]) -> Compare:
        left, op, right = children
        return Compare(str(op), left, right, **_pos(meta))

    def in_(self, meta: Any, children: list[Expr]) -> Compare:
        return Compare("in", children[0], children[1], **_pos(meta))

    def not_in(self, meta: Any, children: list[Expr]) -> Compare:
        return Compare("not in", children[0], children[1], **_pos(meta))

    def string(self, meta: Any, children: list[Token]) -> Str:
        return Str(_unquote(children[0]), **_tok(children[0]))

    def number(self, meta: Any, children: list[Token]) -> Num:
        return Num(float(children[0]), **_tok(children[0]))

    def duration(self, meta: Any, children: list[Token]) -> Dur:
        text = str(children[0])
        return Dur(int(text[:-1]) * _UNIT_SECONDS[text[-1]], text, **_tok(children[0]))

    def true(self, meta: Any, children: list[Any]) -> Bool:
        return Bool(True, **_pos(meta))

    def false(self, meta: Any, children: list[Any]) -> Bool:
        return Bool(False, **_pos(meta))

    def list_(self, meta: Any, children: list[Expr | None]) -> ListLit:
        return ListLit(tuple(c for c in children if c is not None), **_pos(meta))

    def path(self, meta: Any, children: list[Token]) -> Path:
        return Path(tuple(str(c) for c in children), **_pos(meta))

    def call(self, meta: Any, children: list[Any]) -> Call:
        name, *args = children
        positional = tuple(a for a in args if a is not None and not isinstance(a, tuple))
        keywords = tuple(a for a in args if isinstance(a, tuple))
        return Call(str(name), positional, keywords, **_tok(name))

    def kwarg(self, meta: Any, children: list[Any]) -> tuple[str, Expr]:
        return str(children[0]), children[1]


def _expected(expected: set[str]) -> str:
    names = sorted({_TERMINALS.get(e, repr(e.lower()) if e.isupper() else e) for e in expected})
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")


def _check_size(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise RuleDefinitionError(RuleErrorCode.TOO_LARGE, f"rule text is longer than {MAX_TEXT} characters")
    depth = 0
    line, column = 1, 0
    in_string = escaped = False
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "([":
            depth += 1
            if depth > MAX_NESTING:
                raise RuleDefinitionError(
                    RuleErrorCode.TOO_LARGE, f"brackets nest deeper than {MAX_NESTING}", line, column
                )
        elif char in ")]":
            depth -= 1


def parse_rule(text: str) -> Rule:
    """Parse rule text. Raises ``RuleSyntaxError`` (or ``RuleDefinitionError`` TOO_LARGE)."""
    _check_size(text)
    try:
        tree = _parser().parse(text)
        rule: Rule = _ToTree().transform(tree)
    except UnexpectedCharacters as error:
        char = text[error.pos_in_stream] if error.pos_in_stream is not None else "?"
        raise RuleSyntaxError(f"unexpected character {char!r}", error.line, error.column) from None
    except UnexpectedEOF as error:
        raise RuleSyntaxError(
            f"unexpected end of the text; expected {_expected(set(error.expected))}", *_end(text)
        ) from None
    except UnexpectedToken as error:
        if error.token.type == "$END":
            raise RuleSyntaxError(
                f"unexpected end of the text; expected {_expected(error.expected)}", *_end(text)
            ) from None
        raise RuleSyntaxError(
            f"unexpected {str(error.token)!r}; expected {_expected(error.expected)}", error.line, error.column
        ) from None
    except UnexpectedInput as error:  # pragma: no cover - the three above are all lark raises
        raise RuleSyntaxError("syntax error", error.line, error.column) from None
    except (RecursionError, VisitError) as error:
        raise RuleDefinitionError(RuleErrorCode.TOO_LARGE, "rule is nested too deeply") from error
    _check_depth(rule)
    return rule


def _children(node: object) -> tuple[Node, ...]:
    match node:
        case Rule(condition=condition, actions=actions):
            return (condition, *actions)
        case Call(args=args, kwargs=kwargs):
            return (*args, *(value for _, value in kwargs))
        case Not(operand=operand):
            return (operand,)
        case And(operands=operands) | Or(operands=operands) | ListLit(items=operands):
            return operands
        case Compare(left=left, right=right):
            return (left, right)
    return ()


def _check_depth(rule: Rule) -> None:
    stack: list[tuple[Node, int]] = [(rule, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RuleDefinitionError(
                RuleErrorCode.TOO_LARGE, f"expressions nest deeper than {MAX_DEPTH}", node.line, node.column
            )
        stack.extend((child, depth + 1) for child in _children(node))


def _end(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


# -- printing --------------------------------------------------------------------------------------------------


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text if "e" not in text else f"{value:.20f}".rstrip("0")


def _wrap(node: Node) -> str:
    text = print_expr(node)
    return f"({text})" if isinstance(node, And | Or | Not | Compare) else text


def _duration(node: Dur) -> str:
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
        if node.seconds % seconds == 0 and node.seconds:
            return f"{node.seconds // seconds}{unit}"
    return f"{node.seconds}s"


def print_expr(node: Node) -> str:
    """Canonical text of an expression: fully parenthesised where precedence could matter."""
    match node:
        case Str(value=value):
            return _quote(value)
        case Num(value=value):
            return _number(value)
        case Dur():
            return _duration(node)
        case Bool(value=value):
            return "true" if value else "false"
        case ListLit(items=items):
            return "[" + ", ".join(print_expr(i) for i in items) + "]"
        case Path(parts=parts):
            return ".".join(parts)
        case Call(name=name, args=args, kwargs=kwargs):
            rendered = [print_expr(a) for a in args] + [f"{k}={print_expr(v)}" for k, v in kwargs]
            return f"{name}(" + ", ".join(rendered) + ")"
        case Not(operand=operand):
            return f"not {_wrap(operand)}"
        case And(operands=operands):
            return " and ".join(_wrap(o) for o in operands)
        case Or(operands=operands):
            return " or ".join(_wrap(o) for o in operands)
        case Compare(op=op, left=left, right=right):
            return f"{_wrap(left)} {op} {_wrap(right)}"
    raise TypeError(f"not an expression: {node!r}")  # pragma: no cover


def print_rule(rule: Rule) -> str:
    rollout = ""
    if rule.rollout is not None:
        rollout = f"rollout {_number(rule.rollout)}%" + (f" by {rule.rollout_by}" if rule.rollout_by else "") + "\n"
    return (
        f"rule {_quote(rule.name)}\n"
        f"on {', '.join(rule.event_types)}\n"
        f"in {', '.join(rule.regions)}\n"
        f"policy {rule.policy}\n"
        f"{rollout}"
        f"when {print_expr(rule.condition)}\n"
        f"then {', '.join(print_expr(a) for a in rule.actions)}\n"
    )
