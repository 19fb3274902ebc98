"""checks/_peers.py: a unit's peer group is its type when enough units of the type
are tested, else all units (groups known by construction)."""

import numpy as np

from anquan_analysis.checks._peers import ALL_PEERS, peer_groups


def test_peer_groups_count_only_tested_units_and_keep_missing_types_together():
    types = np.array(["镇", np.nan, "镇", None, "街道", "街道"], dtype=object)
    tested = np.array([True, True, True, True, False, False])
    codes, names = peer_groups(types, tested, 2)
    # 镇: two tested; no type (NaN or None): two tested, one group ""; 街道: none tested
    assert names.tolist() == ["镇", "", ALL_PEERS]
    assert codes.tolist() == [0, 1, 0, 1, 2, 2]
    # with three needed, every unit is compared with all units
    codes, names = peer_groups(types, tested, 3)
    assert names.tolist() == [ALL_PEERS] and codes.tolist() == [0] * 6


def test_all_peers_is_always_a_group_name():
    codes, names = peer_groups(np.array(["镇", "镇"], dtype=object), [True, True], 2)
    assert names.tolist() == ["镇", ALL_PEERS] and codes.tolist() == [0, 0]
    assert codes.dtype == np.intp
