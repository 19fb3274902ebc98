"""pinned_rate: hazards rectified at 100% more often than the peers' rate allows.

See the package docstring for the conventions every balance check follows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from ...panel import as_panel
from ...findings import empty_findings, figure_text, make_findings, severity_from_q
from .common import finish
from .._wording import p_text
from .._stats import tarone_bh
from .rate_spread import all_rectified_chance, all_rectified_jointly, rate_means
from .pinned_tail import pair_counts, run_messages, run_tests, summed, trailing_runs


# ---------------------------------------------------------------------- pinned_rate

# Every finding count of the catalogue with its rectified count (issue 16: 亳州's
# general hazards, rectified at 100% in every unit, were not looked at).  General
# hazards are routinely rectified at 98–99% (桂林: 518 of 526): the beta-binomial
# judges a unit at 100% against its peers' rate and spread, so a high peer rate makes
# 100% weak evidence by itself.
ALL_RECTIFICATION_PAIRS = tuple((f, catalogue.RECTIFIED_OF[f]) for f in catalogue.FINDING_COUNTS)
RECTIFICATION_PAIRS = ALL_RECTIFICATION_PAIRS
MAJOR_PAIR = (("major_hazards_found", "major_hazards_rectified"),)


def _pair_totals(cube, j_found: int, j_rect: int, t_p):
    """Per unit, over the periods where both indicators were reported: n = Σ found,
    r = Σ min(rectified, found), the first and last such period (axis positions),
    whether there was any, and whether period ``t_p`` (if any) was at 100%."""
    f = cube.values[:, j_found, :]
    r = cube.values[:, j_rect, :]
    both = ~np.isnan(f) & ~np.isnan(r)
    r = np.minimum(r, f)
    # sums over a unit's periods as a product with ones: a reduction along rows of
    # 36 is several times slower (exact whatever the order for whole counts)
    ones = np.ones(f.shape[1])
    n_sum = np.where(both, f, 0.0) @ ones
    r_sum = np.where(both, r, 0.0) @ ones
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
                min_group_units: int = 3, min_run_periods: int | None = 3,
                model: str = "beta_binomial", spread_level: float | None = None,
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
        Default every finding count of the catalogue with its rectified count
        (major, general and fire hazards; ``MAJOR_PAIR`` for major hazards only).
    min_found : int
        Units that found fewer hazards are not tested.
    min_peer_found : int
        With the binomial (or the beta-binomial when fewer than
        ``min_spread_units`` units are below 100%): hazards a unit type's other
        units must have found, without the largest of them, for their pooled rate
        to be the norm; otherwise all other units' rate is.
    model : {"beta_binomial", "binomial"}
        The null for one unit's hazards (see Notes); "binomial" is the test before
        issue 12, which ignores that units rectify at different rates.
    spread_level : float or None
        With the beta-binomial, the spread between units is taken at the one-sided
        upper confidence bound of this level, the means re-fitted at it
        (``rate_spread.rate_means``); None (the default) takes the
        maximum-likelihood estimate (see Notes for the choice).
    min_spread_units : int
        Units below 100% needed to fit the means and the spread (a unit type with
        fewer takes the mean of all units); with fewer in all, the pooled peer rate
        and the binomial are used.
    min_group_units : int
        When every unit of a pair is at 100% (no peer below it to compare with), a
        row for the whole group if at least this many units found together at least
        ``min_peer_found`` hazards.
    min_run_periods : int or None
        A unit below 100% over the window whose latest periods are at 100% on
        every pair is tested on that run if it has at least this many periods with
        hazards (see Notes); None: no run is tested.
    info_p : float
        Rows that are neither warning nor alert are returned only below this raw p.
    alert, warning : float
        q-value thresholds of the severities.

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS``, one row per unit and pair at
    100%: ``indicator`` the rectified indicator, ``observed`` r/n (1.0),
    ``expected`` ρ, ``statistic`` n, ``p_value`` P(all n rectified), ``q_value``
    (Tarone–BH within the pair), ``period`` P or blank.  A unit at 100% on two
    pairs or more whose joint test is kept has one row for them all instead:
    ``indicator`` the rectified indicator of its pair with the most hazards,
    ``expected`` that pair's ρ, ``statistic`` the hazards of all pairs,
    ``p_value`` the joint bound, ``q_value`` Tarone–BH over the units tested on
    two pairs or more; the message names every pair and rate.  A unit at 100% in
    its latest periods only (a run): one row, ``indicator`` the rectified
    indicator of its pair with the most hazards in the run, ``observed`` 1.0,
    ``expected`` that pair's ρ, ``statistic`` the run's hazards of all pairs,
    ``p_value`` the run test's, ``q_value`` Tarone–BH over the units that could
    have shown a run; the message dates the run and names every pair.
    A pair at 100% in every
    unit gives one row with unit blank: observed 1.0, statistic the units, expected,
    p and q blank, severity ``warning``.

    Notes
    -----
    Per unit and (found, rectified) pair, pooled over the periods up to P where both
    were reported: n = Σ found, r = Σ min(rectified, found).  r = n means every
    period was at 100%.

    Null model (``beta_binomial``, the default): units rectify at different rates,
    a unit's rate Beta(ρc, (1 − ρ)c) around its type's mean ρ, and each of its
    hazards is rectified independently at that rate, so P(all n rectified) =
    B(ρc + n, (1 − ρ)c) / B(ρc, (1 − ρ)c), larger than ρⁿ: a unit that honestly
    rectifies 98% is not evidence.  Each type's mean ρ and the concentration c
    (the spread between units) are fitted by maximum likelihood to the units
    *below* 100% only, each conditioned on being below 100%
    (``rate_spread.rate_means``), so that the units at 100% (the ones under test)
    neither set their own norm nor widen or narrow the spread; a type with fewer
    than ``min_spread_units`` units below 100% takes the mean of all units.  The
    fitted mean, not the pooled Σr / Σn: a pooled rate is set by the largest
    peers, and one thorough peer of 461 hazards at 91% lifted its type's norm to
    83% against an 80% mean, a threefold larger p for a pinned town of 43.  With
    fewer than ``min_spread_units`` units below 100% in all, the peers' pooled
    rate (same type, the unit left out; all other units when the type's peers,
    without the largest, found fewer than ``min_peer_found``) and the binomial.
    With ``binomial`` every unit rectifies at that pooled ρ: P = ρⁿ.

    A unit at 100% on every pair it has (two or more: major and general hazards)
    is also tested on them together.  Its rates on the pairs may go together (a
    thorough unit is thorough on both), so the joint chance is bounded by the
    comonotone integral ∫ Π_k Q_k(u)^{n_k} du (``rate_spread.all_rectified_jointly``),
    which holds whatever the dependence; its Tarone family is the units tested
    on two pairs or more, each unit's smallest achievable p taken as the product
    of its pairs' own (a lower bound, so the family is if anything too large).  A
    unit with a kept joint row has no per-pair rows.

    The spread at its maximum-likelihood estimate (default) or a lower bound:
    on the independent detection grid (Beta rates), the 80% bound found 29 of 36
    strong pinned units where the oracle found 32, the maximum-likelihood spread
    with the fitted means and the joint test all 12 of 12 in three cells checked
    by hand (benchmarks/detection.py).  The bound's use is where rates are not a
    Beta: honest towns uniform over 70–100% (benchmarks/balance_changes.py, 20
    districts): the binomial flags 3.0% of them, the maximum-likelihood spread
    0.7%, the 80% bound 0.3% (an oracle that knows the rates, none); among peers
    spread over 68–93% (as in ``synth.py``) a town pinned at 4 a month is found
    in 10 of 20 districts by the maximum-likelihood spread and by the oracle, 5
    by the 80% bound.

    When no unit is below 100% the peers' rate is 100% and no unit can be unusual
    among them: there is no null model to test against, and the group row says that
    every unit is at 100% (亳州 2023: general hazards, 122,002 found and all
    rectified in all seven units), which a careful reader asks to verify.

    Units below 100% have p = 1.  The test is discrete, so BH runs over Tarone's
    family (``tarone_bh``): units whose smallest achievable p, P(all n), could
    never be significant (few hazards) are not counted.  Each pair is its own family
    (see the comment where q is computed: one family drowned the major hazards).

    A run (``pinned_tail``): a unit rectifying 80% for six months and 100% for the
    next six pools to 90%, below 100%, and the whole-window test lets it pass.  So
    a unit below 100% over the window whose latest periods (up to the last it
    reported, or up to P) are at 100% on every pair, at least ``min_run_periods``
    of them with hazards, is tested on that run against its own earlier periods:
    its rate on a pair Beta(ρc, (1 − ρ)c) among its peers as above, the same in
    every period, the chance that the run's n hazards are all rectified given n₀
    found and r₀ rectified before is B(ρc + r₀ + n, (1 − ρ)c + n₀ − r₀) /
    B(ρc + r₀, (1 − ρ)c + n₀ − r₀); over several pairs, the comonotone bound of
    these posteriors.  A unit that honestly rectifies 98% shows it in its earlier
    periods and is not evidence.  The run starts where the data say, so p is that
    chance times the trailing windows a scan could have tested (Bonferroni: the
    unit's periods with hazards less ``min_run_periods``).  One test per unit on
    its pairs together (as the whole-window joint test; per pair, the few units
    with major hazards made a small family, and honest runs on major hazards alone
    were flagged on the grid); the runs are one Tarone–BH family of their own
    (the smallest achievable p: every period after the first at 100%, none
    rectified in the first), so the whole-window tests keep their q.  On the
    detection grid (benchmarks/README.md), six months at 100% after six honest
    ones: found in 74 of 100 plantings (the oracle, which knows the window, 76;
    the whole-window test alone 2), with as many clean and null-twin units
    flagged as before (15 of 21,960 and 12 of 25,280).
    """
    if model not in ("beta_binomial", "binomial"):
        raise ValueError(f"model must be 'beta_binomial' or 'binomial', not {model!r}")
    cube = as_panel(panel).series(period)
    # Only counted indicators (项, 处 …) take part, as a rate of 万元 has no meaning.
    counted = {c: j for j, (c, ok) in enumerate(zip(cube.indicators, cube.count_indicators()))
               if ok}
    t_p = cube.period_index(period) if period is not None else None
    type_code = pd.factorize(cube.unit_type)[0]
    frames, at_ps, groups, run_pairs = [], {}, [], []
    present = [(counted[f], counted[r]) for f, r in pairs if f in counted and r in counted]
    runs = (trailing_runs(*summed([(cube.values[:, jf, :], cube.values[:, jr, :])
                                   for jf, jr in present]), t_p, min_periods=min_run_periods)
            if min_run_periods is not None and present else None)
    for found, rect in pairs:  # a loop over the catalogue's indicator pairs
        if found not in counted or rect not in counted:
            continue
        with np.errstate(invalid="ignore"):
            n_sum, r_sum, start, end, any_, at_p = _pair_totals(
                cube, counted[found], counted[rect], t_p)
            counts = (pair_counts(cube.values[:, counted[found], :],
                                  cube.values[:, counted[rect], :], runs)
                      if runs is not None else None)
        # The units of a unit × rectified pair reported at 100% in P (shared by pairs
        # with the same rectified indicator, as rows keyed by unit and indicator are).
        at_ps[rect] = at_ps.get(rect, np.zeros(len(at_p), dtype=bool)) | at_p
        keep = np.flatnonzero(any_ & (n_sum >= min_found))
        if not len(keep):
            continue
        u = pd.DataFrame({"_u": keep, "unit_type": type_code[keep], "n": n_sum[keep],
                          "r": r_sum[keep], "start": start[keep], "end": end[keep]})
        rho = None
        if model == "beta_binomial":
            mu, conc = rate_means(u["n"], u["r"], u["unit_type"], level=spread_level,
                                  min_units=min_spread_units)
            if not np.isnan(mu).any():
                rho = pd.Series(mu, index=u.index)
        else:
            conc = float("inf")
        if rho is None:
            rho = _pooled_rate(u, min_peer_found)
        p_all = all_rectified_chance(u["n"], rho, conc)
        pinned = u["r"] >= u["n"]
        if (pinned.all() and len(u) >= min_group_units and u["n"].sum() >= min_peer_found
                and (period is None or at_p[keep].all())):
            groups.append(_all_pinned(cube, found, rect, u, period))
        u = u.assign(indicator=rect, expected=rho, observed=u["r"] / u["n"], statistic=u["n"],
                     p_value=np.where(pinned, p_all, 1.0))
        frames.append(u.assign(_pinned=pinned, _p_min=p_all, _found=found, _conc=conc,
                               _at_p=at_p[keep] if period is not None else True))
        if counts is not None:
            run_pairs.append((found, rect, keep, rho.to_numpy(dtype="float64"), conc, counts))
    # (an empty findings table costs some 20 ms to build: only where it is returned)
    group_rows = make_findings(pd.DataFrame(groups)) if groups else None
    if not frames:
        return group_rows if groups else empty_findings()
    out = pd.concat(frames, ignore_index=True)
    # One Tarone–BH family per pair: every unit's hundreds of general hazards make its
    # test "achievable", so a shared family is some ten times larger than the major
    # hazards' alone and drowns them (the bundled city's pinned 区应急局, 67 of 67:
    # q 0.011 alone, above 0.05 with general hazards in its family).
    out["q_value"] = np.nan
    for _, rows in out.groupby("_found", sort=False).groups.items():
        out.loc[rows, "q_value"] = tarone_bh(out.loc[rows, "p_value"], out.loc[rows, "_p_min"],
                                             alpha=warning)
    joint, joint_pairs = _joint_tests(out, alpha=warning)
    runs = _run_rows(cube, runs, run_pairs, period, model, alert=alert, warning=warning,
                     info_p=info_p)
    out = out[out["_pinned"]]
    if period is not None:
        at_p = np.zeros(len(out), dtype=bool)
        for rect, units in at_ps.items():
            here = (out["indicator"] == rect).to_numpy()
            at_p[here] = units[out["_u"].to_numpy()[here]]
        out = out[at_p]
    joint = joint[(severity_from_q(joint["q_value"], alert=alert, warning=warning) != "info")
                  | (joint["p_value"] < info_p).to_numpy()]
    # A unit found on all its pairs at once gets the one row that names them all.
    out = out[~out["_u"].isin(joint["_u"])]
    joint_rows = _joint_rows(cube, joint, joint_pairs, period, model)
    # Only rows that finish keeps are turned into text.
    out = out[(severity_from_q(out["q_value"], alert=alert, warning=warning) != "info")
              | (out["p_value"] < info_p).to_numpy()]
    if out.empty:
        return _stack(group_rows, finish(pd.concat([joint_rows, runs], ignore_index=True),
                                         "pinned_rate", info_p=info_p, alert=alert,
                                         warning=warning))
    idx = out["_u"].to_numpy()
    text = {"unit": cube.units[idx], "unit_type": cube.unit_type[idx],
            "start": cube.periods[out["start"].to_numpy()],
            "end": cube.periods[out["end"].to_numpy()]}
    out = out.assign(**{k: pd.array(v, dtype="str") for k, v in text.items()})
    one = (out["start"] == out["end"]).to_numpy()
    span = pd.Series(np.where(one, out["end"], out["start"] + "至" + out["end"]), index=out.index,
                     dtype="str")
    every = pd.Series(np.where(one, "，整改率为100%", "，各期整改率均为100%"), index=out.index,
                      dtype="str")
    out["message"] = (out["unit"] + span
                      + out["_found"].map(catalogue.indicator_name) + out["n"].map(figure_text)
                      + "项、整改" + out["r"].map(figure_text) + "项" + every + "；按同类单位整改率"
                      + (out["expected"] * 100).map(lambda x: f"{x:.1f}")
                      + ("%及单位间差异计" if model == "beta_binomial" else "%计")
                      + "，全部整改的概率为" + out["p_value"].map(p_text))
    out["period"] = period if period is not None else np.nan
    out = pd.concat([out.drop(columns=["_u", "n", "r", "start", "end", "_pinned", "_p_min",
                                        "_found", "_conc", "_at_p"]),
                     joint_rows, runs], ignore_index=True)
    rows = finish(out, "pinned_rate", info_p=info_p, alert=alert, warning=warning)
    return _stack(group_rows, rows)


