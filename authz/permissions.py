"""The permission catalogue: every ``<kind>:<action>`` a role or a partner scope can grant.

This is the complete list. ``policy.csv`` may only name permissions from here (the ``Authorizer`` refuses to
start otherwise), GraphQL fields and mutations declare one of these, and partner scopes are subsets of it.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Permission(StrEnum):
    """A permission, ``<kind>:<action>``; in ``policy.csv`` as ``p, <role>, <region>, <kind>, <action>``."""

    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_WRITE = "accounts:write"
    ACCOUNTS_BAN = "accounts:ban"
    CONTENT_READ = "content:read"
    CONTENT_WRITE = "content:write"
    ADS_READ = "ads:read"
    ADS_WRITE = "ads:write"
    ADS_REVIEW = "ads:review"
    POLICIES_READ = "policies:read"
    POLICIES_PUBLISH = "policies:publish"
    LADDERS_READ = "ladders:read"
    LADDERS_DEFINE = "ladders:define"
    REPORTS_CREATE = "reports:create"
    REPORTS_READ = "reports:read"
    REPORTS_READ_OWN = "reports:read_own"
    CASES_READ = "cases:read"
    CASES_DECIDE = "cases:decide"
    CASES_ESCALATE = "cases:escalate"
    CASES_CLAIM = "cases:claim"
    APPEALS_CREATE = "appeals:create"
    APPEALS_READ = "appeals:read"
    APPEALS_DECIDE = "appeals:decide"
    QUEUES_READ = "queues:read"
    QUEUES_MANAGE = "queues:manage"
    QA_READ = "qa:read"
    QA_REVIEW = "qa:review"
    METRICS_READ = "metrics:read"
    AUDIT_READ = "audit:read"
    PII_READ = "pii:read"
    TOKENS_ISSUE = "tokens:issue"
    TOKENS_READ = "tokens:read"
    TOKENS_REVOKE = "tokens:revoke"
    SIGNALS_CREATE = "signals:create"
    EVENTS_READ = "events:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    PLATFORM_EVENTS_SUBMIT = "platform_events:submit"
    RULES_READ = "rules:read"
    RULES_WRITE = "rules:write"
    RULES_BACKTEST = "rules:backtest"
    DOCUMENTS_READ = "documents:read"
    DOCUMENTS_REGISTER = "documents:register"
    DOCUMENTS_ADHOC = "documents:adhoc"

    @property
    def kind(self) -> str:
        """The object kind, Casbin's ``obj`` (``cases`` for ``cases:decide``)."""
        return self.value.partition(":")[0]

    @property
    def action(self) -> str:
        """The action, Casbin's ``act`` (``decide`` for ``cases:decide``)."""
        return self.value.partition(":")[2]

    @property
    def is_read(self) -> bool:
        """True for ``<kind>:read`` permissions: the ones an auditor holds."""
        return self.action == "read"

    @property
    def description(self) -> str:
        return PERMISSION_DESCRIPTIONS[self]

    @classmethod
    def from_casbin(cls, obj: str, act: str) -> Permission:
        """The permission for a Casbin (obj, act) pair; ``ValueError`` if it is not in the catalogue."""
        return cls(f"{obj}:{act}")


