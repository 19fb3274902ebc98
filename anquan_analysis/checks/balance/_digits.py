"""last_digit and benford: heaping on final digits, first digits against Benford.

See the package docstring for the conventions every balance check follows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from ...dataset import as_text
from ...findings import bh_adjust, empty_findings, make_findings, severity_from_q
from ._common import BENFORD_P, _finish, _fmt, _fmt_p, _prepare, _series_moments


# ----------------------------------------------------------------------- last_digit

def _heap_share(mean, var, min_value: float, flat_sd: float = 25.0) -> np.ndarray:
    """Chance that a figure ≥ ``min_value`` ends in 0 or 5 when the series is normal
    with this mean and variance (floored at the mean), discretised to integers and
    cut at ``min_value``: near a small mean the cut makes 10 itself common.  0.2
    where the standard deviation exceeds ``flat_sd`` (the digits are then flat)."""
    mean = np.asarray(mean, float)
    sd = np.sqrt(np.maximum(np.nan_to_num(np.asarray(var, float), nan=0.0), mean))
    out = np.full(mean.shape, 0.2)
    narrow = np.flatnonzero(sd <= flat_sd)
    # Series in blocks of similar mean, each on a grid reaching its own largest
    # mean + 10 sd: one grid for all, sized by the largest, cost gigabytes.
    narrow = narrow[np.argsort(mean[narrow], kind="stable")]
    for block in np.array_split(narrow, max(1, -(-len(narrow) // 2048))):
        if not len(block):
            continue
        m, s = mean[block, None], np.maximum(sd[block, None], 0.5)
        top = int(np.ceil((mean[block] + 10 * sd[block]).max())) + 10
        v = np.arange(int(np.ceil(min_value)), max(top, int(min_value) + 10) + 1)[None, :]
        w = np.exp(-0.5 * ((v - m) / s) ** 2)
        total = w.sum(axis=1)
        heap = (w * (v % 5 == 0)).sum(axis=1)
        out[block] = np.where(total > 0, heap / np.where(total > 0, total, 1.0), 0.2)
    return out


def last_digit(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
               min_value: float = 10, min_n: int = 10, share: float = 0.2,
               info_p: float = 1e-3, alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Heaping on final digits 0 and 5, per unit.

    A unit's integer figures ≥ ``min_value`` on count indicators, pooled over all
    indicators and the periods up to P (figures typed as approximate excluded; a
    figure equal to another of the same report counted once).
    Null model: final digits uniform, so a figure ends in 0 or 5 with probability
    ``share`` = 0.2 (the reference of election forensics) — except on series too
    narrow for the digits to be flat (sd ≤ 25), where cutting at ``min_value`` makes
    small round numbers (10, 15) more likely: there the figure's chance is taken
    from a normal with the series' own mean and variance (``_heap_share``), never
    below 0.2.  Exact one-sided binomial tail P(K ≥ k | n, mean chance), which is
    conservative for the Poisson-binomial.  Units with fewer than ``min_n``
    figures are not tested.

    One row per flagged unit: period = P (blank when pooled over all periods),
    observed = the share ending in 0/5, expected = the share expected,
    upper = its 95% binomial upper bound, statistic = the count k.
    """
    df = _prepare(panel, period, counts_only=True, text=False)  # text only per unit
    mom = _series_moments(df)
    df = df[(df["value"] >= min_value) & (df["value"] % 1 == 0) & ~df["approx"].astype(bool)]
    # A figure repeated within one report counts once: rectified = found at 100%,
    # drills = drill enterprises, parts = total copy the same final digit.
    df = df.drop_duplicates(["unit", "period", "value"])
    if df.empty:
        return empty_findings()
    # The chance depends on the series only: computed once per series, not per figure.
    mom = mom.assign(_e=np.maximum(_heap_share(mom["_mean"], mom["_var"], min_value), share))
    df = df.merge(mom[["unit", "indicator", "_e"]], on=["unit", "indicator"])
    df = df.assign(_heap=(df["value"] % 5 == 0))
    units = df.groupby("unit", as_index=False).agg(
        unit_type=("unit_type", "first"), n=("_heap", "size"), statistic=("_heap", "sum"),
        expected=("_e", "mean"))
    units = as_text(units[units["n"] >= min_n])
    if units.empty:
        return empty_findings()
    units["p_value"] = stats.binom.sf(units["statistic"] - 1, units["n"], units["expected"])
    units["q_value"] = bh_adjust(units["p_value"])
    units["observed"] = units["statistic"] / units["n"]
    units["upper"] = stats.binom.isf(0.05, units["n"], units["expected"]) / units["n"]
    units["period"] = period if period is not None else np.nan
    units["message"] = (units["unit"] + "报送的" + units["n"].astype(str) + "个不小于"
                        + _fmt(min_value) + "的数值中，尾数为0或5的有"
                        + units["statistic"].astype(int).astype(str) + "个，占"
                        + (units["observed"] * 100).map(lambda x: f"{x:.1f}")
                        + "%，按其数值范围应约为" + (units["expected"] * 100).map(lambda x: f"{x:.0f}")
                        + "%，p=" + units["p_value"].map(_fmt_p))
    return _finish(units.drop(columns="n"), "last_digit", info_p=info_p, alert=alert,
                   warning=warning)


