"""``anquan assess``: run ``notebooks/period_assessment.ipynb`` with papermill for
one period or for every period, and write ``reports/<period>/``:

* ``assessment.ipynb``  the executed notebook
* ``assessment.html``   the same, code hidden, images embedded, one file
* ``findings.xlsx``     the findings, one sheet per check family (written by the notebook)
* ``summary.json``      the key figures (written by the notebook)

and ``reports/index.html`` linking them.  A failing period does not stop the run:
the others carry on and the command ends with a list of failures and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import config
from .periods import parse_period, period_freq

NOTEBOOK = config.NOTEBOOKS / "period_assessment.ipynb"
LEVEL_OF_FREQ = {"M": "month", "Q": "quarter"}


@dataclass
class PeriodResult:
    """Outcome of one period's run: ``error`` is None when it succeeded."""

    period: str
    seconds: float
    error: str | None = None


def configure_parser(p) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--period", action="append",
                       help="period to assess (2024-04, 2024Q2, 2024年二季度 …); repeatable")
    which.add_argument("--all", action="store_true",
                       help="every month and every quarter present in the data")
    p.add_argument("--data", default=str(config.SYNTH_DIR),
                   help="folder of report, exposure and ledger files (default: bundled data)")
    p.add_argument("--output", default=str(config.REPORTS), help="reports folder")
    p.add_argument("--levels", default="quarter,month",
                   help="with --all: levels to run, comma-separated (default quarter,month)")
    p.add_argument("--notebook", default=str(NOTEBOOK), help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=int, default=600, help="seconds per notebook cell")


def plan_periods(panel, *, periods=None, levels=("quarter", "month")) -> list[tuple[str, str]]:
    """(period, level) pairs to run: the given periods (each at its own level), or
    every period present at each of ``levels``, quarters first.  Raises
    ``assessment.PeriodNotFound`` listing what exists when a given period has no data."""
    from .assessment import available_periods, require_period

    if periods:
        plan = []
        for text in periods:
            p = parse_period(text)
            level = LEVEL_OF_FREQ.get(period_freq(p))
            if level is None:
                raise ValueError(f"{text!r}: only months and quarters can be assessed")
            require_period(panel, p, level)
            plan.append((p, level))
        return plan
    return [(p, level) for level in levels for p in available_periods(panel, level)]


def run_period(period: str, level: str, *, data_dir, output_dir, notebook=NOTEBOOK,
               thresholds: dict | None = None, timeout: int = 600) -> Path:
    """Execute the notebook for one period into ``output_dir/<period>/`` and export
    its HTML.  The executed notebook is written under a temporary name and renamed
    once complete.  On failure the partly executed notebook is kept as
    ``assessment.failed.ipynb`` (papermill marks the failing cell) and the error
    propagates."""
    import papermill as pm

    from .io import atomic_path
    from .report import notebook_to_html

    out = Path(output_dir) / period
    out.mkdir(parents=True, exist_ok=True)
    params = {"period": period, "level": level, "data_dir": str(Path(data_dir).resolve()),
              "output_dir": str(out.resolve()), "thresholds": dict(thresholds or {})}
    target = out / "assessment.ipynb"
    failed = out / "assessment.failed.ipynb"
    failed.unlink(missing_ok=True)
    with atomic_path(target) as tmp:
        ipynb = tmp.with_suffix(".ipynb")
        try:
            pm.execute_notebook(str(notebook), str(ipynb), parameters=params,
                                progress_bar=False, execution_timeout=timeout,
                                cwd=str(Path(notebook).parent), kernel_name="python3")
            ipynb.replace(tmp)
        except BaseException:
            if ipynb.exists():
                ipynb.replace(failed)
            raise
    notebook_to_html(target, out / "assessment.html", title=f"{period} 评估")
    return out


def _describe(exc: Exception) -> str:
    """One line for an error; papermill's carries the kernel's exception name and value."""
    if getattr(exc, "ename", None):
        return f"{exc.ename}: {exc.evalue}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[-1] if text else ''}"


def run_plan(plan, *, data_dir, output_dir, notebook=NOTEBOOK, thresholds=None,
             timeout: int = 600, progress: bool = True) -> list[PeriodResult]:
    """Run every (period, level) of ``plan``, carrying on past failures, with a tqdm
    bar across periods; then write the index.  Returns one result per period."""
    from tqdm import tqdm

    from .report import write_index

    results = []
    bar = tqdm(plan, desc="assess", unit="期", disable=not progress, file=sys.stderr)
    for period, level in bar:
        bar.set_postfix_str(period)
        t0 = time.perf_counter()
        try:
            run_period(period, level, data_dir=data_dir, output_dir=output_dir,
                       notebook=notebook, thresholds=thresholds, timeout=timeout)
            err = None
        except Exception as exc:  # noqa: BLE001 - one period's failure must not stop the rest
            err = _describe(exc)
        results.append(PeriodResult(period, time.perf_counter() - t0, err))
    write_index(output_dir)
    return results


def run_command(args) -> int:
    from .assessment import LEVELS, read_data_dir, resolve_path

    levels = tuple(x.strip() for x in args.levels.split(",") if x.strip())
    try:
        # Check what was asked for before reading any data.
        for text in args.period or ():
            parse_period(text)
        bad = [lv for lv in levels if lv not in LEVELS]
        if bad:
            raise ValueError(f"--levels: {bad[0]!r} is not one of {sorted(LEVELS)}")
        data_dir = Path(args.data)
        ds = read_data_dir(data_dir)
        plan = plan_periods(ds.panel, periods=args.period, levels=levels)
    except ValueError as err:  # PeriodNotFound included: it lists the periods that exist
        print(f"anquan assess: {err}", file=sys.stderr)
        return 2
    if not plan:
        print(f"anquan assess: no periods with data in {data_dir}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="anquan-assess-") as tmp:
        # Ingest once per run: the notebooks load the dataset read above from parquet
        # (about 0.5 s for a province) instead of parsing the raw files again.
        nb_data = data_dir
        if not (resolve_path(data_dir) / "panel.parquet").is_file():
            nb_data = Path(tmp) / "dataset"
            ds.save(nb_data)
        results = run_plan(plan, data_dir=nb_data, output_dir=args.output,
                           notebook=args.notebook, timeout=args.timeout)
    failed = [r for r in results if r.error]
    total = sum(r.seconds for r in results)
    print(f"assessed {len(results) - len(failed)}/{len(results)} periods in {total:.0f} s "
          f"({total / max(len(results), 1):.1f} s per period); index: "
          f"{Path(args.output) / 'index.html'}")
    for r in failed:
        print(f"  FAILED {r.period}: {r.error}", file=sys.stderr)
    return 1 if failed else 0
