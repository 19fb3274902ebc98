"""run_checks, the CHECKS registry, `anquan check`, and detection on the synthetic city."""

import numpy as np
import pandas as pd
import pytest

import anquan_analysis.checks as checks_module
from anquan_analysis import cli, forked
from anquan_analysis.checks import CHECKS, run_checks, summarise
from anquan_analysis.dataset import Dataset
from anquan_analysis.findings import CHECK_FAMILIES, FINDINGS_COLUMNS
from anquan_analysis.synth import make_city

MINE = ["low_outlier", "zero_report", "surge", "group_shift", "low_self_report",
        "sector_concentration"]


@pytest.fixture(scope="module")
def city():
    c = make_city(seed=0)
    return c, Dataset(panel=c.panel, exposure=c.exposure, ledger=c.ledger)


def test_registry_is_a_plain_dict_of_every_check_family():
    assert type(CHECKS) is dict and list(CHECKS) == list(CHECK_FAMILIES)
    assert all(fn.__name__ == check_id for check_id, fn in CHECKS.items())
    with pytest.raises(ValueError, match="unknown check"):
        run_checks(Dataset(panel=pd.DataFrame(columns=["unit", "period", "indicator", "value"])),
                   checks=["nonsense"])


def test_run_checks_finds_the_injected_anomalies(city):
    c, ds = city
    before = ds.panel.copy()
    f = run_checks(ds, checks=MINE)
    assert list(f.columns) == FINDINGS_COLUMNS
    flagged = f.loc[f["severity"] != "info"]
    for row in c.truth.loc[c.truth["kind"].isin(["low_outlier", "zero_report",
                                                   "low_self_report"])].itertuples():
        assert row.unit in set(flagged.loc[flagged["check"] == row.kind, "unit"]), row
    shift = c.truth.loc[c.truth["kind"] == "group_shift"].iloc[0]
    g = flagged.loc[(flagged["check"] == "group_shift") & flagged["unit"].isna()]
    assert shift["period"] in set(g["period"])
    assert (flagged["check"] == "sector_concentration").any()
    # false alarms: clean units with a warning or alert from these checks
    dirty = set(c.truth["unit"]) - {""}
    clean_flagged = set(flagged["unit"].dropna()) - dirty
    assert len(clean_flagged) <= 0.05 * (c.panel["unit"].nunique() - len(dirty))
    pd.testing.assert_frame_equal(ds.panel, before)
    # severities sorted alert first
    order = f["severity"].map({"alert": 0, "warning": 1, "info": 2}).to_numpy()
    assert (np.diff(order) >= 0).all()


def test_clean_city_raises_few_warnings():
    c = make_city(seed=1, inject=False)
    f = run_checks(Dataset(panel=c.panel, exposure=c.exposure, ledger=c.ledger), checks=MINE)
    flagged = f.loc[(f["severity"] != "info") & f["unit"].notna()]
    assert flagged["unit"].nunique() <= 0.02 * c.panel["unit"].nunique()


def test_options_reach_one_check_and_unknown_options_fail(city):
    _, ds = city
    loose = run_checks(ds, checks=["low_outlier"], low_outlier={"info_p": 1.0})
    strict = run_checks(ds, checks=["low_outlier"], low_outlier={"info_p": 0.0})
    assert len(loose) > len(strict) > 0
    with pytest.raises(ValueError, match="unknown check"):
        run_checks(ds, checks=["low_outlier"], info_p=0.5)
    with pytest.raises(TypeError, match="no_such"):  # a threshold the check does not have
        run_checks(ds, checks=["surge"], surge={"no_such": 1})
    s = summarise(strict)
    assert list(s.columns) == ["check", "info", "warning", "alert", "total"]
    assert s["total"].sum() == len(strict)


def test_cli_check_on_raw_files_and_saved_folder(tmp_path, capsys):
    rows = []
    rng = np.random.default_rng(0)
    for i in range(12):
        for m in range(1, 7):
            v = 0 if i == 0 else rng.poisson(3)
            rows.append({"单位": f"{i:02d}镇", "单位类型": "镇街", "期间": f"2024-{m:02d}",
                         "重大事故隐患排查数": v})
    reports = tmp_path / "reports.csv"
    pd.DataFrame(rows).to_csv(reports, index=False)
    exposure = tmp_path / "exposure.csv"
    pd.DataFrame({"单位": [f"{i:02d}镇" for i in range(12)], "监管企业数": [300] + [100] * 11}) \
        .to_csv(exposure, index=False)
    out = tmp_path / "findings.csv"
    code = cli.main(["check", str(reports), "--exposure", str(exposure), "--output", str(out),
                     "--checks", "low_outlier,zero_report"])
    assert code == 0
    f = pd.read_csv(out)
    assert set(f.loc[f["severity"] != "info", "unit"]) == {"00镇"}
    printed = capsys.readouterr().out
    assert "low_outlier:" in printed and "total:" in printed
    # a folder written by Dataset.save is accepted too, and .xlsx output
    from anquan_analysis.ingest import ingest
    ingest([reports, exposure]).save(tmp_path / "saved")
    out2 = tmp_path / "findings.xlsx"
    assert cli.main(["check", str(tmp_path / "saved"), "--output", str(out2),
                     "--period", "2024年6月", "--checks", "low_outlier"]) == 0
    # the workbook `anquan assess` writes: Chinese sheets, the header below two title rows
    sheet = pd.read_excel(out2, engine="openpyxl", sheet_name="末位与零报送", header=2)
    assert sheet["单位"].tolist()[0] == "00镇" and sheet["检查项目"].tolist()[0] == "排查数显著偏低"


