"""How often units like a unit repeat a figure from one period to the next: the peers'
null for ``repeated_value``.

A run of equal figures is judged by ``repeats`` against the unit's own variability.
A series flat from its first period to its last has no figures of its own left to
judge it by, and an honest unit on a schedule (four inspections a month, one drill
enterprise) reports the same small figure month after month.  So a run is also judged
against the units nearest to it in level on the same indicator: how often do *they*
report a figure equal to the one before?  A run is evidence only where it is
improbable on both counts."""

from __future__ import annotations

import numpy as np

from .rate_spread import all_rectified_chance, rate_spread


def repeat_counts(values: np.ndarray, follows: np.ndarray):
    """Per series (rows of ``values``, periods in order along the last axis; NaN
    where a figure is not one of the series), the transitions (a figure directly
    after a figure of the period before) and the repeats among them (both figures
    equal and positive), and the mean of the figures.  ``follows`` marks the
    periods that directly follow the one before.  Returns (transitions, repeats,
    mean, figures) as float arrays."""
    ok = ~np.isnan(values)
    pair = ok[:, 1:] & ok[:, :-1] & follows[1:]
    with np.errstate(invalid="ignore"):
        same = pair & (values[:, 1:] == values[:, :-1]) & (values[:, 1:] > 0)
    figures = ok.sum(axis=1)
    total = np.where(ok, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(figures > 0, total / figures, np.nan)
    return (pair.sum(axis=1).astype("float64"), same.sum(axis=1).astype("float64"),
            mean, figures.astype("float64"))


def peer_run_chance(unit: int, length: int, span: int, counts, unit_type, *,
                    neighbours: int = 10, min_peers: int = 5,
                    level: float | None = 0.8) -> float:
    """The chance of a run of ``length`` equal figures in a series of ``span``
    periods for a unit that repeats its figures as often as its peers do.

    Parameters
    ----------
    unit : int
        The unit's row in ``counts``.
    length, span : int
        The run's length L and the series' length T.
    counts : tuple of arrays
        ``repeat_counts`` of every unit's series on the indicator (one row per
        unit); units with no transition have no series.
    unit_type : array of str
        Per unit, its type: peers are of the unit's type when it has
        ``neighbours`` other units with a series, else of any type.
    neighbours : int
        The peers are the units nearest to the unit in level (the mean of the
        series, on a log scale), this many of them.
    min_peers : int
        With fewer peers with a series, there is no peers' judgement (NaN).
    level : float or None
        ``rate_spread``'s confidence level for the spread of the peers' repeat
        rates (None: its maximum-likelihood estimate).

    Returns
    -------
    float: min(1, (T − L + 1)·π), π the chance of L − 1 repeats in a row; NaN
    when there are too few peers, or too few that vary.

    Notes
    -----
    Null model: the unit repeats the figure before with its own chance ρ each
    period, ρ drawn like its peers' (the units nearest in level: a small count
    repeats more often than a large one), so a run of L is L − 1 repeats in a
    row, with chance E[ρ^(L−1)], and there are at most T − L + 1 places to start
    it (a union bound).  ρ is Beta(μc, (1 − μ)c), fitted by ``rate_spread`` to
    the peers' repeats out of their transitions: to the peers that are not flat
    all along, each conditioned on not being flat, so that another flat line
    (two units both reporting 30 a month) does not make flat lines look
    ordinary, while the conditioning still allows for honest peers that are.
    The spread c is taken at its lower bound of ``level`` (wider, so that the
    one or two steadiest peers weigh).  With fewer than ``min_peers`` peers that
    are not flat all along (a floor most units sit on) there is no peers'
    judgement: NaN, and the run is judged by the unit's own variability alone.
    """
    n, r, mean, _ = counts
    has = n > 0
    has[unit] = False
    candidates = np.flatnonzero(has & (unit_type == unit_type[unit]))
    if len(candidates) < neighbours:
        candidates = np.flatnonzero(has)
    if len(candidates) < min_peers:
        return float("nan")
    # the nearest in level; +0.5 keeps a series of zeros and ones apart
    gap = np.abs(np.log(mean[candidates] + 0.5) - np.log(mean[unit] + 0.5))
    peers = candidates[np.argsort(gap, kind="stable")[:neighbours]]
    repeats = length - 1
    mu, conc = rate_spread(n[peers], r[peers], np.zeros(len(peers), dtype=np.int64),
                           level=level, min_units=min_peers)
    if np.isnan(mu).any():          # too few peers that vary to say how they repeat
        return float("nan")
    return min(1.0, (span - length + 1) * float(all_rectified_chance(repeats, mu[0], conc)))