def _run_rows(cube, runs, run_pairs: list, period, model: str, *, alert: float,
              warning: float, info_p: float) -> pd.DataFrame:
    """The findings rows (before ``finish``) of the units' runs (``runs``: the
    pairs summed, ``pinned_tail.trailing_runs``; ``run_pairs``: per pair found,
    rectified, the units tested on it, their ρ, c and ``pair_counts``): one test per
    unit, q by Tarone–BH over the units that could have shown a run (a unit without
    one: p = 1), rows kept as ``finish`` would keep them.  The indicator is the
    rectified indicator of the pair with the most hazards in the run, expected its ρ."""
    cols = ["unit", "unit_type", "indicator", "observed", "expected", "statistic",
            "p_value", "q_value", "period", "message"]
    if runs is None or not run_pairs or not runs["tested"].any():
        return pd.DataFrame(columns=cols)
    rho = np.full((len(runs["tested"]), len(run_pairs)), 0.5)
    counts = []
    for k, (_, _, keep, rho_k, _, c) in enumerate(run_pairs):
        rho[keep, k] = rho_k
        # a pair the unit is not tested on over the window (too few hazards) has no
        # peer rate for it: its hazards leave the run's test, as they leave the window's
        tested_on = np.zeros(len(rho), dtype=bool)
        tested_on[keep] = True
        counts.append({key: np.where(tested_on, v, 0.0) for key, v in c.items()})
    conc = np.array([c for *_, c, _ in run_pairs], dtype="float64")
    p, p_min = run_tests(runs, counts, rho, conc, above=max(warning, info_p))
    q = tarone_bh(p, p_min, alpha=warning)
    t = runs["tested"] & ((severity_from_q(q, alert=alert, warning=warning) != "info")
                          | (p < info_p))
    idx = np.flatnonzero(t)
    if not len(idx):
        return pd.DataFrame(columns=cols)
    n = np.stack([c["n"][idx] for c in counts], axis=1)
    top = np.argmax(n, axis=1)
    rows = pd.DataFrame({"_u": idx, "first": runs["first"][idx], "end": runs["end"][idx],
                         "periods": runs["periods"][idx], "p_value": p[idx],
                         **{f"{key}_{k}": c[key][idx] for k, c in enumerate(counts)
                            for key in ("n", "n0", "r0")},
                         **{f"rho_{k}": rho[idx, k] for k in range(len(counts))}})
    names = [found for found, *_ in run_pairs]
    return pd.DataFrame({
        "unit": pd.array(cube.units[idx], dtype="str"),
        "unit_type": pd.array(cube.unit_type[idx], dtype="str"),
        "indicator": np.array([rect for _, rect, *_ in run_pairs], dtype=object)[top],
        "observed": 1.0, "expected": rho[idx, top], "statistic": n.sum(axis=1),
        "p_value": p[idx], "q_value": q[idx],
        "period": period if period is not None else np.nan,
        "message": run_messages(cube, rows, names, model).to_numpy()}, columns=cols)


