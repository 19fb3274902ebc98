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
