"""anquan_analysis.audit: reading bulletins, extracting their figures, the seeds' claims,
the tables it writes and the command line.

The seed tests check the figures and claims worked out by hand from the five bulletins
(see data/raw/SEED_FIGURES.md and tests/data/audit_insample/claims.csv); each claim form
is tested sentence by sentence in test_audit_claims.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from anquan_analysis import cli
from anquan_analysis.audit import (AUDIT_COLUMNS, FIGURE_COLUMNS, audit, extract_figures,
                                      figures_to_panel, read_text)
from anquan_analysis.dataset import PANEL_COLUMNS
from anquan_analysis.errors import InputError

REPO = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).resolve().parents[1] / "data" / "raw" / "seeds"
GUILIN, XSHI, BAOJI, XXQU, BANAN = (
    "000_ccbeeba00bbda5e8.txt", "001_01a7534f09f371bd.txt", "002_3ed79b01a7523fc5.txt",
    "003_84f8e1dc2f2a7210.txt", "004_cbdbebe7b7ee4dcd.txt")


@pytest.fixture(scope="module")
def seeds():
    out = {}
    for name in (GUILIN, XSHI, BAOJI, XXQU, BANAN):
        text = read_text(SEEDS / name)
        figs = extract_figures(text)
        out[name] = (text, figs, audit(text, figs))
    return out


def _fig(figs, raw_part, value):
    hit = figs[(figs["value"] == value) & figs["raw"].str.contains(raw_part, regex=False)]
    assert len(hit) >= 1, (raw_part, value)
    return hit.iloc[0]


def _only(text, claim_type):
    c = audit(text)
    c = c[c["claim_type"] == claim_type]
    assert len(c) == 1, audit(text)
    return c.iloc[0]


def _claim(claims, claim_type, stated):
    hit = claims[(claims["claim_type"] == claim_type) & ((claims["stated"] - stated).abs() < 1e-9)]
    assert len(hit) == 1, (claim_type, stated, claims[["claim_type", "stated", "status"]])
    return hit.iloc[0]


# ---------------------------------------------------------------- seeds: extraction

def test_guilin_figures(seeds):
    text, figs, _ = seeds[GUILIN]
    assert list(figs.columns) == FIGURE_COLUMNS
    assert (figs.apply(lambda r: text[r.start:r.end] == r.raw, axis=1)).all()
    major = figs[figs["indicator"] == "major_hazards_found"]
    assert list(major.loc[major["subject"] == "", "value"]) == [79, 0, 79]
    assert _fig(figs, "72", 72)["indicator"] == "major_hazards_found_dept"
    assert figs.loc[figs["indicator"] == "major_hazards_found_enterprise", "value"].tolist() == [7]
    share = _fig(figs, "8.86", 8.86)
    assert (share["unit"], share["indicator"], share["kind"]) == ("%", "", "percent")
    drill = _fig(figs, "17万余", 170000)
    assert (drill["unit"], bool(drill["approx"]), drill["indicator"]) == ("人次", True,
                                                                         "drill_participants")
    assert _fig(figs, "387", 387)["indicator"] == "public_drills"
    assert _fig(figs, "10 项", 10)["subject"] == "灵川县"
    assert _fig(figs, "6 项", 6)["subject"] == "危险化学品"       # 危化, as a catalogue sector
    # 〔2024〕50号, dates, 共印 5 份 and the phone number are not figures.
    assert not figs["value"].isin([2024, 50, 5625076]).any()
    assert len(figs) == 45


def test_banan_figures(seeds):
    _, figs, _ = seeds[BANAN]
    assert _fig(figs, "46个", 46)["subject"] == "区应急局"
    share = _fig(figs, "33.5%", 33.5)
    assert share["subject"] == "建筑施工"
    assert _fig(figs, "52个", 52)["indicator"] == "major_hazards_found"
    two = _fig(figs, "两个", 2)
    assert (two["unit"], two["kind"]) == ("个", "count")
    assert _fig(figs, "3.1个", 3.1)["kind"] == "summary"
    assert _fig(figs, "580余次", 580)["approx"]
    assert _fig(figs, "109.33万元", 109.33)[["unit", "indicator"]].tolist() == ["万元", "fines"]
    assert not figs["value"].isin([52.0]).sum() > 1          # 第52次常务会议 is an ordinal


def test_benchmark_recall_on_the_gold_figures():
    spec = importlib.util.spec_from_file_location("bench", REPO / "benchmarks" / "bulletin_extraction.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    gold = pd.read_csv(REPO / "data" / "raw" / "seed_figures.csv", dtype=str, keep_default_na=False)
    gold["value"] = gold["value"].astype(float)
    table, _ = bench.score(gold, SEEDS)
    overall = table[(table["file"] == "ALL")].set_index("level")
    assert overall.loc["value", "recall"] == 1.0
    assert overall.loc["value+unit+indicator", "recall"] >= 0.95
    assert overall.loc["value+unit+indicator", "precision"] >= 0.95


def test_in_sample_audit_scores():
    """The seeds and in-sample documents: no false contradiction, and every gold claim
    found with the right verdict, 停产整顿6 > 检查企业2 included (the catalogue's rule
    suspensions ≤ units inspected, issue 16, which also verifies 责令“三停”3家 of 849)."""
    spec = importlib.util.spec_from_file_location("bench", REPO / "benchmarks" / "bulletin_extraction.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    scores, errors = bench.score_set("insample")
    assert scores["false_contradictions"] == 0
    assert scores["audit"] == (1.0, 1.0) and scores["gold_claims"] == 71
    assert [e for e in errors if "claim" in e or "verdict" in e] == []


# ---------------------------------------------------------------- seeds: audit

def test_guilin_audit(seeds):
    _, _, claims = seeds[GUILIN]
    assert list(claims.columns) == AUDIT_COLUMNS
    parts = _claim(claims, "parts_sum", 79)
    assert (parts["status"], parts["computed"]) == ("verified", 79)
    share = _claim(claims, "share", 8.86)
    assert share["status"] == "verified"
    assert share["computed"] == pytest.approx(7 / 79 * 100)
    assert share["precision"] == pytest.approx(0.01)


def test_banan_audit_finds_the_155_total(seeds):
    _, _, claims = seeds[BANAN]
    for stated in (33.5, 46.5):
        c = _claim(claims, "share", stated)
        assert c["status"] == "contradicted"
        assert "155" in c["explanation"] and "156" in c["explanation"]
    assert _claim(claims, "share", 33.5)["computed"] == pytest.approx(52 / 156 * 100)
    assert _claim(claims, "parts_sum", 156)["status"] == "verified"        # 94 + 62
    avg = _claim(claims, "average", 3.1)
    assert (avg["status"], avg["computed"]) == ("verified", pytest.approx(3.12))
    assert _claim(claims, "ratio", 62.3)["status"] == "verified"           # 43 / 69
    yoy = _claim(claims, "yoy", 35.3)
    assert yoy["status"] == "unverifiable" and "17.0" in yoy["explanation"]
    assert _claim(claims, "comparison", 3)["status"] == "verified"         # 46, 24, 12 > 10
    assert _claim(claims, "comparison", 37)["status"] == "unverifiable"
    assert set(claims.loc[claims["claim_type"] == "list_count", "status"]) == {"verified"}


def test_baoji_and_half_year_rates(seeds):
    _, _, baoji = seeds[BAOJI]
    r99 = _claim(baoji, "rate", 99)
    assert r99["status"] == "verified" and r99["computed"] == pytest.approx(444 / 448 * 100)
    r967 = _claim(baoji, "rate", 96.7)
    assert r967["status"] == "unverifiable" and "29" in r967["explanation"]
    _, _, half = seeds[XXQU]
    assert _claim(half, "rate", 98.5)["computed"] == pytest.approx(518 / 526 * 100)
    assert _claim(half, "rate", 92)["computed"] == pytest.approx(35 / 38 * 100)
    assert set(half["status"]) == {"verified"}


def test_guilin_lists_and_ranking(seeds):
    """桂林 ranks eight of its 17 counties by major hazards (10, 9, 9 at the top; 1, 1, 1,
    1, 0 at the bottom) and lists eight sectors (15 + 12 + 9 + 8 + 7 + 6 + 3 + 3): both
    are partial lists of the city's 79, so the audit checks they do not exceed it."""
    _, _, claims = seeds[GUILIN]
    lists = claims[claims["claim_type"] == "enumeration"]
    assert lists["status"].tolist() == ["verified", "verified"]
    assert lists["stated"].tolist() == [79, 79]
    assert lists["computed"].tolist() == [32, 63]          # 10+9+9+1+1+1+1+0; the sectors
    counties, sectors = lists["explanation"]
    assert counties.startswith("所列8个单位（灵川县、兴安县、资源县、七星区、临桂区、全州县等）")
    assert "未列出的合计47" in counties and "未列出的合计16" in sectors
    ranking = _claim(claims, "ranking", 0)                   # stated: the last one ranked
    assert ranking["status"] == "verified"
    assert ranking["explanation"].startswith("排名靠前的3个单位最少9，靠后的5个单位最多1")


