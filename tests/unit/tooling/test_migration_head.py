"""`vigil serve` reads the head revision from the migration files without importing Alembic: both must agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from persistence import migrate


def test_the_files_head_is_alembics_head() -> None:
    migrate.head_revision.cache_clear()
    assert migrate.head_revision() == migrate.alembic_head_revision()


def test_a_branch_is_left_to_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, down in (("a", None), ("b", "a"), ("c", "a")):  # two heads: b and c
        down_line = f'down_revision: str | None = "{down}"' if down else "down_revision = None"
        (tmp_path / f"{name}.py").write_text(f'revision: str = "{name}"\n{down_line}\n')
    monkeypatch.setattr(migrate, "VERSIONS", tmp_path)
    monkeypatch.setattr(migrate, "alembic_head_revision", lambda: "alembic's answer")
    migrate.head_revision.cache_clear()
    try:
        assert migrate.head_revision() == "alembic's answer"
    finally:
        migrate.head_revision.cache_clear()
