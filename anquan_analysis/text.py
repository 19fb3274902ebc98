"""Text normalisation shared by ingest, catalogue look-ups and the bulletin reader."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
# A trailing unit in brackets, as in 重大事故隐患排查数（项） or 罚款(万元).
_TRAILING_UNIT = re.compile(r"[\(\[【（][^()\[\]【】（）]{0,6}[\)\]】）]$")


def nfkc(text: str) -> str:
    """Full-width digits, letters and punctuation folded to their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def normalise_name(text) -> str:
    """A unit's name as it is compared: NFKC, no white space at all.

    Chinese names carry no meaningful spaces, so ``区 应急局`` and ``区应急局`` are one unit.
    """
    if text is None:
        return ""
    return _SPACE.sub("", nfkc(str(text)))


def normalise_label(text) -> str:
    """A column header or indicator label as it is looked up in the catalogue:
    NFKC, no white space, lower case, a trailing bracketed unit removed."""
    s = normalise_name(text).lower()
    s = s.replace("“", "").replace("”", "").replace('"', "")
    prev = None
    while prev != s:
        prev = s
        s = _TRAILING_UNIT.sub("", s)
    return s
