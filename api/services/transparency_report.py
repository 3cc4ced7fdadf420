"""The transparency report as one document, laid out on the Commission's harmonised templates (Implementing
Regulation (EU) 2024/2835, Annex I, used for data from 1 July 2025): the Quantitative Template's sections, in the
order the Annex gives them, and the Qualitative Template's free-text indicators. JSON, HTML and CSV are all
rendered from this one document, so they cannot disagree.

The figures come from the database (``persistence.queries.transparency``); what Vigil cannot know comes from a
configuration file (``vigil report transparency --about FILE``, JSON): the provider and service named in the
report's identification, the Qualitative Template's texts and the human resources (persons dedicated to content
moderation per official EU language: Vigil's staff records carry no language, so these are configured figures).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from domain.dsa.vocabulary import Category, Country

TEMPLATE: Final = "Commission Implementing Regulation (EU) 2024/2835, Annex I (OJ L, 5.11.2024)"


@dataclass(frozen=True)
class Item:
    """One indicator of a section: ``name`` is the document's (and the JSON's) field; a breakdown's values are
    rows of ``key``/``count`` along ``dimension``."""

    name: str
    label: str
    dimension: str | None = None


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    items: tuple[Item, ...]


def _i(name: str, label: str, dimension: str | None = None) -> Item:
    return Item(name, label, dimension)


QUANTITATIVE: Final = (
    Section(1, "Identification of the report", (
        _i("provider_name", "Name of the provider"),
        _i("service_name", "Name of the service"),
        _i("region", "Data region reported on"),
        _i("period_start", "Start of the reporting period"),
        _i("period_end", "End of the reporting period"),
    )),
    Section(2, "Orders from Member State authorities (Art. 9 and 10)", (
        _i("orders_act", "Orders to act against illegal content received (Art. 9)"),
        _i("orders_act_by_member_state", "Orders to act, by issuing Member State", "member_state"),
        _i("orders_act_by_category", "Orders to act, by type of illegal content", "category"),
        _i("orders_act_median_hours_to_inform",
           "Orders to act: median time to inform the authority of receipt (hours)"),
        _i("orders_act_median_hours_to_act", "Orders to act: median time to give effect to the order (hours)"),
        _i("orders_information", "Orders to provide information received (Art. 10)"),
        _i("orders_information_by_member_state", "Orders to provide information, by issuing Member State",
           "member_state"),
        _i("orders_information_by_category", "Orders to provide information, by type of illegal content", "category"),
        _i("orders_information_median_hours_to_inform",
           "Orders to provide information: median time to inform the authority of receipt (hours)"),
        _i("orders_information_median_hours_to_act",
           "Orders to provide information: median time to give effect to the order (hours)"),
    )),
    Section(3, "Notices submitted in accordance with Article 16", (
        _i("notices", "Notices received"),
        _i("notices_by_category", "Notices, by type of alleged illegal content or violation", "category"),
        _i("notices_by_source", "Notices, by notifier", "source"),
        _i("notices_by_member_state", "Notices, by Member State of the notifier", "member_state"),
        _i("trusted_flagger_notices", "Notices from trusted flaggers (Art. 22)"),
        _i("trusted_flagger_notices_by_category", "Notices from trusted flaggers, by type", "category"),
        _i("notice_restrictions_by_ground", "Restrictions on the basis of notices, by ground", "ground"),
        _i("notices_handled_by_automated_means", "Notices processed by automated means"),
        _i("median_hours_notice_to_decision", "Median time from a notice to the decision on it (hours)"),
        _i("trusted_flagger_median_hours_notice_to_decision",
           "Median time from a trusted flagger's notice to the decision on it (hours)"),
    )),
    Section(4, "Content moderation at the provider's own initiative", (
        _i("own_initiative_restrictions", "Restrictions at the provider's own initiative"),
        _i("own_initiative_by_category", "Own-initiative restrictions, by type of illegal content or violation",
           "category"),
        _i("own_initiative_by_detection", "Own-initiative restrictions, by detection method", "detection"),
        _i("own_initiative_by_type", "Own-initiative restrictions, by type of restriction", "restriction"),
        _i("own_initiative_by_ground", "Own-initiative restrictions, by ground", "ground"),
        _i("restrictions", "All restrictions applied (each restriction once)"),
        _i("restrictions_by_type", "All restrictions, by type of restriction", "restriction"),
        _i("restrictions_by_action", "All restrictions, by measure", "action"),
        _i("restrictions_by_ground", "All restrictions, by ground", "ground"),
        _i("restrictions_by_category", "All restrictions, by type of illegal content or violation", "category"),
        _i("restrictions_by_origin", "All restrictions, by what prompted them", "origin"),
        _i("warnings", "Warnings (no restriction, no statement of reasons)"),
    )),
    Section(5, "Complaints, out-of-court disputes and suspensions (Art. 20, 21, 23)", (
        _i("complaints_received", "Complaints received through the internal complaint-handling system"),
        _i("complaints_by_basis", "Complaints, by ground of the contested decision", "ground"),
        _i("complaints_decided", "Complaints decided"),
        _i("complaints_upheld", "Complaints that left the decision in place"),
        _i("complaints_overturned", "Complaints that reversed the decision"),
        _i("median_hours_to_decide_complaint", "Median time to decide a complaint (hours)"),
        _i("disputes_submitted", "Disputes submitted to out-of-court dispute settlement bodies"),
        _i("disputes_closed_by_outcome", "Disputes closed, by outcome", "outcome"),
        _i("disputes_implemented", "Disputes closed whose decision the provider implemented"),
        _i("median_days_to_close_dispute", "Median time to close a dispute (days)"),
        _i("suspensions_for_illegal_content", "Suspensions for frequently providing manifestly illegal content"),
        _i("suspensions_for_unfounded_notices", "Suspensions for frequently submitting manifestly unfounded notices"),
        _i("suspensions_for_unfounded_complaints",
           "Suspensions for frequently submitting manifestly unfounded complaints"),
    )),
    Section(6, "Use of automated means", (
        _i("violating_decisions", "Decisions finding a violation"),
        _i("automated_detection", "of which detected by automated means"),
        _i("automated_decisions", "of which decided by automated means"),
        _i("automated_decisions_qa_reviewed", "Automated decisions reviewed by a person (quality assurance)"),
        _i("automated_decisions_qa_disagreed", "Automated decisions the reviewer found wrong"),
        _i("automated_qa_error_rate_percent", "Error rate found by human review (%)"),
        _i("automated_decisions_appealed", "Automated decisions complained about"),
        _i("automated_decisions_overturned", "Automated decisions reversed on complaint"),
        _i("automated_appeal_error_rate_percent", "Share of automated decisions reversed on complaint (%)"),
    )),
    Section(7, "Human resources dedicated to content moderation", (
        _i("human_resources", "Persons dedicated to content moderation"),
        _i("human_resources_by_language", "Persons dedicated to content moderation, by official EU language",
           "language"),
    )),
    Section(8, "Average monthly active recipients (Art. 24(2))", (
        _i("average_monthly_active_recipients", "Average monthly active recipients in the Union"),
        _i("average_monthly_active_recipients_by_member_state", "Average monthly active recipients, by Member State",
           "member_state"),
    )),
)  # fmt: skip

QUALITATIVE: Final = (
    ("own_initiative_summary", "Summary of the content moderation engaged in at the provider's own initiative"),
    ("automated_means_description", "Qualitative description of the automated means used for content moderation"),
    ("automated_means_purposes", "Precise purposes of the automated means"),
    ("automated_means_accuracy", "Indicators of the accuracy and possible rate of error of the automated means"),
    ("automated_means_safeguards", "Safeguards applied to the use of automated means"),
    ("moderator_training", "Training and assistance provided to the persons in charge of content moderation"),
    ("moderator_qualifications", "Qualifications and linguistic expertise of the persons moderating content"),
    ("complaint_handling", "Description of the internal complaint-handling system"),
    ("methodology", "How the figures were counted, and other information"),
)

LANGUAGES: Final = frozenset(
    "BG CS DA DE EL EN ES ET FI FR GA HR HU IT LT LV MT NL PL PT RO SK SL SV".split()  # noqa: SIM905
)


class AboutError(ValueError):
    """The ``--about`` file is unreadable or malformed (the message says where)."""


@dataclass(frozen=True)
class About:
    provider_name: str = ""
    service_name: str = ""
    qualitative: Mapping[str, str] | None = None
    human_resources: Mapping[str, int] | None = None  # official EU language (ISO 639-1, upper case) → persons


def load_about(path: str | None) -> About:
    if path is None:
        return About()
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AboutError(f"{path}: {exc}") from None
    if not isinstance(raw, dict):
        raise AboutError(f"{path}: expected a JSON object")
    known = {"provider_name", "service_name", "qualitative", "human_resources"}
    if set(raw) - known:
        raise AboutError(f"{path}: unknown key {sorted(set(raw) - known)[0]!r} (known: {', '.join(sorted(known))})")
    texts = raw.get("qualitative") or {}
    indicators = {key for key, _ in QUALITATIVE}
    if not isinstance(texts, dict) or not all(k in indicators and isinstance(v, str) for k, v in texts.items()):
        raise AboutError(f"{path}: qualitative maps the indicators ({', '.join(sorted(indicators))}) to text")
    people = raw.get("human_resources") or {}
    if not isinstance(people, dict) or not all(
        k in LANGUAGES and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in people.items()
    ):
        raise AboutError(f"{path}: human_resources maps official EU languages (EN, DE, ...) to a number of persons")
    names = (raw.get("provider_name", ""), raw.get("service_name", ""))
    if not all(isinstance(n, str) for n in names):
        raise AboutError(f"{path}: provider_name and service_name are text")
    return About(names[0], names[1], texts, people)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def report_document(figures: Mapping[str, Any], about: About) -> dict[str, Any]:
    """The figures (``TransparencyFigures.as_json()``) with the report's identification, the derived rates, the
    human resources and the qualitative texts: what every form of the report shows."""
    people = dict(sorted((about.human_resources or {}).items()))
    document = dict(figures)
    document.update(
        provider_name=about.provider_name,
        service_name=about.service_name,
        automated_qa_error_rate_percent=_percent(
            figures["automated_decisions_qa_disagreed"], figures["automated_decisions_qa_reviewed"]
        ),
        automated_appeal_error_rate_percent=_percent(
            figures["automated_decisions_overturned"], figures["automated_decisions"]
        ),
        human_resources=sum(people.values()) if people else None,
        human_resources_by_language=[{"key": k, "count": n} for k, n in people.items()],
        qualitative={key: (about.qualitative or {}).get(key, "") for key, _ in QUALITATIVE},
        template=TEMPLATE,
    )
    return document


# -- labels ----------------------------------------------------------------------------------------------------

_NAMES: Final = (
    "Austria Belgium Bulgaria Cyprus Czechia Germany Denmark Estonia Spain Finland France Greece Croatia Hungary "
    "Ireland Italy Lithuania Luxembourg Latvia Malta Netherlands Poland Portugal Romania Sweden Slovenia Slovakia "
    "Iceland Liechtenstein Norway"
)
COUNTRY_NAMES: Final = dict(zip([c.value for c in Country], _NAMES.split(), strict=True))
LABELS: Final = {
    "UNKNOWN": "Not recorded",
    "USER": "Users",
    "TRUSTED_FLAGGER": "Trusted flaggers",
    "VISIBILITY": "Restriction of visibility",
    "PROVISION": "Suspension or restriction of the service",
    "ACCOUNT": "Suspension or termination of the account",
    "MONETARY": "Restriction of monetary payments",
    "REMOVE_CONTENT": "Content removed",
    "AGE_RESTRICT": "Content age-restricted",
    "LIMIT_DISTRIBUTION": "Content demoted",
    "LABEL": "Content labelled",
    "REJECT_AD": "Advertisement rejected",
    "RESTRICT_FEATURES": "Features restricted",
    "HOLD_ADS": "Advertising put on hold",
    "SUSPEND_ACCOUNT": "Account suspended",
    "BAN_ACCOUNT": "Account terminated",
    "DECISION_GROUND_ILLEGAL_CONTENT": "Illegal content",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Incompatible with the terms and conditions",
    "NOTICE": "Notices (Art. 16)",
    "OTHER_NOTIFICATION": "Other notifications",
    "OWN_INITIATIVE": "Own initiative",
    "AUTOMATED": "Automated means",
    "MANUAL": "Detected by people",
    "FOR_RECIPIENT": "In the recipient's favour",
    "FOR_PROVIDER": "In the provider's favour",
    "SETTLED": "Settled by agreement",
    "DISCONTINUED": "Withdrawn or discontinued",
    **COUNTRY_NAMES,
}
CATEGORY_NAMES: Final = {
    Category.STATEMENT_CATEGORY_OTHER_VIOLATION_TC.value: "Other violation of the terms and conditions",
    Category.STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE.value: "Not specified in the notice",
}


def label(key: str, dimension: str | None = None) -> str:
    """A key as a reader reads it: ``STATEMENT_CATEGORY_SCAMS_AND_FRAUD`` → "Scams and fraud", ``DE`` →
    "Germany" (or the language's code kept as is for ``language``)."""
    if dimension == "language":
        return key
    if key in CATEGORY_NAMES:
        return CATEGORY_NAMES[key]
    if key in LABELS:
        return LABELS[key]
    text = key.removeprefix("STATEMENT_CATEGORY_").replace("_", " ").lower()
    return text[:1].upper() + text[1:]
