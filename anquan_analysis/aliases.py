"""Unit names written several ways: the alias table applied at ingest, and the report
of names so close to another that they are probably the same unit.

An alias table has columns ``alias`` and ``unit`` (the canonical name) and optionally
``note``; both names are compared after ``text.normalise_name`` (NFKC, so full-width
and half-width forms are already one name, and no white space).  A table belongs to
a dataset, not to the package: a data folder's ``anquan.toml`` points at its own
(``unit_aliases = "单位别名.csv"``), and ``data/raw/unit_aliases.csv`` is the bundled
sample's (``dataset_alias_table``); another city's 区人社局 is not the sample's
区人力社保局.  A near-duplicate that the table does not cover is never merged: it is
reported, so that an analyst adds it to the table or lets it stand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import limits
from .errors import InputError
from .text import CONTROL_CHARS, normalise_name, printable, strip_controls

ALIAS_COLUMNS = ["name", "unit", "kind", "rows", "distance"]


def load_unit_aliases(source) -> dict[str, str]:
    """{alias: canonical unit} from a CSV path, a DataFrame with ``alias`` and ``unit``,
    or such a dict already loaded.

    Raises InputError when a column is missing, an alias maps to two different units,
    or a canonical name is itself an alias (chains are ambiguous about which name wins).
    """
    if source is None:
        return {}
    if isinstance(source, dict):  # already loaded (``aliases_of``)
        return dict(source)
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


def clean_unit_names(names: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """(names without control or invisible format characters, what was cleaned:
    name, unit, rows).  ``name`` is the name as typed with those characters escaped
    (``\\x1b[31m区应急局``), so that it can be printed and stored; ``unit`` the name kept
    (a name that was nothing but such characters keeps its escaped form, so that it
    stays visible).  Missing stays missing; ``names`` is not modified."""
    text = names.astype("str")
    hit = text.str.contains(CONTROL_CHARS, regex=True).fillna(False).astype(bool)
    if not hit.any():
        return names, pd.DataFrame(columns=["name", "unit", "rows"])
    counts = text[hit].value_counts().rename_axis("raw").reset_index(name="rows")
    counts["name"] = counts["raw"].map(printable)
    counts["unit"] = counts["raw"].map(strip_controls)
    counts["unit"] = counts["unit"].where(counts["unit"] != "", counts["name"])
    out = names.where(~hit, text.map(dict(zip(counts["raw"], counts["unit"])))).astype(names.dtype)
    return out, counts[["name", "unit", "rows"]]


# Words that name what kind of body a unit is, not which one: two names that share
# them and differ inside a short remainder are two bodies (区民政局 / 区财政局).
GENERIC_PREFIXES = ("区", "市", "县", "镇", "乡")
GENERIC_SUFFIXES = ("办事处", "街道办", "街道", "分局", "支队", "大队", "中心", "公司", "集团",
                    "局", "委", "办", "镇", "乡", "所", "站", "队", "院", "处", "科")
MIN_CORE = 3


def _core(a: str, b: str) -> tuple[str, str]:
    """``a`` and ``b`` without the generic prefix and suffix they share."""
    for pre in GENERIC_PREFIXES:
        if a.startswith(pre) and b.startswith(pre):
            a, b = a[len(pre):], b[len(pre):]
            break
    for suf in GENERIC_SUFFIXES:
        if a.endswith(suf) and b.endswith(suf) and len(a) > len(suf) and len(b) > len(suf):
            a, b = a[:-len(suf)], b[:-len(suf)]
            break
    return a, b


def more_than_affixes(a: str, b: str, *, min_core: int = MIN_CORE) -> bool:
    """Whether two names one substitution apart share more than their generic words:
    without the prefix and suffix they share (区…局, …公司), the rest must be at least
    ``min_core`` characters, so that two of them agree.  区民政局 / 区财政局 (民政 /
    财政) and 巴源公司 / 巴滨公司 (巴源 / 巴滨) are two units; 东温泉镇 / 东温全镇 (a
    typing slip in a three-character name) may be one.  Names of different lengths
    (one inside the other: 应急局 / 区应急局) always may."""
    if len(a) != len(b):
        return True
    ca, cb = _core(a, b)
    return min(len(ca), len(cb)) >= min_core


def likely_aliases(names, *, max_distance: int = 1, min_length: int = 4) -> pd.DataFrame:
    """Pairs of distinct unit names that are probably one unit: at most ``max_distance``
    edits apart (Levenshtein, on normalised names), and either the shorter is at least
    ``min_length`` characters or one contains the other (应急局 / 区应急局).  Short
    names one character apart (区教委 / 区侨委) are usually different units and are
    not reported, nor are names that differ inside a short distinctive part between
    shared generic words (``more_than_affixes``: 区民政局 / 区财政局).

    Linear in the number of names, not quadratic: names are compared only within a
    block, the names that give the same string once up to ``max_distance``
    characters are deleted from each (two names one edit apart always share one: the
    shorter, or both without the substituted character).  A block of more than
    ``limits.MAX_ALIAS_BLOCK`` names is not paired out (numbered units such as
    第1中学 ... 第300中学 differ from each other by one character), nor are pairs past
    ``limits.MAX_ALIAS_CANDIDATES`` comparisons; names longer than
    ``limits.MAX_ALIAS_NAME`` characters are not compared; at most
    ``limits.MAX_ALIAS_PAIRS`` pairs are listed.

    Returns columns name, unit (the longer, or the later in sort order, is ``unit``: a
    suggestion only), kind ``likely``, rows (NA), distance; then, when pairs were left
    out, a row of kind ``unlisted`` (rows: likely pairs found past the cap) and one of
    kind ``unexamined`` (name: an example, rows: pairs of names in one block that were
    not compared)."""
    from rapidfuzz.distance import Levenshtein

    uniq = sorted({n for n in names if isinstance(n, str) and n})
    if len(uniq) < 2:
        return pd.DataFrame(columns=ALIAS_COLUMNS)
    index = {n: i for i, n in enumerate(uniq)}
    blocks: dict[str, list[int]] = {}
    for i, name in enumerate(uniq):
        if len(name) <= limits.MAX_ALIAS_NAME:
            for key in _deletions(name, max_distance):
                blocks.setdefault(key, []).append(i)
    found, seen = [], set()
    examined = unexamined = 0
    example = None
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        # a pair is kept only if both names are long enough or one contains the other;
        # a short name is compared only with the block's own string (a name itself)
        long_ = [m for m in members if len(uniq[m]) >= min_length]
        long_set = set(long_)
        own = index.get(key)
        own_pairs = [] if own is None else [
            m for m in members if m != own and not (own in long_set and m in long_set)]
        n_pairs = len(long_) * (len(long_) - 1) // 2 + len(own_pairs)
        if not n_pairs:
            continue
        if len(members) > limits.MAX_ALIAS_BLOCK or examined >= limits.MAX_ALIAS_CANDIDATES:
            unexamined += n_pairs
            example = example or uniq[members[0]]
            continue
        examined += n_pairs
        cands = [(a, b) for k, a in enumerate(long_) for b in long_[k + 1:]]
        cands += [(min(own, m), max(own, m)) for m in own_pairs]
        for a, b in cands:
            if (a, b) in seen:
                continue
            seen.add((a, b))
            x, y = uniq[a], uniq[b]
            if not (min(len(x), len(y)) >= min_length or x in y or y in x):
                continue
            d = Levenshtein.distance(x, y, score_cutoff=max_distance)
            if d <= max_distance and more_than_affixes(x, y):
                # the shorter name is offered as the alias of the longer (区应急局 is the full form)
                found.append((y, x, d) if len(x) > len(y) else (x, y, d))
    found.sort()
    listed = found[:limits.MAX_ALIAS_PAIRS]
    out = pd.DataFrame({"name": [f[0] for f in listed], "unit": [f[1] for f in listed],
                        "kind": "likely", "rows": pd.NA, "distance": [f[2] for f in listed]},
                       columns=ALIAS_COLUMNS)
    extra = []
    if len(found) > len(listed):
        extra.append({"name": "", "unit": "", "kind": "unlisted",
                      "rows": len(found) - len(listed), "distance": pd.NA})
    if unexamined:
        extra.append({"name": example, "unit": "", "kind": "unexamined", "rows": unexamined,
                      "distance": pd.NA})
    return pd.concat([out, pd.DataFrame(extra, columns=ALIAS_COLUMNS)], ignore_index=True) \
        if extra else out


def _deletions(name: str, k: int) -> set[str]:
    """``name`` and every string made from it by deleting up to ``k`` characters."""
    keys, frontier = {name}, {name}
    for _ in range(k):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        keys |= frontier
    return keys


def default_alias_table() -> Path | None:
    """``data/raw/unit_aliases.csv`` (the bundled sample's table) when it exists (see
    ``config``), else None."""
    from .config import DATA_RAW
    path = DATA_RAW / "unit_aliases.csv"
    return path if path.exists() else None


# The name under which a dataset's alias table is kept beside the dataset that
# ``anquan assess`` ingests from a folder (``roster.copy_office_files``), for the
# roster read there.
ALIAS_COPY = "alias_table.csv"


def dataset_alias_table(folder) -> Path | None:
    """The alias table of the dataset in ``folder``: the file its ``anquan.toml`` names
    (``unit_aliases``, relative to the folder), else ``default_alias_table()`` for the
    bundled sample's folder (``config.SYNTH_DIR``), else None; in an ingested dataset
    (``panel.parquet``) the copy ``ALIAS_COPY`` comes first.  InputError naming
    anquan.toml when the file it names is missing."""
    from .config import SYNTH_DIR
    from .settings import SETTINGS_FILE, load_settings

    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    if (folder / "panel.parquet").is_file() and (folder / ALIAS_COPY).is_file():
        return folder / ALIAS_COPY  # kept beside a dataset ingested from a folder
    named = load_settings(folder).unit_aliases if (folder / SETTINGS_FILE).is_file() else ""
    if named:
        path = Path(named) if Path(named).is_absolute() else folder / named
        if not path.is_file():
            raise InputError(str(folder / SETTINGS_FILE),
                             f"unit_aliases {named!r}: no such file in {folder}")
        return path
    try:
        bundled = folder.resolve() == SYNTH_DIR.resolve()
    except OSError:
        bundled = False
    return default_alias_table() if bundled else None


def aliases_of(paths) -> dict[str, str]:
    """{alias: unit} of the datasets ``paths`` belong to (a file's folder, or a folder):
    ``dataset_alias_table`` of each, the tables together (an alias two tables map to
    different units is an InputError, as within one table)."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    tables = list(dict.fromkeys(t for t in (dataset_alias_table(Path(p)) for p in items)
                                if t is not None))
    if not tables:
        return {}
    if len(tables) == 1:
        return load_unit_aliases(tables[0])
    frames = []
    for t in tables:
        frames.append(pd.DataFrame(list(load_unit_aliases(t).items()), columns=["alias", "unit"]))
    return load_unit_aliases(pd.concat(frames, ignore_index=True))
