from __future__ import annotations

import pytest

from authz.enforcer import Authorizer


@pytest.fixture(scope="session")
def authorizer() -> Authorizer:
    """One warmed Authorizer over the real model.conf and policy.csv, shared like in production."""
    shared = Authorizer()
    shared.warm_up()
    return shared


@pytest.fixture
def fresh_authorizer() -> Authorizer:
    """A cold Authorizer, for tests that count enforce() calls from zero."""
    return Authorizer()
