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




# ----------------------------------------------------------- an office's data folder
# The bundled city as an office keeps it (tests of roster.py, settings.py and the Word
# bulletin): reports with a 报送日期 column, a roster and anquan.toml beside them.
ROSTER_EXTRA = ("区侨办", "区档案局")      # on the roster, never report
ROSTER_RENAMED = ("桂花街道", "桂花街")     # data name, roster name (a likely alias)
LATE = ("区水利局", "2024-09", "2024-09-28")       # due 2024-09-24: 4 days late
UNREADABLE = ("区林业局", "2024-08", "8月底")
MISSING_MONTH = ("云雾镇", "2024-09")               # no rows in that month
OFFICE_TOML = """\
issuer = "示范区安全生产委员会办公室"
doc_number = "示安委办〔{year}〕{number}号"
number = "18"
recipients = "各镇人民政府、街道办事处，区安委会各成员单位，区属国有公司"
issued = 2024-10-15
public_note = "（此件公开发布）"

[thresholds.not_reported]
alert_after = 2
"""


@pytest.fixture(scope="session")
def office_dir(tmp_path_factory):
    """A data folder: the bundled reports (with 报送日期, one unit's September rows
    removed), exposure and ledger, a GBK roster with a title row, and anquan.toml."""
    import shutil

    import pandas as pd

    from anquan_analysis import config

    d = tmp_path_factory.mktemp("office")
    src = config.SYNTH_DIR
    for name in ("exposure.csv", "ledger.csv"):
        shutil.copy(src / name, d / name)
    reports = pd.read_csv(src / "reports_clean.csv", dtype=str, encoding="utf-8-sig")
    reports = reports.loc[~((reports["单位"] == MISSING_MONTH[0])
                            & (reports["期间"] == MISSING_MONTH[1]))]
    dates = reports["期间"] + "-20"
    for unit, period, text in (LATE, UNREADABLE):
        dates = dates.mask((reports["单位"] == unit) & (reports["期间"] == period), text)
    reports.insert(4, "报送日期", dates)
    reports.to_csv(d / "reports.csv", index=False, encoding="utf-8-sig")
    units = reports.drop_duplicates("单位")[["单位", "单位类型", "上级"]]
    units["单位"] = units["单位"].replace({ROSTER_RENAMED[0]: ROSTER_RENAMED[1]})
    extra = pd.DataFrame({"单位": ROSTER_EXTRA, "单位类型": "部门", "上级": None})
    roster = pd.concat([units, extra], ignore_index=True)
    text = "示范区安委会成员单位名册\n" + roster.to_csv(index=False)
    (d / "单位名册.csv").write_bytes(text.encode("gbk"))
    (d / "anquan.toml").write_text(OFFICE_TOML, encoding="utf-8")
    return d


@pytest.fixture(scope="session")
def office_q3(office_dir):
    """``run_assessment`` of the office's folder for 2024Q3."""
    from anquan_analysis import assessment as A

    return A.run_assessment(office_dir, "2024Q3", "quarter")


@pytest.fixture(scope="session")
def office_m9(office_dir):
    """``run_assessment`` of the office's folder for 2024-09."""
    from anquan_analysis import assessment as A

    return A.run_assessment(office_dir, "2024-09", "month")


def tiny_notebook(path, code: str):
    """A notebook at ``path`` with the assessment's parameters cell (tagged) and one
    code cell, ``code``: what the notebook runner is tested with, without the cost of
    the real notebook."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('period = "2024-01"\nlevel = "month"\ndata_dir = ""\n'
                                       'output_dir = ""\nthresholds = {}')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path
