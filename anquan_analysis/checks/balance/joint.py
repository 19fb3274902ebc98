"""Groups whose pairs are each weak but whose joint agreement is overwhelming.

Six towns that report the same major-hazard figure every month, 2 in nine months
and 4 in three, agree pair by pair with chance (9² + 3²)/12² = 0.625 a month:
12 months of it has p = 0.625¹² ≈ 0.004, which no multiple-testing threshold over
hundreds of pairs lets through.  All six agreeing at once has chance
0.75⁶ + 0.25⁶ ≈ 0.178 a month, 0.178¹² ≈ 10⁻⁹ for the year: the group as a whole
is far beyond chance although none of its pairs is.

``joint_groups`` finds such groups for ``matching_series``: the pairs with
p < min(``screen_p``, 1/N) (N the units of the pair's peer group that could be
tested on the indicator) make a graph, each of its maximal cliques of three or
more units (``groups.maximal_cliques``) is tested as one group
(``group_agreement``), and a member whose removal makes the group's
adjusted p smaller is dropped, one at a time, while the group keeps three.

Two nulls, both required (``joint_test``): the members' own figures (each
unit's months exchangeable), and the other peers' figures in the same months
(a contrast: the group must agree more than units drawn from the rest of its
peer group would in those months).  The first alone is broken by a strong
common movement of the district (all towns low in one half-year, high in the
other): towns of similar level then agree in the same months more than
shuffling their own months says.  On simulated honest districts of 60 towns
with such a movement (a half-year step of 4×, or monthly effects with a
lognormal σ of 0.7), the own-figures test alone gave 12 districts of 200 a
warning where the pairs gave 6; with the contrast 7 (the pairs alone are as
exposed: a district-wide push is not what either null describes).  With a
step of 2× or σ 0.34 neither gave any.

Groups held at a floor (hazards found): three towns at 1 in ten of twelve months
and 2 in the same two agree every month, and their own figures say that happens
with chance 0.58 a month, 0.0015 a year: nothing against the scan factor below.
Counts of events vary at least as much as Poisson, at whose law (mean 14/12)
the chance is 0.06 a month (0 left out).  So, for ``floored`` indicators, a
member steadier than Poisson is drawn from Poisson at its own mean
(``own_laws``), in the pair screen and in the group test.  Steadiness is not coordination, though: six towns
at 1 with 2 in three months each, shuffled, are as steady and agree at 1 in
many months.  The group is kept only if its months are matched too: the
members' own figures without the floor (the first null above, no contrast), p
adjusted for every group of steady units of one mode (their most frequent
figure) in one cell and peer group (``scan_factor`` over those counts: a
clique tested at the floor is of steady units only, its group must share
their mode, and any such units could have made one); q is the larger of that
and the floored test's q.  Whether a unit is steady and its mode depend only on
its own figures, not on their order, so under the shuffles that family is
fixed and the adjustment is Bonferroni over it, whatever the screen and the
search picked.  Three towns sharing 2 in two months, the only
steady ones at 1 in their cell, get 2 × 66⁻² × 2; sharing it in one month,
2 × 12⁻² × 2 = 0.028, and more with other steady units at 1 about: such
groups, and a figure that never changes, are not found.  A national panel of
rounded log-normal figures (``synth.scale``) has hundreds of units at 1 with 2
in two months; that three of them share the months is then no evidence, and
the factor says so.

Multiple testing: a group is picked after looking at the data, so its p-value
is adjusted for every group it could have been: p × (k − 1)(k − 2) × Σ_c C(N_c, k),
the sum over the (window, indicator, peer group) cells c of the groups of k among
the N_c units tested there, (k − 1)(k − 2) spending the level over the sizes
(Σ_{k≥3} 1/((k − 1)(k − 2)) = 1).  This is Bonferroni over every group of every
size in every cell, whatever the screen kept, so the chance that any honest
group is reported at level α is at most α (given each group's p-value is
valid).  The screen only decides which groups are looked at: it costs power,
never validity.
"""

from __future__ import annotations

from math import comb, exp, lgamma, log, perm

import numpy as np
import pandas as pd

from scipy import special, stats

from .agreement import binomial_tail
from .groups import maximal_cliques
from .peer_shares import OtherPeers, PeerFigures

# Fewer other peers than this: no contrast with them (``joint_test``).
_MIN_OTHERS = 5
# A unit is steadier than Poisson when its index of dispersion is this far in the
# lower tail (``own_laws``).
_STEADY = 0.05