def test_cli_check_bad_input(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "missing.csv"), "--output",
                     str(tmp_path / "f.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "r.csv").write_text("单位,期间,重大事故隐患排查数\nA,2024-01,1\n", encoding="utf-8")
    assert cli.main(["check", str(tmp_path / "r.csv"), "--output", str(tmp_path / "f.txt")]) == 2
    assert ".csv or .xlsx" in capsys.readouterr().err
    assert cli.main(["check", str(tmp_path / "r.csv"), "--output", str(tmp_path / "f.csv"),
                     "--period", "someday"]) == 2
    assert "not a period" in capsys.readouterr().err


def test_run_checks_names_the_type_it_needs():
    frame = pd.DataFrame({"unit": ["甲"], "period": ["2024-01"], "indicator": ["drills"],
                          "value": [1.0]})
    with pytest.raises(TypeError, match="run_checks takes a Dataset.*not DataFrame"):
        run_checks(frame)


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here")
def test_checks_shared_with_a_forked_process_give_the_same_findings(city, monkeypatch):
    _, ds = city
    serial = run_checks(ds, parallel=False)
    pids = []
    real = forked._fork

    def counted():
        pid = real()
        pids.append(pid)
        return pid

    monkeypatch.setattr(forked, "_fork", counted)
    pd.testing.assert_frame_equal(run_checks(ds, parallel=True), serial)
    assert len(pids) == 1                   # one child took matching_series and a share
    assert (serial["check"] == "matching_series").any()
    some = ["surge", "low_outlier", "matching_series"]
    pd.testing.assert_frame_equal(run_checks(ds, checks=some, parallel=True),
                                  run_checks(ds, checks=some, parallel=False))
    assert len(pids) == 2
    run_checks(ds)                          # the city is small: by default nothing forked
    run_checks(ds, checks=["surge", "low_outlier"], parallel=True)  # no matching_series
    assert len(pids) == 2


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here")
def test_an_error_of_a_check_run_in_the_child_is_raised_here(city, monkeypatch):
    _, ds = city

    def broken(panel, **kw):
        raise RuntimeError("matching_series broke")

    monkeypatch.setitem(CHECKS, "matching_series", broken)
    with pytest.raises(RuntimeError, match="matching_series broke"):
        run_checks(ds, checks=["surge", "matching_series"], parallel=True)


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here")
def test_an_error_here_stops_the_child(city, monkeypatch):
    _, ds = city
    shared = []
    real = checks_module.share_values

    def kept(jobs, **kw):
        shared.append(real(jobs, **kw))
        return shared[-1]

    def broken(panel, **kw):
        raise RuntimeError("surge broke")

    monkeypatch.setattr(checks_module, "share_values", kept)
    monkeypatch.setitem(CHECKS, "surge", broken)
    with pytest.raises(RuntimeError, match="surge broke"):
        run_checks(ds, checks=["matching_series", "surge"], parallel=True)
    assert len(shared) == 1 and shared[0].pid is None   # stopped and waited for


def test_one_cpu_shares_nothing_by_default(monkeypatch):
    import anquan_analysis.checks as C

    monkeypatch.setattr(C, "BESIDE_MIN_CELLS", 0)        # any panel is large enough
    calls = []
    monkeypatch.setattr(C, "share_values", lambda jobs, **kw: calls.append(jobs) or
                        forked.share_values(jobs, parallel=False))
    ds = Dataset(panel=make_city(seed=2, n_units=40, n_months=8, inject=False).panel)
    monkeypatch.setattr(C, "cpus_available", lambda: 1)
    one = run_checks(ds, checks=["matching_series", "surge"])
    assert calls == []
    monkeypatch.setattr(C, "cpus_available", lambda: 2)
    pd.testing.assert_frame_equal(run_checks(ds, checks=["matching_series", "surge"]), one)
    assert len(calls) == 1


def test_every_check_has_a_place_in_the_shared_order():
    import anquan_analysis.checks as C

    order = C.BESIDE + C.BY_COST
    assert sorted(order) == sorted(CHECKS) and len(set(order)) == len(order)
