"""The README's event catalogue is the code's: rendered from domain.outbox.events.CATALOGUE, every type listed once."""

from __future__ import annotations

from domain.outbox.events import CATALOGUE
from tools.event_catalogue import README, current, render


def test_the_readme_catalogue_is_rendered_from_the_code() -> None:
    assert current(README.read_text()) == render(), "run `python -m tools.event_catalogue`"


def test_every_event_type_is_in_the_readme_once() -> None:
    block = current(README.read_text())
    for event_type in CATALOGUE:
        assert block.count(f"| `{event_type.name}` |") == 1
