"""The Jupyter kernels of ``anquan assess``: started ahead with the notebook's imports
loaded, reused from one period to the next with a reset between them, shut down.

``anquan assess`` runs every period in one kernel (``notebook_runs.run_plan``):
starting a kernel and importing pandas, matplotlib and the package again for each
period cost about as much as the notebook's own cells.  Between two periods
``reset_kernel`` puts the kernel back in the state it was in once started
(``clear_state``, run inside it), so that no period sees what an earlier one left:

* the user namespace, ``In``/``Out`` and the ``_`` caches are emptied and the
  execution count is back at 1 (IPython's ``InteractiveShell.reset(new_session=True)``;
  the executed notebook records the kernel's execution counts);
* every matplotlib figure is closed, and matplotlib's ``rcParams`` are put back as they
  were when the kernel had loaded the package (seaborn's theme and the CJK font);
* the working folder is the kernel's first one again;
* warnings already shown once (the ``default`` and ``once`` actions) show again,
  as in a new kernel.

What is kept is what makes the reuse worth it: the imported modules, with their
import-time set-up, and the module-level caches of pure functions (``lru_cache`` of
period parsing and the catalogue's lookups, the same answers for the same question).
pandas' display options are set by the notebook's first cell (``notebook_setup``)
in every period alike.  ``tests/test_kernel_reuse.py`` compares the reports of a
reused kernel with those of one kernel per period, byte for byte.

The executed notebook is run by papermill's ``nbclient`` engine with one change
(``ENGINE``): the kernel client that papermill opens on a kernel it was given is
closed once the notebook is done (nbclient closes it only for a kernel it started),
so that a kernel kept for the next period has no client left listening to it.
"""

from __future__ import annotations

import atexit
import copy
import functools
import os
import sys
import warnings
from pathlib import Path

KERNEL = "python3"
# What the notebook's first cell imports, loaded by the kernel as it starts (with the
# modules of the checks, which run_checks would import one by one): see start_kernel.
PRELOAD = ("anquan_analysis.assessment", "anquan_analysis.plots", "anquan_analysis.draft",
           "anquan_analysis.checks", "anquan_analysis.bulletin_docx")
ENGINE = "anquan-nbclient"
# Sent to a kernel between two periods; binds no name (``__import__``), runs silent.
RESET_CODE = "__import__('anquan_analysis.kernels').kernels.clear_state()"
_START: dict = {}   # in a kernel: its state once started (remember_state)


def start_kernel(notebook):
    """A kernel for ``notebook``, started now, in the notebook's folder, that imports
    the modules of ``PRELOAD`` before it answers the first request (IPython's
    ``exec_lines``; nothing is bound in the notebook's namespace, and the execution
    count still starts at 1) and then remembers the state ``clear_state`` goes back
    to.  Started while ``anquan assess`` loads papermill, the kernel's start and the
    notebook's imports (about 3 s of a province assessment's 10) overlap that work on
    a second core instead of following it.  Returns the kernel manager, or None if no
    kernel could be started (papermill then starts its own, and reports why it
    cannot)."""
    try:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        # The check modules are listed by the kernel itself (the registry loads each):
        # importing them here would load pandas before the kernel is launched.
        code = "".join(f"__import__({name!r});" for name in PRELOAD) \
            + "__import__('anquan_analysis.checks').checks.CHECKS.values();" \
            + "__import__('anquan_analysis.kernels').kernels.remember_state()"
        km = AsyncKernelManager(kernel_name=KERNEL)
        # run_sync runs on this thread's event loop, the one papermill runs on later
        run_sync(km.start_kernel)(cwd=str(Path(notebook).parent),
                                  extra_arguments=[
                                      f"--IPKernelApp.exec_lines={code}",
                                      # not its warning that local TCP is unencrypted, once
                                      # a period (papermill's own kernels do not print it)
                                      "--IPKernelApp.log_level=ERROR",
                                      # as nbclient's own kernels: no history on disk
                                      "--HistoryManager.hist_file=:memory:"])
    except Exception:  # noqa: BLE001 - papermill starts a kernel and reports the error
        return None
    return km


def request_shutdown(km) -> bool:
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


