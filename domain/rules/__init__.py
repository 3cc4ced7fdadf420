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
