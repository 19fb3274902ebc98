"""Peer groups: the units a unit is compared with."""

from __future__ import annotations

import numpy as np
import pandas as pd

ALL_PEERS = "all"


def peer_groups(unit_type, tested, min_peers: int) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's peer group: its unit type when at least ``min_peers`` units of that
    type are tested, otherwise ``ALL_PEERS`` (all tested units).

    Parameters
    ----------
    unit_type : array of str or NaN, one per unit
    tested : array of bool, one per unit
    min_peers : int

    Returns
    -------
    (codes, names): a group code per unit and the group labels (a type or
    ``ALL_PEERS``; ``ALL_PEERS`` always among them).
    """
    types = np.where(pd.isna(unit_type), "", np.asarray(unit_type, dtype=object))
    tc, tnames = pd.factorize(types)
    size = np.bincount(tc, weights=np.asarray(tested, dtype=float), minlength=len(tnames))
    label = np.where(size[tc] >= min_peers, np.asarray(tnames, dtype=object)[tc], ALL_PEERS)
    codes, names = pd.factorize(label.astype(object))
    names = np.asarray(names, dtype=object)
    if ALL_PEERS not in set(names):
        names = np.append(names, ALL_PEERS)
    return codes.astype(np.intp), names
