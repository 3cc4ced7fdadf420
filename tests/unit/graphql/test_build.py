"""``build`` stores a node's fields directly where ``__init__`` would only store them: the same node either way."""

from __future__ import annotations

from typing import Any

import strawberry

from api.graphql.ids import to_global_id
from api.graphql.nodes import NODE_TYPES
from api.graphql.schema import build_schema
from api.graphql.shared.build import _plain_fields, build
from api.graphql.shared.node import Node


def test_every_node_type_is_built_without_its_init() -> None:
    build_schema()  # resolves the lazy references between areas
    slow = [name for name, (node_type, _) in NODE_TYPES.items() if not _plain_fields(node_type)[3]]
    assert slow == []


def test_a_directly_built_node_equals_the_constructed_one() -> None:
    build_schema()
    for name, (node_type, _) in NODE_TYPES.items():
        _, type_name, plain, _ = _plain_fields(node_type)
        entity = _Entity({field: f"{field}-value" for field in plain})
        built = build(node_type, entity)
        constructed = node_type(
            id=to_global_id(type_name, entity.id), entity=entity, **{f: f"{f}-value" for f in plain}
        )
        assert vars(built) == vars(constructed), name


@strawberry.type
class _Normalised(Node):
    entity: strawberry.Private[Any]
    label: str

    def __post_init__(self) -> None:
        self.label = self.label.upper()


def test_a_type_whose_init_does_more_is_constructed() -> None:
    assert not _plain_fields(_Normalised)[3]
    assert build(_Normalised, _Entity({"label": "x"})).label == "X"


class _Entity:
    def __init__(self, values: dict[str, Any]) -> None:
        self.id = "00000000-0000-0000-0000-000000000001"
        self.__dict__.update(values)
