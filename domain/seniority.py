"""Seniority levels. The authz layer maps a principal's roles to one of these and puts it on the Actor.

Rules that compare seniority (deciding escalated cases, deciding appeals) live in the domain; the mapping of
roles to levels lives in authz.
"""

from typing import Final

AUTOMATION: Final = 0
VENDOR_MODERATOR: Final = 1
MODERATOR: Final = 2
SENIOR_MODERATOR: Final = 3
POLICY_MANAGER: Final = 4
ADMIN: Final = 5

#: Minimum seniority to decide (or claim) an ESCALATED case: the one rule for escalated cases (no permission
#: of its own; ``cases:decide`` / ``cases:claim`` plus this seniority).
ESCALATED_CASE_MIN: Final = SENIOR_MODERATOR
