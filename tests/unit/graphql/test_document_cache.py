"""Validation and cost results are kept per parsed document, found by identity (hashing a document walks it)."""

from __future__ import annotations

from graphql import parse

from api.graphql.limits import DocumentCache, cost_variables


def test_values_are_found_by_the_document_object_and_the_key() -> None:
    cache: DocumentCache[str] = DocumentCache(size=2)
    first, same_text = parse("{ a }"), parse("{ a }")
    computed: list[str] = []

    def compute(value: str) -> str:
        computed.append(value)
        return value

    assert cache.get(first, 1, lambda: compute("one")) == "one"
    assert cache.get(first, 1, lambda: compute("again")) == "one"  # kept
    assert cache.get(first, 2, lambda: compute("two")) == "two"  # another key of the same document
    assert cache.get(same_text, 1, lambda: compute("other")) == "other"  # an equal document is another object
    assert computed == ["one", "two", "other"]


def test_the_least_recently_used_document_leaves_first() -> None:
    cache: DocumentCache[int] = DocumentCache(size=2)
    a, b, c = parse("{ a }"), parse("{ b }"), parse("{ c }")
    cache.get(a, None, lambda: 1)
    cache.get(b, None, lambda: 2)
    cache.get(a, None, lambda: 0)  # a used again: b is now the oldest
    cache.get(c, None, lambda: 3)
    assert cache.get(a, None, lambda: -1) == 1
    assert cache.get(b, None, lambda: -2) == -2  # b was dropped and worked out again


def test_a_document_keeps_a_bounded_number_of_values() -> None:
    cache: DocumentCache[int] = DocumentCache(per_document=3)
    document = parse("{ a }")
    for key in range(10):
        assert cache.get(document, key, lambda key=key: key) == key  # type: ignore[misc]
    assert cache.get(document, 9, lambda: -1) == 9
    assert cache.get(document, 0, lambda: -1) == -1  # cleared on the way


def test_only_integer_variables_take_part_in_the_cost_key() -> None:
    assert cost_variables({"first": 5, "input": {"x": 1}, "flag": True, "name": "x", "none": None}) == (("first", 5),)
    assert cost_variables(None) == ()
