"""Text normalisation for matching: a *skeleton* of the text, so that look-alike spellings compare equal.

``normalise(text)``:

1. Unicode compatibility decomposition (NFKD: NFKC's folding of fullwidth, ligatures, superscripts... kept
   decomposed so that accents can be dropped); capitals of Greek and Cyrillic look-alikes become Latin capitals
   (``Η`` -> ``H``, whereas ``η`` -> ``n``); then case folding;
2. leetspeak symbols inside words become letters (``c0!ns`` -> ``coins``; a ``!`` ending a word stays punctuation);
3. one translation table (C speed): combining marks and invisible format characters (zero-width space, soft
   hyphen...) are deleted; confusables (Cyrillic and Greek homoglyphs of Latin letters) and leetspeak digits are
   folded to Latin letters; ``i``, ``l``, ``1``, ``!`` and ``|`` all fold to ``i`` (``he11o`` and ``hello`` meet);
   punctuation, symbols and separators become spaces;
4. runs of whitespace collapse to one space; no leading or trailing space.

The result is for matching, not for display: ``normalise("FR33  c0!ns") == normalise("free coins") ==
"free coins"`` but ``normalise("hello") == "heiio"``. It is idempotent.
"""

from __future__ import annotations

import re
import sys
import unicodedata

_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "г": "r", "е": "e", "з": "3", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
    "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "i",
    "ь": "b", "ү": "y", "һ": "h",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "ς": "s", "ϲ": "c",
    # Latin look-alikes
    "ı": "i", "ɩ": "i", "ɑ": "a", "ɡ": "g", "ʏ": "y", "ø": "o", "đ": "d", "ħ": "h", "ł": "l", "ß": "ss",
}  # fmt: skip
#: Capitals whose look-alike differs from their small letter's (Greek Eta looks like H, eta like n): folded before
#: case folding.
_UPPER_CONFUSABLES = str.maketrans({
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y",
    "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
})  # fmt: skip
_LEET_DIGITS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"}
_LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "i", "€": "e"}
_FOLD_TO_I = {"l": "i"}

#: Leet symbols that read as letters: those followed by a letter or digit (``c0!ns``, ``$ale``, ``@pple``).
_LEET_IN_WORD = re.compile(r"[@$!|€](?=[^\W_])")

# Code point ranges whose marks, format characters, punctuation, symbols and separators the table covers: Latin,
# Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic..., general punctuation, symbols, CJK punctuation, fullwidth
# forms and the emoji blocks. (NFKD already maps fullwidth and compatibility forms onto these.)
_RANGES = ((0x0000, 0x3040), (0xFE00, 0xFFFF), (0x1F000, 0x1FB00), (0xE0000, 0xE0080))


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for start, end in _RANGES:
        for code in range(start, end):
            category = unicodedata.category(chr(code))
            if category in ("Mn", "Me", "Cf"):
                table[code] = None
            elif category[0] in "PSZC":
                table[code] = " "
    fold = {**_CONFUSABLES, **_LEET_DIGITS, **_FOLD_TO_I}
    # what a fold produces is folded too (``ł`` -> ``l`` -> ``i``), so the table is applied once
    for source, target in fold.items():
        table[ord(source)] = "".join(fold.get(c, c) for c in target)
    table[ord("_")] = " "
    return table


_TABLE = _build_table()
_ASCII_TABLE = bytes((ord(_TABLE.get(code) or " ") if code in _TABLE else code) for code in range(128)) + bytes(
    range(128, 256)
)
"""The table's ASCII part as a bytes table (faster; ASCII never maps to nothing or to several characters)."""


def _leet_symbol(match: re.Match[str]) -> str:
    return _LEET_SYMBOLS[match.group()]


def normalise(text: str) -> str:
    """The matching skeleton of ``text`` (see the module docstring)."""
    if text.isascii():
        folded = text.lower()
        if "@" in folded or "$" in folded or "!" in folded or "|" in folded:
            folded = _LEET_IN_WORD.sub(_leet_symbol, folded)
        return " ".join(folded.encode("ascii").translate(_ASCII_TABLE).decode("ascii").split())
    else:
        folded = unicodedata.normalize("NFKD", text).translate(_UPPER_CONFUSABLES).casefold()
        if not folded.isascii():
            folded = unicodedata.normalize("NFKD", folded)  # casefold may compose (e.g. U+0130 -> i + dot)
    if "@" in folded or "$" in folded or "!" in folded or "|" in folded or "€" in folded:
        folded = _LEET_IN_WORD.sub(_leet_symbol, folded)
    return " ".join(folded.translate(_TABLE).split())


def intern_normalised(text: str) -> str:
    """``normalise``, interned (list entries repeat across versions)."""
    return sys.intern(normalise(text))
