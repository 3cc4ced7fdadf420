"""The rules language and its in-process evaluator (automated enforcement; docs/RULES.md is the reference).

Pure domain code: no database, no framework. The public surface:

* ``define_rule(text, catalogue, rule_id=..., version=...) -> CompiledRule`` (raises ``RuleSyntaxError`` /
  ``RuleDefinitionError``, both ``RuleError`` with ``code``, ``message``, ``line``, ``column``);
* ``ListIndex([ListSnapshot, ...])``: the lists a rule set matches, compiled;
* ``RuleSet(rules, lists)``: ``needs(event)`` -> what to prefetch, ``evaluate(event, facts)`` -> ``Evaluation``;
* ``counter_records(catalogue, event)``: what a counter store records for an event;
* actions as data (``OpenCase``, ``Decide``, ``Label``, ``Delayed``, ``Hold``); ports ``FactSource``,
  ``CounterStore``; in-memory implementations in ``domain.rules.memory``.
"""

from domain.rules.actions import Action, Decide, Delayed, Hold, Label, OpenCase
from domain.rules.catalogue import AttrType, Catalogue, CounterKind, CounterSource, EventType, ListKind
from domain.rules.compiler import CompiledRule, define_rule
from domain.rules.engine import Evaluation, Failure, FailureCode, Hit, Needs, RuleSet, counter_records
from domain.rules.errors import RuleDefinitionError, RuleError, RuleErrorCode, RuleSyntaxError
from domain.rules.event import Event
from domain.rules.lists import ListIndex, ListSnapshot
from domain.rules.ports import CounterKey, CounterRecord, CounterStore, EntityFacts, FactSource

__all__ = [
    "Action",
    "AttrType",
    "Catalogue",
    "CompiledRule",
    "CounterKey",
    "CounterKind",
    "CounterRecord",
    "CounterSource",
    "CounterStore",
    "Decide",
    "Delayed",
    "EntityFacts",
    "Evaluation",
    "Event",
    "EventType",
    "FactSource",
    "Failure",
    "FailureCode",
    "Hit",
    "Hold",
    "Label",
    "ListIndex",
    "ListKind",
    "ListSnapshot",
    "Needs",
    "OpenCase",
    "RuleDefinitionError",
    "RuleError",
    "RuleErrorCode",
    "RuleSet",
    "RuleSyntaxError",
    "counter_records",
    "define_rule",
]
