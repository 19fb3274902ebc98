"""A correction file supersedes the rows it corrects.

Offices correct a report by sending the unit's row again in a file of its own:
``2024年9月调度表（区应急局修正版）.xlsx`` beside ``2024年9月调度表.xlsx``, or a later
version of the same file (``调度表_v2.xlsx``, ``调度表20241008.xlsx``).  Where a unit
and period are reported with different figures in several files, the row of the one
file that supersedes every other is kept and the others are rejected as superseded,
each naming the row that replaces it.  A file supersedes another when

1. its name marks it as a correction (修正, 更正, 订正, 修订, 重报) and the other's does
   not; or
2. both or neither are so marked, their names are the same apart from the marks and
   a version or date stamp (``v2``, ``第2版``, ``20241008``, ``2024-10-08``,
   ``10月8日``), and its stamp is the later one (no stamp is the earliest).

Anything else is a real conflict between files and stays one: every copy is rejected,
all named (``duplicates.flag_duplicates``).  Nothing is decided by file times, which
a copy of the folder changes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..dataset import REJECT_COLUMNS
from ..text import nfkc
from ._frames import reject_frame

SUPERSEDED = "已被更正文件取代"
CORRECTION_MARK = re.compile(r"修正|更正|订正|修订|重报")
# a bracketed remark that holds a mark: （区应急局修正版）
_MARKED_REMARK = re.compile(r"[(\[【（][^()\[\]【】（）]*(?:修正|更正|订正|修订|重报)[^()\[\]【】（）]*[)\]】）]")
_VERSION = re.compile(r"(?:[_\-\s]?[vV](\d{1,3})|第(\d{1,3})版|[(（]第?(\d{1,2})稿?[)）])")
_DATE = re.compile(r"(20\d{2})[-._]?(\d{2})[-._]?(\d{2})(?!\d)|(\d{1,2})月(\d{1,2})日")
_MARK_WORDS = re.compile(r"(?:修正|更正|订正|修订|重报)(?:版|稿|后)?")


@lru_cache(maxsize=4096)
def file_precedence(name: str) -> tuple[bool, str, tuple[int, ...]]:
    """(marked as a correction, the name without marks and stamps, the stamp as a
    sortable tuple: (year, month, day, version), zeros where absent) of a file name."""
    stem = nfkc(Path(name).stem)
    marked = bool(CORRECTION_MARK.search(stem))
    base = _MARKED_REMARK.sub("", stem)
    date = (0, 0, 0)
    dates = list(_DATE.finditer(base))
    if dates:
        m = dates[-1]
        date = ((int(m[1]), int(m[2]), int(m[3])) if m[1] else (0, int(m[4]), int(m[5])))
        base = base[:m.start()] + base[m.end():]
    version = 0
    versions = list(_VERSION.finditer(base))
    if versions:
        m = versions[-1]
        version = int(next(g for g in m.groups() if g))
        base = base[:m.start()] + base[m.end():]
    base = _MARK_WORDS.sub("", base).strip(" _-")
    return marked, base, (*date, version)


def supersedes(a: str, b: str) -> bool:
    """True when file ``a`` supersedes file ``b`` (see the module docstring)."""
    ma, base_a, stamp_a = file_precedence(Path(a).name)
    mb, base_b, stamp_b = file_precedence(Path(b).name)
    if ma != mb:
        return ma
    return base_a == base_b and stamp_a > stamp_b


def superseded_rows(records: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The rejects of rows superseded by a correction.

    Parameters
    ----------
    records : DataFrame
        One record per row: file, sheet, row, seq (input order), the ``key``
        columns and ``signature`` (the figures as comparable text).  Not modified.
    key : list of str
        The columns that name one report (unit, period …).

    Returns
    -------
    DataFrame with REJECT_COLUMNS plus ``by`` (the file and row that replaces it):
    in every group of ``key`` with different signatures over several files, where
    exactly one file supersedes all the others and its rows of the group agree,
    every row of the other files.  Empty when there is none.
    """
    dup = records[records.duplicated(key, keep=False)]
    out = []
    for _, g in dup.groupby(key, sort=False, dropna=False):
        if g["signature"].nunique() < 2 or g["file"].nunique() < 2:
            continue
        files = list(dict.fromkeys(g["file"]))
        top = [f for f in files if all(f == o or supersedes(f, o) for o in files)]
        if len(top) != 1:
            continue
        winner = g[g["file"] == top[0]]
        if winner["signature"].nunique() != 1:
            continue
        first = winner.sort_values("seq").iloc[0]
        by = f"{Path(first['file']).name} row {int(first['row'])}"
        losers = g[g["file"] != top[0]]
        out.append(reject_frame(losers, "单位", losers[key[0]],
                                f"{SUPERSEDED} (superseded by the correction in {by})")
                   .assign(by=by))
    if not out:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in [*REJECT_COLUMNS, "by"]})
    return pd.concat(out, ignore_index=True)
