"""The wording of the notices, per language (``str.format`` fields). English is the fallback for any language
without its own templates. Add a language by adding one entry with every key of ``EN``."""

from __future__ import annotations

from typing import Final

from domain.enforcement import ActionKind
from domain.subject import SubjectKind

EN: Final[dict[str, str]] = {
    "date": "%Y-%m-%d",
    "user_subject": "Why we restricted your {thing}",
    "user_body": (
        "On {decided} we applied the following measures to your {thing}: {measures}.\n\n"
        "Facts and reasons: {facts}\n"
        "Rule applied: {policy} (version {version}) of our community guidelines. {ground}\n"
        "{detection} {deciding}\n\n"
        "How to contest this decision: you can appeal it through our internal complaint-handling system until "
        "{deadline}. You may also turn to a certified out-of-court dispute settlement body (Article 21 of the "
        "Digital Services Act) or to a court."
    ),
    "reporter_subject": "What became of your notice",
    "reporter_body": (
        "You notified us on {reported} about {subject} under our rule \u201c{policy}\u201d. "
        "On {decided} we decided: {outcome}\n{deciding}\n\n"
        "If you disagree, you can complain through our internal complaint-handling system, turn to a certified "
        "out-of-court dispute settlement body (Article 21 of the Digital Services Act) or go to court."
    ),
    "outcome_violating": "it breaks our rules, and we applied these measures: {measures}.",
    "outcome_not_violating": "it does not break our rules, so we took no action.",
    "ground_incompatible": "The content is incompatible with our terms and conditions.",
    "ground_illegal": "The content is illegal.",
    "detected_automatically": "It was detected by automated means.",
    "detected_by_notice": "It was brought to our attention by a notice or found by our staff.",
    "decided_automatically": "The decision was taken by automated means.",
    "decided_by_person": "The decision was taken by a person.",
    "until": "until {date}",
    "indefinite": "without end date",
    "no_measures": "a strike on the account, nothing more",
    "thing_CONTENT": "content",
    "thing_AD": "ad",
    "thing_ACCOUNT": "account",
    "subject_CONTENT": "a piece of content",
    "subject_AD": "an ad",
    "subject_ACCOUNT": "an account",
    "REMOVE_CONTENT": "removal of the content",
    "AGE_RESTRICT": "age restriction of the content",
    "LIMIT_DISTRIBUTION": "reduced distribution of the content",
    "LABEL": "a label on the content",
    "REJECT_AD": "rejection of the ad",
    "WARN": "a warning",
    "RESTRICT_FEATURES": "restriction of account features",
    "SUSPEND_ACCOUNT": "suspension of the account",
    "BAN_ACCOUNT": "termination of the account",
    "HOLD_ADS": "suspension of ad delivery",
}

DE: Final[dict[str, str]] = {
    "date": "%d.%m.%Y",
    "user_subject": "Warum wir Ihr {thing} eingeschränkt haben",
    "user_body": (
        "Am {decided} haben wir folgende Maßnahmen für Ihr {thing} getroffen: {measures}.\n\n"
        "Tatsachen und Gründe: {facts}\n"
        "Angewandte Regel: {policy} (Version {version}) unserer Community-Richtlinien. {ground}\n"
        "{detection} {deciding}\n\n"
        "So können Sie die Entscheidung anfechten: Sie können bis zum {deadline} über unser internes "
        "Beschwerdemanagementsystem Einspruch einlegen. Sie können sich auch an eine zertifizierte "
        "außergerichtliche Streitbeilegungsstelle (Artikel 21 des Gesetzes über digitale Dienste) oder an ein "
        "Gericht wenden."
    ),
    "reporter_subject": "Was aus Ihrer Meldung geworden ist",
    "reporter_body": (
        "Sie haben uns am {reported} {subject} nach unserer Regel \u201e{policy}\u201c gemeldet. "
        "Am {decided} haben wir entschieden: {outcome}\n{deciding}\n\n"
        "Wenn Sie nicht einverstanden sind, können Sie über unser internes Beschwerdemanagementsystem Beschwerde "
        "einlegen, sich an eine zertifizierte außergerichtliche Streitbeilegungsstelle (Artikel 21 des Gesetzes "
        "über digitale Dienste) wenden oder ein Gericht anrufen."
    ),
    "outcome_violating": "Es verstößt gegen unsere Regeln; wir haben folgende Maßnahmen getroffen: {measures}.",
    "outcome_not_violating": "Es verstößt nicht gegen unsere Regeln; wir haben nichts unternommen.",
    "ground_incompatible": "Der Inhalt ist mit unseren Nutzungsbedingungen unvereinbar.",
    "ground_illegal": "Der Inhalt ist rechtswidrig.",
    "detected_automatically": "Er wurde mit automatisierten Mitteln erkannt.",
    "detected_by_notice": "Wir wurden durch eine Meldung darauf aufmerksam oder unser Team hat ihn gefunden.",
    "decided_automatically": "Die Entscheidung wurde automatisiert getroffen.",
    "decided_by_person": "Die Entscheidung wurde von einem Menschen getroffen.",
    "until": "bis {date}",
    "indefinite": "unbefristet",
    "no_measures": "ein Strike für das Konto, sonst nichts",
    "thing_CONTENT": "Inhalt",
    "thing_AD": "Werbeanzeige",
    "thing_ACCOUNT": "Konto",
    "subject_CONTENT": "einen Inhalt",
    "subject_AD": "eine Werbeanzeige",
    "subject_ACCOUNT": "ein Konto",
    "REMOVE_CONTENT": "Entfernung des Inhalts",
    "AGE_RESTRICT": "Altersbeschränkung des Inhalts",
    "LIMIT_DISTRIBUTION": "eingeschränkte Verbreitung des Inhalts",
    "LABEL": "Kennzeichnung des Inhalts",
    "REJECT_AD": "Ablehnung der Werbeanzeige",
    "WARN": "eine Verwarnung",
    "RESTRICT_FEATURES": "Einschränkung von Kontofunktionen",
    "SUSPEND_ACCOUNT": "Sperrung des Kontos",
    "BAN_ACCOUNT": "Kündigung des Kontos",
    "HOLD_ADS": "Aussetzung der Anzeigenauslieferung",
}

TEMPLATES: Final[dict[str, dict[str, str]]] = {"en": EN, "de": DE}
FALLBACK: Final = "en"


def _complete() -> None:
    keys = set(EN) | {k.value for k in ActionKind} | {f"thing_{k.value}" for k in SubjectKind}
    for language, templates in TEMPLATES.items():
        missing = keys - set(templates)
        if missing:
            raise RuntimeError(f"notice templates for {language!r} lack {sorted(missing)}")


_complete()
