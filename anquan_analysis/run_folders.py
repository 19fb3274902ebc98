"""The folders of an ``anquan assess`` run, so that a report never looks complete when
it is not.

* **A period's outputs are staged and swapped in whole** (``staged_period``): the
  notebook, its HTML, findings.xlsx and summary.json are written into a hidden
  staging folder beside ``reports/<period>/`` and, once all are written, the folder
  takes the place of the old one (an atomic exchange where the system has one, else
  two renames): a reader sees the old set or the new set, never a mix, and a run
  killed half way leaves the old set as it was.
* **A failed run is recorded, not published**: ``status.json`` in the period's folder
  says ``failed`` (with the error and the time), the executed part of the notebook is
  kept as ``assessment.failed.ipynb`` only when it is a whole notebook (a full disk
  leaves nothing rather than a truncated file), and the index marks the period failed,
  or stale when an older report is still there.
* **Leftovers are cleaned at start** (``clean_stale_outputs``, ``clean_temp_folders``):
  staging folders and the temporary ``anquan-assess-<pid>-*`` folders of runs whose
  process is gone; a period folder set aside for an exchange that never finished is
  put back.

Only canonical periods (``periods.parse_period``) become folder names.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

STATUS = "status.json"
FAILED_NOTEBOOK = "assessment.failed.ipynb"
TEMP_PREFIX = "anquan-assess-"
# Leftover names: .<period>.staging-<pid>-<random>, .<period>.old-<pid>-<random>,
# anquan-assess-<pid>-<random> (and the older anquan-assess-<random>).
_LEFTOVER = re.compile(r"^\.(?P<period>[^/]+)\.(?P<kind>staging|old)-(?P<pid>\d+)-")
_TEMP = re.compile(rf"^{TEMP_PREFIX}(?:(?P<pid>\d+)-)?")
# Temporary folders of versions that did not put their process id in the name are
# removed once they are this old (a run of every period of a province takes minutes).
LEGACY_TEMP_AGE = 6 * 3600
_RENAME_EXCHANGE = 2


def canonical_period(period) -> str:
    """``period`` if it is a canonical period (``2024-04``, ``2024Q2`` …), the only
    names a report folder may have; ValueError otherwise (``2024-01/../..`` from a
    crafted dataset never reaches a path)."""
    from .periods import parse_period
    from .text import printable

    try:
        ok = isinstance(period, str) and parse_period(period) == period
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"period {printable(repr(period))} is not a canonical period "
                         "(2024-04, 2024Q2 …): a damaged or crafted dataset; ingest the data again")
    return period


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_outputs(root) -> list[str]:
    """Remove the staging folders of dead runs in a reports folder, and put back a
    period folder that a dead run set aside (``.<period>.old-…``) where the period has
    no folder; returns what was done, one line each."""
    root = Path(root)
    done = []
    if not root.is_dir():
        return done
    for d in sorted(root.iterdir()):
        m = _LEFTOVER.match(d.name)
        if not m or not d.is_dir() or _alive(int(m["pid"])):
            continue
        target = root / m["period"]
        if m["kind"] == "old" and not target.exists():
            os.replace(d, target)
            done.append(f"restored {target.name} (a run stopped while replacing it)")
        else:
            shutil.rmtree(d, ignore_errors=True)
            done.append(f"removed {d.name} (left by a stopped run)")
    return done


def clean_temp_folders(tmp_dir=None) -> list[str]:
    """Remove the ``anquan-assess-*`` temporary folders (the dataset a run ingests)
    that runs of this user left: those whose process is gone, and those without a
    process id in their name once older than ``LEGACY_TEMP_AGE``."""
    tmp = Path(tmp_dir or tempfile.gettempdir())
    done = []
    for d in tmp.glob(TEMP_PREFIX + "*"):
        try:
            st = d.lstat()
        except OSError:
            continue
        if not d.is_dir() or d.is_symlink() or st.st_uid != os.getuid():
            continue
        pid = _TEMP.match(d.name)["pid"]
        stale = (not _alive(int(pid))) if pid else time.time() - st.st_mtime > LEGACY_TEMP_AGE
        if stale:
            shutil.rmtree(d, ignore_errors=True)
            done.append(f"removed {d}")
    return done


def temp_folder() -> tempfile.TemporaryDirectory:
    """A temporary folder for a run, named with the process id so that a later run can
    tell it was left behind (``clean_temp_folders``)."""
    return tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-")


def staging_folder(root, period: str) -> Path:
    """A new hidden folder beside ``root/<period>`` for the period's outputs."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{canonical_period(period)}.staging-{os.getpid()}-",
                                 dir=root))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the
    system or the file system has no such call."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    res = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return res == 0


def publish(stage: Path, final: Path) -> None:
    """Put the staged folder in the place of ``final`` (its outputs all written): an
    atomic exchange where possible, else the old folder renamed aside, the new one
    renamed in and the old one removed.  Either way no reader sees a mix."""
    if final.exists() and _exchange(stage, final):
        shutil.rmtree(stage, ignore_errors=True)    # it now holds the old set
        return
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{os.urandom(4).hex()}")
        os.replace(final, old)
    os.replace(stage, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_status(folder: Path, status: str, **fields) -> None:
    """``folder/status.json``: the status of the period's last run (``ok`` or
    ``failed``), when it finished, and ``fields`` (the error); written atomically."""
    from .io import write_text_atomic

    record = {"status": status,
              "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"), **fields}
    write_text_atomic(json.dumps(record, ensure_ascii=False, indent=2), folder / STATUS)


def record_failure(stage: Path, final: Path, error: str) -> None:
    """After a failed run: the executed part of the notebook (papermill marks the
    failing cell) moved to ``final/assessment.failed.ipynb`` when it is a whole
    notebook, ``final/status.json`` set to ``failed``, the staging folder removed.  An
    older report in ``final`` is left as it was (the index marks it stale).  Errors
    while recording (a full disk) leave nothing half-written."""
    import nbformat

    from .io import atomic_path

    try:
        final.mkdir(parents=True, exist_ok=True)
        partial = stage / "assessment.ipynb"
        with contextlib.suppress(Exception):
            nbformat.read(str(partial), as_version=4)        # a whole notebook only
            with atomic_path(final / FAILED_NOTEBOOK) as tmp:
                os.replace(partial, tmp)
        write_status(final, "failed", error=error)
    except OSError:
        pass
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def read_status(folder: Path) -> dict:
    """The period's ``status.json`` ({} when there is none or it cannot be read)."""
    try:
        return json.loads((Path(folder) / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