def group_agreement(x: np.ndarray, tol: float, floor: bool = False):
    """How often k units agree all at once, and the chance of it from each unit's
    own figures: the k-unit counterpart of a pair's counts and chances.

    Parameters
    ----------
    x : numpy.ndarray, shape (k, periods)
        The members' figures, NaN where not reported.  Not modified.
    tol : float
        Near agreement: every two members within ± tol (max − min ≤ tol).
    floor : bool
        Each member's law never steadier than Poisson at its own mean
        (``own_laws``; for counts of hazards found).

    Returns
    -------
    (n, equal, near, chance_equal, chance_near) : N, the periods every member
    reported and not all 0; those with all figures equal and those with
    max − min ≤ tol; and the chance of each in such a period.

    Notes
    -----
    Null model: the members are independent, each reporting in a period a figure
    drawn from its own figures over the window (its empirical distribution f_i
    over its reported periods, the agreeing ones included, as for a pair: the
    mean of a permutation of each unit's months).  Then

    * P(all equal) = Σ_v Π_i f_i(v);
    * P(max − min ≤ tol) = Σ_v [Π_i F_i[v, v + tol] − Π_i F_i(v, v + tol]]: the
      smallest figure is v and all lie in [v, v + tol] (v over the figures seen);
    * the periods in which all report 0 are left out, so each chance is
      (P − Z)/(1 − Z) with Z = Π_i f_i(0) (1 where every draw is all 0).

    With ``floor``, a member whose own figures are steadier than Poisson at their
    mean draws from that Poisson law instead (``own_laws``, ``law_chances``).
    With k = 2 these are ``agreement.PairAgreement.counts``'s chances.  The number of
    agreeing periods among N is then taken as Binomial(N, chance); under a
    permutation of each unit's months its mean is exactly N × chance and its
    spread smaller, so the binomial tail is conservative where it matters.
    """
    x = np.asarray(x, dtype=float)
    seen = ~np.isnan(x)
    every = seen.all(axis=0)
    filled = np.where(seen, x, 0.0)
    spread = filled.max(axis=0) - filled.min(axis=0)
    all_zero = every & (filled == 0).all(axis=0)
    n = int((every & ~all_zero).sum())
    equal = int((every & ~all_zero & (spread == 0)).sum())
    near = int((every & ~all_zero & (spread <= tol)).sum())
    support = np.unique(x[seen])
    counts = np.stack([np.searchsorted(np.sort(row[~np.isnan(row)]), support, side="right")
                       for row in x]).astype(float)          # k × figures: F_i(≤ v) · n_i
    total = seen.sum(axis=1).astype(float)[:, None]
    if not support.size or (total == 0).any():
        return n, equal, near, 1.0, 1.0
    laws = own_laws(x) if floor else None
    if laws is not None and laws[1].any():
        return (n, equal, near) + law_chances(laws[0], tol)
    below = np.hstack([np.zeros((len(x), 1)), counts[:, :-1]])   # F_i(< v) · n_i
    f = (counts - below) / total
    upper = np.searchsorted(support, support + tol, side="right") - 1
    band = (counts[:, upper] - below) / total                  # F_i[v, v + tol]
    inner = (counts[:, upper] - counts) / total                # F_i(v, v + tol]
    zero = float(np.prod(f[:, 0])) if support[0] == 0 else 0.0
    chances = []
    for p in (f.prod(axis=0).sum(), (band.prod(axis=0) - inner.prod(axis=0)).sum()):
        chances.append(1.0 if zero >= 1.0 else float(np.clip((p - zero) / (1.0 - zero), 0, 1)))
    return n, equal, near, chances[0], chances[1]


