"""Extraction against the hand-transcribed gold figures of the five seed bulletins.

    .venv/bin/python benchmarks/bulletin_extraction.py [--seeds DIR] [--show-errors]

Each seed's extracted figures are matched to data/raw/seed_figures.csv as multisets of
keys, at three levels: value; (value, unit); (value, unit, indicator).  Precision is
matched / extracted, recall is matched / gold.  Units are compared as written (a bare
stressed zero has unit '').
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anquan_analysis.audit import extract_figures, read_text  # noqa: E402

GOLD = ROOT / "data" / "raw" / "seed_figures.csv"
SEEDS = ROOT / "data" / "raw" / "seeds"
LEVELS = {"value": ("value",), "value+unit": ("value", "unit"),
          "value+unit+indicator": ("value", "unit", "indicator")}


def _keys(df: pd.DataFrame, cols) -> Counter:
    return Counter(tuple(round(v, 6) if isinstance(v, float) else v for v in row)
                   for row in df[list(cols)].itertuples(index=False))


def score(gold: pd.DataFrame, seeds: Path) -> tuple[pd.DataFrame, dict]:
    """Per-file and total precision/recall at each level, and the unmatched keys."""
    rows, errors = [], {}
    totals = {lvl: Counter() for lvl in LEVELS}
    for name, g in gold.groupby("source_file", sort=True):
        got = extract_figures(read_text(seeds / name))
        for lvl, cols in LEVELS.items():
            kg, ke = _keys(g, cols), _keys(got, cols)
            hit = sum((kg & ke).values())
            totals[lvl].update(gold=sum(kg.values()), got=sum(ke.values()), hit=hit)
            rows.append({"file": name, "level": lvl, "gold": sum(kg.values()),
                         "extracted": sum(ke.values()), "matched": hit})
            if lvl == "value+unit+indicator":
                errors[name] = {"missed": sorted((kg - ke).elements(), key=str),
                                "spurious": sorted((ke - kg).elements(), key=str)}
    for lvl, t in totals.items():
        rows.append({"file": "ALL", "level": lvl, "gold": t["gold"], "extracted": t["got"],
                     "matched": t["hit"]})
    table = pd.DataFrame(rows)
    table["precision"] = (table["matched"] / table["extracted"]).round(3)
    table["recall"] = (table["matched"] / table["gold"]).round(3)
    return table, errors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=str(SEEDS))
    ap.add_argument("--show-errors", action="store_true")
    args = ap.parse_args(argv)
    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    gold["value"] = gold["value"].astype(float)
    table, errors = score(gold, Path(args.seeds))
    with pd.option_context("display.width", 160):
        print(table.to_string(index=False))
    if args.show_errors:
        for name, e in errors.items():
            for kind in ("missed", "spurious"):
                for key in e[kind]:
                    print(f"{name[:3]} {kind:8} {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
