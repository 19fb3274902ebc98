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


# Characters that are not text: C0 and C1 controls, DEL, and the invisible format
# characters that hide text or reorder it on a terminal (soft hyphen, zero-width
# characters, bidi overrides and isolates, byte-order marks).
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e"
                           "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def strip_controls(text: str) -> str:
    """``text`` without control and invisible format characters (``CONTROL_CHARS``)."""
    return CONTROL_CHARS.sub("", text)


def printable(text) -> str:
    """``text`` safe for a terminal line or a log: every control or invisible format
    character written as an escape (``\\x1b``, ``\\u202e``), so that an escape
    sequence in a unit or file name is shown, not run."""
    return CONTROL_CHARS.sub(lambda m: repr(m.group(0))[1:-1], str(text))