def test_banan_lists(seeds):
    """巴南 names 24 of its 50 units: three above 10 (46, 24, 12) and 21 with 0 valid
    hazards; they sum to 82 of 156.  Its two sectors (52 + 72 = 124) are within 156 too;
    their shares are wrong because they were computed on 155 (test above)."""
    _, _, claims = seeds[BANAN]
    lists = claims[claims["claim_type"] == "enumeration"]
    assert lists["computed"].tolist() == [82, 124]
    assert lists["status"].tolist() == ["verified", "verified"]
    assert lists["explanation"].iloc[0].startswith("所列24个单位（区应急局、区住房城乡建委、巴源公司、区发展改革委")
    assert "未列出的合计74" in lists["explanation"].iloc[0]


def test_no_false_contradiction_on_any_seed(seeds):
    contradicted = {name: c.loc[c["status"] == "contradicted", "stated"].tolist()
                    for name, (_, _, c) in seeds.items()}
    # 巴南's three shares all computed on 155 (80% = 33.5% + 46.5%; 124/156 is 79.5%).
    assert contradicted == {GUILIN: [], XSHI: [], BAOJI: [], XXQU: [], BANAN: [33.5, 80.0, 46.5]}


# ---------------------------------------------------------------- sentences: extraction

@pytest.mark.parametrize("text, expected", [
    ("检查企业１２３家。", [(123, "家", False)]),
    ("开展应急演练17万余人次。", [(170000, "人次", True)]),
    ("实施行政处罚109.33万元。", [(109.33, "万元", False)]),
    ("帮扶约50家企业。", [(50, "家", True)]),
    ("执法检查580多次。", [(580, "次", True)]),
    ("两个行业领域、十二个镇街。", [(2, "个", False), (12, "个", False)]),
    ("2024年7月22日，市安委办〔2024〕50号，第52次常务会议，共印 5 份。", []),
    ("落实“十五条”硬措施和15条硬措施，“四个责任”，3个月内，阅读时长10分钟。", []),
    ("一些行业领域甚至为“0”，对“0”报送企业，有效排查量为0条。", [(0, "", False), (0, "条", False)]),
])
def test_figure_forms(text, expected):
    figs = extract_figures(text)
    assert list(zip(figs["value"], figs["unit"], figs["approx"])) == expected


