"""``build`` stores a node's fields directly where ``__init__`` would only store them: the same node either way."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from api.graphql.ids import to_global_id
from api.graphql.nodes import NODE_TYPES
from api.graphql.schema import build_schema
from api.graphql.shared.build import NOT_AWAITABLE, READ_VIEWS, _plain_fields, build, view
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


def test_a_read_view_answers_every_field_as_the_built_node() -> None:
    """``one``/``many``/``page_of`` answer read views: each plain field and the id read as ``build``'s copies."""
    build_schema()
    for name, (node_type, _) in NODE_TYPES.items():
        _, _, plain, direct = _plain_fields(node_type)
        assert direct, name
        entity = _Entity({field: f"{field}-value" for field in plain})
        built, shown = build(node_type, entity), view(node_type, entity)
        assert type(shown) is not node_type, name
        assert isinstance(shown, node_type), name
        for field in (*plain, "id", "entity"):
            assert getattr(shown, field) == getattr(built, field), (name, field)
        assert vars(shown) == {"entity": entity}, name  # nothing copied: read when asked
        assert shown.__strawberry_definition__ is node_type.__strawberry_definition__, name
        assert READ_VIEWS[type(shown)] is node_type, name
        assert type(shown) in NOT_AWAITABLE, name
        assert type(view(node_type, entity)) is type(shown), name  # one view type per node type


def test_a_read_view_follows_its_entity_and_takes_no_assignment() -> None:
    build_schema()
    node_type = NODE_TYPES["Case"][0]
    entity = _Entity({field: "before" for field in _plain_fields(node_type)[2]})
    shown = view(node_type, entity)
    entity.__dict__["state"] = "after"
    assert shown.state == "after"
    with pytest.raises(AttributeError):
        setattr(shown, "state", "assigned")  # noqa: B010  (a plain field of a view is read-only)


def test_a_type_whose_init_does_more_is_viewed_as_constructed() -> None:
    shown = view(_Normalised, _Entity({"label": "x"}))
    assert type(shown) is _Normalised
    assert shown.label == "X"
