"""Extraction and audit against hand-typed gold: the five seeds, the in-sample documents
and the held-out documents.

    .venv/bin/python benchmarks/bulletin_extraction.py [--seeds DIR] [--show-errors]
    .venv/bin/python benchmarks/bulletin_extraction.py --sets insample,heldout [--show-errors]

Figures: each document's extracted figures are matched to the gold figures
(data/raw/seed_figures.csv for the seeds; ``figures.csv`` of tests/data/audit_insample and
tests/data/audit_heldout) as multisets of keys, at three levels: value; (value, unit);
(value, unit, indicator).  Precision is matched / extracted, recall is matched / gold.
Units are compared as written (a bare stressed zero has unit '').

Claims (``claims.csv``): a gold claim is matched by an audit claim whose span overlaps the
gold anchor's and whose stated or computed figure is the gold's stated one (any, for a
gold claim with no stated figure), one to one.  A verdict is verified, contradicted or
discrepancy (unverifiable is no verdict); it is right when it is verified for a claim
that holds, or contradicted / discrepancy for one that does not.  Audit precision is
right verdicts / all verdicts, recall right verdicts / gold claims; a false contradiction
is a "contradicted" verdict that is not right (the audit accuses where the text is right,
or where the gold has no such claim).  The in-sample set is the seeds plus
tests/data/audit_insample (the rules were written on them); the held-out set was labelled
before the rules were written and scored once (tests/data/audit_heldout/README.md).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anquan_analysis.audit import audit, extract_figures, read_text  # noqa: E402
from anquan_analysis.text import nfkc  # noqa: E402

GOLD = ROOT / "data" / "raw" / "seed_figures.csv"
SEEDS = ROOT / "data" / "raw" / "seeds"
SETS = {"insample": ROOT / "tests" / "data" / "audit_insample",
        "heldout": ROOT / "tests" / "data" / "audit_heldout"}
VERDICTS = ("verified", "contradicted", "discrepancy")
# Gold kinds and the audit's claim types that check them (preferred when matching).
_KINDS = {"le": ("rule", "part_le_total"), "list_total": ("enumeration", "parts_sum"),
          "parts_sum": ("parts_sum", "part_le_total")}
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


def load_set(name: str) -> tuple[dict[str, str], pd.DataFrame, pd.DataFrame]:
    """(texts by document id, gold figures, gold claims) of one set; the in-sample set
    includes the seeds (ids S000…S004) with their figures from seed_figures.csv."""
    folder = SETS[name]
    texts = {p.name[:3]: read_text(p) for p in sorted((folder / "docs").glob("*.txt"))}
    figs = pd.read_csv(folder / "figures.csv", dtype=str, keep_default_na=False)
    if name == "insample":
        seeds = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
        seeds["doc"] = "S" + seeds["source_file"].str[:3]
        figs = pd.concat([seeds[figs.columns.intersection(seeds.columns)], figs], ignore_index=True)
        texts.update({"S" + p.name[:3]: read_text(p) for p in sorted(SEEDS.glob("*.txt"))})
    figs["value"] = figs["value"].astype(float)
    claims = pd.read_csv(folder / "claims.csv", dtype=str, keep_default_na=False)
    return texts, figs, claims


def score_set(name: str) -> tuple[dict, list[str]]:
    """Figure and claim scores of one set, and a line per error."""
    texts, gold_figs, gold_claims = load_set(name)
    totals = {lvl: Counter() for lvl in LEVELS}
    audit_t = Counter()
    errors = []
    for doc, text in texts.items():
        got = extract_figures(text)
        g = gold_figs[gold_figs["doc"] == doc]
        for lvl, cols in LEVELS.items():
            kg, ke = _keys(g, cols), _keys(got, cols)
            totals[lvl].update(gold=sum(kg.values()), got=sum(ke.values()),
                               hit=sum((kg & ke).values()))
            if lvl == "value+unit+indicator":
                errors += [f"{doc} missed   {k}" for k in sorted((kg - ke).elements(), key=str)]
                errors += [f"{doc} spurious {k}" for k in sorted((ke - kg).elements(), key=str)]
        claims = audit(text, got)
        errors += _score_claims(doc, nfkc(text), claims, gold_claims[gold_claims["doc"] == doc],
                                audit_t)
    out = {lvl: _pr(t["hit"], t["got"], t["gold"]) for lvl, t in totals.items()}
    out["audit"] = _pr(audit_t["right"], audit_t["verdicts"], audit_t["gold"])
    out["audit_found"] = audit_t["found"] / audit_t["gold"] if audit_t["gold"] else float("nan")
    out["false_contradictions"] = audit_t["false_contradictions"]
    out["documents"], out["gold_figures"] = len(texts), totals["value"]["gold"]
    out["gold_claims"], out["verdicts"] = audit_t["gold"], audit_t["verdicts"]
    return out, errors


def _score_claims(doc, text, claims, gold, t: Counter) -> list[str]:
    verdicts = claims[claims["status"].isin(VERDICTS)].reset_index(drop=True)
    used, errors = set(), []
    t.update(gold=len(gold), verdicts=len(verdicts))
    right_rows = set()
    for g in gold.itertuples():
        lo = text.index(nfkc(g.anchor))
        hi = lo + len(nfkc(g.anchor))
        stated = float(g.stated) if g.stated else None
        hits = [i for i, c in claims.iterrows() if i not in used and c.start < hi and lo < c.end
                and (stated is None or any(abs(v - stated) <= 1e-6 * max(1, abs(stated))
                                           for v in (c.stated, c.computed) if v == v))]
        kinds = _KINDS.get(g.kind, (g.kind,))
        hits.sort(key=lambda i: (claims.loc[i, "claim_type"] not in kinds,
                                 claims.loc[i, "status"] not in VERDICTS,
                                 claims.loc[i, "end"] - claims.loc[i, "start"]))
        if not hits:
            errors.append(f"{doc} claim missed   {g.anchor} ({g.kind}, holds={g.holds})")
            continue
        i = hits[0]
        used.add(i)
        c = claims.loc[i]
        t["found"] += 1
        holds = g.holds == "true"
        right = (c.status == "verified") == holds and c.status in VERDICTS
        if right:
            t["right"] += 1
            right_rows.add((c.start, c.end, c.claim_type, c.stated))
        elif c.status in VERDICTS:
            errors.append(f"{doc} claim wrong    {g.anchor}: {c.status} ({c.explanation[:60]})")
        else:
            errors.append(f"{doc} claim no verdict {g.anchor}: {c.explanation[:60]}")
    for c in verdicts.itertuples():
        if (c.start, c.end, c.claim_type, c.stated) in right_rows:
            continue
        if c.status == "contradicted":
            t["false_contradictions"] += 1
        errors.append(f"{doc} verdict not in gold: {c.claim_type} {c.status} {c.statement[:30]}")
    return errors


def _pr(hit, got, gold) -> tuple[float, float]:
    return (round(hit / got, 3) if got else float("nan"), round(hit / gold, 3) if gold else float("nan"))


def sets_table(names) -> tuple[pd.DataFrame, dict]:
    """Side by side: one column per set, rows the figures' and the audit's scores."""
    cols, errors = {}, {}
    for name in names:
        s, errors[name] = score_set(name)
        col = {"documents": s["documents"], "gold figures": s["gold_figures"]}
        for lvl in LEVELS:
            col[f"figures {lvl}: precision / recall"] = "%.3f / %.3f" % s[lvl]
        col["gold claims"] = s["gold_claims"]
        col["audit verdicts"] = s["verdicts"]
        col["audit: precision / recall"] = "%.3f / %.3f" % s["audit"]
        col["claims found (any status)"] = "%.3f" % s["audit_found"]
        col["false contradictions"] = s["false_contradictions"]
        cols[name] = col
    return pd.DataFrame(cols), errors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=str(SEEDS))
    ap.add_argument("--show-errors", action="store_true")
    ap.add_argument("--sets", help="comma-separated: insample, heldout (scores figures and claims; "
                                   "default: the seeds' figures, then both sets)")
    args = ap.parse_args(argv)
    if args.sets:
        table, errors = sets_table(args.sets.split(","))
        with pd.option_context("display.width", 160, "display.max_colwidth", 40):
            print(table.to_string())
        if args.show_errors:
            for name, lines in errors.items():
                for line in lines:
                    print(f"{name}: {line}")
        return 0
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
    table, _ = sets_table(["insample", "heldout"])
    print()
    with pd.option_context("display.width", 160, "display.max_colwidth", 40):
        print(table.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
