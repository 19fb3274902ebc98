"""Same inputs, same bytes: ingest outputs (panel.parquet and every side table) and
XLSX written twice are byte-identical (no clock, no dict order); and writes are
atomic, so an interrupted run leaves no file that looks complete."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from anquan_analysis import io as aio
from anquan_analysis.cli import main

BAD = Path(__file__).parent / "data" / "bad"
INPUTS = [BAD / "gbk.csv", BAD / "merged_header.xlsx", BAD / "ledger_mixed_dates.xlsx",
          BAD / "text_in_numbers.csv", BAD / "injection_names.csv", BAD / "unit_aliases.csv"]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_ingest_outputs_are_byte_identical(tmp_path):
    """Two processes with different string-hash seeds (so any set or dict order that
    leaked into an output would differ) write the same bytes, file by file."""
    runs = []
    for seed in ("1", "2"):
        out = tmp_path / f"run{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("SOURCE_DATE_EPOCH", None)
        subprocess.run([sys.executable, "-m", "anquan_analysis.cli", "ingest", *map(str, INPUTS),
                        "--output", str(out), "--aliases", "none"], check=True, env=env,
                       capture_output=True)
        runs.append(_digests(out))
    assert {"panel.parquet", "rejects.csv", "summary.csv", "ledger.parquet",
            "unknown_columns.csv"} <= set(runs[0])
    assert runs[0] == runs[1]


def test_xlsx_is_byte_identical_and_carries_no_clock(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    df = pd.DataFrame({"单位": ["区应急局", "花溪街道"], "数值": [3, 1]})
    a = aio.write_table_atomic(df, tmp_path / "a.xlsx")
    monkeypatch.setattr("time.time", lambda: 2_000_000_000.0)   # a clock far from the first
    b = aio.write_table_atomic(df, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    import openpyxl
    props = openpyxl.load_workbook(a).properties
    assert props.created.year == props.modified.year == 2000


def test_source_date_epoch_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1714521600")       # 2024-05-01 00:00 UTC
    import openpyxl
    p = aio.write_table_atomic(pd.DataFrame({"x": [1]}), tmp_path / "a.xlsx")
    assert openpyxl.load_workbook(p).properties.modified.isoformat() == "2024-05-01T00:00:00"


@pytest.mark.parametrize("suffix, method", [(".parquet", "to_parquet"), (".csv", "to_csv"),
                                            (".xlsx", "to_excel")])
def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch, suffix, method):
    """The writer dies half way (after writing some bytes): neither the target nor a
    temporary file is left, and an older complete file is kept as it was."""
    target = tmp_path / f"panel{suffix}"
    real = getattr(pd.DataFrame, method)

    def half_then_die(self, path, *a, **kw):
        Path(path).write_bytes(b"PAR1 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, method, half_then_die)
    with pytest.raises(KeyboardInterrupt):
        aio.write_table_atomic(pd.DataFrame({"x": [1]}), target)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(pd.DataFrame, method, real)
    aio.write_table_atomic(pd.DataFrame({"x": [1]}), target)
    before = target.read_bytes()
    monkeypatch.setattr(pd.DataFrame, method, half_then_die)
    with pytest.raises(KeyboardInterrupt):
        aio.write_table_atomic(pd.DataFrame({"x": [2]}), target)
    assert target.read_bytes() == before and list(tmp_path.iterdir()) == [target]


def test_interrupted_ingest_reports_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ANQUAN_DEBUG", raising=False)

    def die(self, *a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", die)
    out = tmp_path / "out"
    assert main(["ingest", str(BAD / "gbk.csv"), "--output", str(out)]) == 130
    _, err = capsys.readouterr()
    assert err.strip() == "anquan ingest: interrupted"
    assert not out.exists() or list(out.iterdir()) == []