PERMISSION_DESCRIPTIONS: Final = MappingProxyType(
    {
        Permission.ACCOUNTS_READ: "See accounts (status, kind, strikes), without PII.",
        Permission.ACCOUNTS_WRITE: "Create or update accounts (upstream platform sync).",
        Permission.ACCOUNTS_BAN: "Ban, suspend or restrict an account.",
        Permission.CONTENT_READ: "See content items and their visibility.",
        Permission.CONTENT_WRITE: "Create or update content items (upstream platform sync).",
        Permission.ADS_READ: "See ads, their creatives and review status.",
        Permission.ADS_WRITE: "Submit or update ads (upstream platform sync).",
        Permission.ADS_REVIEW: "Approve or reject an ad before it serves.",
        Permission.POLICIES_READ: "See platform policies and their versions.",
        Permission.POLICIES_PUBLISH: "Publish a new policy version.",
        Permission.LADDERS_READ: "See strike ladders and their versions.",
        Permission.LADDERS_DEFINE: "Publish a new version of a region's strike ladder for a surface.",
        Permission.REPORTS_CREATE: "Submit reports about accounts, content or ads.",
        Permission.REPORTS_READ: "See every report in the region.",
        Permission.REPORTS_READ_OWN: "See only the reports this principal submitted.",
        Permission.CASES_READ: "See cases, their reports and decisions.",
        Permission.CASES_DECIDE: "Decide a case; an escalated one also needs senior seniority (domain.seniority).",
        Permission.CASES_ESCALATE: "Send a case to the escalation queue.",
        Permission.CASES_CLAIM: "Claim the next case from a queue (a lease).",
        Permission.APPEALS_CREATE: "File an appeal against a decision on behalf of the account owner.",
        Permission.APPEALS_READ: "See appeals and their outcomes.",
        Permission.APPEALS_DECIDE: "Uphold or overturn an appeal.",
        Permission.QUEUES_READ: "See queues, their backlog and SLA settings.",
        Permission.QUEUES_MANAGE: "Create queues and change their routing and SLAs.",
        Permission.QA_READ: "See QA reviews and agreement rates.",
        Permission.QA_REVIEW: "Record a QA review of a decision.",
        Permission.METRICS_READ: "See aggregate operational metrics.",
        Permission.AUDIT_READ: "See and export the audit trail.",
        Permission.PII_READ: "See personal data: email, phone, IP addresses.",
        Permission.TOKENS_ISSUE: "Issue partner API tokens (capped by the issuer's own permissions).",
        Permission.TOKENS_READ: "See partner API tokens (prefix, scopes, expiry; never the secret).",
        Permission.TOKENS_REVOKE: "Revoke partner API tokens.",
        Permission.SIGNALS_CREATE: "Submit classifier signals about a subject.",
        Permission.EVENTS_READ: "See outbound events (decisions, enforcement, case changes) of the region.",
        Permission.WEBHOOKS_MANAGE: "Register, rotate and disable your own webhook endpoints; see their deliveries.",
        Permission.PLATFORM_EVENTS_SUBMIT: "Send platform events (posts, sign-ups, logins...) for enforcement rules.",
        Permission.RULES_READ: "See enforcement rules, their versions, named lists and rule hits.",
        Permission.RULES_WRITE: "Write enforcement rules and named lists and move rules through their lifecycle.",
        Permission.RULES_BACKTEST: "Run a rule version over stored events as a job (a backtest), and cancel it.",
        Permission.DOCUMENTS_READ: "See the trusted (registered) GraphQL documents and their text.",
        Permission.DOCUMENTS_REGISTER: "Register trusted GraphQL documents (stored by hash, never changed).",
        Permission.DOCUMENTS_ADHOC: "Send GraphQL text that is not a trusted document when trusted documents "
        "are required (an admin's GraphiQL).",
    }
)

ALL_PERMISSIONS: Final[frozenset[Permission]] = frozenset(Permission)
PERMISSION_NAMES: Final[frozenset[str]] = frozenset(p.value for p in Permission)
READ_PERMISSIONS: Final[frozenset[Permission]] = frozenset(p for p in Permission if p.is_read)

NON_DELEGABLE: Final[frozenset[Permission]] = frozenset({Permission.TOKENS_ISSUE, Permission.TOKENS_REVOKE})
"""Never granted to a partner token, whatever its issuer holds: tokens do not mint or revoke tokens, so token
management stays with accountable staff and a leaked token cannot entrench itself."""


def parse_permission(value: str) -> Permission:
    """``Permission(value)`` with an error message that names the catalogue."""
    if isinstance(value, Permission):
        return value
    try:
        return Permission(value)
    except ValueError:
        raise ValueError(f"unknown permission {value!r}; see authz.permissions.Permission") from None
