"""``anquan assess``: run ``notebooks/period_assessment.ipynb`` with papermill for
one period or for every period, and write ``reports/<period>/``:

* ``assessment.ipynb``  the executed notebook
* ``assessment.html``   the same, code hidden, images embedded, one file
* ``findings.xlsx``     the findings, one sheet per check family (written by the notebook)
* ``bulletin.docx``     the 通报 in the official layout (written by the notebook)
* ``summary.json``      the key figures (written by the notebook)

and ``reports/index.html`` linking them.  A failing period does not stop the run:
the others carry on and the command ends with a list of failures and exit status 1.

A period's outputs are written into a hidden staging folder and swapped in whole
(``run_folders``): the old set or the new set is visible, never a mix; a failed run
leaves ``status.json`` (failed) and, when whole, ``assessment.failed.ipynb`` beside
the older report, which the index then marks stale.  Leftovers of runs that were
killed are cleaned at start, and only canonical periods become folder names.

``--data`` is a folder of office files (CSV/XLSX: ingested once per run) or an
ingested dataset folder (``panel.parquet`` and side tables, as ``anquan ingest
--output`` writes it: read as it is, the faster way to assess a province).

One kernel runs every period (``run_plan``): started before the command loads
pandas and papermill, it loads the notebook's imports meanwhile, and between two
periods it is reset to its started state (``kernels.reset_kernel``: no name, figure,
rcParams change, shown warning or working folder of a period reaches the next).  A
period that fails has its kernel shut down: the next period gets a new one.
``--kernel-per-period`` (hidden) gives each period its own kernel, each started while
the period before runs: the reports are the same, byte for byte but for the times
and random ids they record (``tests/test_kernel_reuse.py``).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import config
from . import run_folders as rf
from .kernels import KERNEL, papermill_engine, request_shutdown, reset_kernel, shutdown_kernel
from .kernels import start_kernel as _start_kernel
from .settings import KEY_INDICATOR_HELP

NOTEBOOK = config.NOTEBOOKS / "period_assessment.ipynb"
LEVEL_OF_FREQ = {"M": "month", "Q": "quarter", "H": "half", "Y": "year"}


def start_kernel(notebook=NOTEBOOK):
    """``kernels.start_kernel`` for ``notebook`` (by default the assessment notebook)."""
    return _start_kernel(notebook)


@dataclass
class PeriodResult:
    """Outcome of one period's run: ``error`` is None when it succeeded."""

    period: str
    seconds: float
    error: str | None = None


def configure_parser(p) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--period", action="append",
                       help="period to assess (2024-04, 2024Q2, 2024年二季度, 2024H1, 2024年上半年, 2024 …); "
                            "repeatable")
    which.add_argument("--all", action="store_true",
                       help="every month and every quarter present in the data")
    p.add_argument("--data", default=None,
                   help="folder of report, exposure and ledger files, or of a dataset written "
                        "by `anquan ingest --output` (default: the bundled demonstration data, "
                        "said in a line and marked 示范数据 in its reports)")
    p.add_argument("--output", default=None,
                   help="reports folder (default: <data>/reports beside the data; the bundled "
                        "data's: the project's reports/)")
    p.add_argument("--key-indicator", default=None,
help=KEY_INDICATOR_HELP)
    p.add_argument("--lookback", type=int, default=None, metavar="MONTHS",
                   help="months of history each period is judged on (default: anquan.toml's "
                        "lookback_months, else 12; 0: the campaign to date)")
    p.add_argument("--threshold", action="append", default=[], metavar="CHECK.PARAM=VALUE",
                   help="a check's option over anquan.toml's, e.g. low_outlier.alert=0.05; "
                        "repeatable")
    p.add_argument("--levels", default="quarter,month",
                   help="with --all: levels to run, comma-separated: quarter, month, half, year "
                        "(default quarter,month)")
    p.add_argument("--notebook", default=str(NOTEBOOK), help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=int, default=600, help="seconds per notebook cell")
    # one kernel per period, as before kernels were reused (the benchmark compares them)
    p.add_argument("--kernel-per-period", action="store_true", help=argparse.SUPPRESS)


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
    return [(rf.canonical_period(p), level) for level in levels
            for p in available_periods(panel, level)]