def _pooled_rate(u: pd.DataFrame, min_peer_found: int) -> pd.Series:
    """Per unit of ``u`` (columns unit_type, n, r), its peers' pooled rate: the other
    units of its type, or all other units where the type's peers without the
    largest of them found fewer than ``min_peer_found``; 1.0 where there are none."""
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
    return (type_r / type_n.where(enough)).fillna(all_rate).fillna(1.0)


def _stack(group_rows: pd.DataFrame | None, rows: pd.DataFrame) -> pd.DataFrame:
    return rows if group_rows is None else pd.concat([group_rows, rows], ignore_index=True)


def _joint_tests(tests: pd.DataFrame, alpha: float):
    """The joint test of every unit tested on two pairs or more (``tests``: one row
    per unit and pair, in the order of the pairs, columns _u, n, expected, _conc,
    _pinned, _p_min, _found, _at_p, start, end; not modified): p =
    ``all_rectified_jointly`` where the unit is at 100% on every pair (and, with a
    period, at 100% in it on every pair), else 1; q by Tarone–BH over these units,
    the smallest achievable p taken as the product of the pairs' own (a lower bound
    of the joint one, so that the family is, if anything, too large).  Returns one
    row per unit that is at 100% on every pair (_u, p_value, q_value, statistic: the
    hazards of all pairs, start, end) and those units' rows of ``tests``."""
    cols = ["_u", "p_value", "q_value", "statistic", "start", "end"]
    # a pair whose peers' rate is 100% (no unit below it) says nothing of a unit
    tests = tests[(tests["expected"] < 1).to_numpy()]
    u_all = tests["_u"].to_numpy()
    size = np.bincount(u_all) if len(u_all) else np.zeros(0, dtype=np.int64)
    multi = size[u_all] >= 2
    if not multi.any():
        return pd.DataFrame(columns=cols), tests.iloc[:0]
    # units (sorted) and each row's unit among them, without sorting the rows
    units = np.flatnonzero(size >= 2)
    row = (np.cumsum(size >= 2) - 1)[u_all[multi]]
    codes, names = pd.factorize(tests["_found"].to_numpy()[multi])
    n = np.zeros((len(units), len(names)))
    rho = np.full(n.shape, 0.5)
    n[row, codes] = tests["n"].to_numpy(dtype="float64")[multi]
    rho[row, codes] = tests["expected"].to_numpy(dtype="float64")[multi]
    conc_rows = tests["_conc"].to_numpy(dtype="float64")[multi]
    conc = np.array([conc_rows[np.argmax(codes == k)] for k in range(len(names))])
    not_every = ~(tests["_pinned"].to_numpy(dtype=bool) & tests["_at_p"].to_numpy(dtype=bool))
    every = np.bincount(row, weights=not_every[multi], minlength=len(units)) == 0
    with np.errstate(divide="ignore"):
        log_min = np.log(tests["_p_min"].to_numpy(dtype="float64")[multi])
    p_min = np.exp(np.bincount(row, weights=log_min, minlength=len(units)))
    p = np.ones(len(units))
    if every.any():
        p[every] = all_rectified_jointly(n[every], rho[every], conc)
    q = tarone_bh(p, np.minimum(p_min, p), alpha=alpha)
    keep = np.flatnonzero(every)
    on = every[row]                                   # rows of the units kept
    start = np.full(len(units), np.iinfo(np.int64).max)
    end = np.full(len(units), -1)
    np.minimum.at(start, row[on], tests["start"].to_numpy(dtype=np.int64)[multi][on])
    np.maximum.at(end, row[on], tests["end"].to_numpy(dtype=np.int64)[multi][on])
    joint = pd.DataFrame({"_u": units[keep], "p_value": p[keep], "q_value": q[keep],
                          "statistic": n[keep].sum(axis=1), "start": start[keep],
                          "end": end[keep]}, columns=cols)
    return joint, tests.iloc[np.flatnonzero(multi)[on]]


