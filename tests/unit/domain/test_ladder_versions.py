"""Strike ladder versions in the domain: numbered per region and surface, in force until the next, cited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.config import DEFAULT_CONFIG
from domain.enforcement import ActionKind, ActionSource
from domain.errors import DomainError, ErrorCode
from domain.ladder import CONTENT_LADDER, LadderStep
from domain.region import Region
from domain.services.enforcement import reverse_decision
from domain.services.ladder import DefineStrikeLadder, define_strike_ladder
from domain.strike_ladder import decode_step, encode_step
from domain.subject import Surface
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


def _define(surface: Surface = Surface.CONTENT, region: Region = Region.US, *steps: LadderStep) -> DefineStrikeLadder:
    return DefineStrikeLadder(
        region=region,
        surface=surface,
        steps=steps or (LadderStep(1, ActionKind.SUSPEND_ACCOUNT, 5),),
        severe_step=None,
        window_days=30,
    )


def test_steps_survive_encoding() -> None:
    for step in (*CONTENT_LADDER.steps, LadderStep(0, ActionKind.BAN_ACCOUNT)):
        assert decode_step(encode_step(step)) == step


async def test_versions_are_numbered_per_region_and_surface(uow: FakeUnitOfWork) -> None:
    first = await define_strike_ladder(uow, b.POLICY_MANAGER, _define())
    second = await define_strike_ladder(uow, b.POLICY_MANAGER, _define())
    other = await define_strike_ladder(uow, b.POLICY_MANAGER, _define(Surface.ADS))
    eu = await define_strike_ladder(uow, b.POLICY_MANAGER, _define(region=Region.EU))

    assert [v.number for v in (first, second, other, eu)] == [1, 2, 1, 1]
    assert await uow.strike_ladders.in_force(Region.US, Surface.CONTENT) is second
    assert second.ladder.steps == (LadderStep(1, ActionKind.SUSPEND_ACCOUNT, 5),)


async def test_a_decision_applies_and_cites_the_version_in_force(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    before = await b.violate(uow, await b.content(uow, owner), hate.policy.id)
    version = await define_strike_ladder(uow, b.POLICY_MANAGER, _define())
    after = await b.violate(uow, await b.content(uow, owner), hate.policy.id)

    assert before.decision.ladder_version_id is None  # the defaults: no stored version
    assert after.decision.ladder_version_id == version.id
    ladder_actions = [a for a in after.actions if a.source is ActionSource.LADDER]
    assert [(a.kind, a.duration) for a in ladder_actions] == [(ActionKind.SUSPEND_ACCOUNT, timedelta(days=5))]


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (_define(Surface.CONTENT, Region.US, LadderStep(1, ActionKind.REMOVE_CONTENT)), "steps[0]"),
        (_define(Surface.CONTENT, Region.US, LadderStep(1, ActionKind.WARN, 3)), "steps[0]"),
        (_define(Surface.CONTENT, Region.US, LadderStep(2, ActionKind.WARN), LadderStep(1, ActionKind.WARN)), "steps"),
    ],
)
async def test_bad_ladders_are_refused_and_nothing_is_stored(
    uow: FakeUnitOfWork, cmd: DefineStrikeLadder, field: str
) -> None:
    before = uow.snapshot()
    with pytest.raises(DomainError) as raised:
        await define_strike_ladder(uow, b.POLICY_MANAGER, cmd)
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, field)
    assert uow.snapshot() == before


async def test_reversing_a_decision_replays_the_ladder_it_cited(uow: FakeUnitOfWork) -> None:
    """A later ladder version changes nothing an earlier decision did, its reversal included."""
    steps = (LadderStep(1, ActionKind.WARN), LadderStep(2, ActionKind.SUSPEND_ACCOUNT, 5))
    await define_strike_ladder(uow, b.POLICY_MANAGER, _define(Surface.CONTENT, Region.US, *steps))
    owner = await b.account(uow)
    hate = await b.policy(uow)
    first = await b.violate(uow, await b.content(uow, owner), hate.policy.id)
    await b.violate(uow, await b.content(uow, owner), hate.policy.id)
    newer = (LadderStep(1, ActionKind.RESTRICT_FEATURES, 3),)
    await define_strike_ladder(uow, b.POLICY_MANAGER, _define(Surface.CONTENT, Region.US, *newer))

    reversal = await reverse_decision(uow, first.decision, DEFAULT_CONFIG, uow.clock.now())

    assert [a.kind for a in reversal.added_actions] == [ActionKind.WARN]  # version 1's first step, not version 2's
