"""repeated_value: one unit reporting the same figure period after period.

See the package docstring for the conventions every balance check follows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from scipy import special, stats
from ...dataset import as_text
from ...findings import empty_findings
from ._common import _bh_of, _coded, _finish, _fmt, _fmt_p, _ordinal, _prepare


# ------------------------------------------------------------------- repeated_value

def _log_run_chance(mean, var_ratio, length, exact_sd: float = 30.0) -> np.ndarray:
    """log Σ_{k≥1} P(X = k)^L: the log chance that L given consecutive draws are
    equal and positive, for X Poisson(mean) when ``var_ratio`` ≥ 1 and a normal
    with variance var_ratio·mean discretised to the integers ≥ 0 when it is below 1.
    Exact on a grid where the standard deviation is at most ``exact_sd``; above,
    the normal approximation (2πσ²)^(−(L−1)/2)/√L."""
    mean, ratio, length = (np.asarray(a, dtype="float64") for a in (mean, var_ratio, length))
    ratio = np.minimum(ratio, 1.0)
    sd = np.sqrt(ratio * mean)
    out = np.empty(mean.shape)
    big = sd > exact_sd
    out[big] = -(length[big] - 1) / 2 * np.log(2 * np.pi * sd[big] ** 2) - 0.5 * np.log(length[big])
    small = np.flatnonzero(~big)
    # Rows in blocks of similar mean, each on a grid reaching its own largest mean
    # (+12 sd): one grid sized by the largest mean of all rows cost gigabytes and
    # tens of seconds at province scale; the terms it adds beyond are below e^-70.
    small = small[np.argsort(mean[small], kind="stable")]
    for block in np.array_split(small, max(1, -(-len(small) // 2048))):
        if not len(block):
            continue
        m, r, lv, s = mean[block, None], ratio[block, None], length[block, None], sd[block, None]
        k_max = int(np.ceil((mean[block] + 12 * np.sqrt(mean[block])).max())) + 10
        k = np.arange(0, k_max + 1, dtype="float64")[None, :]
        pois = stats.poisson.logpmf(k, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            dens = -0.5 * ((k - m) / s) ** 2
        dens = dens - special.logsumexp(dens, axis=1, keepdims=True)
        logpmf = np.where(r >= 1.0, pois, dens)[:, 1:]
        out[block] = special.logsumexp(lv * logpmf, axis=1)
    return out


def _runs(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs of equal figures in consecutive periods of each series (unit × indicator
    × frequency), found on integer codes in one sorted pass, and each series' moments.
    Runs: _series, _run (numbered in series and time order), observed (the figure),
    statistic (its length), _first and _last (positions in ``df`` of the run's first
    and last rows) and _last_period (the code of the last row's period, see
    ``_coded``).  Moments: _series, T, expected (mean), s1 (sum), s2 (sum of
    squares)."""
    period_code, names = _coded(df, "period")
    present = names != ""
    pos_of = np.zeros(len(names), dtype=np.int64)
    freq_of = np.zeros(len(names), dtype=np.int64)
    if present.any():
        pos, freq = _ordinal(pd.Series(names[present].astype(str)))
        # frequencies coded in the order of their letters, as a sort on the text
        pos_of[present], freq_of[present] = pos.to_numpy(), pd.factorize(freq, sort=True)[0]
    pos, freq = pos_of[period_code], freq_of[period_code]
    unit = df["_unit_code"].to_numpy().astype(np.int64)
    ind = df["_indicator_code"].to_numpy().astype(np.int64)
    # one int64 key in the order (unit, indicator, frequency, position): a single
    # argsort is several times faster than a lexsort over four keys
    span = [int(a.max()) - int(a.min()) + 1 if len(a) else 1 for a in (ind, freq, pos)]
    key = ((unit * span[0] + ind - ind.min(initial=0)) * span[1]
           + freq - freq.min(initial=0)) * span[2] + pos - pos.min(initial=0)
    order = np.argsort(key, kind="stable")
    unit, ind, freq, pos = unit[order], ind[order], freq[order], pos[order]
    value = df["value"].to_numpy()[order]
    new_series = np.ones(len(order), dtype=bool)
    new_series[1:] = (unit[1:] != unit[:-1]) | (ind[1:] != ind[:-1]) | (freq[1:] != freq[:-1])
    new_run = new_series.copy()
    new_run[1:] |= (value[1:] != value[:-1]) | (pos[1:] != pos[:-1] + 1)
    series = np.cumsum(new_series) - 1
    starts = np.flatnonzero(new_run)
    length = np.diff(np.append(starts, len(order)))
    ends = starts + length - 1
    runs = pd.DataFrame({
        "_series": series[starts], "_run": np.arange(len(starts)),
        "observed": value[starts], "statistic": length.astype(np.int64),
        "_first": order[starts], "_last": order[ends],
        "_last_period": period_code[order[ends]]})
    v = pd.Series(value)
    g = pd.DataFrame({"v": v, "sq": v ** 2}).groupby(series, sort=True)
    moments = pd.DataFrame({"T": g["v"].size(), "expected": g["v"].mean(),
                            "s1": g["v"].sum(), "s2": g["sq"].sum()})
    return runs, moments.rename_axis("_series").reset_index()


