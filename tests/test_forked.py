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


# share_values: jobs whose values come back, shared with a forked child

def _pid_job(i, fail=lambda i: False):
    def job():
        if fail(i):
            raise RuntimeError(f"job {i}")
        return i * i, os.getpid()
    return job


@needs_fork
def test_the_child_takes_the_first_job_and_both_share_the_rest():
    import time

    parent = os.getpid()
    big = list(range(300_000))             # more than a pipe holds: read while it writes

    def first():
        time.sleep(1.0)                    # long enough that this process takes the rest
        return big, os.getpid()

    shared = forked.share_values([first] + [_pid_job(i) for i in range(1, 20)])
    assert shared.pid is not None
    values = shared.values()
    assert values[0][0] == big and values[0][1] != parent
    assert [v[0] for v in values[1:]] == [i * i for i in range(1, 20)]
    assert {v[1] for v in values[1:]} <= {parent, values[0][1]}
    assert parent in {v[1] for v in values[1:]}
    assert shared.pid is None              # waited for


def test_nothing_forked_runs_every_job_here_in_order():
    calls = []
    jobs = [lambda i=i: calls.append(i) or i for i in range(5)]
    shared = forked.share_values(jobs, parallel=False)
    assert shared.pid is None and calls == []  # nothing runs before values()
    assert shared.values() == list(range(5)) and calls == list(range(5))


@needs_fork
def test_what_fails_in_the_child_is_run_again_here():
    parent = os.getpid()
    values = forked.share_values(
        [_pid_job(i, fail=lambda i: os.getpid() != parent) for i in range(10)]).values()
    assert values == [(i * i, parent) for i in range(10)]


@needs_fork
def test_a_job_that_fails_everywhere_raises_here():
    shared = forked.share_values([_pid_job(i, fail=lambda i: i == 0) for i in range(3)])
    with pytest.raises(RuntimeError, match="job 0"):
        shared.values()
    assert shared.pid is None


@needs_fork
def test_an_error_here_stops_the_child_and_waits_for_it():
    import time

    parent = os.getpid()
    child_sleeps = [lambda: time.sleep(60)]
    fails_here = [_pid_job(1, fail=lambda i: os.getpid() == parent)]
    shared = forked.share_values(child_sleeps + fails_here)
    pid = shared.pid
    with pytest.raises(RuntimeError, match="job 1"):
        shared.values()
    assert shared.pid is None
    with pytest.raises(ChildProcessError):  # reaped: no such child any more
        os.waitpid(pid, os.WNOHANG)
    shared.cancel()                          # twice is harmless
