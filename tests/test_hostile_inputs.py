"""Issue 19, the input side: nothing misattributed (numeric periods, mixed encodings, a
cut last row), bounded work (duplicates grouped, alias suggestions by blocking, each
worksheet part read once, one budget for the whole archive), control characters
cleaned and escaped, and a folder read as an office keeps it (one rule for
``anquan ingest DIR`` and the data folder of ``anquan assess``).

The files are the corpus of tests/data/bad (README.md there) or built here."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import limits
from anquan_analysis.aliases import likely_aliases, more_than_affixes
from anquan_analysis.cli import main
from anquan_analysis.errors import InputError
from anquan_analysis.ingest import ingest, summary_lines
from anquan_analysis.tables import read_raw
from conftest import assert_accounting

BAD = Path(__file__).parent / "data" / "bad"
HEADER = "单位,单位类型,期间,重大事故隐患排查数,重大事故隐患整改数,一般隐患排查数,一般隐患整改数\n"


def _run(capsys, monkeypatch, *argv):
    monkeypatch.delenv("ANQUAN_DEBUG", raising=False)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------ never misattributed
def test_numeric_periods_general_format_refuse_the_ambiguous_one():
    """2024.07 … 2024.12 typed into General number cells: 2024.10 is stored as 2024.1,
    which is refused (not read as January); the others are read as typed."""
    ds = ingest(BAD / "numeric_periods.xlsx", aliases=None)
    assert sorted(ds.panel["period"].unique()) == ["2024-07", "2024-08", "2024-09", "2024-11",
                                                   "2024-12"]
    assert ds.rejects[["row", "column", "value"]].values.tolist() == [[5, "期间", "2024.1"]]
    assert "ambiguous period 2024.1" in ds.rejects["reason"].iloc[0]
    assert "2024-01" not in set(ds.panel["period"])
    assert_accounting(ds, BAD / "numeric_periods.xlsx", data_rows=range(2, 8), sheet="Sheet1")


def test_numeric_periods_read_with_their_number_format():
    """The same cells formatted 0.00 show 2024.10: October, as typed."""
    (raw,) = read_raw(BAD / "numeric_periods_formatted.xlsx")
    assert raw.cells[2].tolist()[1:] == ["2024.07", "2024.08", "2024.09", "2024.10", "2024.11",
                                         "2024.12"]
    ds = ingest(BAD / "numeric_periods_formatted.xlsx", aliases=None)
    got = ds.panel[ds.panel["indicator"] == "major_hazards_found"].set_index("period")["value"]
    # the figures were 1 … 6 in row order: October is the fourth
    assert got.to_dict() == {"2024-07": 1, "2024-08": 2, "2024-09": 3, "2024-10": 4,
                             "2024-11": 5, "2024-12": 6}
    assert ds.rejects.empty


def test_dotted_periods_in_a_csv():
    """As Excel saves the number cells: 2024.1 may be October and is refused; typed as
    text beside 2024.10, 2024.1 is January."""
    ds = ingest(BAD / "dotted_periods.csv", aliases=None)
    assert ds.rejects[["row", "value"]].values.tolist() == [[5, "2024.1"]]
    assert sorted(ds.panel["period"].unique()) == ["2024-07", "2024-08", "2024-09", "2024-11",
                                                   "2024-12"]
    ds = ingest(BAD / "dotted_periods_text.csv", aliases=None)
    assert sorted(ds.panel["period"].unique()) == ["2024-01", "2024-02", "2024-10"]
    assert ds.rejects.empty


def test_a_line_of_the_other_encoding_is_a_reject_never_mojibake():
    ds = ingest(BAD / "gbk_with_utf8_line.csv", aliases=None)
    assert sorted(ds.panel["unit"].unique()) == ["区应急局", "巴源公司"]
    (row, column, value, reason), = ds.rejects[["row", "column", "value", "reason"]].values
    # the pasted line is decoded in its own encoding for the reject: no 闈掔煶-style text
    assert (row, column, value) == (3, "(整行)", "花溪街道,镇街,2024-04,1,1,25,25")
    assert "line 3 is UTF-8 text in a GB18030/GBK file" in reason
    ds = ingest(BAD / "utf8_with_gbk_line.csv", aliases=None)
    assert sorted(ds.panel["unit"].unique()) == ["区应急局", "花溪街道"]
    assert ds.rejects["value"].tolist() == ["巴源公司,国有公司,2024-04,0,0,12,11"]
    assert "line 4 is GB18030 text in a UTF-8 file" in ds.rejects["reason"].iloc[0]


def test_a_truncated_last_row_is_a_reject_not_blanks():
    ds = ingest(BAD / "truncated_last_row.csv", aliases=None)
    assert "巴源公司" not in set(ds.panel["unit"])
    assert ds.rejects[["row", "value"]].values.tolist() == [[4, "巴源公司,国有公司,2024-04"]]
    assert "3 of 7 fields" in ds.rejects["reason"].iloc[0]
    assert_accounting(ds, BAD / "truncated_last_row.csv", data_rows=[2, 3, 4])
    ds = ingest(BAD / "truncated_multibyte.csv", aliases=None)
    assert ds.rejects["row"].tolist() == [4] and "cut short" in ds.rejects["reason"].iloc[0]
    # the same row with its line end is complete and read
    full = (BAD / "truncated_last_row.csv").read_text(encoding="utf-8")
    assert full.count("\n") == 3


def test_line_ends_and_delimiters_are_named(tmp_path, capsys, monkeypatch):
    for name, phrase in (("cr_only.csv", "GB18030 (GBK), comma-separated (,), CR (old Mac) line ends"),
                         ("semicolon.csv", "UTF-8, semicolon-separated (;), LF line ends")):
        code, out, err = _run(capsys, monkeypatch, "ingest", str(BAD / name), "--output",
                              str(tmp_path), "--aliases", "none")
        assert code == 0 and f"3 clean (0 empty)" in out and phrase in out
    # a header that is not found says how the file was read
    p = tmp_path / "memo.csv"
    p.write_bytes("关于报送的说明\r本月数据见附件\r".encode("gbk"))
    code, out, err = _run(capsys, monkeypatch, "ingest", str(p), "--output", str(tmp_path))
    assert code == 2 and "(read as GB18030 (GBK), comma-separated (,), CR (old Mac) line ends)" in err


# ------------------------------------------------------------------ bounded work
def test_duplicates_one_reason_per_group():
    ds = ingest(BAD / "duplicates_3000.csv", aliases=None)
    assert len(ds.rejects) == 3000 and ds.panel.empty
    assert ds.rejects["reason"].unique().tolist() == [
        "同一单位同一期间重复且数据不一致 (reported 3000 times with different figures: "
        "rows 2, 3, 4, 5, 6, …)"]
    ds = ingest(BAD / "identical_60k.xlsx", aliases=None)
    assert len(ds.rejects) == 59_999
    assert set(ds.rejects["reason"]) == {"duplicate of row 2 (identical)"}
    assert ds.panel["value"].tolist() == [40.0, 3.0] and set(ds.panel["source_row"]) == {2}
    s = ds.summary.iloc[0]
    assert (s["rows_read"], s["rows_clean"], s["rows_duplicate_identical"]) == (60_000, 1, 59_999)


def test_duplicates_across_files_are_named_by_file(tmp_path):
    for name, v in (("a.csv", 3), ("b.csv", 5)):
        (tmp_path / name).write_text(f"单位,期间,重大事故隐患排查数\n甲,2024-04,{v}\n", encoding="utf-8")
    ds = ingest(tmp_path, aliases=None)
    assert set(ds.rejects["reason"]) == {
        "同一单位同一期间重复且数据不一致 (reported 2 times with different figures: "
        "file a.csv row 2, file b.csv row 2)"}


def test_ledger_conflicts_name_the_first_rows_and_the_count(tmp_path):
    head = "隐患编号,单位,行业领域,发现日期,整改状态\n"
    rows = [f"H1,区应急局,工贸,2024-04-{d:02d},整改中\n" for d in range(1, 10)]
    (tmp_path / "l.csv").write_text(head + "".join(rows), encoding="utf-8")
    ds = ingest(tmp_path / "l.csv", aliases=None)
    reasons = ds.rejects.set_index("row")["reason"]
    assert reasons[2] == ("隐患编号: hazard id 'H1' also on row 3, 4, 5, 6, 7 and 3 more rows "
                          "(9 copies) with different content")
    assert reasons[5] == ("隐患编号: hazard id 'H1' also on row 2, 3, 4, 6, 7 and 3 more rows "
                          "(9 copies) with different content")


def _brute_force(names, min_length=4):
    """The pairs the old all-against-all comparison reported (rapidfuzz cdist)."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cdist
    uniq = sorted(set(names))
    dist = cdist(uniq, uniq, scorer=Levenshtein.distance, score_cutoff=1, dtype=np.int32)
    out = set()
    for i, j in zip(*np.nonzero(np.triu(dist <= 1, k=1))):
        a, b = uniq[i], uniq[j]
        if (min(len(a), len(b)) >= min_length or a in b or b in a) and more_than_affixes(a, b):
            out.add((b, a) if len(a) > len(b) else (a, b))
    return out