def run_period(period: str, level: str, *, data_dir, output_dir, notebook=NOTEBOOK,
               thresholds: dict | None = None, timeout: int = 600, kernel=None,
               keep_kernel: bool = False) -> Path:
    """Execute the notebook for one period and export its HTML into a staging folder,
    then swap it in as ``output_dir/<period>/`` (``run_folders.publish``: the old set or
    the new set, never a mix).  The executed notebook is written once, when complete
    (papermill's save after every cell start and end is turned off: sixty writes of a
    notebook that grows to a megabyte).  When the run fails, the older report (if
    any) stays, ``status.json`` records the failure, the executed part is kept as
    ``assessment.failed.ipynb`` when it is a whole notebook (papermill marks the
    failing cell; a timeout or a dead kernel leaves none), and the error propagates.
    ``kernel``: a kernel from ``start_kernel`` to run the notebook in, shut down here
    when done unless ``keep_kernel`` (the caller's then, to reset or shut down; by
    default papermill starts a kernel of its own).  While the kernel runs, a background
    thread prepares the HTML exporter (``report.html_exporter``).  ValueError for a
    period that is not canonical (it would become a path)."""
    finish = _execute_period(period, level, data_dir=data_dir, output_dir=output_dir,
                             notebook=notebook, thresholds=thresholds, timeout=timeout,
                             kernel=kernel, keep_kernel=keep_kernel)
    return finish()


def _execute_period(period: str, level: str, *, data_dir, output_dir, notebook, thresholds,
                    timeout, kernel, keep_kernel):
    """``run_period``'s first part: execute the notebook into the staging folder.
    Returns the second part, a callable that exports the HTML, publishes the folder
    and returns it (``run_period`` calls it at once; ``run_plan`` runs it in a
    thread while the next period's notebook runs: the export is the command's own
    work, the notebook the kernel's, so on two cores they overlap).  A failure of
    either part records it in the staging folder and raises."""
    import papermill as pm

    from .report import notebook_to_html

    # Absolute from here: papermill runs a notebook in its own folder by changing the
    # process's working folder, which the thread finishing the period before shares
    # (``make assess`` passes --output reports: the export went to notebooks/reports).
    data_dir, output_dir = Path(data_dir).resolve(), Path(output_dir).resolve()
    period = rf.canonical_period(period)
    final = output_dir / period
    stage = rf.staging_folder(output_dir, period)
    params = {"period": period, "level": level, "data_dir": str(data_dir),
              "output_dir": str(stage.resolve()), "thresholds": dict(thresholds or {})}
    ipynb = stage / "assessment.ipynb"
    threading.Thread(target=_prepare_exporter, name="html-exporter", daemon=True).start()
    shutdown = kernel is not None and not keep_kernel

    def fail(exc):
        rf.record_failure(stage, final, _describe(exc) if isinstance(exc, Exception)
                          else type(exc).__name__)

    try:
        pm.execute_notebook(str(notebook), str(ipynb), parameters=params,
                            engine_name=papermill_engine(),
                            progress_bar=False, execution_timeout=timeout,
                            cwd=str(Path(notebook).parent), kernel_name=KERNEL,
                            request_save_on_cell_execute=False,
                            **({} if kernel is None else {"km": kernel}))
    except BaseException as exc:
        fail(exc)
        if shutdown:
            shutdown_kernel(kernel, requested=request_shutdown(kernel))
        raise
    # the kernel exits while the HTML is written
    shutdown_requested = shutdown and request_shutdown(kernel)

    def finish() -> Path:
        try:
            record = _read_summary(stage)
            notebook_to_html(ipynb, stage / "assessment.html", title=f"{period} 评估",
                             provenance=record.get("provenance") or _provenance_of(data_dir),
                             generated=record.get("generated"))
            rf.write_status(stage, "ok")
            rf.publish(stage, final)
        except BaseException as exc:
            fail(exc)
            raise
        finally:
            if shutdown:
                shutdown_kernel(kernel, requested=shutdown_requested)
        return final

    return finish


