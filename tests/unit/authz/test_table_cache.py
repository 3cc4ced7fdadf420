"""The authorizer's tables on disk: read back only over the same inputs, and exactly what Casbin computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authz import table_cache
from authz.enforcer import Authorizer
from authz.roles import GLOBAL_REGION, KNOWN_REGIONS, KNOWN_ROLES


def test_tables_read_back_are_the_tables_casbin_computes(tmp_path: Path, authorizer: Authorizer) -> None:
    table_cache.save(authorizer, tmp_path)
    fresh = Authorizer()
    assert table_cache.load(fresh, tmp_path)
    assert fresh.enforce_calls == 0
    for role in sorted(KNOWN_ROLES):
        for region in (*sorted(KNOWN_REGIONS), GLOBAL_REGION):
            assert fresh.role_grants(role, region) == authorizer.role_grants(role, region)
    assert fresh.enforce_calls == 0  # every table came from the file


def test_a_changed_policy_never_reads_the_old_tables(tmp_path: Path, authorizer: Authorizer) -> None:
    table_cache.save(authorizer, tmp_path)
    policy = tmp_path / "policy.csv"
    original = authorizer.policy_path.read_text()
    policy.write_text(original.replace("p, moderator, *, cases, decide\n", ""))
    assert policy.read_text() != original
    changed = Authorizer(policy_path=policy)
    assert table_cache.path_for(changed, tmp_path) != table_cache.path_for(authorizer, tmp_path)
    assert not table_cache.load(changed, tmp_path / "elsewhere")
    assert not table_cache.load(changed, tmp_path)


def test_a_half_built_authorizer_writes_nothing(tmp_path: Path) -> None:
    cold = Authorizer()
    cold.role_grants("moderator", "US")
    table_cache.save(cold, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data.update(digest="0" * 64),
        lambda data: data["tables"].pop(next(iter(data["tables"]))),
        lambda data: next(iter(data["tables"].values())).update({"cases:everything": None}),
        lambda data: next(iter(data["tables"].values())).update({"cases:read": ["MARS"]}),
    ],
    ids=["other digest", "missing table", "unknown permission", "unknown region"],
)
def test_a_damaged_file_is_ignored(tmp_path: Path, authorizer: Authorizer, damage: object) -> None:
    table_cache.save(authorizer, tmp_path)
    path = table_cache.path_for(authorizer, tmp_path)
    data = json.loads(path.read_text())
    damage(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))
    fresh = Authorizer()
    assert not table_cache.load(fresh, tmp_path)
    assert fresh.tables() == {}


def test_an_unwritable_directory_is_skipped(tmp_path: Path, authorizer: Authorizer) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    table_cache.save(authorizer, blocked / "cache")  # logs and carries on
    assert not table_cache.load(Authorizer(), blocked / "cache")
