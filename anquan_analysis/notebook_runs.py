"""``anquan assess``: run ``notebooks/period_assessment.ipynb`` with papermill for
one period or for every period, and write ``reports/<period>/``:

* ``assessment.ipynb``  the executed notebook
* ``assessment.html``   the same, code hidden, images embedded, one file
* ``findings.xlsx``     the findings, one sheet per check family (written by the notebook)
* ``bulletin.docx``     the 通报 in the official layout (written by the notebook)
* ``summary.json``      the key figures (written by the notebook)

and ``reports/index.html`` linking them.  A failing period does not stop the run:
the others carry on and the command ends with a list of failures and exit status 1.

``--data`` is a folder of office files (CSV/XLSX: ingested once per run) or an
ingested dataset folder (``panel.parquet`` and side tables, as ``anquan ingest
--output`` writes it: read as it is, the faster way to assess a province).  Each
period's kernel is started ahead of its notebook and loads the notebook's imports
while papermill loads (see ``start_kernel``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import config

NOTEBOOK = config.NOTEBOOKS / "period_assessment.ipynb"
LEVEL_OF_FREQ = {"M": "month", "Q": "quarter"}
KERNEL = "python3"
# What the notebook's first cell imports, loaded by the kernel as it starts (with the
# modules of the checks, which run_checks would import one by one): see start_kernel.
PRELOAD = ("anquan_analysis.assessment", "anquan_analysis.plots", "anquan_analysis.draft",
           "anquan_analysis.checks", "anquan_analysis.bulletin_docx")


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
                   help="folder of report, exposure and ledger files, or of a dataset written "
                        "by `anquan ingest --output` (default: bundled data)")
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
    from .periods import parse_period, period_freq

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
               thresholds: dict | None = None, timeout: int = 600, kernel=None) -> Path:
    """Execute the notebook for one period into ``output_dir/<period>/`` and export
    its HTML.  The executed notebook is written once, when complete, under a
    temporary name and then renamed (papermill's save after every cell start and end
    is turned off: sixty writes of a notebook that grows to a megabyte).  When a
    cell fails the executed part is kept as ``assessment.failed.ipynb`` (papermill
    marks the failing cell) and the error propagates; a timeout or a dead kernel
    leaves no notebook, only the error.  ``kernel``: a kernel from ``start_kernel``
    to run the notebook in, shut down here when done (by default papermill starts
    one).  While the kernel runs, a background thread prepares the HTML exporter
    (``report.html_exporter``)."""
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
    threading.Thread(target=_prepare_exporter, name="html-exporter", daemon=True).start()
    shutdown_requested = False
    try:
        with atomic_path(target) as tmp:
            ipynb = tmp.with_suffix(".ipynb")
            try:
                pm.execute_notebook(str(notebook), str(ipynb), parameters=params,
                                    progress_bar=False, execution_timeout=timeout,
                                    cwd=str(Path(notebook).parent), kernel_name=KERNEL,
                                    request_save_on_cell_execute=False,
                                    **({} if kernel is None else {"km": kernel}))
                ipynb.replace(tmp)
            except BaseException:
                if ipynb.exists():
                    ipynb.replace(failed)
                raise
            finally:
                # the kernel exits while the HTML is written
                shutdown_requested = kernel is not None and _request_shutdown(kernel)
        notebook_to_html(target, out / "assessment.html", title=f"{period} 评估")
    finally:
        if kernel is not None:
            shutdown_kernel(kernel, requested=shutdown_requested)
    return out


def start_kernel(notebook=NOTEBOOK):
    """A kernel for ``notebook``, started now, in the notebook's folder, that imports
    the modules of ``PRELOAD`` before it answers the first request (IPython's
    ``exec_lines``; nothing is bound in the notebook's namespace, and the execution
    count still starts at 1).  Started while ``anquan assess`` loads papermill (or
    while the previous period's notebook runs), the kernel's start and the
    notebook's imports (about 3 s of a province assessment's 10) overlap that work
    on a second core instead of following it.  Returns the kernel manager, or None
    if no kernel could be started (papermill then starts its own, and reports why
    it cannot)."""
    try:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        # The check modules are listed by the kernel itself (the registry loads each):
        # importing them here would load pandas before the kernel is launched.
        code = "".join(f"__import__({name!r});" for name in PRELOAD) \
            + "__import__('anquan_analysis.checks').checks.CHECKS.values()"
        km = AsyncKernelManager(kernel_name=KERNEL)
        # run_sync runs on this thread's event loop, the one papermill runs on later
        run_sync(km.start_kernel)(cwd=str(Path(notebook).parent),
                                  extra_arguments=[
                                      f"--IPKernelApp.exec_lines={code}",
                                      # not its warning that local TCP is unencrypted, once
                                      # a period (papermill's own kernels do not print it)
                                      "--IPKernelApp.log_level=ERROR"])
    except Exception:  # noqa: BLE001 - papermill starts a kernel and reports the error
        return None
    return km


def _request_shutdown(km) -> bool:
    """Ask a kernel to shut down without waiting for it; True if the request went."""
    from jupyter_core.utils import run_sync

    try:
        run_sync(km.request_shutdown)()
    except Exception:  # noqa: BLE001 - shutdown_kernel then asks again, or kills it
        return False
    return True


def shutdown_kernel(km, *, requested: bool = False) -> None:
    """Shut down a kernel from ``start_kernel`` (the notebook client does not shut
    down a kernel it was given): ask it to (unless ``requested`` already), wait for
    it to exit (killing it after jupyter_client's wait time) and remove its
    connection file."""
    from jupyter_core.utils import run_sync

    try:
        if not km.has_kernel:
            return
        if not requested:
            run_sync(km.request_shutdown)()
        run_sync(km.finish_shutdown)()
        run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001, S110 - a kernel that is already gone is fine
        pass


def _prepare_exporter() -> None:
    """Build the HTML exporter ahead of its use; a failure here is left for the
    export itself to report."""
    from .report import html_exporter

    try:
        html_exporter()
    except Exception:  # noqa: BLE001, S110 - notebook_to_html raises it where it belongs
        pass


def _describe(exc: Exception) -> str:
    """One line for an error; papermill's carries the kernel's exception name and value."""
    if getattr(exc, "ename", None):
        return f"{exc.ename}: {exc.evalue}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[-1] if text else ''}"


def run_plan(plan, *, data_dir, output_dir, notebook=NOTEBOOK, thresholds=None,
             timeout: int = 600, progress: bool = True, kernel=None) -> list[PeriodResult]:
    """Run every (period, level) of ``plan``, carrying on past failures, with a tqdm
    bar across periods; then write the index.  Returns one result per period.
    ``kernel``: one from ``start_kernel`` for the first period (this function shuts
    it down); by default it is started here."""
    from tqdm import tqdm

    from .report import write_index

    results = []
    plan = list(plan)
    # Each period's kernel is started one step ahead: the first before papermill is
    # loaded, the next while the current period's notebook runs.
    if kernel is None and plan:
        kernel = start_kernel(notebook)
    elif kernel is not None and not plan:
        shutdown_kernel(kernel)
        kernel = None
    bar = tqdm(plan, desc="assess", unit="期", disable=not progress, file=sys.stderr)
    try:
        for i, (period, level) in enumerate(bar):
            bar.set_postfix_str(period)
            t0 = time.perf_counter()
            current, kernel = kernel, start_kernel(notebook) if i + 1 < len(plan) else None
            try:
                run_period(period, level, data_dir=data_dir, output_dir=output_dir,
                           notebook=notebook, thresholds=thresholds, timeout=timeout,
                           kernel=current)
                err = None
            except Exception as exc:  # noqa: BLE001 - one period's failure must not stop the rest
                err = _describe(exc)
            results.append(PeriodResult(period, time.perf_counter() - t0, err))
    finally:
        if kernel is not None:
            shutdown_kernel(kernel)
    write_index(output_dir)
    return results


def run_command(args) -> int:
    # The first kernel starts before anything else is imported or read: its start and
    # imports (about 2.5 s) are the longest path to the first cell, longer than this
    # process's own loading of pandas, the data and papermill.  A request that turns
    # out to be invalid shuts it down unused.
    kernel = start_kernel(args.notebook)
    try:
        return _run_command(args, kernel)
    finally:
        if kernel is not None:
            shutdown_kernel(kernel)  # a no-op once run_plan has shut it down


def _run_command(args, kernel) -> int:
    from .assessment import read_data_dir, read_periods, resolve_path
    from .panel import LEVELS
    from .periods import parse_period

    levels = tuple(x.strip() for x in args.levels.split(",") if x.strip())
    ds = None
    try:
        # Check what was asked for before reading any data.
        for text in args.period or ():
            parse_period(text)
        bad = [lv for lv in levels if lv not in LEVELS]
        if bad:
            raise ValueError(f"--levels: {bad[0]!r} is not one of {sorted(LEVELS)}")
        data_dir = Path(args.data)
        if (resolve_path(data_dir) / "panel.parquet").is_file():
            # An ingested dataset: planning needs its distinct periods only.
            periods = read_periods(data_dir)
        else:
            ds = read_data_dir(data_dir)
            periods = ds.panel["period"].drop_duplicates()
        plan = plan_periods(periods.to_frame(), periods=args.period, levels=levels)
    except ValueError as err:  # PeriodNotFound included: it lists the periods that exist
        print(f"anquan assess: {err}", file=sys.stderr)
        return 2
    if not plan:
        print(f"anquan assess: no periods with data in {data_dir}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="anquan-assess-") as tmp:
        # Ingest once per run: the notebooks load the dataset from parquet (about
        # 0.5 s for a province) instead of parsing the raw files again; a folder that
        # already holds one (``anquan ingest --output``) is used as it is.
        nb_data = data_dir
        if ds is not None:
            from .roster import copy_office_files

            nb_data = Path(tmp) / "dataset"
            ds.save(nb_data)
            copy_office_files(data_dir, nb_data)  # the roster, anquan.toml, report dates
        results = run_plan(plan, data_dir=nb_data, output_dir=args.output,
                           notebook=args.notebook, timeout=args.timeout, kernel=kernel)
    failed = [r for r in results if r.error]
    total = sum(r.seconds for r in results)
    print(f"assessed {len(results) - len(failed)}/{len(results)} periods in {total:.0f} s "
          f"({total / max(len(results), 1):.1f} s per period); index: "
          f"{Path(args.output) / 'index.html'}")
    for r in failed:
        print(f"  FAILED {r.period}: {r.error}", file=sys.stderr)
    return 1 if failed else 0
