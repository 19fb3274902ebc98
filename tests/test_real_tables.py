"""The real corpus through the whole chain (issue 16): every table of data/raw/real/,
as a new user would run it, `anquan assess --all --data <folder> --output <tmp>` in a
fresh process.  No traceback, a report per period, and what a careful reader of each
bulletin sees (data/raw/real/README.md) printed in the report: 亳州's 631 against 630
and 623 against 620, 大通's 20 zeros of 22, 亳州's general hazards at 100 % in every
unit, 桂林's 8.86 % self-report share from the 合计 row alone, and the sentences that say
what the data lack (one period, no exposure, no key indicator)."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from anquan_analysis import assessment as A
from anquan_analysis.checks import run_checks

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "raw" / "real"
TABLES = sorted(p.name for p in REAL.iterdir() if p.is_dir())
# each table holds one month; --all assesses it as a month and as its quarter
PERIODS = {"banan_2023": ("2023-10", "2023Q4"), "bozhou_2023q4": ("2023-12", "2023Q4"),
           "chengde_2008_10": ("2008-10", "2008Q4"),
           "chizhou_2020_07_transport": ("2020-07", "2020Q3"),
           "datong_2020_10": ("2020-10", "2020Q4"), "guilin_2024h1": ("2024-06", "2024Q2")}
ONE_PERIOD = "突击上报需至少4期数据（截至本期仅1期）；整体阶跃需至少8期数据（截至本期仅1期），本节从略。"
NO_EXPOSURE = "按同类单位平均水平比较（未提供监管企业数）"


def _text(notebook: Path) -> str:
    """Every output of an executed notebook as plain text (tags stripped), cells
    joined by new lines: what the reader of the report sees."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            out.append("".join(cell["source"]))
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            body = data.get("text/html") or data.get("text/markdown") or o.get("text") or ""
            body = "".join(body) if isinstance(body, list) else body
            body = re.sub(r"<style.*?</style>", "", body, flags=re.S)
            out.append(html.unescape(re.sub(r"<[^>]+>", " ", body)))
    return "\n".join(out)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """{table: (completed process, reports folder)}: `anquan assess --all` of each."""
    anquan = Path(sys.executable).with_name("anquan")
    cmd = [str(anquan)] if anquan.exists() else [
        sys.executable, "-c", "import sys; from anquan_analysis.cli import main; sys.exit(main())"]
    # three at a time: a run mostly waits for its kernels to start (about 25 s for
    # two periods, 4 s of it CPU), so running them side by side halves the wait
    out, running, todo = {}, {}, list(TABLES)
    while todo or running:
        while todo and len(running) < 3:
            name = todo.pop(0)
            folder = tmp_path_factory.mktemp(name)
            proc = subprocess.Popen(cmd + ["assess", "--all", "--data", str(REAL / name),
                                           "--output", str(folder)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    cwd=ROOT)
            running[name] = (proc, folder)
        name = next(iter(running))
        proc, folder = running.pop(name)
        stdout, stderr = proc.communicate(timeout=900)
        out[name] = (subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr),
                     folder)
    return out


def _report(reports, name, period) -> str:
    return _text(reports[name][1] / period / "assessment.ipynb")


def test_the_corpus_is_the_one_the_readme_lists():
    assert TABLES == sorted(PERIODS)


@pytest.mark.parametrize("name", sorted(PERIODS))
def test_every_table_runs_end_to_end_with_a_report_per_period(reports, name):
    done, folder = reports[name]
    assert done.returncode == 0, done.stderr[-2000:]
    for stream in (done.stdout, done.stderr):
        assert "Traceback" not in stream and "Error" not in stream, stream[-2000:]
    assert f"assessed 2/2 periods" in done.stdout
    for period in PERIODS[name]:
        for file in ("assessment.ipynb", "assessment.html", "findings.xlsx", "bulletin.docx",
                     "summary.json"):
            assert (folder / period / file).is_file(), (period, file)
        status = json.loads((folder / period / "status.json").read_text(encoding="utf-8"))
        assert status["status"] == "ok"
        text = _report(reports, name, period)
        assert "Traceback" not in text
        # one period everywhere: never "未发现突击上报", never 长期
        assert ONE_PERIOD in text if name != "chizhou_2020_07_transport" else "本节从略" in text
        assert "本期未发现突击上报" not in text and "长期" not in text
    assert (folder / "index.html").is_file()


def test_bozhou_mismatches_are_named_in_the_report_and_the_draft(reports):
    text = _report(reports, "bozhou_2023q4", "2023-12")
    quality = text[text.index("## 八、数据质量"):text.index("## 九、存在的主要问题")]
    for stated, units, diff, what in ((630, 631, 1, "排查数"), (620, 623, 3, "整改数")):
        line = (f"重大事故隐患{what}合计{stated}项，所列单位之和{units}项，合计与所列单位之和相差"
                f"{diff}项，所列单位之和多于合计，需核实是否重复统计或合计有误")
        assert line in quality
    draft = json.loads((reports["bozhou_2023q4"][1] / "2023-12" / "summary.json")
                       .read_text(encoding="utf-8"))["draft"]
    assert "重大事故隐患排查数合计630项，所列单位之和631项" in draft
    assert "重大事故隐患整改数合计620项，所列单位之和623项" in draft
    # the headline gives the units' sum and the 合计 row's own
    assert "共排查重大事故隐患631项（合计行630项），整改623项" in text
    assert "读入时没有被拒绝的数据" in text  # nothing was rejected, and the mismatch is not hidden


