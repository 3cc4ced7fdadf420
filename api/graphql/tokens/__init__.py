"""Who calls: the `viewer`, and API tokens (partner tokens capped by the issuer, staff tokens, revocation)."""
