"""pinned_rate: hazards rectified at 100% more often than the peers' rate allows.

See the package docstring for the conventions every balance check follows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from ...panel import as_panel
from ...findings import empty_findings, figure_text, severity_from_q
from .common import finish
from .._wording import p_text
from .._stats import tarone_bh
from .rate_spread import all_rectified_chance, rate_spread, window_sizes


# ---------------------------------------------------------------------- pinned_rate

# Major hazards only by default: general hazards are routinely rectified at 98–99%
# (桂林: 518 of 526), so 100% there is weak evidence; pass both pairs to test them.
RECTIFICATION_PAIRS = (("major_hazards_found", "major_hazards_rectified"),)
ALL_RECTIFICATION_PAIRS = (("major_hazards_found", "major_hazards_rectified"),
                           ("general_hazards_found", "general_hazards_rectified"))


def _pair_totals(cube, j_found: int, j_rect: int, t_p):
    """Per unit, over the periods where both indicators were reported: n = Σ found,
    r = Σ min(rectified, found), whether there was any such period, and the unit's
    stretch at 100% (see ``_stretches``)."""
    f = cube.values[:, j_found, :]
    r = cube.values[:, j_rect, :]
    both = ~np.isnan(f) & ~np.isnan(r)
    r = np.minimum(r, f)
    found = np.where(both, f, 0.0)
    n_sum = found.sum(axis=1)
    r_sum = np.where(both, r, 0.0).sum(axis=1)
    return n_sum, r_sum, both.any(axis=1), found, _stretches(found, both, both & (r >= f), t_p)


def _stretches(found, both, full, t_p):
    """The stretch at 100% of each unit: consecutive reported periods (periods where a
    figure is missing are passed over) each with every hazard rectified, a period
    with none found included.  With ``t_p`` the stretch ending at t_p (none where
    t_p is not at 100%); else the one holding the most hazards, the latest on a tie.
    Returns (hazards in it, its first and last reported period, whether there is
    one) per unit."""
    n_u, n_t = found.shape
    idx = np.arange(n_t)
    # a reported period not at 100% breaks the stretch: hazards since the last break
    breaks = both & ~full
    last_break = np.maximum.accumulate(np.where(breaks, idx, -1), axis=1)
    cum = np.cumsum(found, axis=1)
    before = np.where(last_break >= 0,
                      np.take_along_axis(cum, np.maximum(last_break, 0), axis=1), 0.0)
    since = np.where(full, cum - before, -1.0)          # the stretch's hazards up to t
    if t_p is not None:
        end = np.full(n_u, t_p)
        has = full[:, t_p]
    else:
        # the latest of the largest: argmax over the reversed periods
        end = n_t - 1 - np.argmax(since[:, ::-1], axis=1)
        has = full.any(axis=1)
    rows = np.arange(n_u)
    n_run = np.where(has, since[rows, end], 0.0)
    # its first reported period: the first reported one after the last break
    after = last_break[rows, end] + 1
    later = both & (idx[None, :] >= after[:, None])
    start = np.argmax(later, axis=1)
    return n_run, start, end, has


def pinned_rate(panel, *, period=None,
                pairs=RECTIFICATION_PAIRS, min_found: int = 1, min_peer_found: int = 50,
                model: str = "beta_binomial", spread_level: float | None = 0.8,
                min_spread_units: int = 5, info_p: float = 1e-3,
                alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Hazards rectified at 100% in every period, more often than peers make plausible.

    Parameters
    ----------
    panel : DataFrame or Panel
        The long panel (``dataset.PANEL_COLUMNS``) or a ``panel.Panel``; not modified.
    period : str, optional
        Pool the periods of P's frequency up to P and report a unit only if P
        itself was at 100%; None pools every period.
    pairs : sequence of (found, rectified) indicator codes
        Default major hazards only (``ALL_RECTIFICATION_PAIRS`` adds general ones).
    min_found : int
        Units that found fewer hazards are not tested.
    min_peer_found : int
        Hazards a unit type's other units must have found, without the largest of
        them, for their rate to be the norm; otherwise all other units' rate is.
    model : {"beta_binomial", "binomial"}
        The null for one unit's hazards (see Notes); "binomial" is the test before
        issue 12, which ignores that units rectify at different rates.
    spread_level : float or None
        With the beta-binomial, the spread between units is taken at the one-sided
        upper confidence bound of this level (``rate_spread.rate_concentration``);
        None takes its maximum-likelihood estimate.
    min_spread_units : int
        Units below 100% needed to estimate the spread; with fewer the binomial is
        used.
    info_p : float
        Rows that are neither warning nor alert are returned only below this raw p.
    alert, warning : float
        q-value thresholds of the severities.

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS``, one row per unit and pair at
    100%: ``indicator`` the rectified indicator, ``observed`` r/n (1.0),
    ``expected`` ρ, ``statistic`` n, ``p_value`` P(all n rectified), ``q_value``
    (Tarone–BH over all pairs), ``period`` P or blank.

    Notes
    -----
    Per unit and (found, rectified) pair, pooled over the periods up to P where both
    were reported: n = Σ found, r = Σ min(rectified, found).  r = n means every
    period was at 100%.  The unit's peers' pooled rate ρ: same unit type, the unit
    itself excluded; all other units when the type's peers found fewer than
    ``min_peer_found`` without counting the largest of them, so that no single
    peer sets the norm.

    Null model (``beta_binomial``, the default): units rectify at different rates,
    a unit's rate Beta(ρc, (1 − ρ)c) around its peers' ρ, and each of its hazards
    is rectified independently at that rate, so P(all n rectified) =
    B(ρc + n, (1 − ρ)c) / B(ρc, (1 − ρ)c), larger than ρⁿ: a unit that honestly
    rectifies 98% is not evidence.  The concentration c (the spread between units)
    is fitted by maximum likelihood to the units *below* 100% only, each
    conditioned on being below 100%, so that the units at 100% (the ones under
    test) neither widen nor narrow it; with ``spread_level`` the spread is taken
    at its upper confidence bound (``rate_spread.rate_concentration``).  With
    ``binomial`` every unit rectifies at ρ: P = ρⁿ.

    Why the bound (benchmarks/balance_changes.py, 20 districts a world): the
    plug-in estimate ignores how uncertain a spread from 20–30 units is, and a
    Beta's shape near 100% is a guess.  Where honest towns' rates run up to 100%
    (uniform 70–100%) the binomial flags 3.0% of them (60% of districts), the
    maximum-likelihood spread 0.7% (20%), the 80% bound 0.2% (5%; an oracle that
    knows the true rates, none).  The price is power where the evidence is
    moderate: a town at 100% over 36 hazards among peers at 80–90% is found in 2
    of 20 districts (oracle 3, binomial 8), over 60 hazards in 19 of 20 (oracle
    20); among peers spread over 68–93% (as in ``synth.py``) in 5 of 20 (oracle
    10, binomial 20).

    Units below 100% have p = 1.  The test is discrete, so BH runs over Tarone's
    family (``tarone_bh``): units whose smallest achievable p, P(all n), could
    never be significant (few hazards) are not counted.  All pairs are adjusted
    together.
    """
    if model not in ("beta_binomial", "binomial"):
        raise ValueError(f"model must be 'beta_binomial' or 'binomial', not {model!r}")
    cube = as_panel(panel).series(period)
    # Only counted indicators (项, 处 …) take part, as a rate of 万元 has no meaning.
    counted = {c: j for j, (c, ok) in enumerate(zip(cube.indicators, cube.count_indicators()))
               if ok}
    t_p = cube.period_index(period) if period is not None else None
    type_code = pd.factorize(cube.unit_type)[0]
    frames = []
    for found, rect in pairs:  # a loop over the catalogue's indicator pairs
        if found not in counted or rect not in counted:
            continue
        with np.errstate(invalid="ignore"):
            n_sum, r_sum, any_, per_period, (n_run, start, end, has) = _pair_totals(
                cube, counted[found], counted[rect], t_p)
        keep = np.flatnonzero(any_ & (n_sum >= min_found))
        if not len(keep):
            continue
        u = pd.DataFrame({"_u": keep, "unit_type": type_code[keep], "n": n_sum[keep],
                          "r": r_sum[keep], "run": n_run[keep], "start": start[keep],
                          "end": end[keep], "_has": has[keep]})
        rho, own = _peer_rate(u, min_peer_found)
        rho = rho.astype("float64")
        conc = np.full(len(u), np.inf)
        if model == "beta_binomial":
            group = np.where(own, u["unit_type"], -1)
            mu, c = rate_spread(u["n"], u["r"], group, level=spread_level,
                                min_units=min_spread_units)
            if not np.isnan(mu).any():
                rho, conc = mu, np.full(len(u), c)
            else:   # too few units below 100%: every other unit, left out in turn
                rho, conc = _leave_one_out(u, group, rho, spread_level, min_spread_units)
        # the smallest p a unit could show: every hazard rectified (Tarone's family)
        p_min = np.array([all_rectified_chance(n, m, c)
                          for n, m, c in zip(u["n"], rho, conc)], dtype="float64")
        p = _stretch_chance(u, per_period, rho, conc, scan=t_p is None)
        tested = (u["_has"] & (u["run"] > 0)).to_numpy()
        u = u.assign(indicator=rect, expected=rho, observed=1.0, statistic=u["run"],
                     p_value=p)
        frames.append(u.assign(_pinned=tested, _p_min=p_min, _found=found,
                               _beta=np.isfinite(conc)))
    if not frames:
        return empty_findings()
    out = pd.concat(frames, ignore_index=True)
    out["q_value"] = tarone_bh(out["p_value"], out["_p_min"], alpha=warning)
    out = out[out["_pinned"]]
    # Only rows that finish keeps are turned into text.
    out = out[(severity_from_q(out["q_value"], alert=alert, warning=warning) != "info")
              | (out["p_value"] < info_p).to_numpy()]
    if out.empty:
        return empty_findings()
    idx = out["_u"].to_numpy()
    first, last = cube.periods[out["start"].to_numpy()], cube.periods[out["end"].to_numpy()]
    span = np.where(first == last, first, first + "至" + last)
    text = {"unit": cube.units[idx], "unit_type": cube.unit_type[idx], "span": span}
    out = out.assign(**{k: pd.array(v, dtype="str") for k, v in text.items()})
    out["message"] = (out["unit"] + out["span"]
                      + out["_found"].map(catalogue.indicator_name) + out["run"].map(figure_text)
                      + "项、整改" + out["run"].map(figure_text) + "项，各期整改率均为100%；按同类单位整改率"
                      + (out["expected"] * 100).map(lambda x: f"{x:.1f}")
                      + np.where(out["_beta"], "%及单位间差异计", "%计")
                      + "，全部整改的概率为" + out["p_value"].map(p_text))
    out["period"] = period if period is not None else np.nan
    return finish(out.drop(columns=["_u", "n", "r", "run", "start", "end", "span", "_has",
                                     "_pinned", "_p_min", "_found", "_beta"]),
                   "pinned_rate", info_p=info_p, alert=alert, warning=warning)


