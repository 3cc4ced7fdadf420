"""Principal names: canonical forms resolve to one principal, look-alikes are told apart from different names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authz.names import canonical_name, look_alike, name_skeleton


@pytest.mark.parametrize(
    "variant",
    [
        "admin-global ",
        "  admin-global",
        "admin-global\u00a0",
        "\uff41\uff44\uff4d\uff49\uff4e-global",
        "\u3000admin-global",
    ],
)
def test_spacing_and_compatibility_forms_are_the_same_name(variant: str) -> None:
    assert canonical_name(variant) == "admin-global"


@pytest.mark.parametrize(
    "variant",
    [
        "Admin-Global",
        "ADMIN-GLOBAL",
        "admin-globaI",  # capital i for l
        "admin-g1obal",
        "\u0430dmin-global",  # Cyrillic a
        "admin-gl\u03bfbal",  # Greek omicron
        "admin\u2013global",  # en dash
        "admin_global",
        "adrnin-global",  # rn for m
        "admi\u0301n-global",  # a combining accent
        "admin-glob\u00e1l",  # a precomposed one
    ],
)
def test_look_alikes_share_a_skeleton(variant: str) -> None:
    assert look_alike(canonical_name(variant), "admin-global")


@pytest.mark.parametrize("other", ["admin-global", "admin-eu", "moderator-US", "admin global", "admins-global"])
def test_different_names_are_not_look_alikes(other: str) -> None:
    assert not look_alike("admin-global", other)  # the same name is not a look-alike of itself either


@pytest.mark.parametrize(
    "bad", ["", "   ", "\u3000", "admin\u200bglobal", "admin\u202eglobal", "admin\x00", "line\u2028break", "\ue000"]
)
def test_blank_and_invisible_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="name"):
        canonical_name(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_canonical_names_are_stable_and_skeletons_total(text: str) -> None:
    """Canonicalising twice changes nothing (what is stored is found again), and any text has a skeleton that
    case does not change."""
    try:
        name = canonical_name(text)
    except ValueError:
        return
    assert canonical_name(name) == name
    assert name_skeleton(name) == name_skeleton(name.upper()) == name_skeleton(name.lower())