# -------------------------------------------------------------------------- benford

def first_digit(values) -> np.ndarray:
    """The first significant digit (1–9) of positive numbers."""
    v = np.asarray(values, dtype="float64")
    exp = np.floor(np.log10(v))
    d = np.floor(v / 10.0 ** exp + 1e-9).astype(int)
    return np.clip(d, 1, 9)


def _scale_digit_expectation(all_pos, tested, units, min_value, *, mix) -> np.ndarray:
    """Expected first-digit counts per unit (rows ``units``) when each series is
    lognormal with its own log10 mean and sd (sd floored at 0.05), conditioned on
    figures ≥ min_value, mixed with Benford at weight ``mix``."""
    logs = all_pos.assign(_l=np.log10(all_pos["value"]))
    fit = logs.groupby(["unit", "indicator"])["_l"].agg(["mean", "std"])
    fit["std"] = fit["std"].fillna(0.0).clip(lower=0.05)
    n = tested.groupby(["unit", "indicator"]).size().rename("n")
    fit = fit.join(n, how="inner")
    mu, sd = fit["mean"].to_numpy()[:, None, None], fit["std"].to_numpy()[:, None, None]
    k = np.arange(0, 10)[None, :, None]
    d = np.arange(1, 10)[None, None, :]
    # Integer figures with first digit d and k+1 digits: [d·10^k − ½, (d+1)·10^k − ½).
    lo = np.maximum(d * 10.0 ** k - 0.5, min_value - 0.5)
    hi = np.maximum((d + 1) * 10.0 ** k - 0.5, lo)
    mass = (stats.norm.cdf((np.log10(hi) - mu) / sd) - stats.norm.cdf((np.log10(lo) - mu) / sd))
    prob = mass.sum(axis=1)
    total = prob.sum(axis=1, keepdims=True)
    prob = np.where(total > 0, prob / np.where(total > 0, total, 1.0), BENFORD_P)
    prob = (1 - mix) * prob + mix * BENFORD_P
    per_series = pd.DataFrame(prob * fit["n"].to_numpy()[:, None], index=fit.index)
    return per_series.groupby(level="unit").sum().reindex(units).to_numpy()