def test_alias_blocking_finds_what_comparing_every_pair_finds():
    rng = np.random.default_rng(19)
    chars = list("东西南北中花溪街道镇区局委办应急教育卫健交通公司")
    names = {"".join(rng.choice(chars, size=rng.integers(2, 7))) for _ in range(600)}
    names |= {"应急局", "区应急局", "花溪街道", "花溪街道办", "区教委", "区侨委"}
    got = likely_aliases(sorted(names))
    got_pairs = set(zip(got["name"], got["unit"]))
    assert got_pairs == _brute_force(names) and len(got_pairs) > 20
    assert {("应急局", "区应急局"), ("花溪街道", "花溪街道办")} <= got_pairs
    assert ("区侨委", "区教委") not in got_pairs and ("区教委", "区侨委") not in got_pairs


def test_alias_suggestions_are_capped_and_say_what_was_left_out(monkeypatch):
    monkeypatch.setattr(limits, "MAX_ALIAS_PAIRS", 10)
    monkeypatch.setattr(limits, "MAX_ALIAS_BLOCK", 50)
    names = [f"单位{i:04d}号" for i in range(300)]          # 第 i 个 and 第 j 个 one edit apart
    got = likely_aliases(names)
    assert (got["kind"] == "likely").sum() == 10
    extra = got[got["kind"] != "likely"].set_index("kind")["rows"]
    # blocks of 10 names (one position varies) are paired: 30 blocks per position x 45
    # pairs; blocks of more than 50 names (the last digit's neighbours across the
    # tens…) are counted as not compared
    assert extra["unlisted"] > 0 and set(extra.index) <= {"unlisted", "unexamined"}


