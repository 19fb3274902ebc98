"""The corpus of bad and awkward inputs (tests/data/bad/, described line by line in its
README.md): every file gives a clear one-line error (exit 2) or is read with its bad
rows and cells rejected by file, row and column (exit 0); no traceback ever reaches
the user, and rows read = clean + rejected for every file that is readable at all.
The cases too large for the repository, and special files, are built at test time
(``make_corpus.GENERATED``) and checked the same way."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from anquan_analysis.cli import main

BAD = Path(__file__).parent / "data" / "bad"
_ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| (?P<what>.+) \| (?P<outcome>clean|rejects|error) \| "
                  r"(?P<phrase>.+) \|$")


def corpus(section: int = 0) -> list[dict]:
    """The table rows of README.md's first section (the files) or, with ``section``
    1, of its "Generated at test time" section."""
    text = (BAD / "README.md").read_text(encoding="utf-8").split("## Generated at test time")
    return [m.groupdict() for line in text[section].splitlines() if (m := _ROW.match(line))]


def _make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_corpus", module)
    spec.loader.exec_module(module)
    return module


CORPUS = corpus()
GENERATED = corpus(1)
MAKE = _make_corpus()


def run(capsys, monkeypatch, *argv) -> tuple[int, str, str]:
    monkeypatch.delenv("ANQUAN_DEBUG", raising=False)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_corpus_is_complete_and_described():
    files = {p.name for p in BAD.iterdir()} - {"README.md", "make_corpus.py"}
    described = [r["file"] for r in CORPUS]
    assert len(described) == len(set(described)) >= 30
    assert set(described) == files
    counts = pd.Series([r["outcome"] for r in CORPUS]).value_counts().to_dict()
    assert min(counts.values()) >= 10 and set(counts) == {"clean", "rejects", "error"}


@pytest.mark.parametrize("case", CORPUS, ids=[r["file"] for r in CORPUS])
def test_bad_input(case, tmp_path, capsys, monkeypatch):
    check_case(BAD / case["file"], case, tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize("case", GENERATED, ids=[r["file"] for r in GENERATED])
def test_generated_bad_input(case, tmp_path, capsys, monkeypatch):
    """The large and special cases, built in a temporary folder (``make_corpus.GENERATED``)."""
    builders = {g.name: g for g in MAKE.GENERATED}
    assert (builders[case["file"]].outcome, builders[case["file"]].expect) == (
        case["outcome"], case["phrase"])
    path = tmp_path / case["file"]
    builders[case["file"]].build(path)
    check_case(path, case, tmp_path, capsys, monkeypatch)


def check_case(path, case, tmp_path, capsys, monkeypatch):
    """``anquan ingest PATH``: the outcome and phrase of ``case``, and the accounting
    of every row for a file that is read."""
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, monkeypatch, "ingest", str(path), "--output", str(out_dir),
                         "--aliases", str(BAD.parents[2] / "data" / "raw" / "unit_aliases.csv"))
    assert "Traceback" not in out + err
    if case["outcome"] == "error":
        assert code == 2, out + err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("anquan ingest: error: ") and case["file"] in lines[0]
        assert case["phrase"] in lines[0]
        assert not (out_dir / "panel.parquet").exists()
        return
    assert code == 0, out + err
    summary = pd.read_csv(out_dir / "summary.csv", encoding="utf-8-sig")
    rejects = pd.read_csv(out_dir / "rejects.csv", encoding="utf-8-sig", dtype="str",
                          keep_default_na=False)
    panel = pd.read_parquet(out_dir / "panel.parquet")
    read = summary[summary["note"].isna()]
    assert len(read) >= 1 and read["rows_read"].sum() > 0
    assert (read["rows_read"] == read["rows_clean"] + read["rows_rejected"]).all()
    # every figure and every reject points back at this file and a real row
    assert set(panel["source_file"]) <= {str(path)}
    assert set(rejects["file"]) <= {str(path)}
    assert (panel["source_row"] >= 1).all()
    assert (rejects["row"].astype(int) >= 1).all() and (rejects["column"] != "").all()
    if case["outcome"] == "rejects":
        assert len(rejects) >= 1 and read["reject_records"].sum() == len(rejects)
        assert rejects["reason"].str.contains(case["phrase"], regex=False).any(), rejects
    else:
        assert len(rejects) == 0, rejects
        assert case["phrase"] in out


def test_corpus_counts_by_outcome():
    """The sizes quoted in the issue note: 69 files, 22 clean, 25 rejects, 22 errors,
    and 6 cases generated at test time, 2 clean and 4 errors (also the lines in
    README.md)."""
    counts = pd.Series([r["outcome"] for r in CORPUS]).value_counts().to_dict()
    assert (len(CORPUS), counts) == (69, {"clean": 22, "rejects": 25, "error": 22})
    generated = pd.Series([r["outcome"] for r in GENERATED]).value_counts().to_dict()
    assert (len(GENERATED), generated) == (6, {"clean": 2, "error": 4})
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    assert "69 files: 22 clean, 25 with rejected rows or cells, 22 clear errors" in readme
    assert "6 cases: 2 clean, 0 with rejected rows or cells, 4 clear errors" in readme


# ---------------------------------------------------------------------------
# Exact contents for the files whose figures matter


def _ingest(name, **kw):
    from anquan_analysis.ingest import ingest
    return ingest(BAD / name, **kw)


def test_formula_without_cached_value_is_rejected_by_cell():
    ds = _ingest("formula_uncached.xlsx")
    rej = ds.rejects.set_index(["row", "column"])["reason"]
    assert sorted(rej.index) == [(4, "一般隐患排查数"), (4, "重大事故隐患排查数")]
    assert all("no cached value" in r for r in rej)
    # the row's other cells are kept: 整改数 0 and 一般隐患整改数 11
    got = ds.panel[ds.panel["unit"] == "巴源公司"].set_index("indicator")["value"].to_dict()
    assert got == {"major_hazards_rectified": 0.0, "general_hazards_rectified": 11.0}


def test_formula_cached_values_are_read():
    ds = _ingest("formula_cached.xlsx")
    rec = ds.reconciliation.set_index("indicator")
    assert rec.loc["major_hazards_found", ["stated", "sum_of_units"]].tolist() == [4.0, 4.0]
    assert (rec["status"] == "ok").all() and len(rec) == 4


def test_absurd_values_each_get_their_reason():
    ds = _ingest("absurd_values.csv")
    reasons = ds.rejects.set_index(["row", "column"])["reason"]
    assert "out of range" in reasons[(3, "重大事故隐患排查数")]
    assert "whole number" in reasons[(3, "一般隐患排查数")]
    assert "above 1e+09" in reasons[(4, "一般隐患整改数")]
    assert len(reasons) == 3


def test_alias_applied_and_near_duplicate_reported_not_merged():
    ds = _ingest("unit_aliases.csv", aliases=BAD.parents[2] / "data" / "raw" / "unit_aliases.csv")
    assert sorted(ds.panel["unit"].unique()) == ["区应急局", "巴源公司", "花溪街道", "花溪街道办"]
    al = ds.unit_aliases
    applied = al[al["kind"] == "applied"]
    assert applied[["name", "unit", "rows"]].values.tolist() == [["应急局", "区应急局", 1]]
    likely = al[al["kind"] == "likely"]
    assert likely[["name", "unit", "distance"]].values.tolist() == [["花溪街道", "花溪街道办", 1]]


def test_alias_makes_a_hidden_duplicate_visible(tmp_path):
    """应急局 and 区应急局 in one period are one unit reported twice once the alias is
    applied: both copies are rejected instead of counted as two units."""
    from anquan_analysis.ingest import ingest
    p = tmp_path / "t.csv"
    p.write_text("单位,期间,重大事故隐患排查数\n区应急局,2024-04,3\n应急局,2024-04,5\n", encoding="utf-8")
    ds = ingest(p, aliases=pd.DataFrame({"alias": ["应急局"], "unit": ["区应急局"]}))
    assert ds.panel.empty and ds.rejects["row"].tolist() == [2, 3]
    assert ingest(p, aliases=None).panel["unit"].tolist() == ["区应急局", "应急局"]


def test_zip_bomb_refused_before_parsing():
    from anquan_analysis.errors import InputError
    from anquan_analysis.tables import MAX_INFLATION, read_raw
    with pytest.raises(InputError, match=rf"limit {MAX_INFLATION}:1"):
        read_raw(BAD / "zip_bomb.xlsx")


def test_size_limit_is_named(monkeypatch, tmp_path):
    from anquan_analysis import tables
    from anquan_analysis.errors import InputError
    with pytest.raises(InputError, match="row 1048576, past the limit of 100000 rows x 1000"):
        tables.read_raw(BAD / "huge_sheet.xlsx")
    from anquan_analysis import limits
    monkeypatch.setattr(limits, "MAX_ROWS", 2)
    with pytest.raises(InputError, match="row 3, past the limit of 2 rows"):
        tables.read_raw(BAD / "gbk.csv")


def test_defusedxml_is_used_by_openpyxl():
    import openpyxl
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize("argv, phrase", [
    (["missing.csv"], "file not found"),
    (["."], "folder holds no .csv or .xlsx file"),
    (["gbk.csv", "--aliases", "nope.csv"], "unreadable alias table"),
])
def test_cli_errors_outside_the_corpus(argv, phrase, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [str(BAD / a) if a == "gbk.csv" else a for a in argv]
    code, out, err = run(capsys, monkeypatch, "ingest", *argv, "--output", str(tmp_path / "o"))
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and phrase in err


def test_named_sheet_missing(tmp_path, capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, "ingest", str(BAD / "hidden_scratch.xlsx"),
                         "--sheet", "汇总", "--output", str(tmp_path))
    assert code == 2 and "no sheet named '汇总'" in err and "数据" in err


def test_hidden_sheet_read_when_named(tmp_path):
    ds = _ingest("only_hidden.xlsx", sheet="数据")
    assert len(ds.panel) == 12 and ds.rejects.empty