def test_units_and_subjects_from_prose():
    figs = extract_figures("全市开展培训334场25222人次，其中灵川县 10 项、道路交通（3 项），"
                           "石龙镇（报送2条，1条不符合判定标准）。")
    assert figs["subject"].tolist() == ["", "", "灵川县", "道路交通", "石龙镇", "石龙镇"]
    # The second figure of 334场25222人次 is the same item's persons.
    t = extract_figures("实施企业从业人员安全素质提升行动，开展培训334场25222人次。")
    assert t["indicator"].tolist() == ["worker_training_sessions", "worker_training_persons"]


# ---------------------------------------------------------------- reading files

def test_read_docx_with_paragraphs_and_tables(tmp_path):
    import docx
    d = docx.Document()
    d.add_paragraph("排查整治重大事故隐患７９项，其中部门检查发现72项，企业自查发现7项。")
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "灵川县"
    table.cell(0, 1).text = "10项"
    path = tmp_path / "b.docx"
    d.save(path)
    text = read_text(path)
    assert "隐患79项" in text and "灵川县\t10项" in text                 # full width folded
    assert _only(text, "parts_sum")["status"] == "verified"


def test_read_text_layer_pdf(tmp_path):
    import os

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplfonts
    from matplotlib.font_manager import FontProperties
    font = FontProperties(fname=os.path.join(os.path.dirname(mplfonts.__file__), "fonts", "SimHei.ttf"))
    path = tmp_path / "b.pdf"
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(6, 1))
        fig.text(0.02, 0.5, "排查重大事故隐患448项，已整改444项，整改率99%", fontproperties=font)
        fig.savefig(path)
        plt.close(fig)
    text = read_text(path)
    assert "448项" in text
    assert _only(text, "rate")["status"] == "verified"