def own_laws(x: np.ndarray):
    """Each unit's law of its figure in a period, on the figures 0, 1, …, V: its own
    figures over the window (their shares), or Poisson at its own mean where its
    figures are steadier than that: the index of dispersion Σ(x − x̄)²/x̄ in the
    lower ``_STEADY`` (5 %) tail of χ² with n − 1 degrees of freedom, n its
    reported periods (a Poisson unit is called steady with chance 5 %, a
    gamma-Poisson one less).

    Parameters
    ----------
    x : numpy.ndarray, shape (units, periods)
        Figures, NaN where not reported.  Not modified.

    Returns
    -------
    (laws, steady): laws units × (V + 1), V covering every figure and the
    Poisson laws' tails (mass beyond it below 10⁻¹²); steady, per unit, whether
    its Poisson law was taken.  None when a figure is not a whole number ≥ 0.

    Notes
    -----
    Hazards found are events counted, and counts of events vary at least as
    much as Poisson: honest units in the detection benchmark are gamma-Poisson,
    whose chance that two draws agree is below Poisson's at the same mean, so the
    floor errs on the side of too large a chance.  A unit held at a figure (1 in
    ten of twelve months) has nearly all its mass there under its own figures,
    and several such units agree every month "by chance" however many they are;
    at Poisson's it is 0.37, and the months they all agree become what they are.
    Quotas and stocks (sessions held, enterprises on the roster) are steady for
    honest reasons: they are never floored (``matching_series`` passes only
    ``catalogue.FINDING_COUNTS``).
    """
    found = steadiness(x)
    if found is None:
        return None
    mean, steady, top = found
    x = np.asarray(x, dtype=float)
    seen = ~np.isnan(x)
    n = seen.sum(axis=1)
    rows, cols = np.nonzero(seen)
    laws = np.zeros((len(x), top + 1))
    np.add.at(laws, (rows, x[rows, cols].astype(np.intp)), 1.0)
    laws /= np.maximum(n, 1)[:, None]
    laws[steady] = poisson_laws(mean[steady], top)   # a few units in a hundred
    return laws, steady