def test_printed_alias_lines_are_capped(tmp_path):
    """30 likely aliases among 200 units (1 M rows printed 49,960 such lines)."""
    (tmp_path / "u.csv").write_bytes(_make_corpus().many_units_csv(n_units=200, n_aliases=30))
    ds = ingest(tmp_path / "u.csv", aliases=None)
    assert (ds.unit_aliases["kind"] == "likely").sum() == 30
    lines = summary_lines(ds)
    assert sum(line.startswith("likely alias") for line in lines) == limits.PRINTED_ALIASES
    assert "… 10 more likely aliases in unit_aliases.csv" in lines


def test_each_worksheet_part_is_read_once(monkeypatch):
    """No sizing pass: a workbook without <dimension> is parsed once per sheet (openpyxl
    parsed each sheet whole to size it, then again to read it, then twice more for
    formulas)."""
    opened = []
    real_open = zipfile.ZipFile.open

    def counting_open(self, name, *args, **kwargs):
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    sheets = read_raw(BAD / "no_dimension.xlsx")
    assert [s.cells.shape for s in sheets] == [(4, 7), (4, 7)]
    parts = [n for n in opened if n.startswith("xl/worksheets/")]
    assert sorted(parts) == ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"]


def _make_corpus():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_corpus", module)    # its dataclasses look themselves up
    spec.loader.exec_module(module)
    return sys.modules["make_corpus"]


