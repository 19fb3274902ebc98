"""Writing outputs safely: a temporary name in the same folder, then a rename, so an
interrupted run never leaves a file that looks complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def write_table_atomic(df: pd.DataFrame, path) -> Path:
    """Write ``df`` to ``path`` (.parquet, .csv or .xlsx by suffix) atomically.
    CSV is UTF-8 with BOM so Excel on Chinese Windows opens it correctly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name keeps the real suffix: openpyxl refuses to write a ".tmp" file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            df.to_csv(tmp, index=False, encoding="utf-8-sig")
        elif path.suffix == ".xlsx":
            df.to_excel(tmp, index=False, engine="openpyxl")
        else:
            raise ValueError(f"{path}: unsupported output type {path.suffix!r}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
