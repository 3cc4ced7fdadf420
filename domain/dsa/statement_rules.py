"""The DSA Transparency Database's validation rules for one statement of reasons, field by field.

``statement_errors`` answers what the database's statement endpoints would answer with ``422``: a map from field
name to messages (empty when the statement would be accepted). It takes the JSON object as sent, so the same
rules check Vigil's snapshots before they leave and serve the test double of the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Final

from domain.dsa.vocabulary import (
    EEA,
    LANGUAGES,
    AccountType,
    AutomatedDecision,
    Category,
    ContentType,
    DecisionAccount,
    DecisionGround,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
    Keyword,
    SourceType,
    YesNo,
)

PUID: Final = re.compile(r"[A-Za-z0-9_-]{1,500}")
DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
URL: Final = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
EAN13: Final = re.compile(r"\d{13}")
LAST_DATE: Final = date(2038, 1, 1)
DECISIONS: Final = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
END_DATES: Final = (
    "end_date_visibility_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_account_restriction",
)
#: Free-text fields and their length limits.
TEXT_LIMITS: Final = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "category_specification_other": 500,
    "decision_ground_reference_url": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "decision_facts": 5000,
    "source_identity": 500,
    "puid": 500,
}
DUPLICATE_PUID: Final = "The identifier given is not unique within this platform."


def _label(name: str) -> str:
    return name.replace("_", " ")


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


class _Check:
    def __init__(self, statement: Mapping[str, Any]) -> None:
        self.s = statement
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def required(self, name: str) -> bool:
        if _present(self.s.get(name)):
            return True
        self.fail(name, f"The {_label(name)} field is required.")
        return False

    def required_if(self, name: str, condition: bool, because: str) -> None:
        if condition and not _present(self.s.get(name)):
            self.fail(name, f"The {_label(name)} field is required when {because}.")

    def one_of(self, name: str, allowed: Iterable[str]) -> None:
        value = self.s.get(name)
        if value is not None and value not in set(allowed):
            self.fail(name, f"The selected {_label(name)} is invalid.")

    def each_of(self, name: str, allowed: Iterable[str]) -> None:
        value = self.s.get(name)
        if value is None:
            return
        if not isinstance(value, list):
            self.fail(name, f"The {_label(name)} field must be an array.")
        elif any(not isinstance(v, str) or v not in set(allowed) for v in value):
            self.fail(name, f"The selected {_label(name)} is invalid.")

    def text(self, name: str, limit: int) -> None:
        value = self.s.get(name)
        if value is None:
            return
        if not isinstance(value, str):
            self.fail(name, f"The {_label(name)} field must be a string.")
        elif len(value) > limit:
            self.fail(name, f"The {_label(name)} field must not be greater than {limit} characters.")

    def day(self, name: str, low: date | None, high: date = LAST_DATE) -> date | None:
        value = self.s.get(name)
        if value is None:
            return None
        parsed = _parse_day(value)
        if parsed is None:
            self.fail(name, f"The {_label(name)} does not match the format YYYY-MM-DD.")
        elif low is not None and parsed < low:
            self.fail(name, f"The {_label(name)} field must be a date after or equal to {low.isoformat()}.")
        elif parsed > high:
            self.fail(name, f"The {_label(name)} field must be a date before or equal to {high.isoformat()}.")
        else:
            return parsed
        return None


def _parse_day(value: Any) -> date | None:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _values(enum: type[StrEnum]) -> list[str]:
    return [m.value for m in enum]


def statement_errors(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """The database's validation errors for one statement, by field (empty: it would be accepted)."""
    c = _Check(statement)
    s = statement
    _decisions(c, s)
    _ground(c, s)
    _content(c, s)
    if c.required("category"):
        c.one_of("category", _values(Category))
    c.each_of("category_addition", _values(Category))
    c.each_of("category_specification", _values(Keyword))
    if c.required("territorial_scope"):
        c.each_of("territorial_scope", [country.value for country in EEA])
    c.one_of("content_language", sorted(LANGUAGES))
    c.one_of("account_type", _values(AccountType))
    _dates(c)
    c.required("decision_facts")
    for name, allowed in (
        ("source_type", _values(SourceType)),
        ("automated_detection", _values(YesNo)),
        ("automated_decision", _values(AutomatedDecision)),
    ):
        if c.required(name):
            c.one_of(name, allowed)
    if c.required("puid") and not (isinstance(s["puid"], str) and PUID.fullmatch(s["puid"])):
        c.fail("puid", "The puid may only contain letters, digits, hyphens and underscores (at most 500).")
    for name, limit in TEXT_LIMITS.items():
        c.text(name, limit)
    return c.errors


