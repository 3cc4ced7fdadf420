"""The parser: every construct, precedence, syntax errors with line and column, and print -> parse round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rules.errors import RuleDefinitionError, RuleErrorCode, RuleSyntaxError
from domain.rules.language import MAX_DEPTH, MAX_NESTING, parse_rule, print_expr, print_rule
from domain.rules.syntax import And, Bool, Call, Compare, Dur, Expr, ListLit, Not, Num, Or, Path, Rule, Str
from tests.unit.rules.support import SLOW_MACHINE, rule_text


def cond(text: str) -> Expr:
    return parse_rule(rule_text(text)).condition


def test_header_and_actions() -> None:
    rule = parse_rule(
        'rule "spam-coins"  # a comment\n'
        "on content.posted, message.sent\n"
        "in EU, US\n"
        "policy SPAM\n"
        "rollout 12.5% by account\n"
        'when signal("spam") > 0.9\n'
        'then open_case(queue="spam", priority=80), label(account, "spammer", 7d), hold()\n'
    )
    assert rule.name == "spam-coins"
    assert rule.event_types == ("content.posted", "message.sent")
    assert rule.regions == ("EU", "US")
    assert rule.policy == "SPAM"
    assert (rule.rollout, rule.rollout_by) == (12.5, "account")
    assert [a.name for a in rule.actions] == ["open_case", "label", "hold"]
    assert rule.actions[0].kwargs == (("queue", Str("spam")), ("priority", Num(80)))
    assert rule.actions[1].args == (Path(("account",)), Str("spammer"), Dur(7 * 86400))


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ('"a \\"b\\" \\\\ \\n"', Str('a "b" \\ \n')),
        ("42", Num(42)),
        ("-0.5", Num(-0.5)),
        ("30s", Dur(30)),
        ("15m", Dur(900)),
        ("2h", Dur(7200)),
        ("7d", Dur(604800)),
        ("true", Bool(True)),
        ("false", Bool(False)),
        ('["a", "b"]', ListLit((Str("a"), Str("b")))),
        ("[]", ListLit(())),
        ("text", Path(("text",))),
        ("account.age", Path(("account", "age"))),
        ("f()", Call("f", ())),
        ('f(x, "y", k=1)', Call("f", (Path(("x",)), Str("y")), (("k", Num(1)),))),
    ],
)
def test_atoms(text: str, tree: Expr) -> None:
    assert cond(text) == tree


def test_precedence_or_and_not_comparison() -> None:
    a, b, c = (Path((n,)) for n in "abc")
    assert cond("a or b and c") == Or((a, And((b, c))))
    assert cond("(a or b) and c") == And((Or((a, b)), c))
    assert cond("not a and b") == And((Not(a), b))
    assert cond("not a == b") == Not(Compare("==", a, b))
    assert cond("a or b or c") == Or((a, b, c))  # chains are flat, not nested
    assert cond('"x" not in a') == Compare("not in", Str("x"), a)
    assert cond('not "x" in a') == Not(Compare("in", Str("x"), a))
    for op in ("==", "!=", "<", "<=", ">", ">="):
        assert cond(f"a {op} 1") == Compare(op, a, Num(1))


def test_comparisons_do_not_chain() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(rule_text("a < b < c"))
    assert (caught.value.line, caught.value.column) == (5, 12)


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('rule "x"\non content.posted\nin EU\npolicy SPAM\nwhen a and\nthen hold()', 6, 1, "unexpected 'then'"),
        ('rule "x"\non content.posted\nin EU\npolicy SPAM\nwhen a ~ b\nthen hold()', 5, 8, "unexpected character '~'"),
        ('rule "x"\non content.posted\nin EU\npolicy SPAM\nwhen a\nthen', 6, 5, "unexpected end of the text"),
        ("rule x\non content.posted\nin EU\npolicy SPAM\nwhen a\nthen hold()", 1, 6, "expected a string"),
        ('rule "x"\non content.posted\nin EU\npolicy SPAM\nwhen (a or b\nthen hold()', 6, 1, "')'"),
        ('rule "x"\non content.posted\nin EU\npolicy SPAM\nwhen "open\nthen hold()', 5, 6, "unexpected character"),
    ],
)
def test_syntax_errors_name_line_and_column(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(text)
    error = caught.value
    assert error.code == RuleErrorCode.SYNTAX_ERROR
    assert (error.line, error.column) == (line, column)
    assert fragment in error.message


def test_oversized_and_overnested_text_is_refused_before_parsing() -> None:
    with pytest.raises(RuleDefinitionError) as caught:
        parse_rule(rule_text("(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)))
    assert caught.value.code == RuleErrorCode.TOO_LARGE
    with pytest.raises(RuleDefinitionError) as caught:
        parse_rule(rule_text(" or ".join(["a"] * 10_000)))
    assert caught.value.code == RuleErrorCode.TOO_LARGE


def test_long_flat_chains_parse_and_deep_trees_are_refused() -> None:
    assert len(cond(" and ".join(["a"] * 2000)).operands) == 2000  # type: ignore[union-attr]
    assert isinstance(cond("not " * (MAX_DEPTH - 1) + "a"), Not)  # the rule is the root, the condition depth 1
    with pytest.raises(RuleDefinitionError) as caught:
        cond("not " * (MAX_DEPTH + 1) + "a")
    assert (caught.value.code, caught.value.line) == (RuleErrorCode.TOO_LARGE, 5)


# -- printing ---------------------------------------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in {"and", "or", "not", "in", "true", "false", "rule", "on", "policy", "rollout", "by", "when",
                        "then"}
)  # fmt: skip
ATOMS: st.SearchStrategy[Expr] = st.one_of(
    st.text(max_size=12).map(Str),
    st.integers(-(10**6), 10**6).map(lambda v: Num(float(v))),
    st.decimals(-1000, 1000, places=3, allow_nan=False, allow_infinity=False).map(lambda d: Num(float(d))),
    st.integers(0, 10**5).map(Dur),
    st.booleans().map(Bool),
    st.lists(NAMES, min_size=1, max_size=2).map(lambda parts: Path(tuple(parts))),
)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
    return st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        st.tuples(ops, children, children).map(lambda t: Compare(*t)),
        st.lists(children, max_size=3).map(lambda xs: ListLit(tuple(xs))),
        st.tuples(NAMES, st.lists(children, max_size=3), st.lists(st.tuples(NAMES, children), max_size=2)).map(
            lambda t: Call(t[0], tuple(t[1]), tuple(t[2]))
        ),
    )


EXPRESSIONS = st.recursive(ATOMS, _extend, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(EXPRESSIONS)
def test_printing_then_parsing_gives_the_same_tree(tree: Expr) -> None:
    text = rule_text(print_expr(tree))
    assert parse_rule(text).condition == tree  # nested and/or print in parentheses, so they stay nested


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(EXPRESSIONS, st.text(min_size=1, max_size=10), st.sampled_from([None, 0.5, 25.0, 100.0]))
def test_printing_a_whole_rule_round_trips(condition: Expr, name: str, rollout: float | None) -> None:
    rule = Rule(
        name,
        ("content.posted", "a.b.c"),
        ("EU", "US"),
        "SPAM",
        rollout,
        "account" if rollout else None,
        condition,
        (Call("hold", ()), Call("label", (Path(("account",)), Str("x"), Dur(3600)))),
    )
    assert parse_rule(print_rule(rule)) == rule
