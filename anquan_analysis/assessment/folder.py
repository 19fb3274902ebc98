"""A data folder as an office keeps it: which files are inputs, and the dataset they hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..dataset import Dataset, compact_panel
# Files of the bundled synthetic city that are not office inputs, or that repeat
# another file's figures: truth.csv is the generator's answer key; reports_messy.xlsx
# holds the same figures as reports_clean.csv, typed the way offices type them.  The
# office's own files (roster, column mapping, report dates) are left out by the rule
# of every folder (``ingest.reading.skip_reason``).
SKIP_FILES = {"truth.csv", "readme.md"}
ALTERNATES = {"reports_messy.xlsx": "reports_clean.csv"}


def resolve_path(path) -> Path:
    """``path`` as given if it exists (absolute, or relative to the working folder),
    else relative to the project root (so notebooks run from ``notebooks/`` find
    ``data/raw/…``)."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return config.ROOT / p


def data_files(data_dir) -> list[Path]:
    """The input files of a data folder, sorted: the files ``anquan ingest DIR`` reads
    (``ingest.reading.folder_files``: lock files, hidden and temporary files, files
    that are not tables, special files and links out of the folder are left out),
    except the answer key and any file whose clean alternate is present (see
    ``ALTERNATES``)."""
    files = {f.name: f for f in _folder(data_dir)[0]}
    aliases = _alias_file(data_dir)
    keep = [f for name, f in files.items()
            if name.lower() not in SKIP_FILES and ALTERNATES.get(name) not in files
            and name != aliases]
    if not keep:
        raise FileNotFoundError(f"no CSV or Excel files in {resolve_path(data_dir)}")
    return sorted(keep)


def _alias_file(data_dir) -> str | None:
    """The name of the dataset's alias table when it lies in the data folder itself
    (``aliases.dataset_alias_table``): the office's file, not a report."""
    from ..aliases import dataset_alias_table
    from ..errors import InputError

    try:
        table = dataset_alias_table(resolve_path(data_dir))
    except InputError:  # a broken anquan.toml is reported where the settings are read
        return None
    if table is None:
        return None
    return table.name if table.parent.resolve() == resolve_path(data_dir).resolve() else None


def skipped_files(data_dir) -> list[tuple[Path, str]]:
    """The files of a data folder that ``data_files`` leaves out by the rule of
    ``anquan ingest DIR``, each with why (one line each; the answer key and the messy
    copy of the bundled data are not listed)."""
    return [(f, why) for f, why in _folder(data_dir)[1] if f.name.lower() not in SKIP_FILES]


def _folder(data_dir):
    from ..ingest.reading import folder_files

    d = resolve_path(data_dir)
    if not d.is_dir():
        raise FileNotFoundError(f"data folder not found: {d}")
    return folder_files(d)


def read_data_dir(data_dir, *, compact: bool = True, columns=None) -> Dataset:
    """The dataset of a folder: ``Dataset.load`` if it holds an ingested dataset
    (``panel.parquet``, as ``anquan ingest --output`` writes), else ``ingest.ingest``
    over ``data_files(data_dir)``.  The panel's repeated text columns are made
    categorical here, once (``dataset.compact_panel``; the same values), read straight
    from the parquet file's dictionaries where there is one; ``compact=False`` keeps
    them as text.  ``columns``: of an ingested dataset read only these panel columns
    (``dataset.ANALYSIS_COLUMNS``: what an assessment reads)."""
    d = resolve_path(data_dir)
    if (d / "panel.parquet").is_file():
        # the unit alias report of a province lists some 20,000 near-duplicate pairs
        # that no assessment shows
        ds = Dataset.load(d, categorical=compact, skip=("unit_aliases",) if compact else (),
                          columns=columns)
    else:
        from ..aliases import aliases_of
        from ..ingest import ingest

        # the dataset's own alias table (anquan.toml's unit_aliases; the bundled
        # sample's for the bundled sample), not the package's for every city
        ds = ingest(data_files(d), skip_non_reports=True, aliases=aliases_of(d))
    if compact:
        ds.panel = compact_panel(ds.panel)
    return ds


def read_periods(data_dir) -> pd.Series:
    """The distinct periods of a data folder's panel, all that planning a run needs:
    of an ingested dataset only the ``period`` column is read (as its parquet
    dictionary); raw files are ingested."""
    d = resolve_path(data_dir)
    if (d / "panel.parquet").is_file():
        col = pd.read_parquet(d / "panel.parquet", columns=["period"],
                              read_dictionary=["period"])["period"]
        periods = col.cat.categories[np.unique(col.cat.codes[col.cat.codes >= 0])]
    else:
        periods = pd.unique(read_data_dir(d).panel["period"].dropna())
    return pd.Series(periods, name="period", dtype="str")
