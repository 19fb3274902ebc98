"""``anquan``: the command-line entry point.

Each sub-command lives in the module that does its work; that module provides
``configure_parser(parser)`` and ``run_command(args) -> int``.  Errors in the input
reach the user as one line naming the file, row and column, with exit status 2;
nothing else reaches them as a traceback unless ``ANQUAN_DEBUG=1``.  A control
character in a message (a file or unit name holding an escape sequence) is printed
escaped (``text.printable``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .errors import InputError
from .text import printable

# name, module, help
COMMANDS = [
    ("ingest", "anquan_analysis.ingest.cli", "read office tables into a validated panel"),
    ("check", "anquan_analysis.checks.cli", "run the anomaly checks and write the findings"),
    ("assess", "anquan_analysis.notebook_runs", "run the per-period assessment notebook"),
    ("bulletin", "anquan_analysis.bulletin_docx",
     "write a period's 通报 as a Word document in the official layout"),
    ("audit", "anquan_analysis.audit.cli", "pull the figures out of a bulletin and audit its arithmetic"),
]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command; with ``only``, the options of that one alone
    are configured (the others are listed by name): a sub-command's module may import
    scipy and pandas, a second before ``anquan assess`` can start its kernel."""
    parser = argparse.ArgumentParser(prog="anquan", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module, help_text in COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if only is not None and name != only:
            continue
        try:
            importlib.import_module(module).configure_parser(p)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            p.set_defaults(_missing=True)
    return parser


def main(argv=None) -> int:
    """Run the sub-command in ``argv`` (default: the command line) and return its exit
    status; run from the command line, ``anquan assess`` then ends the process there
    (``_exit``)."""
    command_line = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    code = _main(argv)
    if command_line and next((a for a in argv if not a.startswith("-")), None) == "assess":
        _exit(code)
    return code


def _exit(code: int) -> None:
    """End the process with ``code`` once the exit handlers have run and the standard
    streams are flushed, without the interpreter's teardown of every module: after
    ``anquan assess`` (pandas, papermill, nbconvert, jupyter_client loaded) that
    teardown took 0.4-0.7 s, a fifth of an empty notebook's whole run, with every
    report already written and the kernel gone."""
    from .kernels import end_process   # the standard library only at import

    end_process(code, (sys.stdout, sys.stderr))


def _main(argv: list[str]) -> int:
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(first if first in {c[0] for c in COMMANDS} else None)
    args = parser.parse_args(argv)
    if getattr(args, "_missing", False):
        print(f"anquan {args.command}: not available in this version", file=sys.stderr)
        return 2
    try:
        return int(importlib.import_module(args._module).run_command(args) or 0)
    except InputError as err:
        print(f"anquan {args.command}: error: {printable(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"anquan {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the user gets one line, developers the traceback
        if os.environ.get("ANQUAN_DEBUG"):
            raise
        print(f"anquan {args.command}: error: {type(err).__name__}: {printable(err)} "
              "(set ANQUAN_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