def _joint_rows(cube, joint: pd.DataFrame, tests: pd.DataFrame, period,
                model: str) -> pd.DataFrame:
    """The findings rows (before ``finish``) of the joint tests ``joint`` (``tests``:
    their units' rows per pair): the indicator is the rectified indicator of the pair
    with the most hazards, expected its peers' rate, and the message names every
    pair."""
    rows = []
    tests = tests[tests["_u"].isin(joint["_u"])]
    by_unit = dict(iter(tests.groupby("_u", sort=False))) if len(tests) else {}
    for u, p, q, stat, start, end in zip(*(joint[c] for c in joint.columns)):
        pairs = by_unit[u].sort_values("n", ascending=False, kind="stable")
        u = int(u)
        first, last = cube.periods[int(start)], cube.periods[int(end)]
        span, every = (str(last), "") if first == last else (f"{first}至{last}", "各期")
        found = "、".join(f"{catalogue.indicator_name(f)}{figure_text(n)}项"
                         for f, n in zip(pairs["_found"], pairs["n"]))
        rates = "、".join(f"{x * 100:.1f}%" for x in pairs["expected"])
        spread = "及单位间差异" if model == "beta_binomial" else ""
        rows.append({
            "unit": str(cube.units[u]), "unit_type": str(cube.unit_type[u]),
            "indicator": pairs["indicator"].iloc[0], "observed": 1.0,
            "expected": float(pairs["expected"].iloc[0]), "statistic": stat,
            "p_value": p, "q_value": q,
            "period": period if period is not None else np.nan,
            "message": (f"{cube.units[u]}{span}{found}，全部整改，{every}整改率均为100%；"
                        f"按同类单位整改率{rates}{spread}计，各类隐患全部整改的概率不超过"
                        f"{p_text(p)}")})
    cols = ["unit", "unit_type", "indicator", "observed", "expected", "statistic",
            "p_value", "q_value", "period", "message"]
    return pd.DataFrame(rows, columns=cols)


def _all_pinned(cube, found: str, rect: str, u: pd.DataFrame, period) -> dict:
    """The group row of a pair at 100% in every unit (``u``: the units tested)."""
    first, last = cube.periods[int(u["start"].min())], cube.periods[int(u["end"].max())]
    span = str(last) if first == last else f"{first}至{last}"
    n = u["n"].sum()
    text = (f"全部{len(u)}个单位{span}{catalogue.indicator_name(found)}共{figure_text(n)}项，"
            f"{catalogue.indicator_name(rect)}{figure_text(u['r'].sum())}项，每个单位的整改率均为100%，"
            "没有整改率低于100%的单位可作比较，需核实整改是否真实到位。")
    return {"check": "pinned_rate", "unit": np.nan, "unit_type": np.nan,
            "period": period if period is not None else np.nan, "indicator": rect,
            "observed": 1.0, "expected": np.nan, "statistic": float(len(u)),
            "severity": "warning", "message": text}
