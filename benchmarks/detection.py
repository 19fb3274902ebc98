"""Detection rate and false-alarm rate of the checks on the synthetic city.

For each seed: ``synth.make_city(inject=True)``, run ``checks.run_checks`` on a Dataset
built from it, and count per injected kind how many of its units got a warning or
alert from the check of the same id (recall); then the share of clean units (no
truth row) that got any warning or alert from any check, and the same share on
``make_city(inject=False)``, where every unit is clean.

    .venv/bin/python benchmarks/detection.py              # seeds 0–9
    .venv/bin/python benchmarks/detection.py --seeds 0 1 2

Printed per kind: units injected and found over all seeds, the pooled recall and
the smallest recall of any one seed, beside the target (pooled recall ≥ 0.9);
then the share of clean units flagged in the injected cities (target ≤ 5 %) and of
all units flagged in the cities with nothing injected (target ≤ 2 %), and which
checks flagged them.  Every seed asked for is run and reported: none is dropped.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from anquan_analysis import synth
from anquan_analysis.checks import run_checks
from anquan_analysis.dataset import Dataset
from anquan_analysis.ledger import effective_counts
from anquan_analysis.periods import period_bounds

FLAGGED = ("warning", "alert")
RECALL_TARGET, CLEAN_TARGET, CLEAN_CITY_TARGET = 0.9, 0.05, 0.02
# Found by ingest's reconciliation of 合计 rows, not by a check on the panel.
NOT_A_CHECK = {"total_mismatch"}


def city_dataset(city: synth.SynthCity) -> Dataset:
    """The Dataset ingest would build from the city's files: panel, exposure, ledger
    and the ledger's effective counts inside the campaign window."""
    start = period_bounds(city.periods[0])[0]
    end = period_bounds(city.periods[-1])[1]
    counts = effective_counts(city.ledger, campaign_start=start, campaign_end=end)
    return Dataset(panel=city.panel, exposure=city.exposure, ledger=city.ledger,
                   ledger_counts=counts)


def score(city: synth.SynthCity, findings: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Per kind: injected (units, or 1 for a whole-district kind) and found; plus the
    number of clean units and how many of them were flagged by any check."""
    flagged = findings.loc[findings["severity"].isin(FLAGGED)]
    truth = city.truth.loc[~city.truth["kind"].isin(NOT_A_CHECK)]
    targets = truth[["kind", "unit"]].drop_duplicates()
    hits = flagged[["check", "unit"]].drop_duplicates().rename(columns={"check": "kind"})
    unit_hit = targets.merge(hits.assign(found=True), on=["kind", "unit"], how="left")
    # A whole-district kind (unit blank) is found by any flagged finding of that check.
    group_kinds = set(flagged["check"])
    blank = targets["unit"].fillna("").eq("").to_numpy()
    found = unit_hit["found"].fillna(False).astype(bool).to_numpy().copy()
    found[blank] = targets.loc[blank, "kind"].isin(group_kinds).to_numpy()
    per_kind = (targets.assign(found=found).groupby("kind")["found"]
                .agg(injected="size", found="sum").reset_index())
    clean = set(city.units["unit"]) - set(city.truth["unit"])
    flagged_units = set(flagged["unit"].dropna())
    return per_kind, len(clean), len(clean & flagged_units)


def recall_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per kind over the seeds (rows kind, seed, injected, found): injected and
    found summed, the pooled recall, the smallest per-seed recall, the target and
    whether the pooled recall meets it."""
    per_seed = per_seed.assign(recall=per_seed["found"] / per_seed["injected"])
    table = per_seed.groupby("kind")[["injected", "found"]].sum()
    table["recall"] = (table["found"] / table["injected"]).round(2)
    table["min_seed"] = per_seed.groupby("kind")["recall"].min().round(2)
    table["target"] = f"≥ {RECALL_TARGET}"
    table["ok"] = table["recall"] >= RECALL_TARGET
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    args = parser.parse_args(argv)
    kinds, clean_n, clean_flagged, city_n, city_flagged = [], 0, 0, 0, 0
    by_check = []
    t0 = time.perf_counter()
    for seed in args.seeds:
        city = synth.make_city(seed=seed, inject=True)
        findings = run_checks(city_dataset(city))
        per_kind, n, k = score(city, findings)
        kinds.append(per_kind.assign(seed=seed))
        clean_n, clean_flagged = clean_n + n, clean_flagged + k
        clean_units = set(city.units["unit"]) - set(city.truth["unit"])
        f = findings.loc[findings["severity"].isin(FLAGGED) & findings["unit"].isin(clean_units)]
        by_check.append(f.drop_duplicates(["check", "unit"]).groupby("check").size())

        plain = synth.make_city(seed=seed, inject=False)
        pf = run_checks(city_dataset(plain))
        _, n2, k2 = score(plain, pf)
        city_n, city_flagged = city_n + n2, city_flagged + k2
        by_check.append(pf.loc[pf["severity"].isin(FLAGGED)].drop_duplicates(["check", "unit"])
                        .groupby("check").size().rename(lambda c: c + " (clean city)"))
    table = recall_table(pd.concat(kinds, ignore_index=True))
    pd.set_option("display.width", 120)
    print(f"seeds {args.seeds}  ({time.perf_counter() - t0:.1f} s)\n")
    print(table.to_string())
    share = clean_flagged / max(clean_n, 1)
    share_city = city_flagged / max(city_n, 1)
    print(f"\nclean units flagged (injected city): {clean_flagged}/{clean_n} = {share:.1%}"
          f"   target ≤ {CLEAN_TARGET:.0%}  {'ok' if share <= CLEAN_TARGET else 'MISSED'}")
    print(f"units flagged (clean city):          {city_flagged}/{city_n} = {share_city:.1%}"
          f"   target ≤ {CLEAN_CITY_TARGET:.0%}  {'ok' if share_city <= CLEAN_CITY_TARGET else 'MISSED'}")
    counts = pd.concat(by_check).groupby(level=0).sum()
    if len(counts):
        print("\nclean units flagged, by check (unit-check pairs over all seeds):")
        print(counts.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
