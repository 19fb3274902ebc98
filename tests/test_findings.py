import numpy as np
import pandas as pd
import pytest

from anquan_analysis import findings as F
from anquan_analysis.checks._stats import bh_adjust


def test_make_findings_orders_columns_and_fills_family():
    raw = pd.DataFrame({"severity": ["alert"], "check": ["low_outlier"], "unit": ["区教委"],
                        "observed": [0], "p_value": [0.001]})
    out = F.make_findings(raw)
    assert list(out.columns) == F.FINDINGS_COLUMNS
    assert out.loc[0, "family"] == "outliers"
    assert out.loc[0, "observed"] == 0.0 and out["observed"].dtype == "float64"
    assert pd.isna(out.loc[0, "period"])
    assert list(raw.columns) == ["severity", "check", "unit", "observed", "p_value"]  # input untouched


def test_make_findings_rejects_unknown_severity():
    with pytest.raises(ValueError, match="unknown severity"):
        F.make_findings(pd.DataFrame({"check": ["x"], "severity": ["urgent"]}))


def test_bh_adjust_by_hand():
    # p sorted: 0.01, 0.02, 0.03, 0.04 (m=4): p*m/rank = .04, .04, .04, .04 -> monotone .04 each
    q = bh_adjust([0.04, 0.01, np.nan, 0.03, 0.02])
    assert q[1] == pytest.approx(0.04) and q[0] == pytest.approx(0.04)
    assert np.isnan(q[2])
    # 0.001, 0.2 with m=2: 0.002, 0.2
    assert bh_adjust([0.2, 0.001]) == pytest.approx([0.2, 0.002])


def test_severity_from_q():
    assert list(F.severity_from_q([0.005, 0.03, 0.2, np.nan])) == ["alert", "warning", "info", "info"]


def test_concat_findings_sorts_alerts_first():
    a = F.make_findings(pd.DataFrame({"check": ["surge"], "severity": ["info"], "unit": ["甲"]}))
    b = F.make_findings(pd.DataFrame({"check": ["zero_report"], "severity": ["alert"], "unit": ["乙"]}))
    out = F.concat_findings([a, b, F.empty_findings()])
    assert list(out["severity"]) == ["alert", "info"]
    assert len(F.concat_findings([])) == 0


@pytest.mark.parametrize("x, text", [(3.0, "3"), (0.5, "0.5"), (2.25, "2.25"), (3.104, "3.1"),
                                     (1234567.0, "1234567"), (0.005, "0.01"), (-2.0, "-2")])
def test_figure_text_prints_integers_plainly_and_at_most_two_decimals(x, text):
    assert F.figure_text(x) == text
