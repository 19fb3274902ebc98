"""Shared fixtures: writers of small messy office files in tmp_path, and the ingest
accounting check (every data row is in the panel, in rejects, or known empty)."""

from __future__ import annotations

import pytest


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(name, text, encoding='utf-8') -> path of a CSV written in tmp_path."""
    def _write(name: str, text: str, encoding: str = "utf-8"):
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path
    return _write


@pytest.fixture
def write_xlsx(tmp_path):
    """write_xlsx(name, {sheet: rows}, merges={sheet: ['B1:C1']}) -> path (openpyxl)."""
    import openpyxl

    def _write(name: str, sheets: dict, merges: dict | None = None):
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for title, rows in sheets.items():
            ws = wb.create_sheet(title)
            for row in rows:
                ws.append(list(row))
            for rng in (merges or {}).get(title, []):
                ws.merge_cells(rng)
        path = tmp_path / name
        wb.save(path)
        return path
    return _write


def assert_accounting(ds, file, data_rows, empty_rows=(), sheet=None):
    """The ingest invariant for one file/sheet, against rows known by construction:
    the data rows are exactly those in the panel, in rejects or clean-but-empty, and
    the summary says rows_read == rows_clean + rows_rejected with those numbers."""
    file = str(file)
    panel = ds.panel[(ds.panel["source_file"] == file)
                     & (ds.panel["source_sheet"].fillna("") == (sheet or ""))]
    rej = ds.rejects[(ds.rejects["file"] == file) & (ds.rejects["sheet"].fillna("") == (sheet or ""))]
    in_panel, in_rej = set(panel["source_row"]), set(rej["row"])
    assert in_panel | in_rej | set(empty_rows) == set(data_rows)
    assert not (set(empty_rows) & (in_panel | in_rej))
    s = ds.summary[(ds.summary["file"] == file) & (ds.summary["sheet"].fillna("") == (sheet or ""))]
    assert len(s) == 1
    s = s.iloc[0]
    assert s["rows_read"] == len(set(data_rows))
    assert s["rows_read"] == s["rows_clean"] + s["rows_rejected"]
    assert s["rows_clean"] == len(in_panel | set(empty_rows))
    assert s["rows_rejected"] == len(in_rej - in_panel)
    assert s["rows_empty"] == len(set(empty_rows))
    return s


@pytest.fixture
def accounting():
    return assert_accounting


def figures(ds) -> dict:
    """{(unit, period, indicator): value} of a dataset's panel."""
    return {(r.unit, r.period, r.indicator): r.value for r in ds.panel.itertuples()}


@pytest.fixture
def panel_figures():
    return figures


