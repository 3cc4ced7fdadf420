"""Principal names: one canonical form to store and compare, one skeleton to catch look-alikes.

Staff members and partner organisations are found by name (``vigil token issue --name``, ``issueStaffToken``,
``issueApiToken``'s ``partnerOrg``, an OIDC subject). Two rules keep a name from reaching someone else's
principal:

- ``canonical_name``: what is stored and compared, exactly. Unicode NFKC (full-width ``ａｄｍｉｎ`` is ``admin``),
  surrounding whitespace dropped; control, format (zero-width), private-use, unassigned and surrogate characters
  are refused. ``"admin-global "`` and ``"ａｄｍｉｎ-global"`` therefore *are* ``admin-global``.
- ``name_skeleton``: how a name looks. Case folded, accents and other combining marks dropped, whitespace
  dropped, dashes unified, and the letters that pass for Latin ones (Cyrillic ``а``, Greek ``ο``, ``1``/``I``
  for ``l``, ``0`` for ``o``, ``rn`` for ``m``...) mapped onto them. Two different canonical names with one
  skeleton are look-alikes (``Admin-Global``, ``admin-globaI``, ``аdmin-global`` with a Cyrillic ``а``): the
  identity service refuses to create or address one beside the other (``api.services.identity``).

An OIDC subject is compared with stored names exactly, never through either function: an identity provider's
``Admin-Global`` is not Vigil's ``admin-global``.

The confusable table is a hand-written subset of Unicode's (UTS #39): the Cyrillic and Greek letters that render
as Latin ones, and the classic digit/letter swaps. It errs towards calling names alike (a refused name can be
chosen again), never towards letting a look-alike through.
"""

from __future__ import annotations

import unicodedata
from types import MappingProxyType
from typing import Final

_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})

# After case folding: what each look-alike stands for.
_CONFUSABLE: Final = MappingProxyType(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "һ": "h",
        "н": "h",
        "і": "l",
        "ї": "l",
        "ј": "j",
        "к": "k",
        "ӏ": "l",
        "м": "m",
        "о": "o",
        "р": "p",
        "ԛ": "q",
        "г": "r",
        "ѕ": "s",
        "т": "t",
        "и": "u",
        "ц": "u",
        "ѵ": "v",
        "ԝ": "w",
        "ш": "w",
        "х": "x",
        "у": "y",
        "ү": "y",
        "ԁ": "d",
        "с": "c",
        "ɡ": "g",
        "ԍ": "g",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "l",
        "κ": "k",
        "μ": "u",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "γ": "y",
        "ω": "w",
        "ϲ": "c",
        # Latin and digits that pass for one another
        "i": "l",
        "ı": "l",
        "1": "l",
        "|": "l",
        "ǀ": "l",
        "0": "o",
        # dashes and underscores that pass for a hyphen
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "﹣": "-",
        "_": "-",
        "‗": "-",
    }
)
_DIGRAPHS: Final = (("rn", "m"), ("vv", "w"), ("cl", "d"))


def canonical_name(value: str) -> str:
    """``value`` as stored and compared: NFKC, without surrounding whitespace. ``ValueError`` for a name that is
    empty once trimmed or holds an invisible or unassigned character (the message names the character's code)."""
    name = unicodedata.normalize("NFKC", value).strip()
    if not name:
        raise ValueError("a name cannot be empty or blank")
    for char in name:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValueError(f"a name cannot hold the invisible or unassigned character U+{ord(char):04X}")
    return name


def name_skeleton(value: str) -> str:
    """How ``value`` looks: equal skeletons, look-alike names (see the module docstring). Total: never raises."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", value).casefold())
    kept = [
        _CONFUSABLE.get(char, char)
        for char in folded
        if not unicodedata.category(char).startswith(("M", "Z", "C")) and not char.isspace()
    ]
    skeleton = "".join(kept)
    for digraph, letter in _DIGRAPHS:
        skeleton = skeleton.replace(digraph, letter)
    return skeleton


def look_alike(a: str, b: str) -> bool:
    """Different names that look the same."""
    return a != b and name_skeleton(a) == name_skeleton(b)