def _read_summary(folder: Path) -> dict:
    """The summary.json the notebook wrote into ``folder`` ({} when none)."""
    import json

    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _provenance_of(data_dir) -> dict | None:
    """The provenance kept in the notebooks' data folder, if any."""
    from .provenance import load_provenance

    return load_provenance(data_dir)


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
             timeout: int = 600, progress: bool = True, kernel=None,
             kernel_per_period: bool = False) -> list[PeriodResult]:
    """Run every (period, level) of ``plan``, carrying on past failures, with a tqdm
    bar across periods; then write the index.  Returns one result per period.
    ``kernel``: one from ``start_kernel`` for the first period (this function shuts
    it down); by default it is started here.  Every period runs in that kernel, reset
    between periods (``kernels.reset_kernel``); a period that fails, or a reset that
    fails, has the kernel replaced by a new one.  A period's HTML is exported and its
    folder published while the next period's notebook runs (one export at a time, in
    the order of the plan).  ``kernel_per_period``: a new kernel for each period
    instead, started while the period before runs, each period finished before the
    next."""
    from tqdm import tqdm

    from .report import write_index

    results = []
    plan = list(plan)
    output_dir = Path(output_dir).resolve()  # the working folder changes under threads
    for line in rf.clean_stale_outputs(output_dir):
        print(f"anquan assess: {line}", file=sys.stderr)
    if kernel is None and plan:
        kernel = start_kernel(notebook)
    elif kernel is not None and not plan:
        shutdown_kernel(kernel)
        kernel = None
    run = _run_per_period if kernel_per_period else _run_reusing
    bar = tqdm(plan, desc="assess", unit="期", disable=not progress, file=sys.stderr)
    kernel_box = [kernel]
    pending = None  # the period whose HTML is being exported while the next one runs
    requested = False  # whether the kernel was asked to shut down already
    try:
        for i, (period, level) in enumerate(bar):
            bar.set_postfix_str(period)
            t0 = time.perf_counter()
            try:
                finish = run(kernel_box, i, len(plan), period, level, data_dir=data_dir,
                             output_dir=output_dir, notebook=notebook, thresholds=thresholds,
                             timeout=timeout)
                err = None
            except Exception as exc:  # noqa: BLE001 - one period's failure must not stop the rest
                finish, err = None, _describe(exc)
            if i + 1 == len(plan) and kernel_box[0] is not None:
                # The last notebook is done: the kernel exits (1-1.5 s for one that
                # has held a province) while the last HTML is exported, not after it.
                requested = request_shutdown(kernel_box[0])
            if pending is not None:
                results.append(pending.join())
                pending = None
            if finish is None:
                results.append(PeriodResult(period, time.perf_counter() - t0, err))
            else:
                pending = _Finishing(period, finish, time.perf_counter() - t0)
    finally:
        if pending is not None:
            results.append(pending.join())
        if kernel_box[0] is not None:
            shutdown_kernel(kernel_box[0], requested=requested)
    write_index(output_dir)
    return results


class _Finishing:
    """One period's HTML export and publishing (``_execute_period``'s second part),
    run in a thread; ``join`` waits and gives the period's result (its seconds: the
    notebook's plus the export's)."""

    def __init__(self, period: str, finish, seconds: float):
        self.period, self.seconds, self.error = period, seconds, None
        self._finish = finish
        self._thread = threading.Thread(target=self._run, name=f"finish-{period}")
        self._thread.start()

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            self._finish()
        except Exception as exc:  # noqa: BLE001 - reported as the period's error
            self.error = _describe(exc)
        finally:
            self.seconds += time.perf_counter() - t0

    def join(self) -> PeriodResult:
        self._thread.join()
        return PeriodResult(self.period, self.seconds, self.error)


def _run_reusing(kernel_box, i, n, period, level, *, notebook, timeout, **kw):
    """One period's notebook in ``kernel_box[0]``, reset first if it has run one (a new
    kernel when there is none, or the reset fails); the kernel is kept for the next
    period unless this one fails: it may be dead, still running a cell that timed out,
    or hold what the failed period left, so it is shut down (the next starts another).
    Returns the period's second part (``_execute_period``), for ``run_plan`` to run
    while the next period's notebook runs."""
    km = kernel_box[0]
    if km is not None and i > 0:
        try:
            reset_kernel(km, timeout=min(timeout, 60))
        except Exception:  # noqa: BLE001 - a new kernel instead
            shutdown_kernel(km)
            km = None
    if km is None:
        km = kernel_box[0] = start_kernel(notebook)
    try:
        return _execute_period(period, level, notebook=notebook, timeout=timeout, kernel=km,
                               keep_kernel=True, **kw)
    except BaseException:
        shutdown_kernel(km)
        kernel_box[0] = None
        raise


