"""Where a webhook may be sent: a URL's host read the way an HTTP client reads it, and whether the addresses it
names are on the public internet.

``parse_url`` reads a URL's host like the WHATWG URL host parser (and ``inet_aton``): percent-decoded, IDNA
mapped (fullwidth digits and ideographic full stops included), lower-cased, one trailing dot dropped, and a host
whose last label is a number read as IPv4 in any of its forms (``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
``127.1``); ``[...]`` is IPv6. The result, a ``Target``, is what is resolved, checked and connected to: the
dispatcher builds its request from it, so no second parser has a say.

``address_problem`` refuses every address that is not a public unicast one: loopback, private, link-local,
shared (CGNAT), multicast, reserved, unspecified, and IPv6 forms that carry one of those IPv4 addresses
(IPv4-mapped, IPv4-compatible, SIIT, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo).

``checked_addresses`` resolves a name through a ``Resolver`` (a port: the system's in the app, a table in tests)
and refuses the whole host when any address is refused. Registration calls it, and so does every delivery, which
then connects only to the addresses it returned.

Outside production (``strict=False``) plain ``http`` and any address are accepted (local receivers in
development and tests); the host must still parse.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

import idna

from domain.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIIT = ipaddress.IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Names that never lead to the public internet, whatever they resolve to.
_LOCAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa", "intranet", "lan", "corp")
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Resolver(Protocol):
    """Turns a domain name into its addresses."""

    async def resolve(self, host: str) -> Sequence[IPAddress]:
        """Every address of ``host`` (an ASCII domain name, no trailing dot); empty when it has none or the lookup
        failed. Raises nothing."""
        ...


@dataclass(frozen=True)
class Target:
    """A webhook URL as it is sent: ``host`` is canonical (a dotted-quad IPv4 address, an IPv6 address without
    brackets, or an ASCII lower-case domain name without a trailing dot); ``address`` is set for an IP literal."""

    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress | None

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if isinstance(self.address, ipaddress.IPv6Address) else self.host
        return host if _DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}"


def _invalid(message: str) -> DomainError:
    return DomainError.invalid_input(message, "url")


def parse_url(url: str, *, strict: bool) -> Target:
    """The URL's target, or ``INVALID_INPUT`` (field ``url``). ``strict`` (production): ``https`` only, and no IP
    literal or local name that is not on the public internet (names are checked by ``checked_addresses``)."""
    if any(ord(c) <= 0x20 or c in "\\\x7f" for c in url):
        raise _invalid("url must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise _invalid("url is not a valid URL") from None
    allowed = ("https",) if strict else ("https", "http")
    if parts.scheme.lower() not in allowed or not parts.netloc:
        raise _invalid(f"url must be an absolute {' or '.join(allowed)} URL")
    if "@" in parts.netloc:
        raise _invalid("url must not carry credentials")
    scheme = parts.scheme.lower()
    raw_host, port = _split_port(parts.netloc, _DEFAULT_PORTS[scheme])
    host, address = canonical_host(raw_host)
    if strict:
        problem = address_problem(address) if address is not None else name_problem(host)
        if problem is not None:
            shown = raw_host[:100] if raw_host.strip("[]") == host else f"{raw_host[:100]} ({host})"
            raise _invalid(f"url host {shown} is {problem}: webhooks go only to public internet addresses")
    path = parts.path or "/"
    return Target(scheme, host, port, path + (f"?{parts.query}" if parts.query else ""), address)


def _split_port(netloc: str, default: int) -> tuple[str, int]:
    if netloc.startswith("["):
        host, bracket, rest = netloc.partition("]")
        host += bracket
    else:
        host, colon, port_text = netloc.rpartition(":")
        host, rest = (host, colon + port_text) if colon else (netloc, "")
    port_text = rest[1:]
    if rest and not rest.startswith(":"):
        raise _invalid("url host is not valid")
    if not port_text:
        return host, default
    if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
        raise _invalid("url port must be a number from 1 to 65535")
    return host, int(port_text)


def canonical_host(raw: str) -> tuple[str, IPAddress | None]:
    """(the canonical host, its address when it is an IP literal), as the WHATWG URL host parser reads ``raw``."""
    if raw.startswith("[") and raw.endswith("]"):
        inner = raw[1:-1]
        if "%" in inner:
            raise _invalid("url host must not carry an IPv6 zone")
        try:
            v6 = ipaddress.IPv6Address(inner)
        except ValueError:
            raise _invalid("url host is not a valid IPv6 address") from None
        return v6.compressed, v6
    try:
        decoded = unquote(raw, errors="strict") if "%" in raw else raw
        ascii_host = decoded.lower() if decoded.isascii() else idna.encode(decoded, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise _invalid("url host is not a valid domain name") from None
    if not ascii_host:
        raise _invalid("url must name a host")
    labels = ascii_host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # one trailing dot: the same host
    if _is_number(labels[-1]):
        v4 = _ipv4(labels)
        return str(v4), v4
    if any(not label or len(label) > 63 or not set(label) <= _LABEL_CHARS for label in labels):
        raise _invalid("url host is not a valid domain name")
    name = ".".join(labels)
    if len(name) > 253:
        raise _invalid("url host is longer than 253 characters")
    return name, None


def _is_number(label: str) -> bool:
    if label[:2] in ("0x", "0X"):
        return all(c in "0123456789abcdefABCDEF" for c in label[2:])
    return label != "" and label.isascii() and label.isdigit()


_DIGITS = {16: frozenset("0123456789abcdefABCDEF"), 8: frozenset("01234567"), 10: frozenset("0123456789")}


def _ipv4_part(text: str) -> int:
    if text[:2] in ("0x", "0X"):
        digits, base = text[2:] or "0", 16
    elif len(text) > 1 and text.startswith("0"):
        digits, base = text[1:], 8
    else:
        digits, base = text, 10
    if not digits or not set(digits) <= _DIGITS[base]:  # int() alone would take "1_0" and "+1"
        raise _invalid("url host is not a valid IPv4 address")
    return int(digits, base)


def _ipv4(labels: list[str]) -> ipaddress.IPv4Address:
    """The WHATWG IPv4 parser (``inet_aton``'s forms): 1 to 4 parts, each decimal, ``0``-octal or ``0x``-hex;
    the last part fills the remaining bytes."""
    if len(labels) > 4 or any(label == "" for label in labels):
        raise _invalid("url host is not a valid IPv4 address")
    numbers = [_ipv4_part(label) for label in labels]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise _invalid("url host is not a valid IPv4 address")
    value = numbers[-1]
    for index, n in enumerate(numbers[:-1]):
        value += n * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)


def name_problem(host: str) -> str | None:
    """Why a domain name cannot be a webhook's (local and single-label names), or None."""
    for suffix in _LOCAL_SUFFIXES:
        if host == suffix or host.endswith("." + suffix):
            return f"a local name (.{suffix})"
    if "." not in host:
        return "a single-label name (it resolves inside the local network)"
    return None


def _low32(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries besides the IPv4-mapped and NAT64 forms, by form."""
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if address in _SIIT:
        found.append(("IPv4-translated", _low32(address)))
    if address in _COMPATIBLE:
        found.append(("IPv4-compatible", _low32(address)))
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found += [("Teredo server", server), ("Teredo client", client)]
    return found


def _ipv6_problem(address: ipaddress.IPv6Address) -> str | None:
    if address.scope_id:
        return "a scoped IPv6 address"
    # Sent to an IPv4 address: IPv4-mapped (the socket connects over IPv4) and well-known NAT64 (a translator
    # does): that address decides.
    carried = address.ipv4_mapped or (_low32(address) if address in _NAT64 else None)
    if carried is not None:
        problem = address_problem(carried)
        form = "IPv4-mapped" if address.ipv4_mapped is not None else "NAT64"
        return f"{problem} in {form} form ({carried})" if problem is not None else None
    if address.is_loopback or address.is_unspecified:
        return "a loopback address" if address.is_loopback else "the unspecified address"
    for form, v4 in embedded_ipv4(address):
        problem = address_problem(v4)
        if problem is not None:
            return f"{problem} in {form} form ({v4})"
    if address in _NAT64_LOCAL:
        return "a local-use NAT64 address"
    if address.is_site_local:
        return "a site-local address"
    return _general_problem(address)


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address (e.g. ``"a loopback address"``), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        return _ipv6_problem(address)
    return _general_problem(address)


def _general_problem(address: IPAddress) -> str | None:
    checks = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _SHARED, "a shared (CGNAT) address"),
        (address.is_private, "a private or special-purpose address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public internet address"),
    )
    return next((problem for failed, problem in checks if failed), None)


async def checked_addresses(target: Target, resolver: Resolver, *, strict: bool) -> tuple[IPAddress, ...]:
    """The addresses to connect to for ``target``: its IP literal, or what its name resolves to now. ``strict``:
    ``INVALID_INPUT`` unless every one of them is a public internet address (one bad answer spoils the name)."""
    if target.address is not None:
        addresses: tuple[IPAddress, ...] = (target.address,)
    else:
        if strict and (problem := name_problem(target.host)) is not None:
            raise _invalid(f"url host {target.host} is {problem}: webhooks go only to public internet addresses")
        addresses = tuple(dict.fromkeys(await resolver.resolve(target.host)))
        if not addresses:
            raise _invalid(f"url host {target.host} does not resolve")
    if strict:
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                shown = target.host if target.address is not None else f"{target.host} resolves to {address}, which"
                raise _invalid(f"url host {shown} is {problem}: webhooks go only to public internet addresses")
    return addresses