def reset_kernel(km, *, timeout: float = 60) -> None:
    """Put a kernel that has run a period back in its started state (``clear_state``,
    run silently: no output, no history, the execution count left at 1).  Raises
    RuntimeError when the kernel is not running or the reset did not complete: the
    caller then starts a new kernel."""
    from jupyter_core.utils import run_sync

    if not run_sync(km.is_alive)():
        raise RuntimeError("the kernel is not running")
    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=timeout)
        reply = run_sync(kc.execute_interactive)(RESET_CODE, silent=True, store_history=False,
                                                 allow_stdin=False, timeout=timeout)
    finally:
        kc.stop_channels()
    content = reply.get("content", {})
    if content.get("status") != "ok":
        raise RuntimeError(f"the kernel's reset failed: {content.get('ename')}: "
                           f"{content.get('evalue')}")


def papermill_engine() -> str:
    """The name of the papermill engine that runs the notebook (registered here, with
    papermill's engine registry): papermill's ``nbclient`` engine whose client stops
    its channels when the notebook is done, whether or not it owns the kernel."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE, _engine_class())
    return ENGINE


@functools.lru_cache(maxsize=1)
def _engine_class():
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class ClosingNBClientEngine(NBClientEngine):
        """``NBClientEngine.execute_managed_notebook``, the same keywords handled the
        same way, with the client's channels stopped at the end."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs, timeout=execution_timeout or kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, **final_kwargs)
            try:
                return client.execute()
            finally:
                if not client.owns_km and client.kc is not None:
                    client.kc.stop_channels()
                    client.kc = None

    return ClosingNBClientEngine


# ------------------------------------------------------------- inside the kernel
def remember_state() -> None:
    """In a kernel that has loaded the package: note what ``clear_state`` restores,
    and have the kernel exit without tearing its interpreter down (``_exit_now``)."""
    _START["cwd"] = os.getcwd()
    atexit.register(_exit_now)
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        # Inline figures are set up (interactive mode, the hook that shows a cell's
        # figures) when the first figure loads the backend: done now, as IPython's
        # enable_matplotlib does, so that the rcParams noted are those every period
        # draws with (noted before, they would turn interactive mode off again).
        try:
            import matplotlib_inline.backend_inline  # noqa: F401
        except ImportError:
            pass
        _START["rcParams"] = {k: copy.deepcopy(v) for k, v in mpl.rcParams.copy().items()}


def _exit_now() -> None:
    """At a kernel's exit, once ipykernel has answered the shutdown request: run the
    other exit handlers (those registered before this one: ipykernel's, IPython's),
    flush the standard streams and end the process there.  What is skipped is the
    interpreter's teardown of every module and object, 0.6-1.3 s of a kernel that
    has held a province (pandas, matplotlib, numba, scipy): the command waits for
    the kernel to exit.  Nothing of a report is written at that point."""
    atexit.unregister(_exit_now)
    end_process(0, (sys.__stdout__, sys.__stderr__))


def end_process(code: int, streams) -> None:
    """Run the exit handlers, flush ``streams`` and end the process with ``code``,
    without the interpreter's teardown of every module (``_exit_now``, and ``anquan
    assess`` from the command line: ``cli._exit``)."""
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in streams:
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - a closed stream has nothing to flush
                pass
        os._exit(code)


def clear_state() -> None:
    """In a kernel, between two periods: back to the state ``remember_state`` noted
    (see the module's docstring for what is cleared and what is kept)."""
    try:
        from IPython import get_ipython
    except ImportError:
        shell = None
    else:
        shell = get_ipython()
    if shell is not None:
        shell.reset(new_session=True)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
    mpl, saved = sys.modules.get("matplotlib"), _START.get("rcParams")
    if mpl is not None and saved is not None:
        now = mpl.rcParams.copy()
        changed = {k: v for k, v in saved.items() if k != "backend" and now.get(k) != v}
        if changed:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mpl.rcParams.update(copy.deepcopy(changed))
    if "cwd" in _START and os.getcwd() != _START["cwd"]:
        os.chdir(_START["cwd"])
    # Leaving catch_warnings puts the filters back as they were and forgets which
    # warnings were already shown (every module's registry is invalidated).
    with warnings.catch_warnings():
        pass
