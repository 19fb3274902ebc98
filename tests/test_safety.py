"""Nothing let in: text that a spreadsheet would run as a formula is neutralised in
every CSV and XLSX we write, unit names and messages are escaped in HTML, XLSX is
parsed through defusedxml, and notebook parameters are checked before any work."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from anquan_analysis import io as aio
from anquan_analysis.dataset import Dataset
from anquan_analysis.ingest import ingest

BAD = Path(__file__).parent / "data" / "bad"
HOSTILE = ['=HYPERLINK("http://x.example","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1",
           "<script>alert(1)</script>"]


def formula_cells(path) -> list[str]:
    """Coordinates of every cell an XLSX file stores as a formula (openpyxl reads a
    formula cell, without data_only, as data_type 'f')."""
    wb = openpyxl.load_workbook(path)
    return [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"]


def test_neutralise_formulas_rules():
    df = pd.DataFrame({"=col": HOSTILE + ["-1", "+2.5", "区应急局"],
                       "n": range(9)})
    out = aio.neutralise_formulas(df)
    assert out["'=col"].tolist() == ["'" + h for h in HOSTILE[:5]] + [
        "<script>alert(1)</script>", "-1", "+2.5", "区应急局"]
    assert df.columns[0] == "=col" and df.iloc[0, 0] == HOSTILE[0]      # input untouched
    assert aio.restore_formulas(out).equals(df)


def test_table_xlsx_and_csv_hold_no_formula(tmp_path):
    df = pd.DataFrame({"单位": HOSTILE, "数值": range(len(HOSTILE))})
    x = aio.write_table_atomic(df, tmp_path / "t.xlsx")
    assert formula_cells(x) == []
    # the unsafe write would have made formulas: the check above can fail
    df.to_excel(tmp_path / "raw.xlsx", index=False)
    assert formula_cells(tmp_path / "raw.xlsx") == ["Sheet1!A2"]
    c = aio.write_table_atomic(df, tmp_path / "t.csv")
    lines = c.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert all(line.startswith(("'", '"\'', "<")) for line in lines), lines


def test_ingest_outputs_neutralised_and_loaded_back_exactly(tmp_path):
    ds = ingest([BAD / "injection_names.csv", BAD / "formula_uncached.xlsx"], aliases=None)
    ds.save(tmp_path)
    text = (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig")
    assert ",'=D2-D3," in text and ",=D2-D3," not in text
    back = Dataset.load(tmp_path)
    assert back.rejects["value"].tolist() == ["=D2-D3", "=F2-F3"]
    assert set(back.panel["unit"]) >= {"+1+1", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x.example","点我")'}


def test_xml_entities_are_refused_before_parsing(tmp_path):
    """A part declaring a DTD (billion laughs, an external file) is refused in one line
    before the XML parser sees it (``xlsx_reader``), so no entity is ever expanded; a
    DTD split across two reads of the stream is caught too.  openpyxl, which writes
    the test workbooks, still parses through defusedxml."""
    assert openpyxl.DEFUSEDXML is True
    from anquan_analysis.errors import InputError
    from anquan_analysis.tables import read_raw
    with pytest.raises(InputError, match="entities are not allowed"):
        read_raw(BAD / "xml_entities.xlsx")
    import io
    import zipfile
    src = zipfile.ZipFile(BAD / "merged_header.xlsx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                # "<!DOC|TYPE" straddles the 64 kB boundary between two reads
                prolog = b"<?xml version='1.0'?>"
                body = prolog + b" " * (65536 - 5 - len(prolog)) + b'<!DOCTYPE x [<!ENTITY a "b">]>' \
                    + body.split(b"?>", 1)[-1]
            dst.writestr(info, body)
    (tmp_path / "split.xlsx").write_bytes(out.getvalue())
    with pytest.raises(InputError, match="entities are not allowed"):
        read_raw(tmp_path / "split.xlsx")


# ---------------------------------------------------------------------------
# Findings workbook, HTML, notebook parameters (assessment side)


@pytest.fixture(scope="module")
def hostile_findings():
    """Findings from the real checks on a synthetic city whose unit names were
    replaced by formulas and markup."""
    from anquan_analysis.checks import run_checks
    from anquan_analysis.synth import make_city
    city = make_city(seed=3, n_units=12, n_months=6, inject=False)
    names = sorted(city.panel["unit"].unique())
    rename = {n: HOSTILE[i % len(HOSTILE)] + f"{i}" for i, n in enumerate(names)}
    panel = city.panel.assign(unit=city.panel["unit"].map(rename))
    findings = run_checks(Dataset(panel=panel))
    assert findings["unit"].dropna().str.startswith(("=", "+", "-", "@", "\t", "<")).any()
    return findings


def test_findings_xlsx_from_hostile_units_has_no_formula_cell(hostile_findings, tmp_path):
    from anquan_analysis.report import write_findings_xlsx
    path = write_findings_xlsx(hostile_findings, tmp_path / "findings.xlsx")
    assert formula_cells(path) == []
    wb = openpyxl.load_workbook(path)
    texts = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)}
    risky = {u for u in hostile_findings["unit"].dropna() if u.startswith(("=", "+", "-", "@"))}
    assert risky and {"'" + u for u in risky} <= texts and not (risky & texts)


def test_findings_xlsx_carries_no_clock(hostile_findings, tmp_path):
    import zipfile
    from anquan_analysis.report import write_findings_xlsx
    path = write_findings_xlsx(hostile_findings, tmp_path / "findings.xlsx")
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert b"2000-01-01T00:00:00Z" in z.read("docProps/core.xml")


def test_unit_names_are_text_in_html():
    from anquan_analysis.assessment import text_html
    out = text_html("<script>alert(1)</script>低于均值", heading="<b>单位</b>")
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;低于均值" in out
    assert "&lt;b&gt;单位&lt;/b&gt;" in out


def _data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "reports.csv").write_bytes((BAD / "gbk.csv").read_bytes())
    return d


@pytest.mark.parametrize("period, phrase", [
    ("2030-01", "no data for 2030-01"),
    ("2024-13", "not a period")])
def test_assess_period_checked_before_any_work(tmp_path, capsys, monkeypatch, period, phrase):
    from anquan_analysis.cli import main
    monkeypatch.delenv("ANQUAN_DEBUG", raising=False)
    code = main(["assess", "--period", period, "--data", str(_data_dir(tmp_path)),
                 "--output", str(tmp_path / "reports")])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and phrase in err
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_assessment_data_dir_validated(tmp_path):
    from anquan_analysis.assessment import run_assessment
    with pytest.raises(FileNotFoundError, match="data folder not found"):
        run_assessment(tmp_path / "nowhere", "2024-04", "month")


def test_assessment_level_validated(tmp_path):
    from anquan_analysis.assessment import run_assessment
    with pytest.raises(ValueError, match="level must be one of"):
        run_assessment(_data_dir(tmp_path), "2024-04", "week")
