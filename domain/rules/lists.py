"""Named lists (keyword, domain, URL) and the index that matches all of a rule set's lists in one pass per field.

Keyword lists: every term is normalised (``normalise.normalise``) and padded with one space on each side; the
text is normalised and padded alike, so a match always starts and ends at a word boundary (``coin`` does not
match ``coins``; ``free coins`` matches ``get fr33 c0!ns now``). All keyword lists share ONE Aho-Corasick
automaton whose values are bit masks (bit i = list i): one pass over a text yields every list it hits.

Domain lists: hosts, lower-cased, without ``www.``; a host found in text matches an entry equal to it or to one
of its parent domains (``a.evil.com`` matches ``evil.com``). URL lists: ``host/path`` (scheme, ``www.``, query
and fragment dropped, host lower-cased, no trailing ``/``); a URL found in text matches an entry equal to it or to
one of its path prefixes cut at a ``/``. Both are one dict of entry -> mask over all lists of the kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from domain.rules.catalogue import ListKind
from domain.rules.errors import RuleDefinitionError, RuleErrorCode
from domain.rules.normalise import normalise

MAX_ENTRIES = 1_000_000
"""Most entries one list may hold."""
MAX_LINKS = 1000
"""Most links read from one text (a text listing more is matched on its first ones)."""

_EDGE = "()[]{}<>\"'`,;:!?*.\u2018\u2019\u201c\u201d"
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


@dataclass(frozen=True)
class ListSnapshot:
    """One version of a named list, as stored. Entries are raw text; the index normalises them."""

    name: str
    kind: ListKind
    version: int
    entries: Sequence[str]


def host_key(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _link(token: str) -> tuple[str, str] | None:
    """(host, path) if the whitespace-free ``token`` reads as a link: ``[scheme://][user@]host.tld[:port][/path]``
    (query and fragment dropped, trailing ``/`` dropped); surrounding punctuation is ignored."""
    token = token.strip(_EDGE)
    scheme = token.find("://")
    if scheme != -1:
        token = token[scheme + 3 :]
    host, slash, path = token.partition("/")
    host = host.rpartition("@")[2].partition(":")[0]
    host = host_key(host)
    if "." not in host or not _HOST_CHARS.issuperset(host) or not host.rpartition(".")[2][:1].isalpha():
        return None
    if "" in host.split("."):
        return None
    path = path.partition("?")[0].partition("#")[0]
    return host, (slash + path).rstrip("/")


def links(text: str) -> list[tuple[str, str]]:
    """(host, path) of every link-like token in ``text`` (URLs with or without scheme, bare host names), at most
    ``MAX_LINKS``. Plain string operations on whitespace-separated tokens: linear in the text."""
    if "." not in text:
        return []
    found = []
    for token in text.split():
        if "." in token:
            link = _link(token)
            if link is not None:
                found.append(link)
                if len(found) == MAX_LINKS:
                    break
    return found


def keyword_key(term: str) -> str:
    """How a keyword term is stored in the automaton ('' if the term normalises to nothing)."""
    normalised = normalise(term)
    return f" {normalised} " if normalised else ""


def domain_key(entry: str) -> str:
    found = links(entry.strip())
    return found[0][0] if found else ""


def url_key(entry: str) -> str:
    found = links(entry.strip())
    return f"{found[0][0]}{found[0][1]}" if found else ""


class ListIndex:
    """Every list a rule set uses, compiled for matching. Build it once per change of any list and share it
    between rule sets (it is immutable)."""

    def __init__(self, snapshots: Iterable[ListSnapshot]) -> None:
        self._bits: dict[str, tuple[ListKind, int]] = {}
        self._versions: dict[str, int] = {}
        keywords: dict[str, int] = {}
        self._domains: dict[str, int] = {}
        self._urls: dict[str, int] = {}
        counts = {ListKind.KEYWORD: 0, ListKind.DOMAIN: 0, ListKind.URL: 0}
        for snapshot in snapshots:
            if len(snapshot.entries) > MAX_ENTRIES:
                raise RuleDefinitionError(
                    RuleErrorCode.TOO_LARGE, f"list {snapshot.name!r} has more than {MAX_ENTRIES} entries"
                )
            bit = 1 << counts[snapshot.kind]
            counts[snapshot.kind] += 1
            self._bits[snapshot.name] = (snapshot.kind, bit)
            self._versions[snapshot.name] = snapshot.version
            table, key = {
                ListKind.KEYWORD: (keywords, keyword_key),
                ListKind.DOMAIN: (self._domains, domain_key),
                ListKind.URL: (self._urls, url_key),
            }[snapshot.kind]
            for entry in snapshot.entries:
                stored = key(entry)
                if stored:
                    table[stored] = table.get(stored, 0) | bit
        self._automaton: ahocorasick.Automaton | None = None
        if keywords:
            automaton = ahocorasick.Automaton()
            for term, mask in keywords.items():
                automaton.add_word(term, mask)
            automaton.make_automaton()
            self._automaton = automaton
        self.keyword_terms = len(keywords)
        self._all_keyword_lists = (1 << counts[ListKind.KEYWORD]) - 1

    def versions(self) -> dict[str, int]:
        """List name -> version bound in this index."""
        return dict(self._versions)

    def bit(self, name: str, kind: ListKind) -> int | None:
        """The list's bit in its kind's masks; None if the index has no such list of that kind."""
        found = self._bits.get(name)
        return found[1] if found is not None and found[0] == kind else None

    def keyword_mask(self, normalised: str) -> int:
        """The keyword lists (mask) with a term in an already normalised text."""
        if self._automaton is None:
            return 0
        mask, full = 0, self._all_keyword_lists
        for _, value in self._automaton.iter(f" {normalised} "):
            mask |= value
            if mask == full:  # every list hit: the rest of the text cannot add one
                break
        return mask

    def domain_mask(self, found: list[tuple[str, str]]) -> int:
        mask = 0
        domains = self._domains
        if not domains:
            return 0
        for host, _ in found:
            mask |= domains.get(host, 0)
            dot = host.find(".")
            while dot != -1:
                mask |= domains.get(host[dot + 1 :], 0)
                dot = host.find(".", dot + 1)
        return mask

    def url_mask(self, found: list[tuple[str, str]]) -> int:
        mask = 0
        urls = self._urls
        if not urls:
            return 0
        for host, path in found:
            url = host + path
            mask |= urls.get(url, 0)
            slash = url.find("/")
            while slash != -1:
                mask |= urls.get(url[:slash], 0)
                slash = url.find("/", slash + 1)
        return mask
