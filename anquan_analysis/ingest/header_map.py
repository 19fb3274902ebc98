"""The office's own header names, learnt once: suggestions for unknown headers and
the mapping file ``列名对照.csv`` in the data folder.

An office types its headers its own way (``应急演练企业（家）``); the catalogue cannot
hold every phrasing.  For each header that maps to nothing, ``suggest_indicator``
proposes the catalogue indicator it most likely is (rapidfuzz over the Chinese names
and aliases of ``catalogue.INDICATORS``), choosing between near-equal candidates by
the unit in the header's brackets (``（人次）`` picks 主要负责人安全教育培训人次 over
its 场次 sibling).  A suggestion is never applied on its own: ``anquan ingest DIR``
writes it into ``DIR/列名对照.csv`` as a draft row, and the analyst accepts it by
writing 是 in the 采用 column (or writes another indicator's name in 指标, or 不读 to
leave the column out on purpose).  Every later run (``anquan ingest``, ``anquan
assess``, ``anquan check``) applies the accepted rows of the file in the folder of each
data file (``load_header_map``).

The file's columns (``MAPPING_COLUMNS``): 列名 (the header as typed), 指标 (the
indicator's Chinese name, a code, or 不读), 指标代码 (the suggestion's code, for the
record), 相似度 (0–100), 出现于 (the files it was seen in), 采用 (是 / 否 / blank),
说明.  UTF-8 with a byte-order mark (Excel opens it as Chinese); a copy saved by Excel
as GBK is read too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..catalogue import INDICATORS, indicator_name, indicator_unit, resolve_indicator
from ..errors import InputError
from ..numbers import units_compatible
from ..text import normalise_label

MAPPING_FILE = "列名对照.csv"
MAPPING_COLUMNS = ["列名", "指标", "指标代码", "相似度", "出现于", "采用", "说明"]
ACCEPT = frozenset({"是", "采用", "y", "yes", "true", "1", "√", "✓", "ok"})
IGNORE = frozenset({"不读", "忽略", "ignore", "-"})
# rapidfuzz WRatio (0–100) below which nothing is suggested: a contact list's 联络员,
# 职务, 手机 score 30–45 against every indicator; office phrasings of a catalogue name
# score 80–100.
MIN_SCORE = 60.0
# Candidates within this many points of the best are close enough for the header's
# unit to choose between them (主要负责人培训 scores the same against 场次 and 人次).
UNIT_MARGIN = 15.0
# No catalogue name is longer than 20 characters: a longer header is no indicator's
# name (and a hostile one of 30,000 characters is not compared at all).
MAX_LABEL = 40


@lru_cache(maxsize=1)
def _choices() -> tuple[list[str], list[str]]:
    """(normalised names and aliases, their indicator codes), names first."""
    seen: dict[str, str] = {}
    for r in INDICATORS.itertuples():
        seen.setdefault(normalise_label(r.name_zh), r.code)
    for r in INDICATORS.itertuples():
        for alias in r.aliases:
            seen.setdefault(normalise_label(alias), r.code)
    return list(seen), list(seen.values())


def suggest_indicator(label, unit: str | None = None, *,
                      exclude: str | None = None) -> tuple[str, float] | None:
    """The catalogue indicator a header most likely names, as (code, score 0–100), or
    None when nothing scores ``MIN_SCORE``.

    Parameters
    ----------
    label : str
        The header as typed; compared after ``text.normalise_label`` (NFKC, no
        spaces, the bracketed unit removed) and without a leading 其中.
    unit : str, optional
        The unit in the header's brackets (``headers.column_unit``): among the
        candidates within ``UNIT_MARGIN`` of the best score, one whose catalogue unit
        fits it is chosen first.

    Notes
    -----
    Scores are rapidfuzz's ``WRatio`` of the label, and of the label joined with its
    unit, against every Chinese name and alias of the catalogue, the best per
    indicator; ties are broken by the catalogue's order, so
    the suggestion is deterministic.
    """
    from .headers import strip_prefix

    key = strip_prefix(normalise_label(label))
    if not key or len(key) > MAX_LABEL:
        return None
    return _suggest(key, unit, exclude)


@lru_cache(maxsize=4096)
def _suggest(key: str, unit: str | None, exclude: str | None) -> tuple[str, float] | None:
    from rapidfuzz import fuzz, process

    names, codes = _choices()
    # the unit joined to the name is a phrasing too (主要负责人培训 + 人次)
    hits = [h for q in dict.fromkeys([key, key + unit if unit else key])
            for h in process.extract(q, names, scorer=fuzz.WRatio, score_cutoff=MIN_SCORE,
                                     limit=None)]
    best: dict[str, float] = {}
    for _, score, i in hits:
        if codes[i] != exclude:
            best[codes[i]] = max(best.get(codes[i], 0.0), float(score))
    if not best:
        return None
    order = {c: k for k, c in enumerate(INDICATORS["code"])}
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], order[kv[0]]))
    top = ranked[0][1]
    if unit:
        fitting = [(c, s) for c, s in ranked
                   if s >= top - UNIT_MARGIN and units_compatible(unit, indicator_unit(c))]
        if fitting:
            return fitting[0][0], round(fitting[0][1], 1)
    return ranked[0][0], round(top, 1)


def suggestion_text(code: str | None) -> str:
    """" (did you mean 主要负责人安全教育培训人次?)" for a suggested code, "" for none."""
    if not code:
        return ""
    return f"；是否为“{indicator_name(code)}”？(did you mean {indicator_name(code)}?)"


# ------------------------------------------------------------------ the mapping file
def read_mapping_file(path) -> pd.DataFrame:
    """The rows of a mapping file as text (``MAPPING_COLUMNS``; a missing column is
    blank), read as any CSV of the package (UTF-8 with or without BOM, GBK …).
    InputError naming the file when it has no 列名 column."""
    from ..io import restore_formulas
    from ..tables import read_raw

    path = Path(path)
    raw = read_raw(path)[0]
    cells = raw.cells
    if cells.empty:
        return pd.DataFrame(columns=MAPPING_COLUMNS)
    header = [None if v is None else str(v).strip() for v in cells.iloc[0]]
    if "列名" not in header:
        raise InputError(path, "a column mapping needs a 列名 column (and 指标, 采用); "
                               f"found {', '.join(h for h in header if h)}")
    body = cells.iloc[1:]
    out = pd.DataFrame({name: (body[header.index(name)] if name in header else None)
                        for name in MAPPING_COLUMNS})
    out.index = body.index  # the file's row numbers, for messages
    out = restore_formulas(out.astype(object).where(out.notna(), None))
    return out.astype(object).where(out.notna(), None)


def accepted_mapping(table: pd.DataFrame, file) -> dict[str, tuple[str, str | None]]:
    """{normalised header: (role, code)} of the accepted rows of a mapping table:
    role ``indicator`` with its code, or ``ignore`` for 不读.  A row is accepted when
    its 采用 cell is 是 (or yes, y, 1, √).  InputError naming the file, row and column
    for an accepted row whose 指标 (or 指标代码) is not an indicator of the catalogue."""
    out: dict[str, tuple[str, str | None]] = {}
    for row, r in table.iterrows():
        if r["列名"] is None or normalise_label(r["采用"] or "") not in ACCEPT:
            continue
        target = (r["指标"] or "").strip()
        if normalise_label(target) in IGNORE:
            out[normalise_label(r["列名"])] = ("ignore", None)
            continue
        code = resolve_indicator(target) if target else None
        if code is None and not target and r["指标代码"]:
            code = resolve_indicator(r["指标代码"])
        if code is None:
            raise InputError(file, f"采用的列“{r['列名']}”对应的指标“{target}”不在指标目录中 "
                             "(not an indicator of the catalogue: write its Chinese name, its "
                             "code, or 不读)", row=int(row), column="指标")
        out[normalise_label(r["列名"])] = ("indicator", code)
    return out


def load_header_map(folder) -> dict[str, tuple[str, str | None]]:
    """The accepted mapping of ``folder/列名对照.csv``; {} when there is none."""
    path = Path(folder) / MAPPING_FILE
    if not path.is_file():
        return {}
    return accepted_mapping(read_mapping_file(path), path)


def draft_rows(unknown: pd.DataFrame) -> pd.DataFrame:
    """One draft row per distinct unknown header (``headers.UNKNOWN_COLUMNS`` records
    with ``suggestion`` and ``score``): its suggestion, the files it was seen in (at
    most three named), 采用 blank, and the reason it was not read."""
    if unknown.empty:
        return pd.DataFrame(columns=MAPPING_COLUMNS)
    u = unknown.assign(_key=unknown["column"].map(normalise_label))
    rows = []
    for _, g in u.groupby("_key", sort=False):
        first = g.iloc[0]
        files = list(dict.fromkeys(Path(f).name for f in g["file"]))
        code = first.get("suggestion") or ""
        rows.append({"列名": first["column"], "指标": indicator_name(code) if code else "",
                     "指标代码": code, "相似度": "" if not code else f"{float(first['score']):g}",
                     "出现于": "、".join(files[:3]) + (f" 等{len(files)}个文件" if len(files) > 3 else ""),
                     "采用": "", "说明": str(first["reason"]).split("；")[0]})
    return pd.DataFrame(rows, columns=MAPPING_COLUMNS)


def update_mapping_draft(folder, unknown: pd.DataFrame) -> tuple[Path | None, int]:
    """Add a draft row to ``folder/列名对照.csv`` for every unknown header it does not
    list yet (``draft_rows``); rows already there, accepted or not, are kept as the
    analyst left them.  The file is written only when a row is added.  Returns (the
    file, or None when nothing was written; the number of rows added)."""
    from ..io import neutralise_formulas, write_text_atomic

    path = Path(folder) / MAPPING_FILE
    new = draft_rows(unknown)
    old = read_mapping_file(path) if path.is_file() else pd.DataFrame(columns=MAPPING_COLUMNS)
    listed = {normalise_label(c) for c in old["列名"].dropna()}
    new = new[~new["列名"].map(normalise_label).isin(listed)]
    if new.empty:
        return None, 0
    table = pd.concat([old.reset_index(drop=True), new], ignore_index=True)[MAPPING_COLUMNS]
    # header texts come from the data: none may run as a formula when Excel opens the file
    text = neutralise_formulas(table.fillna("").astype("str")).to_csv(index=False, lineterminator="\r\n")
    write_text_atomic("\ufeff" + text, path)
    return path, len(new)
