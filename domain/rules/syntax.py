"""The rules language's syntax tree: frozen dataclasses, positions (1-based line and column) kept out of equality
so that a printed and re-parsed tree compares equal to the original."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Node:
    line: int = field(default=0, compare=False, kw_only=True)
    column: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Str(Node):
    value: str


@dataclass(frozen=True, slots=True)
class Num(Node):
    value: float


@dataclass(frozen=True, slots=True)
class Dur(Node):
    seconds: int
    text: str = field(default="", compare=False)
    """As written (``7d``), for printing."""


@dataclass(frozen=True, slots=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Path(Node):
    """``text``, ``event.region``, ``account.age``: a name, or a name and a field."""

    parts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, Expr], ...] = ()


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True, slots=True)
class And(Node):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str
    """``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in``."""
    left: Expr
    right: Expr


Expr = Str | Num | Dur | Bool | ListLit | Path | Call | Not | And | Or | Compare


@dataclass(frozen=True, slots=True)
class Rule(Node):
    name: str
    event_types: tuple[str, ...]
    regions: tuple[str, ...]
    policy: str
    rollout: float | None
    rollout_by: str | None
    condition: Expr
    actions: tuple[Call, ...]
    spots: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)
    """Where header items are written: ``"on:<type>"``, ``"in:<region>"``, ``"policy"``, ``"rollout"``, ``"by"``."""