def test_one_budget_for_the_whole_archive(monkeypatch, tmp_path):
    """Each part under the per-part limit, together past the budget: refused before
    any part is parsed."""
    data = _make_corpus().many_parts_xlsx(n_parts=12, part_bytes=2_100_000)
    path = tmp_path / "parts.xlsx"
    path.write_bytes(data)
    # 12 parts of 2.08 MB, each under a 3 MB floor; the budget is 100 times the file
    monkeypatch.setattr(limits, "INFLATION_FLOOR", 3_000_000)
    monkeypatch.setattr(limits, "MAX_XML_BYTES", 10_000_000)
    size = path.stat().st_size
    with pytest.raises(InputError, match=rf"its 21 parts inflate to 24,\d{{3}},\d{{3}} bytes in "
                                         rf"all, past the budget of {100 * size:,} bytes for a "
                                         rf"file of {size:,} bytes"):
        read_raw(path)
    monkeypatch.setattr(limits, "INFLATION_FLOOR", 30_000_000)
    monkeypatch.setattr(limits, "MAX_XML_BYTES", 100_000_000)
    assert read_raw(path)[0].cells.shape == (4, 7)      # within the budget: read


def test_special_files_are_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="refused: a FIFO"):
        read_raw(tmp_path / "pipe.csv")
    with pytest.raises(InputError, match="refused: a character device"):
        read_raw(tmp_path / "zero.csv")


# ------------------------------------------------------- control characters
def test_control_characters_cleaned_reported_and_escaped(tmp_path, capsys, monkeypatch):
    ds = ingest(BAD / "control_chars.csv", aliases=None)
    assert sorted(ds.panel["unit"].unique()) == ["[31m区应急局[0m", "巴源公司", "花溪街道"]
    cleaned = ds.unit_aliases[ds.unit_aliases["kind"] == "cleaned"]
    assert cleaned[["name", "unit", "rows"]].values.tolist() == [
        ["\\x1b[31m区应急局\\x1b[0m", "[31m区应急局[0m", 1], ["花溪街道\\x07", "花溪街道", 1]]
    code, out, err = _run(capsys, monkeypatch, "ingest", str(BAD / "control_chars.csv"),
                          "--output", str(tmp_path / "o"))
    assert code == 0 and "\x1b" not in out + err and "\x07" not in out + err
    assert "unit name cleaned: \\x1b[31m区应急局\\x1b[0m → '[31m区应急局[0m'" in out
    code, out, err = _run(capsys, monkeypatch, "check", str(BAD / "control_chars.csv"),
                          "--output", str(tmp_path / "f.xlsx"))
    assert code == 0 and (tmp_path / "f.xlsx").stat().st_size > 0


def test_crafted_dataset_with_control_characters_writes_xlsx(tmp_path, capsys, monkeypatch):
    """A saved dataset bypasses ingest: its names still reach the workbook without the
    characters XML cannot carry (openpyxl raised IllegalCharacterError)."""
    from anquan_analysis.dataset import Dataset
    from anquan_analysis.synth import make_city
    city = make_city(seed=1, n_units=8, n_months=4, inject=False)
    panel = city.panel.assign(unit="\x1b[31m" + city.panel["unit"] + "\x07")
    Dataset(panel=panel).save(tmp_path / "d")
    code, out, err = _run(capsys, monkeypatch, "check", str(tmp_path / "d"), "--output",
                          str(tmp_path / "f.xlsx"))
    assert code == 0, err
    import openpyxl
    wb = openpyxl.load_workbook(tmp_path / "f.xlsx")
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert any(t.startswith("[31m") for t in texts)
    assert not any("\x1b" in t or "\x07" in t for t in texts)


