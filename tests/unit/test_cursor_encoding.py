"""``encode_cursor``'s fast form (a date-time and a UUID) against the plain one: the same cursor, byte for byte."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from persistence import pagination
from persistence.pagination import Cursors, decode_cursor, encode_cursor


def _plain(sort_value: object, row_id: object) -> str:
    value = sort_value.isoformat() if isinstance(sort_value, datetime) else sort_value
    raw = json.dumps([value, str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


zones = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])


@given(st.datetimes(timezones=zones), st.uuids())
def test_a_date_time_and_a_uuid_encode_as_the_json_encoder_does(when: datetime, row_id: uuid.UUID) -> None:
    cursor = encode_cursor(when, row_id)
    assert cursor == _plain(when, row_id)
    assert decode_cursor(cursor, datetime_key=True) == (when, str(row_id))


@given(st.one_of(st.integers(), st.text(), st.none()), st.one_of(st.integers(), st.text(), st.uuids()))
def test_other_keys_encode_as_before(value: object, row_id: object) -> None:
    assert encode_cursor(value, row_id) == _plain(value, row_id)  # type: ignore[arg-type]


def test_a_page_writes_the_cursors_asked_for_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Cursors``: each cursor written on first use, once, as ``encode_cursor`` writes it; indexes, slices and
    comparison as a list's."""
    keys = [(datetime(2026, 12, 6, 20, i, tzinfo=UTC), uuid.UUID(int=i)) for i in range(5)]
    written: list[tuple[object, object]] = []

    def counting(value: object, row_id: object) -> str:
        written.append((value, row_id))
        return encode_cursor(value, row_id)  # type: ignore[arg-type]

    monkeypatch.setattr(pagination, "encode_cursor", counting)
    cursors = Cursors(list(keys))
    assert len(cursors) == 5
    assert written == []
    assert cursors[-1] == encode_cursor(*keys[-1])
    assert cursors[4] == cursors[-1]
    assert written == [keys[-1]]
    assert cursors[1:3] == [encode_cursor(*k) for k in keys[1:3]]
    assert cursors == [encode_cursor(*k) for k in keys]
    assert len(written) == 5  # each once
    assert cursors == Cursors(list(keys))
    assert cursors != [encode_cursor(*k) for k in keys[:4]]
    with pytest.raises(IndexError):
        cursors[5]
