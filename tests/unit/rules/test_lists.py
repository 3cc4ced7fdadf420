"""The list index: one automaton for every keyword list (word boundaries, leetspeak), domain suffixes, URL
prefixes, and a million entries."""

from __future__ import annotations

import time

from domain.rules.catalogue import ListKind
from domain.rules.lists import ListIndex, ListSnapshot, links
from domain.rules.normalise import normalise


def index() -> ListIndex:
    return ListIndex(
        [
            ListSnapshot("spam", ListKind.KEYWORD, 3, ["free coins", "cheap pills", "coin"]),
            ListSnapshot("scam", ListKind.KEYWORD, 1, ["wire money", "FREE COINS"]),
            ListSnapshot("bad-domains", ListKind.DOMAIN, 1, ["evil.com", "https://www.Phish.example/login"]),
            ListSnapshot("bad-urls", ListKind.URL, 1, ["good.org/bad", "http://WWW.Shop.net/promo/"]),
        ]
    )


def hits(idx: ListIndex, text: str) -> set[str]:
    mask = idx.keyword_mask(normalise(text))
    return {name for name in ("spam", "scam") if mask & (idx.bit(name, ListKind.KEYWORD) or 0)}


def test_one_pass_reports_every_keyword_list_hit() -> None:
    idx = index()
    assert hits(idx, "Get FR33 c0!ns now") == {"spam", "scam"}
    assert hits(idx, "please wire money") == {"scam"}
    assert hits(idx, "a coin and c-h-e-a-p") == {"spam"}
    assert hits(idx, "nothing here") == set()
    assert idx.versions() == {"spam": 3, "scam": 1, "bad-domains": 1, "bad-urls": 1}


def test_keywords_match_at_word_boundaries_only() -> None:
    idx = index()
    assert hits(idx, "bitcoins and coinage") == set()  # 'coin' is inside words
    assert hits(idx, "one coin.") == {"spam"}
    assert hits(idx, "coin") == {"spam"}  # whole text
    assert hits(idx, "freecoins") == set()


def test_domains_match_hosts_and_their_subdomains() -> None:
    idx = index()
    bit = idx.bit("bad-domains", ListKind.DOMAIN)
    assert bit is not None
    for text in ("go to https://EVIL.com/x", "mail.evil.com rocks", "www.evil.com.", "user@login.phish.example"):
        assert idx.domain_mask(links(text)) & bit, text
    for text in ("notevil.com", "evil.com.au", "evil.co", "plain words"):
        assert not idx.domain_mask(links(text)) & bit, text


def test_urls_match_entries_and_their_path_extensions() -> None:
    idx = index()
    bit = idx.bit("bad-urls", ListKind.URL)
    assert bit is not None
    for text in (
        "see good.org/bad",
        "https://good.org/bad/deeper?x=1",
        "http://shop.net/promo",
        "www.shop.net/promo/a",
    ):
        assert idx.url_mask(links(text)) & bit, text
    for text in ("good.org/badge", "good.org/", "good.org/Bad", "shop.net/promotion"):
        assert not idx.url_mask(links(text)) & bit, text
    assert idx.bit("bad-urls", ListKind.DOMAIN) is None  # kinds do not mix


def test_a_million_entries_build_and_match() -> None:
    terms = [f"term{n:07d} word" for n in range(1_000_000)]
    hosts = [f"host{n:07d}.example.com" for n in range(1_000_000)]
    started = time.process_time()
    idx = ListIndex([ListSnapshot("big", ListKind.KEYWORD, 1, terms), ListSnapshot("hosts", ListKind.DOMAIN, 1, hosts)])
    built = time.process_time() - started
    assert idx.keyword_terms == 1_000_000
    assert idx.keyword_mask(normalise("say TERM0543210 word now")) == idx.bit("big", ListKind.KEYWORD)
    assert idx.keyword_mask(normalise("say term0543210 words")) == 0
    assert idx.domain_mask(links("at a.host0999999.example.com/x")) == idx.bit("hosts", ListKind.DOMAIN)
    assert built < 120  # CPU seconds; ~15 s on the 2-core CI machine, a bound against accidental quadratic builds
