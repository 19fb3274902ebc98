"""Recall and false alarms of the balance and consistency checks on synth.make_city.

Run: .venv/bin/python tests/reference/balance_synth_eval.py [seeds…]
Recall: share of the units injected with a kind that the check of that id flags
(warning or alert).  False alarms: share of clean units (no truth row) flagged by
any of these checks; on a city with nothing injected, share of all units flagged.
"""
import sys

import pandas as pd

from anquan_analysis.checks import balance, consistency
from anquan_analysis.synth import make_city

CHECKS = {
    "underdispersion": balance.underdispersion, "identical_values": balance.identical_values,
    "repeated_value": balance.repeated_value, "last_digit": balance.last_digit,
    "benford": balance.benford, "pinned_rate": balance.pinned_rate,
    "rule_violation": consistency.rule_violation,
}


def flagged(city):
    out = {}
    for name, fn in CHECKS.items():
        f = fn(city.panel, exposure=city.exposure)
        out[name] = set(f.loc[f["severity"] != "info", "unit"])
    return out


def main(seeds):
    rows = []
    for seed in seeds:
        city = make_city(seed)
        hits = flagged(city)
        truth = city.truth
        dirty = set(truth["unit"]) - {""}
        clean = set(city.units["unit"]) - dirty
        for kind, fl in hits.items():
            want = set(truth.loc[truth["kind"] == kind, "unit"])
            rows.append({"seed": seed, "kind": kind, "recall": len(want & fl) / max(len(want), 1),
                         "n": len(want), "clean_flagged": len(fl & clean),
                         "clean_units": sorted(fl & clean)})
        any_clean = set().union(*hits.values()) & clean
        rows.append({"seed": seed, "kind": "ALL", "recall": float("nan"), "n": len(clean),
                     "clean_flagged": len(any_clean), "clean_units": sorted(any_clean)})
        quiet = make_city(seed, inject=False)
        qh = set().union(*flagged(quiet).values())
        rows.append({"seed": seed, "kind": "NOINJECT", "recall": float("nan"),
                     "n": len(quiet.units), "clean_flagged": len(qh), "clean_units": sorted(qh)})
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 80)
    print(df.to_string())
    print(df.groupby("kind")[["recall", "clean_flagged"]].mean())


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [0, 1, 2])