def _run_per_period(kernel_box, i, n, period, level, *, notebook, **kw) -> None:
    """One period in ``kernel_box[0]``, shut down when done, the HTML exported before
    it returns (None: nothing left to run); the next period's kernel is started now,
    so that it starts while this period runs."""
    current = kernel_box[0]
    kernel_box[0] = start_kernel(notebook) if i + 1 < n else None
    run_period(period, level, notebook=notebook, kernel=current, **kw)
    return None


def _without_iri_grammar() -> None:
    """Keep jsonschema from loading its optional IRI checker in this process:
    ``rfc3987_syntax`` compiles a grammar on import (1-3 s of CPU, a third of this
    command's own CPU at a province), and nothing here checks a format (nbformat's
    schemas have no ``format`` keyword and no format checker is used), so jsonschema,
    which imports it only if present, works the same without it."""
    sys.modules.setdefault("rfc3987_syntax", None)


def run_command(args) -> int:
    # The first kernel starts before anything else is imported or read: its start and
    # imports (about 2.5 s) are the longest path to the first cell, longer than this
    # process's own loading of pandas, the data and papermill.  A request that turns
    # out to be invalid shuts it down unused.
    _without_iri_grammar()
    kernel = start_kernel(args.notebook)
    try:
        return _run_command(args, kernel)
    finally:
        if kernel is not None:
            shutdown_kernel(kernel)  # a no-op once run_plan has shut it down


def _run_command(args, kernel) -> int:
    from .assessment import read_data_dir, read_periods, resolve_path, skipped_files
    from .panel import LEVELS
    from .periods import parse_period
    from .provenance import default_folders
    from .settings import check_key_indicator, thresholds_from_args
    from .text import printable

    for line in rf.clean_temp_folders():
        print(f"anquan assess: {line} (left by a stopped run)", file=sys.stderr)
    levels = tuple(x.strip() for x in args.levels.split(",") if x.strip())
    ds = None
    skipped_before = []
    try:
        # Check what was asked for before reading any data.
        for text in args.period or ():
            parse_period(text)
        bad = [lv for lv in levels if lv not in LEVELS]
        if bad:
            raise ValueError(f"--levels: {bad[0]!r} is not one of {sorted(LEVELS)}")
        key = check_key_indicator(args.key_indicator) if args.key_indicator else None
        if args.lookback is not None and not 0 <= args.lookback <= 120:
            raise ValueError(f"--lookback {args.lookback}: months, 0 (the campaign to date) "
                             "to 120")
        thresholds = thresholds_from_args(args.threshold)
        data_dir, output_dir, notes = default_folders(args.data, args.output)
        for line in notes:
            print(printable(f"anquan assess: {line}"), file=sys.stderr)
        if (resolve_path(data_dir) / "panel.parquet").is_file():
            # An ingested dataset: planning needs its distinct periods only.
            periods = read_periods(data_dir)
        else:
            # One line per file skipped, by the rule of `anquan ingest DIR`.
            skipped_before = skipped_files(data_dir)
            for f, why in skipped_before:
                print(printable(f"anquan assess: {f.name}: {why}"), file=sys.stderr)
            ds = read_data_dir(data_dir)
            skipped = ds.summary[(ds.summary["kind"] == "") & ds.summary["sheet"].isna()]
            for r in skipped.itertuples():
                print(printable(f"anquan assess: {Path(r.file).name}: {r.note}"), file=sys.stderr)
            for line in _data_lines(ds):
                print(printable(f"anquan assess: {line}"), file=sys.stderr)
            periods = ds.panel["period"].drop_duplicates()
        # A period becomes a folder name: a dataset holding any other is refused.
        for p in periods:
            rf.canonical_period(p)
        plan = plan_periods(periods.to_frame(), periods=args.period, levels=levels)
    except ValueError as err:  # PeriodNotFound included: it lists the periods that exist
        print(printable(f"anquan assess: {err}"), file=sys.stderr)
        return 2
    if not plan:
        print(f"anquan assess: no periods with data in {data_dir}", file=sys.stderr)
        return 2
    from .provenance import other_data_folders

    others = other_data_folders(output_dir, resolve_path(data_dir))
    if others:
        print(printable(f"anquan assess: {output_dir} already holds reports of other data "
                        f"({'、'.join(others)}); the index names each report's data folder"),
              file=sys.stderr)
    with rf.temp_folder() as tmp:
        nb_data = _notebook_data(data_dir, ds, Path(tmp) / "dataset", key_indicator=key,
                                 skipped=skipped_before, lookback=args.lookback)
        results = run_plan(plan, data_dir=nb_data, output_dir=output_dir,
                           notebook=args.notebook, thresholds=thresholds,
                           timeout=args.timeout, kernel=kernel,
                           kernel_per_period=getattr(args, "kernel_per_period", False))
    failed = [r for r in results if r.error]
    total = sum(r.seconds for r in results)
    print(f"assessed {len(results) - len(failed)}/{len(results)} periods in {total:.0f} s "
          f"({total / max(len(results), 1):.1f} s per period); index: "
          f"{Path(output_dir) / 'index.html'}")
    for r in failed:
        print(printable(f"  FAILED {r.period}: {r.error}"), file=sys.stderr)
    return 1 if failed else 0


