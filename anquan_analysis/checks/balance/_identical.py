"""identical_values: two units reporting the same vector of figures in one period.

See the package docstring for the conventions every balance check follows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from scipy import special, stats
from ...findings import empty_findings
from ._common import _bh_of, _finish, _fmt_p, _is_count, _prepare, _series_moments


# ----------------------------------------------------------------- identical_values


def _tie_chance(ma, va, mb, vb, count) -> np.ndarray:
    """Chance that two independent figures with these means and variances are equal.
    Counts: the larger of the Poisson value Σ_k Pois(k;a)Pois(k;b) =
    exp(−(√a−√b)²)·I0e(2√ab) and a normal one, P(|X_a − X_b| < ½) with variances
    floored at the mean (so a steady unit is not treated as a noisy one).  Measured
    figures (万元 …, two decimals): the normal one with resolution 0.005; an unknown
    variance counts as CV 1."""
    ma, mb = np.asarray(ma, float), np.asarray(mb, float)
    count = np.asarray(count, bool)
    va = np.where(np.isnan(va), np.where(count, ma, ma ** 2), va)
    vb = np.where(np.isnan(vb), np.where(count, mb, mb ** 2), vb)
    va, vb = np.where(count, np.maximum(va, ma), va), np.where(count, np.maximum(vb, mb), vb)
    pois = np.exp(-(np.sqrt(ma) - np.sqrt(mb)) ** 2) * special.ive(0, 2 * np.sqrt(ma * mb))
    r = np.where(count, 0.5, 0.005)
    d = np.abs(ma - mb)
    s = np.sqrt(va + vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(s > 0, stats.norm.cdf((d + r) / s) - stats.norm.cdf((d - r) / s),
                        (d < r).astype(float))
    return np.where(count, np.maximum(pois, norm), norm)


def _rule_components() -> dict[str, str]:
    """Indicator → a representative of its group of indicators linked by the
    catalogue's rules (found, rectified and their parts; sessions and persons;
    drills and drill enterprises; penalties and fines …).  Ties inside a group are
    not independent evidence."""
    parent: dict[str, str] = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for rule in catalogue.RULES.itertuples(index=False):  # the rule catalogue, not units
        if rule.kind == "monotone":
            continue
        for code in rule.lhs:
            parent[root(code)] = root(rule.rhs)
    return {code: root(code) for code in parent}


def identical_values(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                     min_indicators: int = 5, min_nonzero: int = 5, info_p: float = 1e-4,
                     alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Units that report exactly the same figures as another unit in the same period.

    Two units tie when they report the same set of indicators (at least
    ``min_indicators``, at least ``min_nonzero`` of them above 0) with equal values
    on every one.  Ties are found by hashing each unit's row of figures.  Null
    model: each unit's figure on an indicator is an independent draw around that
    unit's own mean over the periods (up to P), Poisson or normal with the unit's
    own variance (see ``_tie_chance``), so a pair ties with probability Π_j c_j
    over the indicators tied at a value above 0 (shared zeros are not evidence:
    idle small units share them, and a zero total forces zero parts).  Indicators
    linked by a catalogue rule (found and rectified, sessions and persons …) are
    not independent: each such group contributes only its smallest c_j.
    Using each unit's own level matters: two small units tie on small figures far
    more often than the spread of all peers suggests.  BH runs over *all* pairs of
    eligible units in the period(s), tied or not.

    One row per tied unit and period: observed = number of indicators tied,
    statistic = −log10 of the pair's chance, p = that chance (the smallest over
    the unit's partners), q its BH value.
    """
    hist = _prepare(panel, period, counts_only=False)
    df = hist[hist["period"] == period] if period is not None else hist
    if df.empty:
        return empty_findings()
    values = df.pivot_table(index=["period", "unit"], columns="indicator", values="value",
                            aggfunc="sum", observed=True)
    reported = values.notna().sum(axis=1)
    nonzero = (values > 0).sum(axis=1)
    values = values[(reported >= min_indicators) & (nonzero >= min_nonzero)]
    if values.empty:
        return empty_findings()
    # Values are never negative, so −1 marks "not reported" in the row hash.
    key = pd.util.hash_pandas_object(values.fillna(-1.0), index=False)
    rows = pd.DataFrame({"period": values.index.get_level_values("period"),
                         "unit": values.index.get_level_values("unit"),
                         "_key": key.to_numpy(), "_k": reported.loc[values.index].to_numpy()})
    n_elig = rows.groupby("period").size()
    n_tests = int((n_elig * (n_elig - 1) // 2).sum())
    tied = rows[rows.duplicated(["period", "_key"], keep=False)]
    if tied.empty:
        return empty_findings()
    types = df.drop_duplicates("unit").set_index("unit")["unit_type"]
    pairs = tied.merge(tied, on=["period", "_key", "_k"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["unit_a"] < pairs["unit_b"]]
    # The indicators of the tied vector (the same for both units), each with its chance.
    long = df.merge(tied[["period", "unit"]], on=["period", "unit"])
    # Shared zeros carry no evidence: small units are idle on most indicators, and
    # a zero total forces zero parts (rectified, by source, persons), so zeros
    # would be counted many times over.
    long = long[long["value"] > 0][["period", "unit", "indicator"]]
    mom = _series_moments(hist)
    per_ind = (pairs.merge(long.rename(columns={"unit": "unit_a"}), on=["period", "unit_a"])
               .merge(mom.rename(columns={"unit": "unit_a"}), on=["unit_a", "indicator"])
               .merge(mom.rename(columns={"unit": "unit_b"}), on=["unit_b", "indicator"],
                      suffixes=("_a", "_b")))
    chance = _tie_chance(per_ind["_mean_a"], per_ind["_var_a"], per_ind["_mean_b"],
                         per_ind["_var_b"], _is_count(per_ind["indicator"]))
    groups = _rule_components()
    per_ind = per_ind.assign(_lp=np.log(np.clip(chance, 1e-300, 1.0)),
                             _grp=per_ind["indicator"].map(groups).fillna(per_ind["indicator"]))
    # Within a group of rule-linked indicators only the strongest tie counts (a valid
    # bound: tying on all of them is no likelier than tying on one); groups multiply.
    logp = (per_ind.groupby(["period", "unit_a", "unit_b", "_grp"], as_index=False)["_lp"].min()
            .groupby(["period", "unit_a", "unit_b"], as_index=False)["_lp"].sum())
    pairs = pairs.merge(logp, on=["period", "unit_a", "unit_b"])
    pairs["p_value"] = np.exp(pairs["_lp"])
    pairs["q_value"] = _bh_of(pairs["p_value"].to_numpy(), n_tests)
    # Each unit of a pair gets a row naming its partners.
    both = pd.concat([pairs.rename(columns={"unit_a": "unit", "unit_b": "partner"}),
                      pairs.rename(columns={"unit_b": "unit", "unit_a": "partner"})],
                     ignore_index=True)
    out = both.groupby(["period", "unit"], as_index=False).agg(
        observed=("_k", "first"), p_value=("p_value", "min"), q_value=("q_value", "min"),
        partners=("partner", lambda s: "、".join(sorted(s))))
    out["unit_type"] = out["unit"].map(types)
    out["statistic"] = -np.log10(out["p_value"].clip(lower=1e-300))
    out["message"] = (out["unit"] + out["period"] + "报送的" + out["observed"].astype(int).astype(str)
                      + "项指标数据与" + out["partners"] + "完全相同，按两单位各自的常态随机雷同的概率约为"
                      + out["p_value"].map(_fmt_p))
    return _finish(out.drop(columns="partners"), "identical_values", info_p=info_p,
                   alert=alert, warning=warning)


