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

``share_values(jobs)``: jobs whose values are wanted (``run_checks``' checks): the
child starts with the first (the slowest check) and both processes then claim the
others one at a time; ``Values.values()`` returns them in job order, running here
whatever the child did not send back (a failure is then raised here).

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


def cpus_available() -> int:
    """CPUs this process may run on (its affinity where the system says, else the
    machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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


class Values:
    """Jobs whose values are wanted, shared with a forked child (``share_values``);
    ``values()`` returns them in job order."""

    def __init__(self, jobs, *, fork: bool):
        self.jobs = list(jobs)
        self.pid = None
        self._read = None
        if not fork or len(self.jobs) == 0:
            return
        try:
            ctx = multiprocessing.get_context("fork")
            self._next = ctx.RawValue("l", 1)      # job 0 is the child's
            self._lock = ctx.Lock()
            read, write = os.pipe()
            pid = _fork()
        except OSError:  # no process, lock or pipe to spare: every job runs here
            return
        if pid == 0:  # the child: job 0, then its share of the rest; send the values
            code = 1
            try:
                gc.disable()
                os.close(read)
                done = {0: self.jobs[0]()}
                while (i := self._claim()) is not None:
                    done[i] = self.jobs[i]()
                data = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
                view = memoryview(data)
                while view:
                    view = view[os.write(write, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self.pid, self._read = pid, read

    def _claim(self) -> int | None:
        with self._lock:
            i = self._next.value
            if i >= len(self.jobs):
                return None
            self._next.value = i + 1
        return i

    def _collect(self) -> dict:
        """The child's values when it ended well, else {}; the child is waited for."""
        chunks = []
        try:
            while chunk := os.read(self._read, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self._read)
            _, status = os.waitpid(self.pid, 0)
            self.pid = self._read = None
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            return pickle.loads(b"".join(chunks))
        return {}

    def values(self) -> list:
        """Every job's value, in job order: this process claims and runs jobs until
        none is left, then takes the child's values and runs, itself, any job the
        child did not send (all of them when nothing was forked, or the child failed:
        an error is raised here, with its traceback)."""
        if self.pid is None:
            return [job() for job in self.jobs]
        done = {}
        try:
            while (i := self._claim()) is not None:
                done[i] = self.jobs[i]()
        except BaseException:
            self.cancel()
            raise
        done.update(self._collect())
        return [done[i] if i in done else job() for i, job in enumerate(self.jobs)]

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


def share_values(jobs, *, parallel: bool = True) -> Values:
    """Start ``jobs[0]()`` in a forked process (when ``parallel`` and ``can_fork()``),
    which then claims the other jobs in order, one at a time, as this process does
    once it calls ``values()``; each job runs once, in one of the two.  Jobs take no
    arguments and their values must pickle; put the longest first, then the rest
    longest first, so that the two processes finish together.  The child gets a
    copy of this process as it is now (copy-on-write: nothing is copied until
    written), so a job reads what this process holds without it being sent over."""
    return Values(jobs, fork=parallel and can_fork())
