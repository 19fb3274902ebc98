"""Changes of how the checks compute must not change what they find: every check
returns exactly the findings of a stored reference (tests/reference/
checks_findings_reference.py), regenerated only when a method changes on purpose:
issue 17 changed which of two equal figures of one report last_digit counts (4 of
175 rows); issue 12 gave the funnel a gamma model and underdispersion a null from
each member's own past, added matching_series, round_number and last_digit per
indicator, and made pinned_rate beta-binomial (175 -> 235 rows); issue 16 made
low_outlier, zero_report and pinned_rate judge every finding count of the catalogue
with one BH over the tested units of all of them (general hazards: 8 new info rows of
low_outlier; 黄桷镇's major-hazard low_outlier from alert to warning, q 0.0034 ->
0.0109, and the zero_report q-values of the larger family; 235 -> 243 rows); issue 12's
second round fitted the NB mixture by grid-then-Brent and tests at the posterior median
of its shape (区消防救援支队's major-hazard low_outlier from alert to warning; p, q and
expected counts of 26 low_outlier, 82 zero_report and 4 low_self_report rows) and gave
pinned_rate the fitted spread of rates between units (太平镇 warning -> alert, 云雾镇
new as alert, for the panel and its last month; 243 -> 245 rows); issue 12's third
round put an exponential prior (mean 0.25) on α = 1/k (same 245 rows and severities; p,
q and expected counts of the low_outlier and zero_report rows); issue 12's surge
round made surge beta-binomial, with the peers' totals' Poisson noise and the units'
month-to-month spread (same 245 rows; 区住房城乡建委 2025-02 alert -> warning, p
8.7e-06 -> 6.0e-05; 文峰街道 2025-01 stays alert, p 4.5e-08 -> 1.1e-06; upper of both
now the negative binomial's 99.9 % limit); issue 12's district
step gave group_shift a conditional count test of a step up (``count_step``) in place of
the run rules and ``step_test`` (same 245 rows, periods and severities; the 8
group_shift rows' statistic is the step's z, not the longest run, with their p, q and
message); issue 15 fitted
pinned_rate's spread and means by Newton to the maximum itself, where bounded Brent
had stopped within 1e-4 of log10 c (same 245 rows, severities and messages; 太平镇's
and 云雾镇's p and q 1.6e-5 to 1.9e-5 of themselves lower, their expected rate 3e-8,
for the panel and its last month); issue 12's flat-line round judged repeated_value
by the exact chance of the longest run (not the union bound over start positions)
with the variance ratio shrunk towards the peers' (245 -> 246 rows): 新桥镇's and
清溪镇's worker_training_persons at 30 for 24 months p 1.4e-27 -> 3.5e-51 (the peers'
ratio 113 in place of Poisson; for the panel and its last month), 新桥镇's
worker_training_sessions run of 22 at 1 p 8.2e-10 -> 6.2e-10 (the exact tail, Poisson),
all still alerts; 区住房城乡建委's worker_training_sessions at 13 for five months to
2025-11 a new info row (ratio 2.18, p 4.3e-4, q 0.22; whole panel only); issue 12's
district-step round weighted group_shift's months by the season of general hazards
and read φ off the units' own moving ranges (same 246 rows, periods 2025-05 and
severities, all alerts; the 8 group_shift rows' z, p and q: 全部单位 p 7.7e-07 ->
2.5e-21, 镇街 1.4e-32 -> 5.5e-17, 部门 1.3e-04 -> 3.2e-06, 国有公司 2.0e-04 ->
4.1e-04; their messages add the step after the season and the run rules read the
months with the season taken out), and their messages no longer end in "（p=…）" (the
p is in the table); issue 15 compiled surge's beta-binomial tail (exact where scipy's
1 − cdf is not: two surge rows' p and q 4.5e-7 of themselves lower) and sums the digit
checks' moments in another order (expected, p and q of 13 rows within 5e-16); issue 12's
pinned-run round tested a unit's latest run of periods at 100% on all its hazards
against its own earlier periods (246 -> 248 rows, the others unchanged): 区交通局
(planted with last-digit heaping, its rectified figures rounded to 5) a new alert, 62
general and 8 major hazards all rectified 2025-09 to 2025-12 after 305 of 374 and 16
of 19, p 1.4e-04, q 0.0063, for the panel and its last month.  Also: the same
findings whether the panel's text columns are str or categorical
(``dataset.compact_panel``, what large panels are loaded as)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from anquan_analysis.checks import CHECKS, run_checks
from anquan_analysis.dataset import Dataset, compact_panel
from anquan_analysis.synth import make_city, make_panel

REFERENCE = Path(__file__).parent / "reference" / "checks_findings_midsize.parquet"


@pytest.fixture(scope="module")
def city():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "checks_findings_reference", REFERENCE.with_name("checks_findings_reference.py"))
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    return ref, make_city(seed=ref.SEED, n_units=ref.N_UNITS, n_months=ref.N_MONTHS)


def test_findings_equal_the_stored_reference(city):
    ref, _ = city
    expected = pd.read_parquet(REFERENCE)
    got = ref.all_findings()
    assert len(expected) == 248
    assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


@pytest.mark.parametrize("period", [None, "2025-12"])
def test_categorical_panel_gives_the_same_findings(city, period):
    ref, c = city
    compact = compact_panel(c.panel)
    assert isinstance(compact["unit"].dtype, pd.CategoricalDtype)
    for check_id in CHECKS:
        a = CHECKS[check_id](c.panel, period=period, **ref.takes_exposure(check_id, c))
        b = CHECKS[check_id](compact, period=period, **ref.takes_exposure(check_id, c))
        assert_frame_equal(a, b, obj=check_id)


def test_benchmark_panel_runs_every_check_in_both_forms():
    # make_panel's layout (every unit × month × indicator, float32, categorical) is
    # what the scale benchmark feeds the checks.
    panel = make_panel(120, 8, 40, seed=1)
    text = panel.astype({c: "str" for c, t in panel.dtypes.items()
                         if isinstance(t, pd.CategoricalDtype)})
    exposure = pd.DataFrame({"unit": panel["unit"].cat.categories.astype("str"), "sector": "",
                             "enterprises": 50.0})
    a = run_checks(Dataset(panel=text, exposure=exposure), period="2024-08")
    b = run_checks(Dataset(panel=panel, exposure=exposure), period="2024-08")
    assert len(a) > 0
    assert_frame_equal(a, b)


def test_compact_panel_does_not_modify_its_input(city):
    _, c = city
    before = c.panel.dtypes.copy()
    out = compact_panel(c.panel)
    assert (c.panel.dtypes == before).all()
    assert out["unit"].astype("str").tolist() == c.panel["unit"].tolist()
    assert out.memory_usage(deep=True).sum() < c.panel.memory_usage(deep=True).sum() / 3


def test_agreeing_pair_far_apart_by_name_is_found_among_thirty():
    # One group of 30 towns with well separated levels; U08 and U20 agree their
    # figures (100 ± 1 each month).  Issue 12 moved pairs from underdispersion's
    # neighbours-by-level to matching_series, which tests every pair of the group
    # (here all 435) against each town's own figures.
    from anquan_analysis.checks import balance
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    rng = np.random.default_rng(0)
    rows = []
    for u in range(30):
        level = 20 + 10 * u
        for t, m in enumerate(months):
            v = 100 + (t + u) % 3 - 1 if u in (8, 20) else rng.poisson(level)
            rows.append((f"U{u:02d}", "town", "区", m, "units_inspected", float(v)))
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "parent", "period", "indicator",
                                     "value"])
    f = balance.matching_series(df.assign(approx=False))
    flagged = f[f["severity"] != "info"]
    assert set(flagged["unit"].dropna()) == {"U08", "U20"}
    assert flagged.loc[flagged["unit"] == "U08", "message"].item().startswith("U08与U20")
    assert balance.underdispersion(df.assign(approx=False)).empty


def test_window_totals_same_on_categorical_panel():
    from anquan_analysis import indicators as ind
    panel = make_panel(60, 6, 40, seed=2)
    text = panel.astype({c: "str" for c, t in panel.dtypes.items()
                         if isinstance(t, pd.CategoricalDtype)})
    for period in (None, "2024-04"):
        a = ind.window_totals(text, ["major_hazards_found", "drills"], period=period)
        b = ind.window_totals(panel, ["major_hazards_found", "drills"], period=period)
        assert_frame_equal(a, b, check_dtype=False)
        assert a["n_periods"].max() == (6 if period is None else 4)
