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
def test_a_value_computed_aside_comes_back_whole():
    import numpy as np
    import pandas as pd

    parent = os.getpid()
    frame = pd.DataFrame({"x": [0.1, np.nan, 1 / 3], "c": pd.Categorical(["a", "b", "a"])})
    aside = forked.run_aside(lambda: (os.getpid(), frame.assign(y=frame["x"] * 3)))
    assert aside.pid is not None
    pid, got = aside.result()
    assert pid != parent                     # computed in the child
    pd.testing.assert_frame_equal(got, frame.assign(y=frame["x"] * 3), check_exact=True)


@needs_fork
def test_what_fails_or_warns_aside_is_computed_here():
    import warnings

    parent = os.getpid()

    def fails():
        if os.getpid() != parent:
            raise RuntimeError("child")
        return "here"

    assert forked.run_aside(fails).result() == "here"

    def warns():
        warnings.warn("同比 有缺", UserWarning, stacklevel=1)
        return os.getpid()

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert forked.run_aside(warns).result() == parent   # the child's value dropped
    assert [str(w.message) for w in shown] == ["同比 有缺"]   # shown here, once

    def broken():
        raise ValueError("everywhere")

    with pytest.raises(ValueError, match="everywhere"):
        forked.run_aside(broken).result()


def test_nothing_forked_when_not_parallel():
    aside = forked.run_aside(os.getpid, parallel=False)
    assert aside.pid is None and aside.result() == os.getpid()
