from __future__ import annotations

import pytest

from authz import Principal, PrincipalKind


def test_factories() -> None:
    anonymous = Principal.anonymous()
    assert anonymous.kind is PrincipalKind.ANONYMOUS
    assert not anonymous.is_authenticated
    partner = Principal.partner(
        token_id="tok-1", partner_org="SafeNet", scopes=frozenset({"reports:create"}), region="EU"
    )
    assert partner.id == "token:tok-1"
    assert partner.display_name == "SafeNet"
    assert partner.is_authenticated
    system = Principal.system("automation", "Automation", frozenset({("moderator", "*")}))
    assert system.kind is PrincipalKind.SYSTEM


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        (
            {"kind": PrincipalKind.PARTNER, "roles": frozenset({("admin", "*")}), "scopes": frozenset()},
            "holds no roles",
        ),
        ({"kind": PrincipalKind.PARTNER, "scopes": frozenset(), "token_id": "t"}, "needs scopes, region"),
        ({"kind": PrincipalKind.STAFF, "scopes": frozenset({"cases:read"})}, "belong to partner tokens"),
        ({"kind": PrincipalKind.STAFF, "region": "US"}, "belong to partner tokens"),
        ({"kind": PrincipalKind.ANONYMOUS, "roles": frozenset({("admin", "*")})}, "anonymous"),
        ({"kind": PrincipalKind.STAFF, "roles": frozenset({("admin", "*", "x")})}, "pair"),
    ],
)
def test_invalid_principals_are_refused(kwargs: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Principal(id="p-1", **kwargs)  # type: ignore[arg-type]
