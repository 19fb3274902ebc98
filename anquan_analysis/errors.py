"""One exception for bad input, so every front end can report it in one line."""

from __future__ import annotations


class InputError(Exception):
    """Bad input that the user must fix: names the file and, where known, the
    sheet, row and column.  The CLI prints ``str(err)`` and exits with status 2."""

    def __init__(self, file, reason, *, sheet=None, row=None, column=None):
        self.file = str(file)
        self.reason = str(reason)
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet is not None:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return ", ".join(where) + f": {self.reason}"


def one_line(err: BaseException) -> str:
    """An exception on one line, naming its root cause (openpyxl and zipfile wrap the
    error that matters, such as defusedxml's EntitiesForbidden, in another)."""
    root = err
    seen = {id(err)}
    while (root.__cause__ or root.__context__) is not None:
        root = root.__cause__ or root.__context__
        if id(root) in seen:
            break
        seen.add(id(root))
    first = " ".join(str(err).split())[:160]
    if root is err:
        return f"{type(err).__name__}: {first}"
    return f"{type(err).__name__}: {first}; cause {type(root).__name__}: " \
        + " ".join(str(root).split())[:160]


class NotAReport(InputError):
    """A file that holds no report table: empty, prose without a header, binary, a web
    page, a PDF, a table without indicators (a contact list).  An error when the file is
    named; skipped with one line when it is found in a data folder."""
