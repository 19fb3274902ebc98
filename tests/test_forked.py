"""forked.share_jobs: jobs shared with a forked process, each done once, failures
redone and raised in the caller's process."""

import os

import pytest

from anquan_analysis import forked
from anquan_analysis.forked import share_jobs

needs_fork = pytest.mark.skipif(not forked.can_fork(), reason="no fork here")


def _writer(folder, fail=lambda i: False):
    def run(i):
        if fail(i):
            raise RuntimeError(f"job {i}")
        # the job's process is recorded: which process ran it must not matter
        (folder / f"{i:03d}.txt").write_text(f"{i * i} {os.getpid()}")
    return run


@needs_fork
def test_both_processes_share_the_jobs_and_each_is_done(tmp_path):
    jobs = share_jobs(200, _writer(tmp_path))
    child = jobs.pid
    assert child is not None                 # forked: 200 jobs ≥ MIN_JOBS
    jobs.finish()
    texts = [(tmp_path / f"{i:03d}.txt").read_text().split() for i in range(200)]
    assert [int(t[0]) for t in texts] == [i * i for i in range(200)]
    # each job written by one of the two processes (how many each: as they ran)
    assert {t[1] for t in texts} <= {str(os.getpid()), str(child)}


def test_few_jobs_are_run_here_in_order(tmp_path):
    done = []
    jobs = share_jobs(10, done.append)
    assert jobs.pid is None
    assert done == []                        # nothing runs before finish
    jobs.finish()
    assert done == list(range(10))


@needs_fork
def test_what_the_child_fails_is_redone_here(tmp_path):
    parent = os.getpid()
    # every job fails in the child: the child stops at its first, the parent does all
    jobs = share_jobs(100, _writer(tmp_path, fail=lambda i: os.getpid() != parent))
    jobs.finish()
    texts = [(tmp_path / f"{i:03d}.txt").read_text().split() for i in range(100)]
    assert [int(t[0]) for t in texts] == [i * i for i in range(100)]
    assert {t[1] for t in texts} == {str(parent)}


@needs_fork
def test_a_job_that_fails_everywhere_is_raised_here(tmp_path):
    jobs = share_jobs(100, _writer(tmp_path, fail=lambda i: i == 57))
    with pytest.raises(RuntimeError, match="job 57"):
        jobs.finish()
    assert jobs.pid is None                  # the child was waited for


@needs_fork
def test_no_fork_to_be_had_runs_everything_here(tmp_path, monkeypatch):
    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    jobs = share_jobs(100, _writer(tmp_path))
    assert jobs.pid is None
    jobs.finish()
    texts = [(tmp_path / f"{i:03d}.txt").read_text().split() for i in range(100)]
    assert {t[1] for t in texts} == {str(os.getpid())}


@needs_fork
def test_python_3_12s_warning_on_forking_with_threads_is_not_shown(tmp_path, monkeypatch):
    import warnings

    real = os.fork

    def fork_as_3_12():  # what Python 3.12+ does when the process has threads
        warnings.warn("This process (pid=1) is multi-threaded, use of fork() may lead "
                      "to deadlocks in the child.", DeprecationWarning, stacklevel=2)
        return real()

    monkeypatch.setattr(forked.os, "fork", fork_as_3_12)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        jobs = share_jobs(100, _writer(tmp_path))
        assert jobs.pid is not None
        jobs.finish()
        warnings.warn("another warning", DeprecationWarning)   # others still shown
    assert [str(w.message) for w in shown] == ["another warning"]
    assert len(list(tmp_path.iterdir())) == 100


# run_beside: one job whose value comes back from a forked child

@needs_fork
def test_the_child_runs_the_job_and_its_value_comes_back():
    parent = os.getpid()
    big = list(range(300_000))             # more than a pipe holds: read while it writes
    job = forked.run_beside(lambda: (os.getpid(), big + [1]))
    assert job.pid is not None
    pid, value = job.result()
    assert pid != parent and value == big + [1]
    assert job.pid is None                 # waited for


def test_nothing_forked_runs_the_job_here_when_asked():
    calls = []
    job = forked.run_beside(lambda: calls.append(os.getpid()) or 7, parallel=False)
    assert job.pid is None and calls == []  # nothing runs before result
    assert job.result() == 7 and calls == [os.getpid()]


@needs_fork
def test_a_job_that_fails_in_the_child_is_run_again_here():
    parent = os.getpid()

    def job():
        if os.getpid() != parent:
            raise RuntimeError("child")
        return "here"

    assert forked.run_beside(job).result() == "here"


@needs_fork
def test_a_job_that_fails_everywhere_raises_here():
    job = forked.run_beside(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        job.result()
    assert job.pid is None


@needs_fork
def test_cancel_stops_the_child_and_waits_for_it():
    import time

    job = forked.run_beside(lambda: time.sleep(60))
    pid = job.pid
    job.cancel()
    assert job.pid is None
    with pytest.raises(ChildProcessError):  # reaped: no such child any more
        os.waitpid(pid, os.WNOHANG)
    job.cancel()                            # twice is harmless
