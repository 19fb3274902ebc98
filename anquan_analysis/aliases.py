"""Unit names written several ways: the alias table applied at ingest, and the report
of names so close to another that they are probably the same unit.

The alias table (``data/raw/unit_aliases.csv``) has columns ``alias`` and ``unit``
(the canonical name) and optionally ``note``; both names are compared after
``text.normalise_name`` (NFKC, so full-width and half-width forms are already one
name, and no white space).  A near-duplicate that the table does not cover is never
merged: it is reported, so that an analyst adds it to the table or lets it stand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .text import normalise_name

ALIAS_COLUMNS = ["name", "unit", "kind", "rows", "distance"]


def load_unit_aliases(source) -> dict[str, str]:
    """{alias: canonical unit} from a CSV path or a DataFrame with ``alias`` and ``unit``.

    Raises InputError when a column is missing, an alias maps to two different units,
    or a canonical name is itself an alias (chains are ambiguous about which name wins).
    """
    if source is None:
        return {}
    if isinstance(source, pd.DataFrame):
        table, file = source, "unit aliases"
    else:
        file = str(source)
        try:
            table = pd.read_csv(source, dtype="str", encoding="utf-8-sig", keep_default_na=False)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
            raise InputError(file, f"unreadable alias table: {err}") from None
    for col in ("alias", "unit"):
        if col not in table.columns:
            raise InputError(file, f"alias table has no {col!r} column (expected alias, unit)")
    alias = table["alias"].map(normalise_name)
    unit = table["unit"].map(normalise_name)
    keep = (alias != "") & (unit != "") & (alias != unit)
    pairs = pd.DataFrame({"alias": alias[keep], "unit": unit[keep]}).drop_duplicates()
    clash = pairs[pairs["alias"].duplicated(keep=False)]
    if len(clash):
        a = clash["alias"].iloc[0]
        raise InputError(file, f"alias {a!r} maps to several units: "
                         + ", ".join(sorted(clash.loc[clash["alias"] == a, "unit"])))
    chained = pairs["unit"].isin(pairs["alias"])
    if chained.any():
        u = pairs.loc[chained, "unit"].iloc[0]
        raise InputError(file, f"{u!r} is both a canonical unit and an alias; point every "
                         "alias at the final name")
    return dict(zip(pairs["alias"], pairs["unit"]))


def apply_unit_aliases(names: pd.Series, aliases: dict[str, str]) -> tuple[pd.Series, pd.DataFrame]:
    """(names with aliases replaced by their unit, what was replaced: name, unit, rows).
    ``names`` are already normalised; missing stays missing.  Does not modify ``names``."""
    hit = names.isin(list(aliases)) if aliases else pd.Series(False, index=names.index)
    if not hit.any():
        return names, pd.DataFrame(columns=["name", "unit", "rows"])
    counts = names[hit].value_counts().rename_axis("name").reset_index(name="rows")
    counts["unit"] = counts["name"].map(aliases)
    out = names.where(~hit, names.map(aliases)).astype(names.dtype)
    return out, counts[["name", "unit", "rows"]]


def likely_aliases(names, *, max_distance: int = 1, min_length: int = 4) -> pd.DataFrame:
    """Pairs of distinct unit names that are probably one unit: at most ``max_distance``
    edits apart (Levenshtein, on normalised names), and either the shorter is at least
    ``min_length`` characters or one contains the other (应急局 / 区应急局).  Short
    names one character apart (区教委 / 区侨委) are usually different units and are
    not reported.  Returns columns name, unit (the longer, or the later in sort order,
    is ``unit``: a suggestion only), kind ``likely``, rows (NA), distance."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cdist

    uniq = sorted({n for n in names if isinstance(n, str) and n})
    if len(uniq) < 2:
        return pd.DataFrame(columns=ALIAS_COLUMNS)
    dist = cdist(uniq, uniq, scorer=Levenshtein.distance, score_cutoff=max_distance,
                 dtype=np.int32, workers=1)
    i, j = np.nonzero(np.triu(dist <= max_distance, k=1))
    a, b = np.array(uniq, dtype=object)[i], np.array(uniq, dtype=object)[j]
    la, lb = np.char.str_len(a.astype(str)), np.char.str_len(b.astype(str))
    contains = np.array([x in y or y in x for x, y in zip(a, b)], dtype=bool)
    keep = (np.minimum(la, lb) >= min_length) | contains
    # the shorter name is offered as the alias of the longer (区应急局 is the full form)
    swap = la > lb
    name = np.where(swap, b, a)[keep]
    unit = np.where(swap, a, b)[keep]
    return pd.DataFrame({"name": name, "unit": unit, "kind": "likely", "rows": pd.NA,
                         "distance": dist[i, j][keep]}, columns=ALIAS_COLUMNS)


def default_alias_table() -> Path | None:
    """``data/raw/unit_aliases.csv`` when it exists (see ``config``), else None."""
    from .config import DATA_RAW
    path = DATA_RAW / "unit_aliases.csv"
    return path if path.exists() else None
