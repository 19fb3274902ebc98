"""pinned_rate: hazards rectified at 100% more often than the peers' rate allows.

See the package docstring for the conventions every balance check follows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from scipy import special
from ...panel import as_panel
from ...findings import empty_findings, figure_text, severity_from_q
from .common import finish
from .._wording import p_text
from .._stats import tarone_bh


# ---------------------------------------------------------------------- pinned_rate

# Major hazards only by default: general hazards are routinely rectified at 98–99%
# (桂林: 518 of 526), so 100% there is weak evidence; pass both pairs to test them.
RECTIFICATION_PAIRS = (("major_hazards_found", "major_hazards_rectified"),)
ALL_RECTIFICATION_PAIRS = (("major_hazards_found", "major_hazards_rectified"),
                           ("general_hazards_found", "general_hazards_rectified"))


def _pair_totals(cube, j_found: int, j_rect: int, t_p):
    """Per unit, over the periods where both indicators were reported: n = Σ found,
    r = Σ min(rectified, found), the first and last such period (axis positions),
    whether there was any, and whether period ``t_p`` (if any) was at 100%."""
    f = cube.values[:, j_found, :]
    r = cube.values[:, j_rect, :]
    both = ~np.isnan(f) & ~np.isnan(r)
    r = np.minimum(r, f)
    n_sum = np.where(both, f, 0.0).sum(axis=1)
    r_sum = np.where(both, r, 0.0).sum(axis=1)
    any_ = both.any(axis=1)
    start = np.argmax(both, axis=1)
    end = both.shape[1] - 1 - np.argmax(both[:, ::-1], axis=1)
    if t_p is None:
        at_p = np.zeros(len(f), dtype=bool)
    else:
        at_p = both[:, t_p] & (r[:, t_p] >= f[:, t_p])
    return n_sum, r_sum, start, end, any_, at_p


def pinned_rate(panel, *, period=None,
                pairs=RECTIFICATION_PAIRS, min_found: int = 1, min_peer_found: int = 50,
                between_units: bool = False,
                info_p: float = 1e-3,
                alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Hazards rectified at 100% in every period, more often than peers make plausible.

    Per unit and (found, rectified) pair, pooled over the periods up to P where both
    were reported: n = Σ found, r = Σ min(rectified, found).  r = n means every
    period was at 100%.  Null model: each of the unit's hazards is rectified
    independently with its peers' pooled rate ρ (same unit type, the unit itself
    excluded; all other units when the type's peers found fewer than
    ``min_peer_found`` without counting the largest of them, so that no single
    peer sets the norm), so P(all n rectified) = ρⁿ.  With ``between_units`` the
    units' own rates may differ (the spread of the rates of units with at least
    10 hazards beyond binomial noise): a Beta-binomial with mean ρ and that spread,
    P = B(a+n, b)/B(a, b) ≥ ρⁿ — safer where some units honestly rectify 99%, but
    on the synthetic city it leaves 40-of-40 undetectable, so it is off by default.
    Units below 100% have p = 1.  The test
    is discrete, so BH runs over Tarone's family (``tarone_bh``): units whose
    smallest achievable p, ρⁿ, could never be significant (few hazards) are not
    counted.  All pairs are adjusted together.  With ``period=P`` a unit is
    reported only if P itself was at 100%.

    The two indicators are two slices of the cube (unit × period each); per-unit
    totals are reductions over the period axis, so only the units reported become
    text.

    Rows: indicator = the rectified indicator, observed = r/n (1.0), expected = ρ,
    statistic = n.
    """
    cube = as_panel(panel).series(period)
    # Only counted indicators (项, 处 …) take part, as a rate of 万元 has no meaning.
    counted = {c: j for j, (c, ok) in enumerate(zip(cube.indicators, cube.count_indicators()))
               if ok}
    t_p = cube.period_index(period) if period is not None else None
    type_code = pd.factorize(cube.unit_type)[0]
    frames, at_ps = [], {}
    for found, rect in pairs:  # a loop over the catalogue's indicator pairs
        if found not in counted or rect not in counted:
            continue
        with np.errstate(invalid="ignore"):
            n_sum, r_sum, start, end, any_, at_p = _pair_totals(
                cube, counted[found], counted[rect], t_p)
        # The units of a unit × rectified pair reported at 100% in P (shared by pairs
        # with the same rectified indicator, as rows keyed by unit and indicator are).
        at_ps[rect] = at_ps.get(rect, np.zeros(len(at_p), dtype=bool)) | at_p
        keep = np.flatnonzero(any_ & (n_sum >= min_found))
        if not len(keep):
            continue
        u = pd.DataFrame({"_u": keep, "unit_type": type_code[keep], "n": n_sum[keep],
                          "r": r_sum[keep], "start": start[keep], "end": end[keep]})
        type_n = u.groupby("unit_type")["n"].transform("sum") - u["n"]
        type_r = u.groupby("unit_type")["r"].transform("sum") - u["r"]
        all_rate = (u["r"].sum() - u["r"]) / (u["n"].sum() - u["n"]).where(lambda s: s > 0)
        # The largest other unit of the type: without it the peers must still have
        # found min_peer_found, or the "peer rate" is one unit's own rate (two large
        # departments both at 100% would set each other's norm at 96%).
        rank = u["n"].groupby(u["unit_type"]).rank(method="first", ascending=False)
        first = u["n"].where(rank == 1).groupby(u["unit_type"]).transform("max")
        second = (u["n"].where(rank == 2).groupby(u["unit_type"]).transform("max")
                  .fillna(0.0))
        largest_other = np.where(rank == 1, second, first)
        # Too few peer hazards make a type's rate meaningless (2 found, 0 rectified
        # gives 0%): then all other units' rate is used.
        enough = (type_n - largest_other) >= min_peer_found
        rho = (type_r / type_n.where(enough)).fillna(all_rate).fillna(1.0)
        # Units differ in how thoroughly they rectify: the rates' spread between
        # units (beyond binomial noise, among units with ≥ 10 hazards) gives a Beta
        # with mean ρ, and P(all n) = B(a + n, b) / B(a, b) ≥ ρⁿ.
        big = u["n"] >= 10
        rates = u.loc[big, "r"] / u.loc[big, "n"]
        pooled = u["r"].sum() / u["n"].sum()
        between = (rates.var() - (pooled * (1 - pooled) / u.loc[big, "n"]).mean()
                   if big.sum() > 2 else 0.0)
        between = float(np.nan_to_num(between, nan=0.0))
        conc = (rho * (1 - rho) / between - 1).clip(lower=1.0) if between > 1e-9 else None
        if conc is None or not between_units:
            p_all = rho ** u["n"]
        else:
            a, b = rho * conc, (1 - rho) * conc
            p_all = np.where(rho >= 1, 1.0, np.exp(special.betaln(a + u["n"], b.clip(lower=1e-12))
                                                     - special.betaln(a, b.clip(lower=1e-12))))
        pinned = u["r"] >= u["n"]
        u = u.assign(indicator=rect, expected=rho, observed=u["r"] / u["n"], statistic=u["n"],
                     p_value=np.where(pinned, p_all, 1.0))
        frames.append(u.assign(_pinned=pinned, _p_min=p_all, _found=found))
    if not frames:
        return empty_findings()
    out = pd.concat(frames, ignore_index=True)
    out["q_value"] = tarone_bh(out["p_value"], out["_p_min"], alpha=warning)
    out = out[out["_pinned"]]
    if period is not None:
        at_p = np.zeros(len(out), dtype=bool)
        for rect, units in at_ps.items():
            here = (out["indicator"] == rect).to_numpy()
            at_p[here] = units[out["_u"].to_numpy()[here]]
        out = out[at_p]
    # Only rows that finish keeps are turned into text.
    out = out[(severity_from_q(out["q_value"], alert=alert, warning=warning) != "info")
              | (out["p_value"] < info_p).to_numpy()]
    if out.empty:
        return empty_findings()
    idx = out["_u"].to_numpy()
    text = {"unit": cube.units[idx], "unit_type": cube.unit_type[idx],
            "start": cube.periods[out["start"].to_numpy()],
            "end": cube.periods[out["end"].to_numpy()]}
    out = out.assign(**{k: pd.array(v, dtype="str") for k, v in text.items()})
    out["message"] = (out["unit"] + out["start"] + "至" + out["end"]
                      + out["_found"].map(catalogue.indicator_name) + out["n"].map(figure_text)
                      + "项、整改" + out["r"].map(figure_text) + "项，各期整改率均为100%；按同类单位整改率"
                      + (out["expected"] * 100).map(lambda x: f"{x:.1f}")
                      + "%计，全部整改的概率为" + out["p_value"].map(p_text))
    out["period"] = period if period is not None else np.nan
    return finish(out.drop(columns=["_u", "n", "r", "start", "end", "_pinned", "_p_min",
                                     "_found"]),
                   "pinned_rate", info_p=info_p, alert=alert, warning=warning)
