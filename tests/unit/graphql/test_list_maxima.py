"""Issue 20 point 4: every list's cost is its real maximum. Walks the schema: each list of objects is either paged
(`first`, capped where the resolvers cap it) or declared in ``LIST_SIZES``, at the bound its resolver keeps."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)

from api.graphql import nodes
from api.graphql.limits import LIST_SIZES, MAX_NODES, MAX_PAGE, TYPE_LIST_SIZES, declared_size
from api.graphql.review import types as review_types
from api.graphql.schema import build_schema
from api.settings import Settings
from persistence import pagination


def _schema() -> GraphQLSchema:
    return build_schema(Settings(env="test"))._schema  # type: ignore[attr-defined,no-any-return]


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _lists_of_objects(schema: GraphQLSchema) -> dict[tuple[str, str], Any]:
    found = {}
    for type_name, named in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field in named.fields.items():
            item = get_named_type(field.type)
            if _is_list(field.type) and isinstance(item, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                found[(type_name, field_name)] = field
    return found


def test_every_list_of_objects_is_paged_or_declared() -> None:
    schema = _schema()
    lists = _lists_of_objects(schema)
    connections = {key for key in lists if key[1] in ("edges", "nodes") and key[0].endswith("Connection")}
    paged = {key for key, field in lists.items() if "first" in field.args}
    undeclared = {key for key in set(lists) - connections - paged if declared_size(*key) is None}
    assert undeclared == set(), "declare their maximum in api/graphql/limits/lists.py"
    stale = set(LIST_SIZES) - set(lists)
    assert stale == set()
    assert all(name in schema.type_map for name in TYPE_LIST_SIZES)


def test_paged_lists_serve_at_most_the_largest_page() -> None:
    schema = _schema()
    # connections (strawberry's relay_max_results, persistence's check_first) and Case.reports cap `first` there
    assert pagination.MAX_PAGE == MAX_PAGE
    assert review_types.MAX_NESTED == MAX_PAGE
    assert build_schema(Settings(env="test")).config.relay_max_results == MAX_PAGE  # type: ignore[attr-defined]
    for type_name, named in schema.type_map.items():
        if isinstance(named, GraphQLObjectType) and not type_name.startswith("__"):
            for field_name, field in named.fields.items():
                if "first" in field.args:
                    default = field.args["first"].default_value
                    assert isinstance(default, int), (type_name, field_name)
                    assert 0 < default <= MAX_PAGE, (type_name, field_name)


def test_nodes_serves_one_item_per_id_up_to_its_limit() -> None:
    schema = _schema()
    assert LIST_SIZES[("Query", "nodes")].argument == "ids"
    assert "ids" in schema.query_type.fields["nodes"].args  # type: ignore[union-attr]
    assert LIST_SIZES[("Query", "nodes")].maximum == MAX_NODES == nodes.MAX_NODES


def test_declared_sizes_are_positive_and_estimates_are_marked() -> None:
    for key, size in [*LIST_SIZES.items(), *TYPE_LIST_SIZES.items()]:
        assert size.maximum > 0, key
        if size.argument is not None:
            assert size.enforced, key
