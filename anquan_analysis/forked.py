"""Work shared with one process forked from this one (Linux only: ``os.fork``;
elsewhere everything runs in this process).

``share_jobs(n, run)``: the per-unit problem lists of a province (hundreds of small
workbooks, each its own file) are written by two processes at once, while the
process that started them does other work of its own first.  It forks a child (not
for fewer than ``min_jobs`` jobs) that runs jobs ``run(0)``, ``run(1)`` … in the
order of their numbers, claiming a few at a time under a lock; ``Shared.finish()``
has this process claim the ones left the same way, waits for the child and then
runs, itself, every job that is not done (all of the child's, should it fail), so
that a failure is raised here, with its traceback, and nothing is left half done.
Each job must write its own output whole (``io.atomic_path``) and depend on nothing
another job does: which process runs a job does not change its output.

``run_beside(job)``: one job whose value is wanted (``run_checks``' slowest check)
runs in a forked child while this process does the rest; ``Beside.result()``
returns the value the child sent back, or runs the job here when the child failed.

The child prints nothing and ends with ``os._exit``: in a notebook kernel it shares
the kernel's sockets and streams, which only the kernel may use, and it skips the
exit handlers that belong to the kernel.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import sys
import warnings
from collections.abc import Callable

MIN_JOBS = 64   # fewer jobs than this are run here: a fork costs a few milliseconds
CHUNK = 8       # jobs claimed at a time: one lock per chunk, and the last chunks even


def can_fork() -> bool:
    """Whether jobs can be shared with a forked process here (Linux: macOS's system
    libraries are not safe to use after a fork, Windows has none)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _fork() -> int:
    """``os.fork()`` without Python 3.12's DeprecationWarning about forking a process
    with threads (a notebook kernel always has some): the child runs only the jobs,
    which take no lock those threads hold, and ends with ``os._exit``.  Shown, the
    warning would land in the executed notebook and its HTML, which a director reads."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=r".*fork\(\).*")
        return os.fork()


class Shared:
    """Jobs ``0 … n-1`` of ``run``, shared with a forked child (``share_jobs``)."""

    def __init__(self, n: int, run: Callable[[int], object], *, fork: bool,
                 chunk: int = CHUNK):
        self.n, self.run, self.chunk = n, run, chunk
        self.pid = None
        if not fork:
            return
        try:
            ctx = multiprocessing.get_context("fork")
            self._next = ctx.RawValue("l", 0)
            self._done = ctx.RawArray("b", n)
            self._lock = ctx.Lock()
            pid = _fork()
        except OSError:  # no shared memory or no process to spare: all of it here
            return
        if pid == 0:  # the child: work, then end without running anything of the parent's
            code = 1
            try:
                gc.disable()  # nothing of the parent's is collected (and finalised) here
                self._work()
                code = 0
            finally:
                os._exit(code)
        self.pid = pid

    def _claim(self) -> range:
        with self._lock:
            start = self._next.value
            self._next.value = min(start + self.chunk, self.n)
        return range(start, min(start + self.chunk, self.n))

    def _work(self) -> None:
        while True:
            jobs = self._claim()
            if not jobs:
                return
            for i in jobs:
                self.run(i)
                self._done[i] = 1

    def finish(self) -> None:
        """Run the jobs left (every job when nothing was forked), wait for the child,
        run whatever it did not finish; a job's error is raised here."""
        if self.pid is None:
            for i in range(self.n):
                self.run(i)
            return
        try:
            self._work()
        finally:
            os.waitpid(self.pid, 0)
            self.pid = None
        for i in range(self.n):
            if not self._done[i]:
                self.run(i)


def share_jobs(n: int, run: Callable[[int], object], *, parallel: bool = True,
               min_jobs: int = MIN_JOBS) -> Shared:
    """Start running jobs ``run(0)`` … ``run(n - 1)`` in a forked process (when
    ``parallel``, ``can_fork()`` and ``n >= min_jobs``); the caller does its own work,
    then calls ``finish()`` on the result, which shares the jobs left and returns once
    every job is done."""
    return Shared(n, run, fork=parallel and n >= min_jobs and can_fork())


class Beside:
    """One job run by a forked child while this process does other work
    (``run_beside``); ``result()`` returns its value."""

    def __init__(self, job: Callable[[], object], *, fork: bool):
        self.job = job
        self.pid = None
        self._read = None
        if not fork:
            return
        try:
            read, write = os.pipe()
            pid = _fork()
        except OSError:  # no process or pipe to spare: the job runs here, in result()
            return
        if pid == 0:  # the child: run the job, send its value, end
            code = 1
            try:
                gc.disable()
                os.close(read)
                data = pickle.dumps(job(), protocol=pickle.HIGHEST_PROTOCOL)
                view = memoryview(data)
                while view:
                    view = view[os.write(write, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self.pid, self._read = pid, read

    def _collect(self) -> bytes | None:
        """The child's bytes when it ended well, else None; the child is waited for."""
        chunks = []
        try:
            while chunk := os.read(self._read, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self._read)
            _, status = os.waitpid(self.pid, 0)
            self.pid = self._read = None
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        return b"".join(chunks) if ok else None

    def result(self):
        """The job's value: the child's, or the job run here when nothing was forked
        or the child failed (so that an error is raised here, with its traceback)."""
        if self.pid is not None:
            data = self._collect()
            if data is not None:
                return pickle.loads(data)
        return self.job()

    def cancel(self) -> None:
        """Stop the child, if any, and wait for it (this process gave up)."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(self._read)
        os.waitpid(self.pid, 0)
        self.pid = self._read = None


def run_beside(job: Callable[[], object], *, parallel: bool = True) -> Beside:
    """Start ``job()`` (no arguments; its value must pickle) in a forked process when
    ``parallel`` and ``can_fork()``; the caller does its own work meanwhile and then
    calls ``result()``, or ``cancel()`` if it gives up.  The child gets a copy of this
    process as it is now (copy-on-write: nothing is copied until written), so the
    job reads what this process holds without it being sent over."""
    return Beside(job, fork=parallel and can_fork())