def repeated_value(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                   min_run: int = 3, min_ratio: float = 0.1, info_p: float = 1e-3,
                   alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """One unit reporting the same positive figure in consecutive periods.

    For each unit and count indicator, the longest run of equal positive values
    in consecutive periods (with ``period=P``: the run ending at P), length L in a
    series of T periods.  Null model: the unit's figures are independent draws with
    the series mean μ; Poisson, unless the unit's own figures *outside* the run (at
    least three of them) vary less than Poisson, variance/mean = φ < 1, when a
    normal with variance max(φ, ``min_ratio``)·μ is used.  Taking the steadier of
    the two keeps the test conservative: overdispersion only makes equal values
    rarer.  p = min(1, (T − L + 1)·Σ_{k≥1} P(X=k)^L), a union bound over start
    positions.  One test per series; BH across series; runs shorter than
    ``min_run`` are tested but not reported.

    Rows: period = the run's last period, observed = the repeated value,
    expected = μ, statistic = L.
    """
    df = _prepare(panel, period, counts_only=True, codes=True, text=False)
    df = df[df["value"] % 1 == 0]
    if df.empty:
        return empty_findings()
    runs, moments = _runs(df)
    if period is not None:
        runs = runs[_coded(df, "period")[1][runs["_last_period"].to_numpy()] == period]
    runs = runs[runs["observed"] > 0]
    # The longest run per series (the latest when equal).
    runs = runs.sort_values(["statistic", "_run"]).drop_duplicates("_series", keep="last")
    runs = runs.merge(moments, on="_series")
    # text only for the runs kept, one per series
    first = as_text(df.iloc[runs["_first"].to_numpy()],
                    ["unit", "unit_type", "indicator", "period"])
    last = as_text(df.iloc[runs["_last"].to_numpy()], ["period"])
    runs = runs.assign(unit=first["unit"].to_numpy(), unit_type=first["unit_type"].to_numpy(),
                       indicator=first["indicator"].to_numpy(),
                       start=first["period"].to_numpy(), period=last["period"].to_numpy())
    n_tests = int((moments["T"] >= min_run).sum())
    runs = runs[runs["T"] >= min_run]
    if runs.empty:
        return empty_findings()
    # The unit's variability outside the run.
    out_n = runs["T"] - runs["statistic"]
    out_mean = (runs["s1"] - runs["statistic"] * runs["observed"]) / out_n.where(out_n > 0)
    out_ss = runs["s2"] - runs["statistic"] * runs["observed"] ** 2
    out_var = (out_ss - out_n * out_mean ** 2) / (out_n - 1).where(out_n > 1)
    ratio = (out_var / out_mean.where(out_mean > 0)).where(out_n >= 3).fillna(1.0)
    ratio = ratio.clip(lower=min_ratio, upper=1.0)
    log_p = (np.log(runs["T"] - runs["statistic"] + 1)
             + _log_run_chance(runs["expected"], ratio, runs["statistic"]))
    runs["p_value"] = np.where(runs["statistic"] >= 2, np.exp(np.minimum(log_p, 0.0)), 1.0)
    runs["q_value"] = _bh_of(runs["p_value"].to_numpy(), n_tests)
    runs = runs[runs["statistic"] >= min_run]
    if runs.empty:
        return empty_findings()
    unit_word = runs["indicator"].map(catalogue.indicator_unit)
    runs["message"] = (runs["unit"] + runs["indicator"].map(catalogue.indicator_name)
                       + runs["start"] + "至" + runs["period"] + "连续"
                       + runs["statistic"].astype(int).astype(str) + "期均为"
                       + runs["observed"].map(_fmt) + unit_word + "，该单位均值"
                       + runs["expected"].map(lambda x: f"{x:.1f}")
                       + "，按其自身波动随机出现的概率约为" + runs["p_value"].map(_fmt_p))
    keep = ["unit", "unit_type", "period", "indicator", "observed", "expected", "statistic",
            "p_value", "q_value", "message"]
    return _finish(runs[keep], "repeated_value", info_p=info_p, alert=alert, warning=warning)


