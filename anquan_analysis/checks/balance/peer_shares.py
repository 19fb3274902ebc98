"""The other peers' figures of each period, read once per peer group for every
clique tested in it (``joint.joint_test``'s contrast).

A province cell has a peer group of hundreds of towns and, at a floor, hundreds of
cliques; each clique's subgroups are tested against the same "other peers" (the
group less the clique), period by period.  Sorting the group's figures once per
cell and subtracting the clique's few members from its counts gives the same
shares as sorting the others anew for every clique and subgroup.
"""

from __future__ import annotations

import numpy as np


class PeerFigures:
    """One peer group's figures, sorted per period once, with the counts below,
    at or under, and within ``tol`` above each distinct figure.

    Parameters
    ----------
    values : numpy.ndarray, shape (peers, periods)
        The group's figures, NaN where not reported.  Not modified.
    tol : float
        Near agreement: within ± tol.
    """

    def __init__(self, values: np.ndarray, tol: float):
        values = np.asarray(values, dtype=float)
        self.tol = float(tol)
        self.size = len(values)
        self.periods = values.shape[1]
        self.reported = (~np.isnan(values)).sum(axis=0)
        rows = []
        for t in range(self.periods):
            col = np.sort(values[:, t][~np.isnan(values[:, t])])
            if not len(col):
                continue
            figure, below = np.unique(col, return_index=True)
            rows.append((np.full(len(figure), t), figure, below,
                         np.searchsorted(col, figure, side="right"),
                         np.searchsorted(col, figure + self.tol, side="right")))
        parts = list(zip(*rows)) if rows else [[np.zeros(0)]] * 5
        # one entry per (period, distinct figure): counts < v, ≤ v, ≤ v + tol
        self.t, self.figure, self.below, self.at, self.upto = (
            np.concatenate(p) for p in parts)
        self.t = self.t.astype(np.intp)

    def without(self, members: np.ndarray) -> "OtherPeers":
        """The group less ``members`` (members × periods, NaN where not
        reported; rows of this group's figures)."""
        members = np.asarray(members, dtype=float)
        m = members[:, self.t]                               # members × entries
        with np.errstate(invalid="ignore"):
            below = self.below - (m < self.figure).sum(axis=0)
            at = self.at - (m <= self.figure).sum(axis=0)
            upto = self.upto - (m <= self.figure + self.tol).sum(axis=0)
        left = self.reported - (~np.isnan(members)).sum(axis=0)
        return OtherPeers(self, below, at, upto, left, len(members))


class OtherPeers:
    """The shares of a peer group less some members (``PeerFigures.without``):
    what ``chances`` reads for every subgroup of those members."""

    def __init__(self, group: PeerFigures, below, at, upto, left, removed: int):
        self.group = group
        n = np.maximum(left, 1)[group.t].astype(float)
        self.below, self.at, self.upto = below / n, at / n, upto / n
        self.left = left
        # the all-0 draws: the share of 0 where no other peer is below it
        zero = (group.figure == 0) & (below == 0)
        self.zero_t, self.zero_share = group.t[zero], self.at[zero]
        self.size = group.size - removed

    def __len__(self) -> int:
        return self.size

    def chances(self, x: np.ndarray):
        """``joint.peer_chances`` for the members ``x`` (k × periods) against
        these other peers."""
        g = self.group
        k = len(x)
        seen = ~np.isnan(x)
        counted = seen.all(axis=0) & ~(np.where(seen, x, 0.0) == 0).all(axis=0)
        eq = np.bincount(g.t, (self.at - self.below) ** k, minlength=g.periods)
        near = np.bincount(g.t, (self.upto - self.below) ** k - (self.upto - self.at) ** k,
                           minlength=g.periods)
        z = np.zeros(g.periods)
        z[self.zero_t] = self.zero_share ** k
        chances = np.ones((2, g.periods))
        use = counted & (self.left > 0) & (z < 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            chances[0, use] = np.clip((eq[use] - z[use]) / (1 - z[use]), 0.0, 1.0)
            chances[1, use] = np.clip((near[use] - z[use]) / (1 - z[use]), 0.0, 1.0)
        return chances[0], chances[1], counted