def steadiness(x: np.ndarray):
    """``own_laws``'s test without the laws: (mean, steady, V) per unit of ``x``
    (units × periods, NaN where not reported; not modified), V the last figure of
    ``own_laws``'s grid; None when a figure is not a whole number ≥ 0."""
    x = np.asarray(x, dtype=float)
    seen = ~np.isnan(x)
    v = x[seen]
    if not v.size or (v < 0).any() or (v != np.round(v)).any():
        return None
    n = seen.sum(axis=1)
    mean = np.where(seen, x, 0.0).sum(axis=1) / np.maximum(n, 1)
    top = max(int(v.max()), int(np.ceil(mean.max() + 12 * np.sqrt(mean.max()) + 12)))
    spread = (np.where(seen, x - mean[:, None], 0.0) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        below = stats.chi2.cdf(spread / mean, np.maximum(n - 1, 1))
    steady = (n >= 2) & (mean > 0) & (below < _STEADY)
    return mean, steady, top


def poisson_laws(mean, top: int) -> np.ndarray:
    """Poisson laws at ``mean`` (one row each) on the figures 0, 1, …, ``top``.

    exp(k·log μ − μ − log k!) with log k! once per figure, not per cell: scipy's pmf
    (which agrees to 1e-13) took a fifth of national matching_series."""
    m = np.asarray(mean, float)[:, None]
    k = np.arange(top + 1, dtype=float)
    return np.exp(special.xlogy(k[None, :], m) - m - special.gammaln(k + 1)[None, :])


def law_chances(laws: np.ndarray, tol: float) -> tuple[float, float]:
    """The chance that k units drawing from ``laws`` (k × figures 0, 1, …, V) are all
    equal, and all within ± tol, in a period in which they are not all 0: the
    formulas of ``group_agreement`` on the whole figures."""
    k, width = laws.shape
    cum = np.cumsum(laws, axis=1)
    upper = np.minimum(np.arange(width) + int(np.floor(tol)), width - 1)
    below = np.hstack([np.zeros((k, 1)), cum[:, :-1]])
    band = cum[:, upper] - below                       # F_i[v, v + tol]
    inner = cum[:, upper] - cum                        # F_i(v, v + tol]
    zero = float(np.prod(laws[:, 0]))
    out = []
    for p in (laws.prod(axis=0).sum(), (band.prod(axis=0) - inner.prod(axis=0)).sum()):
        out.append(1.0 if zero >= 1.0 else float(np.clip((p - zero) / (1.0 - zero), 0, 1)))
    return out[0], out[1]


def permutation_bound(x: np.ndarray, equal: int) -> float:
    """An upper bound of the chance that k units' figures are all equal (and not 0)
    in ``equal`` or more periods when each unit's figures are shuffled among the
    periods all of them reported: the exact permutation test's p-value or more.

    Parameters
    ----------
    x : numpy.ndarray, shape (k, periods)
        The members' figures, NaN where not reported; only the periods every
        member reported are used.
    equal : int
        The periods observed with all figures equal and not 0.

    Returns
    -------
    float: min(1, E[C(X, equal)]), X the periods with all equal and not 0 under
    the shuffles (Markov: P(X ≥ m) ≤ E[C(X, m)], exact when m = N).

    Notes
    -----
    Fix the first unit's order.  A set T of m periods in which the first unit's
    figures take the value v r_v times (v ≠ 0) is all-equal under unit i's shuffle
    with chance Π_v c_i(v)(c_i(v) − 1)…(c_i(v) − r_v + 1) / (N(N − 1)…(N − m + 1)),
    c_i(v) unit i's count of v over the N periods; the sets of each composition
    r number Π_v C(c_1(v), r_v).  E[C(X, m)] sums this over the sets: the
    coefficient of z^m in Π_{v ≠ 0} Σ_r C(c_1(v), r) Π_{i ≥ 2} c_i(v)^(r) z^r,
    divided by (N^(m))^(k − 1), in whole numbers.  Against the binomial of
    ``group_agreement`` (draws with replacement) it is far smaller when units
    agree in nearly every period: six units that share the series
    1, 2, 2, 2, 1, 2, 2, 2, 2, 2, 3, 2 get 0.178¹² ≈ 10⁻⁹ from the binomial and
    (2! 9! 1!/12!)⁵ = 660⁻⁵ ≈ 8 × 10⁻¹⁵ here.
    """
    x = np.asarray(x, dtype=float)
    x = x[:, ~np.isnan(x).any(axis=0)]
    k, n = x.shape
    if equal <= 0 or k < 2:
        return 1.0
    if equal > n:
        return 0.0
    values = np.unique(x[0][x[0] != 0])
    poly = [1]                                  # coefficients of z^0, z^1, …
    for v in values:
        counts = [int((row == v).sum()) for row in x]
        term = []
        for r in range(counts[0] + 1):
            c = comb(counts[0], r)
            for ci in counts[1:]:
                c *= perm(ci, r)
            term.append(c)
        new = [0] * (len(poly) + len(term) - 1)
        for p_i, a in enumerate(poly):
            if a:
                for t_i, t in enumerate(term):
                    new[p_i + t_i] += a * t
        poly = new
    if equal >= len(poly) or poly[equal] == 0:
        return 0.0
    log_bound = log(poly[equal]) - (k - 1) * log(perm(n, equal))
    return float(min(1.0, exp(log_bound)))


def scan_factor(cells, k: int) -> float:
    """The factor a group of ``k`` units is adjusted by: (k − 1)(k − 2) ×
    Σ_c C(N_c, k), ``cells`` the N_c, the units tested in each (window,
    indicator, peer group) cell (module docstring), or ``CellSizes`` of them."""
    if not isinstance(cells, CellSizes):
        cells = CellSizes(cells)
    return cells.factor(k)


class CellSizes:
    """The cells' sizes for ``scan_factor``, counted once: a national panel has
    hundreds of thousands of cells but few distinct sizes, and thousands of
    groups are adjusted over the same cells."""

    def __init__(self, cells):
        self.sizes, self.times = np.unique(np.asarray(cells, dtype=float), return_counts=True)
        self._factors = {}

    def factor(self, k: int) -> float:
        if k not in self._factors:
            big = self.sizes >= k
            sizes, times = self.sizes[big], self.times[big]
            if not len(sizes):
                self._factors[k] = float((k - 1) * (k - 2))
            else:
                log_comb = np.array([lgamma(c + 1) - lgamma(k + 1) - lgamma(c - k + 1)
                                     for c in sizes])
                top = log_comb.max()
                self._factors[k] = float(np.exp(top + log((times * np.exp(log_comb - top)).sum())
                                                + log((k - 1) * (k - 2))))
        return self._factors[k]


def peer_chances(x: np.ndarray, others, tol: float):
    """Per period, the chance that k units drawn from the other peers' figures of
    that period (their share reporting each figure) are all equal, and all
    within ± tol, all-0 draws left out; and the periods counted (every member
    reported, not all 0).  ``x``: the k members × periods; ``others``: the other
    peers × periods (NaN where not reported), or ``peer_shares.OtherPeers``
    (the same read once for many subgroups)."""
    if not isinstance(others, OtherPeers):
        others = PeerFigures(others, tol).without(np.zeros((0, x.shape[1])))
    return others.chances(x)


def poisson_binomial_tail(chances: np.ndarray, agree: int) -> float:
    """P(X ≥ agree), X the sum of independent Bernoulli(chances): exact, by
    convolution."""
    if agree <= 0:
        return 1.0
    dist = np.zeros(len(chances) + 1)
    dist[0] = 1.0
    for j, c in enumerate(chances):     # the convolution with [1 − c, c], in place
        dist[1:j + 2] = dist[1:j + 2] * (1.0 - c) + dist[:j + 1] * c
        dist[0] *= 1.0 - c
    return float(min(1.0, dist[agree:].sum()))


def joint_test(x: np.ndarray, tol: float, cells, others=None, floor: bool = False) -> dict:
    """The group test of the members' figures ``x`` (members × periods).

    Against each member's own figures (``group_agreement``): the tail of equal
    periods, the smaller of the binomial tail and the permutation bound
    (``permutation_bound``), and the binomial tail of near periods.  Against
    the other peers' figures of the same periods (``others``, at least
    ``_MIN_OTHERS`` of them; ``peer_chances``): the Poisson-binomial tails of
    the same counts.  Each of equal and near takes the larger of its two tails
    (the group must agree more than its members' own figures allow *and* more
    than the rest of its peers do in those months); p = 2 × the smaller of
    equal and near (Bonferroni), q = min(1, p × ``scan_factor``).  ``floor``: the
    own figures' chances with each member never steadier than Poisson
    (``own_laws``)."""
    n, equal, near, ch_eq, ch_near = group_agreement(x, tol, floor)
    p_eq = min(float(binomial_tail(equal, n, ch_eq)), permutation_bound(x, equal))
    p_near = float(binomial_tail(near, n, ch_near))
    if others is not None and len(others) >= _MIN_OTHERS:
        c_eq, c_near, counted = peer_chances(x, others, tol)
        filled = np.where(np.isnan(x), 0.0, x)
        spread = (filled.max(axis=0) - filled.min(axis=0))[counted]
        p_eq = max(p_eq, poisson_binomial_tail(c_eq[counted], int((spread == 0).sum())))
        p_near = max(p_near, poisson_binomial_tail(c_near[counted], int((spread <= tol).sum())))
    p = min(1.0, 2.0 * min(p_eq, p_near))
    q = min(1.0, p * scan_factor(cells, len(x)))
    return {"n": n, "equal": equal, "near": near, "chance_equal": ch_eq,
            "chance_near": ch_near, "p_equal": p_eq, "p_near": p_near, "p": p, "q": q,
            "tol": float(tol)}


def best_subgroup(x: np.ndarray, tol: float, cells, others=None, floor: bool = False):
    """The members (row positions of ``x``) and test of the subgroup with the
    smallest q found by dropping one member at a time from all of them, while
    that lowers q and at least three remain."""
    keep = np.arange(len(x))
    if others is not None and not isinstance(others, OtherPeers):
        others = PeerFigures(others, tol).without(np.zeros((0, x.shape[1])))
    test = joint_test(x, tol, cells, others, floor)
    while len(keep) > 3:
        trials = [(joint_test(x[np.delete(keep, j)], tol, cells, others, floor), j)
                  for j in range(len(keep))]
        best, j = min(trials, key=lambda t: t[0]["q"])
        if best["q"] >= test["q"]:
            break
        keep, test = np.delete(keep, j), best
    return keep, test


def joint_groups(pairs: pd.DataFrame, values_of, eligible: dict, taken, *, n_units: int,
                 n_indicators: int, screen_p: float, min_agree: int,
                 warning: float, floored=None) -> list[dict]:
    """Groups of loosely agreeing pairs that hold together as a whole.

    Parameters
    ----------
    pairs : DataFrame
        The pair tests kept by ``matching_series`` (freq, ind, a, b, tol, n,
        equal, near, p, …), every pair with p ≤ the screen among them; with a
        column ``p_screen`` (the pair's p with its units never steadier than
        Poisson, where smaller), that is what the screen reads.
    values_of : callable
        (window, indicator) → the units × periods figures of that window.
    eligible : dict
        (window, indicator) → peer group per unit (−1: not tested on it).
    taken : array of int
        Node keys ((window × indicators + indicator) × units + unit) of units
        already in a group of significant pairs: left out of the scan.
    n_units, n_indicators : int
        The cube's axes (for the node keys).
    screen_p : float
        Pairs with p < min(screen_p, 1/N) are the graph's edges.
    min_agree, warning : float
        A group is kept when its members agree all at once in at least
        ``min_agree`` periods and its adjusted q < ``warning``.
    floored : dict
        (window, indicator) → per unit its mode if steady (``own_laws``), else
        NaN, for the cells whose groups are also tested with each member never
        steadier than Poisson (counts of hazards found).

    Returns
    -------
    list of dict: window ``w``, indicator ``i``, ``units`` (sorted positions),
    ``inner`` (a one-row frame: the group's test) and ``weakest`` (that row),
    the shape ``matching_series`` gives its groups.
    """
    floored = floored or {}
    sizes = {key: np.bincount(g[g >= 0]) for key, g in eligible.items()}
    cells = np.concatenate([s[s >= 3] for s in sizes.values()] + [np.zeros(0)])
    if pairs.empty or not len(cells):
        return []
    cells = CellSizes(cells)
    w, i = pairs["freq"].to_numpy(), pairs["ind"].to_numpy()
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    peers = np.zeros(len(a))
    for (ww, ii), rows in pairs.groupby(["freq", "ind"], sort=False).indices.items():
        peers[rows] = sizes[(ww, ii)][eligible[(ww, ii)][a[rows]]]  # N of each pair's group
    base = (w * n_indicators + i) * n_units
    ka, kb = base + a, base + b
    screened = pairs["p_screen" if "p_screen" in pairs else "p"].to_numpy()
    keep = ((screened < np.minimum(screen_p, 1.0 / np.maximum(peers, 1)))
            & (pairs[["equal", "near"]].max(axis=1).to_numpy() >= min_agree)
            & ~np.isin(ka, taken) & ~np.isin(kb, taken))
    tol = dict(zip(zip(w[keep], i[keep]), pairs["tol"].to_numpy()[keep]))
    tested = []
    last = None   # the cell read last: cliques of one cell come together
    groups = {}   # its peer groups' figures, sorted once (``peer_shares``)
    for clique in maximal_cliques(ka[keep], kb[keep], min_size=3):
        ww, ii = divmod(int(clique[0]) // n_units, n_indicators)
        units = np.sort(clique % n_units)
        if last is None or last[0] != (ww, ii):
            last, groups = ((ww, ii), values_of(ww, ii)), {}
        values, g = last[1], eligible[(ww, ii)]
        if g[units[0]] not in groups:
            groups[g[units[0]]] = PeerFigures(values[g == g[units[0]]], tol[(ww, ii)])
        rest = groups[g[units[0]]].without(values[units])
        found = [best_subgroup(values[units], tol[(ww, ii)], cells, rest)]
        mode = floored[(ww, ii)][units] if (ww, ii) in floored else np.full(len(units), np.nan)
        modes, counts = np.unique(mode[~np.isnan(mode)], return_counts=True)
        if len(counts) and counts.max() >= 3:
            # At the floor: the clique's steady units of its commonest mode only.
            sub = np.flatnonzero(mode == modes[np.argmax(counts)])
            members, test = best_subgroup(values[units[sub]], tol[(ww, ii)], cells,
                                          rest, floor=True)
            # The months must be matched too: the members' own figures, unfloored
            # and without the scan factor, against their shuffles.
            own = joint_test(values[units[sub[members]]], tol[(ww, ii)], cells)["p"]
            found.append((sub[members], dict(test, p_months=own)))
        tested.append((ww, ii, units, found))
    # The months' p is adjusted for every group of every size of steady units of
    # one mode in one floored cell and peer group: the groups tested at the floor.
    steady = []
    for key, mode in floored.items():
        at = ~np.isnan(mode)
        if at.any():
            _, c = np.unique(np.c_[eligible[key][at], mode[at]], axis=0, return_counts=True)
            steady.append(c[c >= 3])
    steady = np.concatenate(steady + [np.zeros(0)])
    out = []
    for ww, ii, units, found in tested:
        if len(found) > 1:
            test = found[1][1]
            months = test.pop("p_months") * scan_factor(steady, len(found[1][0]))
            test["q"] = max(test["q"], min(1.0, months))
        # Of the clique's groups that hold (q < warning), the one naming the most
        # units: a floored subgroup of steady members can hold at a smaller q than
        # the whole clique, which holds on its own test (seven towns within ±1 of
        # one another every month, four of them steady: the seven, not the four).
        held = [f for f in found
                if f[1]["q"] < warning and max(f[1]["equal"], f[1]["near"]) >= min_agree]
        if not held:
            continue
        members, test = max(held, key=lambda f: (len(f[0]), -f[1]["q"]))
        row = pd.Series(test)
        out.append({"w": ww, "i": ii, "units": units[members],
                    "inner": pd.DataFrame([row]), "weakest": row})
    return out