# ------------------------------------------------------------- a data folder
def _office_folder(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "2024年4月.csv").write_text(HEADER + "区应急局,部门,2024-04,3,2,40,38\n", encoding="utf-8")
    (d / "2024年5月.csv").write_text(HEADER + "区应急局,部门,2024-05,4,2,40,38\n", encoding="utf-8")
    (d / "README.txt").write_text("本文件夹存放各单位报送的调度表。\n", encoding="utf-8")
    (d / "~$2024年4月.xlsx").write_bytes(b"\x0bXX" + b"\x00" * 40)
    (d / ".~lock.2024年5月.xlsx#").write_text("x,host,2024\n")
    (d / "通知.docx").write_bytes(b"PK\x03\x04")
    (d / "名单.pdf").write_bytes(b"%PDF-1.4\n")
    (d / "空表.csv").write_text("", encoding="utf-8")
    os.mkfifo(d / "pipe.csv")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(HEADER + "外单位,部门,2024-04,9,9,9,9\n", encoding="utf-8")
    (d / "link_out.csv").symlink_to(outside)
    (d / "link_in.csv").symlink_to(d / "2024年4月.csv")
    return d


SKIPPED = {
    ".~lock.2024年5月.xlsx#": "LibreOffice lock file, skipped",
    "link_out.csv": "refused: a symbolic link to",
    "pipe.csv": "refused: a FIFO (named pipe), not a file",
    "~$2024年4月.xlsx": "Excel lock file (~$), skipped",
    "名单.pdf": "not a table file (.pdf), skipped",
    "通知.docx": "not a table file (.docx), skipped",
    "README.txt": "not a report (no recognisable header",
    "空表.csv": "not a report (file is empty), skipped",
}


def test_ingest_dir_skips_what_is_not_a_report_one_line_each(tmp_path, capsys, monkeypatch):
    d = _office_folder(tmp_path)
    code, out, err = _run(capsys, monkeypatch, "ingest", str(d), "--output", str(tmp_path / "o"),
                          "--aliases", "none")
    assert code == 0, err
    for name, phrase in SKIPPED.items():
        lines = [line for line in out.splitlines() if line.startswith(name + ":")]
        assert len(lines) == 1 and phrase in lines[0], (name, out)
    panel = pd.read_parquet(tmp_path / "o" / "panel.parquet")
    # the link inside the folder is read (a duplicate of its target, rejected as identical)
    assert set(panel["unit"]) == {"区应急局"} and "外单位" not in out
    assert set(panel["period"]) == {"2024-04", "2024-05"}


def test_the_data_folder_of_assess_uses_the_same_rule(tmp_path):
    from anquan_analysis.assessment import data_files, read_data_dir, skipped_files
    from anquan_analysis.ingest.reading import folder_files
    d = _office_folder(tmp_path)
    files, skipped = folder_files(d)
    assert data_files(d) == files
    assert [f for f, _ in skipped_files(d)] == [f for f, _ in skipped]
    ds = read_data_dir(d, compact=False)
    notes = ds.summary[ds.summary["kind"] == ""].set_index("file")["note"]
    assert {Path(f).name for f in notes.index} == {"README.txt", "空表.csv"}
    assert sorted(ds.panel["period"].unique()) == ["2024-04", "2024-05"]


def test_a_folder_without_a_report_is_an_error(tmp_path, capsys, monkeypatch):
    d = tmp_path / "d"
    d.mkdir()
    (d / "README.txt").write_text("说明\n", encoding="utf-8")
    (d / "a.csv").write_text("", encoding="utf-8")
    code, out, err = _run(capsys, monkeypatch, "ingest", str(d), "--output", str(tmp_path / "o"))
    assert code == 2 and "no report in the files given: README.txt: not a report" in err


def test_a_named_file_that_is_not_a_report_stays_an_error(tmp_path, capsys, monkeypatch):
    p = tmp_path / "README.txt"
    p.write_text("说明\n", encoding="utf-8")
    code, out, err = _run(capsys, monkeypatch, "ingest", str(p), "--output", str(tmp_path / "o"))
    assert code == 2 and "no recognisable header" in err
