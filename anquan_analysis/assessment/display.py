"""Showing an assessment in a notebook: tables, paragraphs, the plot style."""

from __future__ import annotations

import pandas as pd

# p-values are shown with two significant digits: 3.3e-06, not 0.00.
_PROBABILITY_COLUMNS = {"p_value", "q_value", "p值", "q值"}


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def show(table: pd.DataFrame, empty: str = "本期未发现此类问题。", *, max_rows: int = 30):
    """Display a table in a notebook (pandas escapes every cell), or ``empty`` as a
    line of text when it has no rows; long tables show their first ``max_rows``."""
    from IPython.display import Markdown, display

    if table is None or len(table) == 0:
        display(Markdown(f"*{empty}*"))
        return
    shown = table.head(max_rows)
    # Counts without decimals, other figures with two: decided cell by cell, since a
    # totals table mixes counts and 万元 in one column.
    probs = [c for c in shown.columns if str(c) in _PROBABILITY_COLUMNS]
    floats = [c for c in shown.columns
              if pd.api.types.is_float_dtype(shown[c]) and c not in probs]
    style = (shown.style.hide(axis="index")
             .format(precision=2, na_rep="—", escape="html")
             .format(_figure, subset=floats, na_rep="—")
             .format("{:.2g}", subset=probs, na_rep="—"))
    display(style)
    if len(table) > max_rows:
        display(Markdown(f"*（共 {len(table)} 行，仅显示前 {max_rows} 行）*"))


def text_html(text: str, *, heading: str | None = None) -> str:
    """A paragraph (and an optional heading) built from the data, as escaped HTML:
    a unit name is text, never markup."""
    import html as _html

    head = f"<h2>{_html.escape(heading)}</h2>" if heading else ""
    return f"{head}<p>{_html.escape(text)}</p>"


def show_text(text: str, *, heading: str | None = None) -> None:
    """Display ``text_html(text, heading=heading)`` in the notebook."""
    from IPython.display import HTML, display

    display(HTML(text_html(text, heading=heading)))


def notebook_setup() -> None:
    """Plot style with the CJK font, figures drawn once, and pandas display options
    for the notebook.

    In a notebook kernel a figure is otherwise drawn more often than it is shown:
    pyplot's hook after every cell redraws every open figure (for interactive
    windows; the inline backend then renders it to PNG anyway), and the inline
    backend's default ``bbox_inches="tight"`` measures the laid-out figure once more
    before saving it.  The hook is removed and figures are saved at their size
    (every figure of ``plots`` is laid out by matplotlib's constrained layout within
    it): at a province this halves the figures' time.  Outside a kernel nothing is
    changed."""
    from .. import plots  # noqa: F401 - registers the CJK font on import

    try:
        import matplotlib.pyplot as plt
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        pass
    else:
        if get_ipython() is not None and "inline" in plt.get_backend():
            plt.uninstall_repl_displayhook()
            set_matplotlib_formats("png", bbox_inches=None)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 200)
    pd.set_option("display.precision", 2)


def close_figures() -> None:
    """Close every open figure (after ``display(fig)`` in a loop, so the inline
    backend does not show them a second time at the end of the cell)."""
    import matplotlib.pyplot as plt

    plt.close("all")


def show_section(a, section: str, empty: str, **which) -> bool:
    """Show a section's findings (``sections.findings_table`` of ``which``: family= or
    checks=) under the line saying what its checks could not judge
    (``sections.section_note``); only that line when none of them could run.
    Returns whether the section was shown."""
    from .sections import SKIPPED, findings_table, section_note

    note = section_note(a, section)
    if note:
        show_text(note)
        if note.endswith(SKIPPED):
            return False
    show(findings_table(a, **which), empty)
    return True