def _peer_rate(u: pd.DataFrame, min_peer_found: int):
    """(ρ per unit: its peers' pooled rate, the unit itself left out; whether its
    type's peers found enough to set the norm) for the table ``u`` of units (columns
    unit_type, n, r); not modified.  Without enough, ρ is all other units' rate."""
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
    return rho.to_numpy(), enough.to_numpy()


def _stretch_chance(u, per_period, rho, conc, scan: bool) -> np.ndarray:
    """Per unit of ``u``, the chance of its stretch at 100% (``run`` hazards): with
    ``scan`` (the stretch was picked among the unit's periods) summed over the
    stretches it could have been (``rate_spread.window_sizes``), else the stretch's
    own; 1 where there is no stretch."""
    run, has, rows = u["run"].to_numpy(), u["_has"].to_numpy(), u["_u"].to_numpy()
    p = np.ones(len(u))
    for k in np.flatnonzero(has & (run > 0)):
        sizes = window_sizes(per_period[rows[k]], run[k]) if scan else np.array([run[k]])
        p[k] = min(1.0, float(all_rectified_chance(sizes, rho[k], conc[k]).sum()))
    return p


def _leave_one_out(u, group, rho, level, min_units):
    """(ρ, c) per unit of ``u`` fitted by ``rate_spread`` without conditioning to all
    the other units (the unit itself left out), for tables with too few units below
    100% to fit the spread to them alone; the binomial (``rho``, ∞) where even the
    other units are too few.  Only units with every hazard of a stretch rectified
    are fitted (the others have p = 1)."""
    n, r = u["n"].to_numpy(dtype="float64"), u["r"].to_numpy(dtype="float64")
    conc = np.full(len(u), np.inf)
    rho = rho.copy()
    for k in np.flatnonzero((u["_has"] & (u["run"] > 0)).to_numpy()):
        # the unit stays in with no hazard: out of the fit, given its group's mean
        n_k, r_k = n.copy(), r.copy()
        n_k[k] = r_k[k] = 0.0
        mu, c = rate_spread(n_k, r_k, group, level=level, min_units=min_units,
                            conditional=False)
        if not np.isnan(mu).any():
            rho[k], conc[k] = mu[k], c
    return rho, conc