def test_bozhou_general_hazards_at_100_percent_in_every_unit(reports):
    text = _report(reports, "bozhou_2023q4", "2023-12")
    assert ("全部7个单位2023-12一般隐患排查数共122002项，一般隐患整改数122002项，每个单位的整改率均为"
            "100%，没有整改率低于100%的单位可作比较，需核实整改是否真实到位。") in text
    draft = json.loads((reports["bozhou_2023q4"][1] / "2023-12" / "summary.json")
                       .read_text(encoding="utf-8"))["draft"]
    assert "全部7个单位2023年1—12月累计一般隐患排查数共122002项" in draft
    # one period: 整改率为100%, not 各期
    assert "谯城区重大事故隐患整改率为100%" in draft and "各期" not in draft


def test_datong_zeros_are_found(reports):
    text = _report(reports, "datong_2020_10", "2020-10")
    assert "22个单位中20个2020-10一般隐患排查数报送为0，仅上窑镇、区教体局2个单位报送了一般隐患排查数。" in text
    a = A.run_assessment(REAL / "datong_2020_10", "2020-10", "month")
    zeros = a.findings.loc[(a.findings["check"] == "zero_report") & a.findings["unit"].notna()]
    assert len(zeros) == 20 and set(zeros["indicator"]) == {"general_hazards_found"}
    assert "上窑镇" not in set(zeros["unit"]) and "区教体局" not in set(zeros["unit"])
    # the key indicator is general hazards, the one the table has
    assert a.key_indicator == "general_hazards_found"
    assert "2020年10月，22个单位报送调度数据，共排查一般隐患8项。" in text


def test_guilin_self_report_share_from_the_total_row(reports):
    text = _report(reports, "guilin_2024h1", "2024-06")
    source = text[text.index("## 七、来源结构"):text.index("## 八、数据质量")]
    assert re.search(r"合计（合计行）\s+72\s+7\s+79\s+8\.86", source)
    # the units give no split: a blank, not 0 %
    assert not re.search(r"合计\s+0\s+0\s+32\s+0\b", source)
    quality = text[text.index("## 八、数据质量"):]
    assert "所列单位未报送分项" in quality
    assert "合计与所列单位之和相差47项，合计可能包含表中未列出的单位，不一定是差错" in quality


def test_what_the_data_lack_is_said_in_the_report(reports):
    guilin = _report(reports, "guilin_2024h1", "2024-06")
    assert NO_EXPOSURE in guilin and "监管企业数 " not in guilin.split("## 三")[0].split("## 二")[1]
    assert "2024年1—6月累计评估" in guilin and "2024年6月评估" not in guilin
    assert ("本期数据口径为累计（2024年1—6月累计），且为第一期累计数，无法分出当期数：以下各节均按累计数"
            "评估，不与各月当期数比较。") in guilin
    chizhou = _report(reports, "chizhou_2020_07_transport", "2020-07")
    ranking = chizhou[chizhou.index("## 二、排名"):chizhou.index("## 三、末位与零报送")]
    assert ranking.split() == ["##", "二、排名",
                               "本期数据未包含重大事故隐患排查数、一般隐患排查数、火灾隐患排查数，本节从略。"]


def test_banan_peers_are_not_set_by_one_department():
    """区应急局's 46 no longer puts every department at about 5: the departments'
    median (0) gives no expectation, so the 21 zeros are listed, not judged, and the
    report says that 21 of 24 units report 0."""
    a = A.run_assessment(REAL / "banan_2023", "2023-10", "month")
    f = a.funnel.set_index("unit")
    assert f["expected"].isna().all()
    assert "本期同类单位的中位数为0，无法测算期望值，下表按数量排列。" in A.ranking_intro(a)
    rows = a.findings.loc[a.findings["check"] == "zero_report"]
    assert (rows["unit"].notna() & (rows["severity"] == "info")).sum() == 21
    group = rows.loc[rows["unit"].isna()].iloc[0]
    assert group["severity"] == "warning" and group["observed"] == 21


def test_chengde_suspensions_and_zero_sectors():
    a = A.run_assessment(REAL / "chengde_2008_10", "2008-10", "month")
    rules = a.findings.loc[a.findings["check"] == "rule_violation"]
    assert ["煤矿", "suspensions", 6.0, 2.0] in rules[["unit", "indicator", "observed",
                                                        "expected"]].values.tolist()
    zero = a.findings.loc[a.findings["check"] == "zero_report", "unit"]
    assert sorted(zero) == ["城市燃气", "道路交通"]


def test_checks_alone_on_the_corpus_find_general_hazards_too():
    from anquan_analysis.ingest import ingest

    ds = ingest([REAL / "datong_2020_10" / "reports.csv"])
    f = run_checks(ds, period="2020-10", checks=["zero_report"])
    assert (f["indicator"] == "general_hazards_found").all() and len(f) == 21