def benford(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
            min_value: float = 10, min_n: int = 50, min_span: float = 100.0,
            mad_threshold: float = 0.015, scale_check: bool = True, mix: float = 0.1,
            info_p: float = 1e-3,
            alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """First digits far from Benford's law, per unit.

    A unit's figures ≥ ``min_value`` on all indicators, pooled over the periods up
    to P (approximate figures excluded), tested only when there are at least
    ``min_n`` and they span at least ``min_span`` (two orders of magnitude), where
    Benford is a sensible null.  Null model: first digits d with P(d) = log10(1+1/d);
    Pearson χ² with 8 df.  Large n rejects on trivial departures, so a warning or
    alert also needs Nigrini's mean absolute deviation above ``mad_threshold``
    (first digits: ≤0.006 close, ≤0.012 acceptable, ≤0.015 marginal, above:
    nonconformity; Nigrini 2012).

    Campaign figures are a mixture of indicators of different sizes, each series
    narrow (a town inspecting 60–90 enterprises a month writes 6, 7, 8 first), so
    honest units need not follow Benford.  With ``scale_check`` (default) the unit
    must also depart from what its own series' scales predict: each series (unit ×
    indicator) is taken as lognormal with the mean and sd of its log10 figures,
    which gives first-digit probabilities for its figures ≥ ``min_value``
    (mixed with Benford at weight ``mix`` so that no digit is impossible); their
    sum over the unit's series is compared by χ² with 8 df.  Fabricated series
    whose figures jump across magnitudes with evenly spread first digits fail
    both.  The reported p is the larger of the two (an intersection–union test:
    significant only if both are).

    One row per flagged unit: observed = MAD, upper = ``mad_threshold``,
    statistic = χ² against Benford, expected = number of figures tested.
    """
    df = _prepare(panel, period, counts_only=False, text=False)  # text only per unit
    all_pos = df[(df["value"] > 0) & ~df["approx"].astype(bool)]
    df = all_pos[all_pos["value"] >= min_value]
    if df.empty:
        return empty_findings()
    df = df.assign(_d=first_digit(df["value"]))
    g = df.groupby("unit", observed=True)["value"]
    span = g.max() / g.min()
    counts = (df.groupby(["unit", "_d"], observed=True).size().unstack(fill_value=0)
              .reindex(columns=range(1, 10), fill_value=0))
    n = counts.sum(axis=1)
    ok = (n >= min_n) & (span.reindex(counts.index) >= min_span)
    counts, n = counts[ok], n[ok]
    if counts.empty:
        return empty_findings()
    obs = counts.to_numpy(dtype="float64")
    expected = np.outer(n, BENFORD_P)
    chi2 = ((obs - expected) ** 2 / expected).sum(axis=1)
    p_benford = stats.chi2.sf(chi2, 8)
    mad = np.abs(obs / n.to_numpy()[:, None] - BENFORD_P).mean(axis=1)
    if scale_check:
        exp_scale = _scale_digit_expectation(all_pos, df, counts.index, min_value, mix=mix)
        scale_chi2 = ((obs - exp_scale) ** 2 / exp_scale).sum(axis=1)
        p_value = np.maximum(p_benford, stats.chi2.sf(scale_chi2, 8))
    else:
        p_value = p_benford
    types = as_text(df.drop_duplicates("unit")).set_index("unit")["unit_type"]
    names = pd.Index(counts.index).astype("str")
    out = pd.DataFrame({"unit": names, "unit_type": names.map(types),
                        "observed": mad, "expected": n.to_numpy(), "upper": mad_threshold,
                        "statistic": chi2, "p_value": p_value})
    out["q_value"] = bh_adjust(out["p_value"])
    # Significant but close to Benford is not a warning: q stays for the record,
    # severity only where MAD shows nonconformity.
    sev_q = out["q_value"].where(out["observed"] > mad_threshold, 1.0)
    top = obs.argmax(axis=1) + 1
    out["period"] = period if period is not None else np.nan
    out["message"] = (out["unit"] + "报送的" + out["expected"].astype(int).astype(str)
                      + "个不小于" + _fmt(min_value) + "的数值首位数字分布偏离本福特定律"
                      + ("且与其各项数据自身量级所应有的分布不符" if scale_check else "")
                      + "：平均绝对偏差MAD=" + out["observed"].map(lambda x: f"{x:.3f}")
                      + f"(>{mad_threshold}为不符合)，χ²=" + out["statistic"].map(lambda x: f"{x:.1f}")
                      + "，p=" + out["p_value"].map(_fmt_p) + "；首位为"
                      + pd.Series(top).astype(str).to_numpy() + "的最多")
    out = out.assign(check="benford", severity=severity_from_q(sev_q, alert=alert, warning=warning))
    out = out[(out["severity"] != "info") | ((out["p_value"] < info_p)
                                              & (out["observed"] > mad_threshold))]
    if out.empty:
        return empty_findings()
    return make_findings(out.sort_values(["q_value", "unit"], kind="stable"))


