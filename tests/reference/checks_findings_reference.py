"""Writes tests/reference/checks_findings_midsize.parquet: every check's findings on a
mid-size synthetic city (``make_city(seed=5, n_units=120, n_months=24)``), for the whole
panel and for its last month, computed with the check code as it stood *before* the
performance work of issue 6.  tests/test_checks_equivalence.py asserts that the
optimised checks still return exactly these findings.

Regenerate only when a check's method is changed on purpose (not for speed):
    .venv/bin/python tests/reference/checks_findings_reference.py
"""

import inspect
from pathlib import Path

import pandas as pd

from anquan_analysis.checks import CHECKS
from anquan_analysis.synth import make_city

OUT = Path(__file__).with_name("checks_findings_midsize.parquet")
SEED, N_UNITS, N_MONTHS = 5, 120, 24


def takes_exposure(check_id, city) -> dict:
    """``exposure=`` for the checks that compare units with their size."""
    return ({"exposure": city.exposure}
            if "exposure" in inspect.signature(CHECKS[check_id]).parameters else {})


def all_findings() -> pd.DataFrame:
    """Findings of every check, for period None and the last month, stacked with a
    ``_period_arg`` column naming the call."""
    city = make_city(seed=SEED, n_units=N_UNITS, n_months=N_MONTHS)
    frames = []
    for period in (None, city.periods[-1]):
        for check_id in CHECKS:
            f = CHECKS[check_id](city.panel, period=period, **takes_exposure(check_id, city))
            frames.append(f.assign(_period_arg=period or "all"))
    return pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    df = all_findings()
    df.to_parquet(OUT, index=False)
    print(f"{len(df)} findings -> {OUT}")
    print(df.groupby(["_period_arg", "check"]).size().to_string())