def test_read_gb18030_text_and_errors(tmp_path):
    path = tmp_path / "b.txt"
    path.write_bytes("全区发生生产安全事故11起，死亡11人。安全生产工作总结报告".encode("gb18030"))
    assert read_text(path).startswith("全区发生生产安全事故11起")
    with pytest.raises(InputError, match="not found"):
        read_text(tmp_path / "missing.txt")
    (tmp_path / "b.xyz").write_text("x")
    with pytest.raises(InputError, match="xyz"):
        read_text(tmp_path / "b.xyz")


# ---------------------------------------------------------------- panel and CLI

def test_figures_to_panel():
    text = ("以重大事故隐患数量作对比，排名靠前的灵川县 10 项、兴安县 9 项。检查发现重大事故隐患主要集中在工贸 15 项。"
            "上半年排查上报重大事故隐患 79 项，其中部门检查发现 72 项；重复一次，排查重大事故隐患 79 项。"
            "处罚款210万元。")
    figs = extract_figures(text).assign(source_file="b.txt")
    panel = figures_to_panel(figs, issuer="桂林市", period="2024年上半年")
    assert list(panel.columns) == PANEL_COLUMNS
    assert set(panel["period"]) == {"2024H1"}
    rows = {(r.unit, r.indicator): r for r in panel.itertuples()}
    assert rows[("灵川县", "major_hazards_found")].value == 10
    assert rows[("灵川县", "major_hazards_found")].unit_type == "county"
    assert rows[("灵川县", "major_hazards_found")].parent == "桂林市"
    assert rows[("桂林市", "major_hazards_found")].value == 79
    assert rows[("桂林市", "fines")].value == 210
    assert "工贸" not in set(panel["unit"])                           # sectors are not units
    assert len(panel) == 5


def test_cli_audits_a_folder_with_one_summary(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["audit", str(SEEDS), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = pd.read_csv(out / "summary.csv")
    assert summary["source_file"].tolist() == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert summary["contradicted"].tolist() == [0, 0, 0, 0, 3]          # 巴南's three shares
    claims = pd.read_csv(out / "audit.csv")
    assert len(claims) == summary["claims"].sum()
    assert f"5 documents: {summary['figures'].sum()} figures" in printed
    assert "to read: 004_cbdbebe7b7ee4dcd.txt" in printed
    (tmp_path / "empty").mkdir()
    assert cli.main(["audit", str(tmp_path / "empty")]) == 2


def test_cli_to_table_ingests(tmp_path, capsys):
    from anquan_analysis.ingest import ingest
    dest = tmp_path / "guilin.csv"
    assert cli.main(["audit", str(SEEDS / GUILIN), "--to-table", str(dest), "--period", "2024-06",
                     "--parent", "桂林市"]) == 0
    table = pd.read_csv(dest, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["单位", "单位类型", "上级", "期间", "口径", "重大事故隐患排查数",
                                   "部门检查发现重大事故隐患", "企业自查发现重大事故隐患"]
    assert table["单位"].tolist() == ["灵川县", "兴安县", "资源县", "七星区", "临桂区", "全州县",
                                    "平乐县", "龙胜县", "合计"]
    assert table["重大事故隐患排查数"].tolist() == ["10", "9", "9", "1", "1", "1", "1", "0", "79"]
    assert table.iloc[-1, -2:].tolist() == ["72", "7"]
    assert set(table["口径"]) == {"累计"} and set(table["上级"]) == {"桂林市"}
    ds = ingest([dest])
    assert len(ds.rejects) == 0 and len(ds.panel) == 8
    major = ds.reconciliation.set_index("indicator").loc["major_hazards_found"]
    assert (major["stated"], major["sum_of_units"]) == (79, 32)
    # a bulletin with no single period in its head needs --period
    assert cli.main(["audit", str(SEEDS / BANAN), "--to-table", str(tmp_path / "b.csv")]) == 2
    assert "--period" in capsys.readouterr().err


def test_cli_writes_tables(tmp_path):
    src = tmp_path / "b.txt"
    src.write_text("排查重大事故隐患80项，其中部门检查发现72项，企业自查发现7项。", encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["audit", str(src), "--output", str(out), "--format", "xlsx"]) == 0
    claims = pd.read_excel(out / "audit.xlsx", engine="openpyxl")
    assert claims.loc[0, "status"] == "contradicted"
    assert len(pd.read_excel(out / "figures.xlsx", engine="openpyxl")) == 3
    assert cli.main(["audit", str(tmp_path / "nope.txt")]) == 2