def _decisions(c: _Check, s: Mapping[str, Any]) -> None:
    if not any(_present(s.get(name)) for name in DECISIONS):
        for name in DECISIONS:
            others = " / ".join(_label(n) for n in DECISIONS if n != name)
            c.fail(name, f"The {_label(name)} field is required when none of {others} are present.")
    c.each_of("decision_visibility", _values(DecisionVisibility))
    visibility = s.get("decision_visibility") or []
    c.required_if(
        "decision_visibility_other",
        isinstance(visibility, list) and DecisionVisibility.DECISION_VISIBILITY_OTHER.value in visibility,
        "decision visibility is other",
    )
    c.one_of("decision_monetary", _values(DecisionMonetary))
    c.required_if(
        "decision_monetary_other",
        s.get("decision_monetary") == DecisionMonetary.DECISION_MONETARY_OTHER.value,
        "decision monetary is other",
    )
    c.one_of("decision_provision", _values(DecisionProvision))
    c.one_of("decision_account", _values(DecisionAccount))


def _ground(c: _Check, s: Mapping[str, Any]) -> None:
    if c.required("decision_ground"):
        c.one_of("decision_ground", _values(DecisionGround))
    ground = s.get("decision_ground")
    illegal = ground == DecisionGround.DECISION_GROUND_ILLEGAL_CONTENT.value
    incompatible = ground == DecisionGround.DECISION_GROUND_INCOMPATIBLE_CONTENT.value
    for name in ("illegal_content_legal_ground", "illegal_content_explanation"):
        c.required_if(name, illegal, "decision ground is illegal content")
    for name in ("incompatible_content_ground", "incompatible_content_explanation"):
        c.required_if(name, incompatible, "decision ground is incompatible content")
    c.one_of("incompatible_content_illegal", _values(YesNo))
    url = s.get("decision_ground_reference_url")
    if url is not None and not (isinstance(url, str) and URL.fullmatch(url)):
        c.fail("decision_ground_reference_url", "The decision ground reference url field must be a valid URL.")


def _content(c: _Check, s: Mapping[str, Any]) -> None:
    if c.required("content_type"):
        c.each_of("content_type", _values(ContentType))
    types = s.get("content_type") or []
    other = isinstance(types, list) and ContentType.CONTENT_TYPE_OTHER.value in types
    c.required_if("content_type_other", other, "content is other")
    content_id = s.get("content_id")
    if content_id is not None and not (
        isinstance(content_id, dict)
        and set(content_id) <= {"EAN-13"}
        and all(isinstance(v, str) and EAN13.fullmatch(v) for v in content_id.values())
    ):
        c.fail("content_id", "The content id must be an EAN-13 code under the key EAN-13.")


def _dates(c: _Check) -> None:
    if c.required("content_date"):
        c.day("content_date", date(2000, 1, 1))
    applied = c.day("application_date", date(2020, 1, 1)) if c.required("application_date") else None
    for name in END_DATES:
        c.day(name, applied)


def duplicate_puids(statements: Iterable[Mapping[str, Any]]) -> set[str]:
    """The puids that occur more than once in one batch (the database refuses such a batch whole)."""
    seen: set[str] = set()
    twice: set[str] = set()
    for statement in statements:
        puid = statement.get("puid")
        if isinstance(puid, str):
            (twice if puid in seen else seen).add(puid)
    return twice
