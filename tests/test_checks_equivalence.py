"""The performance work of issue 6 changed how the checks compute, never what: every
check returns exactly the findings it returned before (a stored reference, computed
by tests/reference/checks_findings_reference.py with the code as it stood before),
and the same findings whether the panel's text columns are str (the contract) or
categorical (``dataset.compact_panel``, what large panels are loaded as)."""

from __future__ import annotations

from pathlib import Path

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


def test_findings_equal_the_reference_from_before_the_optimisation(city):
    ref, _ = city
    expected = pd.read_parquet(REFERENCE)
    got = ref.all_findings()
    assert len(expected) == 175
    assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


@pytest.mark.parametrize("period", [None, "2025-12"])
def test_categorical_panel_gives_the_same_findings(city, period):
    _, c = city
    compact = compact_panel(c.panel)
    assert isinstance(compact["unit"].dtype, pd.CategoricalDtype)
    for check_id in CHECKS:
        a = CHECKS[check_id](c.panel, exposure=c.exposure, period=period)
        b = CHECKS[check_id](compact, exposure=c.exposure, period=period)
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