def _data_lines(ds) -> list[str]:
    """What reading the folder did that the report must not hide: corrections
    applied, headers not read (with a suggestion each), 合计 mismatches."""
    from .ingest.cli import correction_lines

    lines = correction_lines(ds.rejects)
    for r in ds.unknown_columns.itertuples():
        lines.append(f"unknown column: {Path(r.file).name} {r.column!r}: {r.reason}")
    if len(ds.unknown_columns):
        lines.append("headers not read: `anquan ingest DATA_FOLDER` drafts them into "
                     "列名对照.csv; write 是 in 采用 to accept a suggestion")
    rc = ds.reconciliation
    if len(rc):
        bad = rc[rc["status"] == "mismatch"]
        if len(bad):
            lines.append(f"{len(bad)} 合计 figures differ from the sum of their units "
                         f"(in {bad['file'].map(lambda f: Path(f).name).nunique()} files)")
    return lines


def _notebook_data(data_dir, ds, folder: Path, *, key_indicator=None, skipped=(),
                   lookback=None) -> Path:
    """The folder the notebooks read: the dataset ingested once per run (the notebooks
    load it from parquet, about 0.5 s for a province, instead of parsing the raw
    files again) with the office's own files (roster, anquan.toml, report dates) and
    the provenance of the data (``provenance.json``); for a folder that already holds
    a dataset (``anquan ingest --output``), links to its files.  ``key_indicator``
    (``--key-indicator``) and ``lookback`` (``--lookback``, as ``lookback_months``) are
    written over anquan.toml's."""
    from .assessment import resolve_path
    from .provenance import PROVENANCE_FILE, build_provenance, load_provenance, write_provenance
    from .roster import copy_office_files
    from .settings import SETTINGS_FILE, with_setting

    src = resolve_path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if ds is not None:
        ds.save(folder)
        copy_office_files(src, folder)  # the roster, anquan.toml, report dates
        prov = build_provenance(src, ds.summary, skipped=skipped)
    else:
        for f in src.iterdir():
            if f.is_file() and f.name not in (PROVENANCE_FILE, SETTINGS_FILE):
                (folder / f.name).symlink_to(f.resolve())
        if (src / SETTINGS_FILE).is_file():
            (folder / SETTINGS_FILE).write_bytes((src / SETTINGS_FILE).read_bytes())
        import pandas as pd

        summary = (pd.read_csv(src / "summary.csv", dtype={"file": str, "note": str})
                   if (src / "summary.csv").is_file() else None)
        prov = load_provenance(src) or build_provenance(src, summary)
        prov = {**prov, "dataset_folder": str(src.resolve()),
                "read_at": prov.get("read_at") or build_provenance(src, None)["read_at"]}
    write_provenance(prov, folder)
    for key, value in (("key_indicator", key_indicator), ("lookback_months", lookback)):
        if value is not None:
            toml = folder / SETTINGS_FILE
            text = toml.read_text(encoding="utf-8") if toml.is_file() else ""
            toml.write_text(with_setting(text, key, value), encoding="utf-8")
    return folder
