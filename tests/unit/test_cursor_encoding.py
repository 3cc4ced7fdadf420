"""``encode_cursor``'s fast form (a date-time and a UUID) against the plain one: the same cursor, byte for byte."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from persistence.pagination import decode_cursor, encode_cursor


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
