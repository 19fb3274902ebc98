"""Showing an assessment in a notebook: tables, paragraphs, the plot style."""

from __future__ import annotations

import html

import pandas as pd

# p-values are shown in the appendix only, as 0.000 or <0.001 (the workbook's format).
_PROBABILITY_COLUMNS = {"p_value", "q_value", "p值", "q值"}
# a text column whose cells are all this short (a unit's name: 区规划和自然资源局)
# never wraps; a longer one (an indicator's name) wraps in a column at least 9em wide,
# and one longer than _MEDIUM_TEXT (a message) in one at least 16em wide
_SHORT_TEXT = 10
_MEDIUM_TEXT = 20
# Columns that hold one estimated quantity each (the ranking's expectation, ratio and
# z; a finding's limits): always two decimals, so that 1.00 does not show as "1"
# beside 1.10.  Other float columns are decided cell by cell (a totals column mixes
# counts and 万元).
ESTIMATE_COLUMNS = {"期望值", "实际/期望", "偏离度z", "下限", "上限"}


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def p_text(value: float) -> str:
    """A p- or q-value as the report writes it: ``<0.001`` below 0.001, else three
    decimals (``0.042``)."""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def is_percent(column) -> bool:
    """Whether a column holds percentages (``增幅(%)``, ``企业自查占比(%)``, ``环比(%)``)."""
    return "%" in str(column)


def table_style(table: pd.DataFrame, *, caption: str | None = None):
    """The Styler of a report table: counts without decimals, other figures with two
    (estimates, ``ESTIMATE_COLUMNS``, always with two), percentages with one, p-values as 0.000 / <0.001, blanks as —; text columns
    left-aligned, names never wrapped, longer texts (indicators, messages) wrapped in
    a column wide enough that no line holds one character;
    ``caption`` (本期 / 累计 …) above the table."""
    probs = [c for c in table.columns if str(c) in _PROBABILITY_COLUMNS]
    pcts = [c for c in table.columns if is_percent(c) and c not in probs
            and pd.api.types.is_numeric_dtype(table[c])]
    floats = [c for c in table.columns
              if pd.api.types.is_float_dtype(table[c]) and c not in probs and c not in pcts]
    estimates = [c for c in floats if str(c) in ESTIMATE_COLUMNS]
    floats = [c for c in floats if c not in estimates]
    texts = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])
             and not pd.api.types.is_bool_dtype(table[c])]
    # a blank cell is NaN even as text (pandas 3): it has no length
    longest = {c: int(table[c].astype("str").str.len().fillna(0).max()) if len(table) else 0
               for c in texts}
    # Counts without decimals, other figures with two: decided cell by cell, since a
    # totals table mixes counts and 万元 in one column.
    style = (table.style.hide(axis="index")
             .format(precision=2, na_rep="—", escape="html")
             .format(_figure, subset=floats, na_rep="—")
             .format("{:,.2f}", subset=estimates, na_rep="—")
             .format("{:.1f}", subset=pcts, na_rep="—")
             .format(lambda v: html.escape(p_text(v)), subset=probs, na_rep="—"))
    columns = {}
    for c in texts:
        if longest[c] <= _SHORT_TEXT:
            width = [("white-space", "nowrap")]
        else:  # wraps, but never one character a line
            width = [("min-width", "16em" if longest[c] > _MEDIUM_TEXT else "9em")]
        columns[c] = [{"selector": "", "props": [("text-align", "left")] + width}]
    if columns:
        style = style.set_table_styles(columns, overwrite=False)
    heads = [{"selector": "th", "props": [("white-space", "nowrap"), ("padding", "3px 8px")]},
             {"selector": "td", "props": [("padding", "3px 8px")]}]
    if caption:
        style = style.set_caption(caption)
        heads.append({"selector": "caption", "props": [
            ("caption-side", "top"), ("text-align", "left"), ("font-weight", "bold"),
            ("color", "#333"), ("padding", "4px 0")]})
    return style.set_table_styles(heads, overwrite=False)


def show(table: pd.DataFrame, empty: str = "本期未发现此类问题。", *, max_rows: int = 30,
         caption: str | None = None):
    """Display a table in a notebook (pandas escapes every cell; ``table_style``),
    or ``empty`` as a line of text when it has no rows; long tables show their first
    ``max_rows``.  ``caption``: what the figures cover (本期（2024年第三季度）,
    累计（1—9月）)."""
    from IPython.display import Markdown, display

    if table is None or len(table) == 0:
        display(Markdown(f"*{empty}*"))
        return
    display(table_style(table.head(max_rows), caption=caption))
    if len(table) > max_rows:
        display(Markdown(f"*（共 {len(table)} 行，仅显示前 {max_rows} 行）*"))


def text_html(text: str, *, heading: str | None = None, level: int = 2) -> str:
    """A paragraph (and an optional heading, ``<h{level}>``) built from the data, as
    escaped HTML: a unit name is text, never markup."""
    if level not in (2, 3, 4):
        raise ValueError(f"level must be 2, 3 or 4, not {level!r}")
    head = f"<h{level}>{html.escape(heading)}</h{level}>" if heading else ""
    return f"{head}<p>{html.escape(text)}</p>"


def show_text(text: str, *, heading: str | None = None, level: int = 2) -> None:
    """Display ``text_html(text, heading=heading, level=level)`` in the notebook."""
    from IPython.display import HTML, display

    display(HTML(text_html(text, heading=heading, level=level)))


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
    """Show a section's 预警 and 关注 findings (``sections.main_findings_table`` of
    ``which``: family= or checks=), labelled with the period, under the line saying
    what its checks could not judge (``sections.section_note``); only that line when
    none of them could run.  The 提示 rows are counted in a line under the table and
    listed in the appendix.  Returns whether the section was shown."""
    from .brief import label
    from .sections import SKIPPED, main_findings_table, section_note

    note = section_note(a, section)
    if note:
        show_text(note)
        if note.endswith(SKIPPED):
            return False
    table, n_info = main_findings_table(a, **which)
    show(table, empty, caption=f"{label(a, '本期')}评估结果：预警与关注（所依据的期间见说明）")
    if n_info:
        show_text(f"另有{n_info}条提示（证据较弱，仅供参考），列于附表。")
    return True
