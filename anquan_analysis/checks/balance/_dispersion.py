"""Underdispersion: peer groups, and pairs of neighbours, closer than Poisson noise.

See the package docstring for the conventions every balance check follows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from scipy import stats
from ...dataset import as_text
from ...findings import bh_adjust, empty_findings
from ._common import _coded, _finish, _fmt_p, _ids, _per_group, _prepare


def _group_tests(df, keys, period, *, min_units, min_mean, per_period, pooled):
    """Pearson X² of each group per period and pooled over periods.  Returns the
    tests (keys as text, ``_kind`` and ``_id``, the group's integer id) and, per kind,
    the members: ``_id``, unit and value (the unit's mean when pooled)."""
    cell = _ids(df, [*keys, "period"])
    g = df.groupby(cell, sort=False)
    n = g["value"].transform("size")
    total, wsum = g["value"].transform("sum"), g["_w"].transform("sum")
    expected = total * df["_w"] / wsum
    keep = ((n >= min_units) & (total / n >= min_mean)).to_numpy()
    cols = [c for c in df.columns
            if c in (*keys, "period", "unit", "value", "_unit_code", "_period_code")
            or c in [f"_{k}_code" for k in keys]]
    df = df.loc[keep, cols].assign(
        _n=n[keep], _mean=(total / n)[keep], _id=cell[keep],
        _x2=((df["value"] - expected) ** 2 / expected.where(expected > 0))[keep])
    tests, members = [], {}
    if df.empty:
        return tests, members
    if per_period:
        per = _per_group(df, df["_id"].to_numpy(), [*keys, "period"], _id=("_id", "first"),
                         statistic=("_x2", "sum"), _n=("_n", "first"),
                         expected=("_mean", "first"))
        per["df"] = per["_n"] - 1
        if period is not None:
            per = per[per["period"] == period]
        tests.append(per.assign(_kind="period"))
        members["period"] = df[["_id", "unit", "value"]]
    if pooled:
        group = _ids(df, keys)
        df = df.assign(_id=group, _u=_coded(df, "unit")[0], _t=_coded(df, "period")[0])
        pool = _per_group(df, group, keys, _id=("_id", "first"),
                          statistic=("_x2", "sum"), _n=("_u", "nunique"),
                          expected=("value", "mean"), _periods=("_t", "nunique"),
                          _cells=("_x2", "size"))
        # Summed X² over periods: df = Σ_t (n_t − 1).
        pool["df"] = pool["_cells"] - pool["_periods"]
        pool = pool[pool["_periods"] >= 2].drop(columns=["_periods", "_cells"])
        tests.append(pool.assign(period=period if period is not None else "", _kind="pool"))
        member = pd.factorize(group.astype(np.int64) * (int(df["_u"].max()) + 1)
                              + df["_u"].to_numpy())[0]
        members["pool"] = _per_group(df, member, ["_id", "unit"], value=("value", "mean"))
    return tests, members


def _pair_tests(df, keys, period, *, min_mean, min_periods, neighbours, max_pair_units):
    """Pairs of units of one group whose figures stay closer than Poisson noise allows:
    Σ_t (O_it − O_jt)² / (O_it + O_jt), the Pearson X² of the pair, against χ²(T).
    Only neighbours are paired: the units of a group are ranked by their mean figure
    and each is paired with the next ``neighbours`` units up the ranking, n·k pairs
    instead of n²/2.  Units that agree their figures have nearly the same mean, so
    they are neighbours; two units whose levels differ cannot pass the test anyway."""
    if max_pair_units is not None:
        size = df.groupby(keys, observed=True)["unit"].transform("nunique")
        df = df[size <= max_pair_units]
    if df.empty:
        return pd.DataFrame()
    # One row per group × unit ("slot"), one column per period: a dense matrix on
    # integer codes, so that pairing is row arithmetic rather than a self-merge.
    group_code = _ids(df, keys)
    groups = as_text(df[keys].iloc[np.unique(group_code, return_index=True)[1]])
    groups = groups.reset_index(drop=True)
    # Units coded in name order, so that code_a < code_b is unit_a < unit_b.
    unit_code, units = _coded(df, "unit")
    period_code, periods = _coded(df, "period")
    n_units = len(units)
    slot_code, slot_keys = pd.factorize(group_code.astype(np.int64) * n_units + unit_code)
    mat = np.full((len(slot_keys), len(periods)), np.nan)
    mat[slot_code, period_code] = df["value"].to_numpy(dtype="float64")
    slot_group, slot_unit = slot_keys // n_units, slot_keys % n_units
    level = np.nanmean(mat, axis=1)
    # Within a group by level; ties by unit name, so the ranking is deterministic.
    order = np.lexsort((slot_unit, level, slot_group))
    t_idx = np.arange(len(periods))
    frames = []
    for d in range(1, neighbours + 1):  # k offsets, each one vectorised pass
        a, b = order[:-d], order[d:]
        same = slot_group[a] == slot_group[b]
        a, b = a[same], b[same]
        for lo in range(0, len(a), 200_000):  # bounded temporaries at national scale
            aa, bb = a[lo:lo + 200_000], b[lo:lo + 200_000]
            va, vb = mat[aa], mat[bb]
            s = va + vb
            ok = s > 0  # False where either unit did not report (NaN)
            with np.errstate(invalid="ignore", divide="ignore"):
                x2 = np.where(ok, (va - vb) ** 2 / np.where(ok, s, 1.0), 0.0)
            n = ok.sum(axis=1)
            ua, ub = slot_unit[aa], slot_unit[bb]
            frames.append(pd.DataFrame({
                "g": slot_group[aa], "u_a": np.minimum(ua, ub), "u_b": np.maximum(ua, ub),
                "statistic": x2.sum(axis=1), "df": n,
                "_s": np.where(ok, s, 0.0).sum(axis=1) / np.maximum(n, 1),
                "_t": np.where(ok, t_idx, -1).max(axis=1)}))
    if not frames:
        return pd.DataFrame()
    coded = pd.concat(frames, ignore_index=True)
    coded = coded[(coded["df"] >= max(min_periods, 1)) & (coded["_s"] / 2 >= min_mean)]
    if period is not None:
        coded = coded[np.asarray(periods)[coded["_t"].to_numpy()] == period]
    coded = coded.sort_values(["g", "u_a", "u_b"], kind="stable")
    group_keys = groups.iloc[coded["g"].to_numpy()].reset_index(drop=True)
    return pd.concat([group_keys, pd.DataFrame({
        "unit_a": np.asarray(units)[coded["u_a"].to_numpy()],
        "unit_b": np.asarray(units)[coded["u_b"].to_numpy()],
        "statistic": coded["statistic"].to_numpy(), "df": coded["df"].to_numpy(),
        "expected": coded["_s"].to_numpy() / 2,
        "period": period if period is not None else "", "_kind": "pair", "_n": 2})], axis=1)


def underdispersion(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                    group_by=("unit_type", "parent"), indicators=None, min_units: int = 5,
                    min_mean: float = 5.0, min_periods: int = 6, per_period: bool = True,
                    pooled: bool = True, pairs: bool = True, neighbours: int = 5,
                    max_pair_units: int | None = None,
                    use_exposure: bool = False, info_p: float = 1e-4, alert: float = 0.01,
                    warning: float = 0.05) -> pd.DataFrame:
    """Peer groups whose figures are closer together than counting noise allows.

    Null model: within a group (units of one ``group_by`` value, one count
    indicator, one period) the counts are independent Poisson with a common mean
    (or, with ``use_exposure``, means proportional to enterprises supervised).
    Pearson X² = Σ (O − Ē)² / Ē is then χ²(n − 1); the test is the *left* tail
    p = P(χ²(n−1) ≤ X²).  Overdispersion and differences in size both inflate X²,
    so the test is conservative (checked by simulation: at Poisson means 3–40 the
    χ² left tail is never anti-conservative).  Three families of tests, BH together:

    * per group and period (n ≥ ``min_units``, Ē ≥ ``min_mean``);
    * per group pooled over periods: Σ X² against χ²(Σ (n_t − 1)), since
      "保持平衡" persists;
    * per *pair* of units of a group pooled over periods, Σ_t (O_it − O_jt)²/(O_it + O_jt)
      against χ²(T) (the pair's Pearson X², T ≥ ``min_periods``, pair mean ≥
      ``min_mean``): a few units that agree their figures inside a larger, honest
      group leave the group's X² unremarkable but not their pairs'.  Only neighbours
      are paired: units ranked by their mean within the group, each with the next
      ``neighbours`` up the ranking (n·k pairs, linear in units; units that agree
      their figures share a level, so they are neighbours).  Groups larger than
      ``max_pair_units`` (None: no limit) are not paired.

    One row per unit and indicator, from its strongest test: observed = the unit's
    figure (its mean when pooled), expected = the group (or pair) mean,
    statistic = X², lower = nothing.  ``period`` is blank for pooled tests (P when
    ``period=P``; pooled tests then use periods up to P and pairs must include P).
    ``use_exposure`` is off by default: units that "balance" report alike whatever
    their size, which a size-proportional null would not see.
    """
    # Keys stay categorical where the panel's are (text costs gigabytes at national
    # scale); the tests and the rows reported are converted to text.
    df = _prepare(panel, period, counts_only=True, codes=True, text=False)
    if indicators is not None:
        df = df[df["indicator"].isin(list(indicators))]
    if df.empty:
        return empty_findings()
    keys = [*group_by, "indicator"]
    if use_exposure and exposure is not None and len(exposure):
        sector = (exposure["sector"] if "sector" in exposure.columns
                  else pd.Series("", index=exposure.index))
        size = exposure[sector.fillna("").astype(str).eq("")].groupby("unit")["enterprises"].sum()
        df = df.assign(_w=as_text(df[["unit"]])["unit"].map(size).to_numpy())
        df = df[df["_w"] > 0]
    else:
        df = df.assign(_w=1.0)
    tests, members = _group_tests(df, keys, period, min_units=min_units, min_mean=min_mean,
                                  per_period=per_period, pooled=pooled)
    if pairs:
        tests.append(_pair_tests(df, keys, period, min_mean=min_mean, min_periods=min_periods,
                                 neighbours=neighbours, max_pair_units=max_pair_units))
    tests = [t for t in tests if len(t)]
    if not tests:
        return empty_findings()
    tests = pd.concat(tests, ignore_index=True)
    tests["p_value"] = stats.chi2.cdf(tests["statistic"], tests["df"])
    tests["q_value"] = bh_adjust(tests["p_value"])
    tests = tests[(tests["q_value"] < warning) | (tests["p_value"] < info_p)]
    if tests.empty:
        return empty_findings()
    rows = []
    for kind, mem in members.items():
        grp = tests[tests["_kind"] == kind]
        if len(grp):
            found = mem[mem["_id"].isin(grp["_id"])].rename(columns={"value": "observed"})
            rows.append(grp.merge(as_text(found), on="_id").assign(partners=""))
    pr = tests[tests["_kind"] == "pair"]
    if len(pr):
        unit_mean = _per_group(df, _ids(df, [*keys, "unit"]), [*keys, "unit"],
                               observed=("value", "mean"))
        both = pd.concat([pr.rename(columns={"unit_a": "unit", "unit_b": "partner"}),
                          pr.rename(columns={"unit_b": "unit", "unit_a": "partner"})],
                         ignore_index=True).sort_values("p_value", kind="stable")
        partners = both.groupby([*keys, "unit"])["partner"].agg(lambda s: "、".join(s))
        best = both.drop_duplicates([*keys, "unit"]).merge(unit_mean, on=[*keys, "unit"])
        best["partners"] = best.set_index([*keys, "unit"]).index.map(partners)
        rows.append(best.drop(columns="partner"))
    out = pd.concat(rows, ignore_index=True)
    if out.empty:
        return empty_findings()
    # One row per unit and indicator: its strongest test.
    out = out.sort_values("p_value", kind="stable").drop_duplicates(["unit", "indicator"])
    type_zh = out["unit_type"].map(catalogue.unit_type_name) if "unit_type" in out else ""
    type_zh = type_zh.where(type_zh.ne(""), "同类单位")
    parent = out["parent"] if "parent" in out.columns else pd.Series("", index=out.index)
    where = parent.where(parent.eq(""), parent + "所属") + type_zh
    pooled_when = np.where(out["period"].eq(""), "各期", out["period"] + "及以前各期")
    when = np.where(out["_kind"].eq("period"), out["period"], pooled_when)
    name = out["indicator"].map(catalogue.indicator_name)
    figures = ("：均值" + out["expected"].map(lambda x: f"{x:.1f}") + "，皮尔逊χ²="
               + out["statistic"].map(lambda x: f"{x:.1f}") + "(自由度"
               + out["df"].astype(int).astype(str) + ")，p=" + out["p_value"].map(_fmt_p)
               + "，疑似相互“保持平衡”")
    group_msg = (out["unit"] + "所在的" + where + "(" + out["_n"].astype(int).astype(str)
                 + "个单位)" + when + name + "离散程度低于计数的随机波动" + figures)
    pair_msg = (out["unit"] + "与" + out["partners"] + "(均为" + where + ")" + when + name
                + "逐期相差小于计数的随机波动" + figures)
    out["message"] = np.where(out["_kind"].eq("pair"), pair_msg, group_msg)
    out["period"] = out["period"].replace("", np.nan)
    out = out.drop(columns=["parent", "_kind", "_n", "partners", "df", "_id"], errors="ignore")
    return _finish(out, "underdispersion", info_p=info_p, alert=alert, warning=warning)


