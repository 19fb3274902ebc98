"""Writing outputs safely: a temporary name in the same folder, then a rename, so an
interrupted run never leaves a file that looks complete.

Outputs are also deterministic and inert: the same table gives the same bytes (XLSX
entries carry a fixed date, ``SOURCE_DATE_EPOCH`` when set), and a text cell that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) is written with a leading apostrophe in CSV and XLSX.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry at all (control characters, lone surrogates): an XLSX
# cell holding one is refused by openpyxl (IllegalCharacterError) or makes a file Excel
# cannot open.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A plain number such as -1 or +2.5 is not a formula, and stays as it is.
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def _neutral(value):
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def safe_cell(value):
    """One value as a spreadsheet will show it as typed: text starting with ``=``,
    ``+``, ``-``, ``@``, tab or CR (other than a plain number such as ``-1``) gets a
    leading apostrophe; anything else is returned unchanged."""
    return _neutral(value)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot run as spreadsheet
    formulas (a leading apostrophe before ``= + - @``, tab, CR; plain numbers such as
    ``-1`` are left alone).  Does not modify ``df``."""
    out = df.copy()
    for c in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c])
                or pd.api.types.is_datetime64_any_dtype(out[c])):
            out[c] = out[c].map(_neutral, na_action="ignore").astype(out[c].dtype)
    out.columns = [_neutral(c) for c in out.columns]
    return out


def xml_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names hold no character XML cannot
    carry (``XML_ILLEGAL``, removed: a unit name with a BEL or an ESC from a crafted
    dataset).  Does not modify ``df``."""
    out = df.copy()
    for c in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c])
                or pd.api.types.is_datetime64_any_dtype(out[c])):
            out[c] = out[c].map(lambda v: XML_ILLEGAL.sub("", v) if isinstance(v, str) else v,
                                na_action="ignore").astype(out[c].dtype)
    out.columns = [XML_ILLEGAL.sub("", c) if isinstance(c, str) else c for c in out.columns]
    return out


def restore_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """The inverse of ``neutralise_formulas`` for a table read back from CSV: the
    apostrophe it added is removed.  Does not modify ``df``."""
    out = df.copy()
    pattern = r"^'(?=[=+\-@\t\r])"
    for c in out.columns:
        if pd.api.types.is_object_dtype(out[c]) or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(lambda v: re.sub(pattern, "", v) if isinstance(v, str) else v)
    out.columns = [re.sub(pattern, "", c) if isinstance(c, str) else c for c in out.columns]
    return out


def fixed_timestamp() -> dt.datetime:
    """The time stamped into outputs: ``SOURCE_DATE_EPOCH`` (reproducible-builds
    convention) when set, else 2000-01-01 00:00 UTC; never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).replace(tzinfo=None)
    return dt.datetime(2000, 1, 1)


def make_xlsx_deterministic(path) -> None:
    """Rewrite an XLSX file in place so that equal content gives equal bytes: zip
    entries in their order with a fixed date, created/modified document properties
    fixed (openpyxl stamps the clock into both)."""
    path = Path(path)
    path.write_bytes(deterministic_xlsx(path.read_bytes()))


def deterministic_xlsx(data: bytes) -> bytes:
    """The bytes of an XLSX file (``data``) as ``make_xlsx_deterministic`` leaves it."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        members = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in members:
            dst.writestr(*stamped_member(name, body))
    return out.getvalue()


def stamped_member(name: str, body: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    """One part of an OOXML package as ``deterministic_xlsx`` writes it: its zip entry
    (the fixed date, deflated, mode 644) and its bytes (in docProps/core.xml the
    created and modified times fixed)."""
    stamp = fixed_timestamp()
    if name == "docProps/core.xml":
        iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + iso, body)
    info = zipfile.ZipInfo(name, date_time=max(stamp, dt.datetime(1980, 1, 1)).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info, body


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix, so writers that check it are
    content); on success it is renamed to ``path`` with an ordinary file mode, on any
    error it is removed and an older ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates 0600 files; give the output the mode an ordinary open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(text: str, path) -> Path:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_table_atomic(df: pd.DataFrame, path) -> Path:
    """Write ``df`` to ``path`` (.parquet, .csv or .xlsx by suffix) atomically.
    CSV is UTF-8 with BOM so Excel on Chinese Windows opens it correctly; CSV and
    XLSX text is passed through ``neutralise_formulas``; XLSX text loses the characters
    XML cannot carry (``xml_safe``) and the file is made deterministic."""
    path = Path(path)
    if path.suffix not in (".parquet", ".csv", ".xlsx"):
        raise ValueError(f"{path}: unsupported output type {path.suffix!r}")
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            neutralise_formulas(df).to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            xml_safe(neutralise_formulas(df)).to_excel(tmp, index=False, engine="openpyxl")
            make_xlsx_deterministic(tmp)
    return path
