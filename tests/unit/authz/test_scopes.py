"""Partner tokens: presets, the issue-time cap, and the token principal's permission map."""

from __future__ import annotations

import pytest

from authz import Authorizer, Permission, PermissionMap, Principal
from authz.scopes import SCOPE_PRESETS, ScopePreset, check_token_scopes, preset_scopes, resolve_scopes


def issuer(authorizer: Authorizer, *roles: tuple[str, str]) -> PermissionMap:
    return authorizer.permission_map(Principal.staff("staff-1", "Issuer", frozenset(roles)))


def token(scopes: frozenset[str], region: str, issuer_roles: frozenset[tuple[str, str]] | None = None) -> Principal:
    return Principal.partner(
        token_id="tok-1", partner_org="SafeNet", scopes=scopes, region=region, issuer_roles=issuer_roles
    )


def test_presets() -> None:
    assert {k.value: {p.value for p in v} for k, v in SCOPE_PRESETS.items()} == {
        "trusted_flagger": {"reports:create", "reports:read_own"},
        "platform_service": {
            "accounts:write",
            "content:write",
            "ads:write",
            "reports:create",
            "signals:create",
            "appeals:create",
            "reports:read_own",
            "platform_events:submit",
        },
        "vendor_tooling": {"cases:read", "cases:claim", "cases:decide", "cases:escalate"},
        "event_consumer": {"events:read", "webhooks:manage"},
    }
    assert preset_scopes("vendor_tooling") == SCOPE_PRESETS[ScopePreset.VENDOR_TOOLING]
    with pytest.raises(ValueError, match="unknown scope preset 'flagger'"):
        preset_scopes("flagger")


def test_resolve_scopes_expands_presets_and_permissions() -> None:
    assert resolve_scopes(["trusted_flagger", "signals:create"]) == {
        Permission.REPORTS_CREATE,
        Permission.REPORTS_READ_OWN,
        Permission.SIGNALS_CREATE,
    }
    with pytest.raises(ValueError, match=r"\['cases:nuke', 'everything'\]"):
        resolve_scopes(["everything", "cases:read", "cases:nuke"])


def test_a_token_never_exceeds_its_issuer(authorizer: Authorizer) -> None:
    us_moderator = issuer(authorizer, ("moderator", "US"))
    vendor_tooling = [p.value for p in preset_scopes("vendor_tooling")]
    assert check_token_scopes(us_moderator, vendor_tooling, "US") == []
    assert check_token_scopes(us_moderator, vendor_tooling, "EU") == sorted(vendor_tooling)
    assert check_token_scopes(us_moderator, vendor_tooling, "*") == sorted(vendor_tooling)
    assert check_token_scopes(us_moderator, ["cases:read", "audit:read", "cases:nuke"], "US") == [
        "audit:read",
        "cases:nuke",
    ]


def test_even_an_admin_cannot_delegate_token_management(authorizer: Authorizer) -> None:
    admin = issuer(authorizer, ("admin", "*"))
    platform = [p.value for p in preset_scopes("platform_service")]
    assert check_token_scopes(admin, platform, "*") == []
    assert check_token_scopes(admin, ["tokens:issue", "tokens:revoke", "tokens:read"], "EU") == [
        "tokens:issue",
        "tokens:revoke",
    ]


def test_check_token_scopes_refuses_an_unknown_region(authorizer: Authorizer) -> None:
    with pytest.raises(ValueError, match="MARS"):
        check_token_scopes(issuer(authorizer, ("admin", "*")), ["cases:read"], "MARS")


def test_trusted_flagger_token_is_confined_to_its_region_and_scopes(authorizer: Authorizer) -> None:
    """Journey 2: an EU trusted flagger files and follows its own reports, and sees nothing else."""
    pmap = authorizer.permission_map(token(frozenset({"reports:create", "reports:read_own"}), "EU"))
    assert pmap.permissions == {Permission.REPORTS_CREATE, Permission.REPORTS_READ_OWN}
    assert pmap.regions("reports:create") == frozenset({"EU"})
    assert pmap.allows("reports:read_own", "EU")
    assert not pmap.allows("reports:create", "US")
    assert not pmap.allows("reports:read")
    assert not pmap.allows("pii:read")
    assert not pmap.allows("accounts:read")
    assert pmap.seniority("EU") == 0
    assert pmap.enforce_calls == 0


def test_global_token_holds_its_scopes_everywhere(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(token(frozenset({"signals:create"}), "*"))
    assert pmap.regions("signals:create") is None


def test_unknown_and_non_delegable_scopes_grant_nothing(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(token(frozenset({"cases:read", "cases:nuke", "tokens:issue"}), "US"))
    assert pmap.permissions == {Permission.CASES_READ}
    assert len(pmap.ignored) == 2


def test_token_with_an_unknown_region_grants_nothing(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(token(frozenset({"cases:read"}), "MARS"))
    assert pmap.permissions == frozenset()
    assert pmap.ignored


def test_issuer_roles_cap_the_token_at_request_time(authorizer: Authorizer) -> None:
    """The issuer has since lost EU and kept US: the global token shrinks to US and to what they hold."""
    scopes = frozenset({"cases:read", "cases:decide", "pii:read"})
    pmap = authorizer.permission_map(token(scopes, "*", issuer_roles=frozenset({("vendor_moderator", "US")})))
    assert dict(pmap.grants) == {
        Permission.CASES_READ: frozenset({"US"}),
        Permission.CASES_DECIDE: frozenset({"US"}),
    }


def test_a_demoted_issuer_leaves_a_regional_token_with_nothing(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(token(frozenset({"cases:read"}), "EU", issuer_roles=frozenset()))
    assert pmap.permissions == frozenset()


def test_an_event_consumer_token_reads_events_and_manages_webhooks_in_its_region_only(authorizer: Authorizer) -> None:
    consumer = authorizer.permission_map(token(frozenset({"events:read", "webhooks:manage"}), "EU"))
    assert consumer.allows(Permission.EVENTS_READ, "EU")
    assert consumer.allows(Permission.WEBHOOKS_MANAGE, "EU")
    assert not consumer.allows(Permission.EVENTS_READ, "US")
    assert consumer.regions(Permission.EVENTS_READ) == frozenset({"EU"})
    admin = issuer(authorizer, ("admin", "*"))
    assert check_token_scopes(admin, sorted(p.value for p in preset_scopes("event_consumer")), "EU") == []
    auditor = issuer(authorizer, ("auditor", "*"))
    assert check_token_scopes(auditor, ["events:read", "webhooks:manage"], "EU") == ["webhooks:manage"]
