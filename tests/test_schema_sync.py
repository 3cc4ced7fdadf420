"""`schema.graphql` is committed and must always equal the exported schema (run `make schema`)."""

from __future__ import annotations

from api.graphql.schema import export_sdl
from api.settings import PROJECT_ROOT


def test_committed_schema_equals_exported() -> None:
    committed = (PROJECT_ROOT / "schema.graphql").read_text()
    assert committed == export_sdl(), "schema.graphql is stale: run `make schema` and commit it"
