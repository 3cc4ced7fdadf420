"""The collector's tuning in server and consumer processes: the young generation's threshold from the settings,
the older generations' left as they were."""

from __future__ import annotations

import gc

import pytest
from pydantic import ValidationError

from api.collector import tune_collector
from api.settings import Settings


def test_the_threshold_is_set_and_the_older_generations_kept() -> None:
    before = gc.get_threshold()
    try:
        tune_collector(12_345)
        assert gc.get_threshold() == (12_345, *before[1:])
    finally:
        gc.set_threshold(*before)


def test_the_setting_defaults_to_50_000_and_refuses_less_than_python_s_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().gc_threshold == 50_000
    monkeypatch.setenv("VIGIL_GC_THRESHOLD", "20000")
    assert Settings().gc_threshold == 20_000
    monkeypatch.setenv("VIGIL_GC_THRESHOLD", "699")
    with pytest.raises(ValidationError):
        Settings()
