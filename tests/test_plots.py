"""Plots: the CJK font is registered and renders Chinese without missing glyphs, and
each figure draws what its data says (labels, order, limits)."""

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from anquan_analysis import plots


def _glyph_warnings(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = draw()
        fig.canvas.draw()
        plt.close(fig)
    return [str(w.message) for w in caught
            if "missing from font" in str(w.message) or "Glyph" in str(w.message)]


def _chinese_figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [-1, 0, 2])
    ax.set_title("重大事故隐患排查数（项）")
    ax.set_xticks([0, 1, 2], ["区应急局", "东温泉镇", "巴源公司"])
    ax.set_ylabel("实际值／期望值")
    return fig


def test_cjk_font_is_registered_first():
    assert plots.cjk_font_path().is_file()
    assert matplotlib.rcParams["font.sans-serif"][0] == plots.CJK_FONT_NAME
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_chinese_title_and_ticks_emit_no_missing_glyph_warning():
    assert _glyph_warnings(_chinese_figure) == []


def test_without_the_cjk_font_the_same_figure_warns():
    # The check above can fail: with a Latin-only font the same figure warns.
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        assert any("missing from font" in w for w in _glyph_warnings(_chinese_figure))


def test_every_plot_renders_chinese_without_warnings():
    panel = pd.DataFrame({
        "unit": ["区应急局", "区应急局", "东温泉镇", "东温泉镇"],
        "period": ["2024-01", "2024-02", "2024-01", "2024-02"],
        "indicator": "major_hazards_found", "value": [3.0, 5.0, 0.0, 1.0]})
    sectors = pd.DataFrame({"sector": ["工贸", "建筑施工", "养老"], "found": [72.0, 52.0, 0.0]})
    for draw in (lambda: plots.unit_period_heatmap(panel),
                 lambda: plots.unit_series(panel, "区应急局"),
                 lambda: plots.sector_bars(sectors),
                 lambda: plots.ranking_bars(panel, "value", title="排名")):
        assert _glyph_warnings(draw) == []


def test_control_limits_of_a_c_chart():
    # mean 4: 4 ± 3·2 → lower clipped at 0, upper 10
    assert plots.control_limits([2, 4, 6, 4]) == pytest.approx((4.0, 0.0, 10.0))
    # mean 25: 25 ± 3·5 = (10, 40)
    assert plots.control_limits([25, 25, np.nan]) == pytest.approx((25.0, 10.0, 40.0))
    assert all(np.isnan(plots.control_limits([])))


def _funnel():
    return pd.DataFrame({
        "unit": ["低单位", "正常单位", "高单位", "镇甲"],
        "unit_type": ["department", "department", "department", "town"],
        "peer": ["department", "department", "department", "town"],
        "observed": [1.0, 10.0, 30.0, 5.0], "expected": [10.0, 10.0, 12.0, 5.0],
        "lower95": [4.8, 4.8, 6.2, 1.6], "upper95": [18.4, 18.4, 21.0, 11.7],
        "lower998": [2.9, 2.9, 4.0, 0.6], "upper998": [22.6, 22.6, 25.4, 14.6],
        "tau2": [0.0, 0.0, 0.0, 0.0]})


def test_funnel_plot_labels_exactly_the_units_outside_the_95_limits():
    fig = plots.funnel_plot(_funnel())
    labels = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert labels == {"低单位", "高单位"}
    # one panel per peer group, each with both limit pairs (4 curves) and its points
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["部门", "镇街"]
    assert len([ln for ln in visible[0].get_lines() if ln.get_label() != "_nolegend_"]) >= 4
    offsets = visible[0].collections[0].get_offsets()
    assert sorted(np.asarray(offsets)[:, 1].round(3)) == pytest.approx([0.1, 1.0, 2.5])
    plt.close(fig)


def test_funnel_plot_needs_its_columns():
    with pytest.raises(ValueError, match="lower95"):
        plots.funnel_plot(_funnel().drop(columns="lower95"))


def test_ranking_bars_highest_first_and_highlight():
    t = pd.DataFrame({"unit": ["甲", "乙", "丙"], "unit_type": ["town", "soe", "town"],
                      "value": [2.0, 9.0, 5.0]})
    fig = plots.ranking_bars(t, "value", highlight=["甲"])
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["乙", "丙", "甲"]
    widths = [p.get_width() for p in ax.patches]
    assert widths == [9.0, 5.0, 2.0]
    assert ax.patches[2].get_linewidth() == pytest.approx(1.8)
    plt.close(fig)


def test_heatmap_keeps_missing_cells_blank_and_orders_units_by_total():
    panel = pd.DataFrame({
        "unit": ["甲", "乙", "乙"], "period": ["2024-02", "2024-01", "2024-02"],
        "indicator": "major_hazards_found", "value": [0.0, 4.0, 6.0]})
    fig = plots.unit_period_heatmap(panel)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["乙", "甲"]
    data = ax.collections[0].get_array().ravel()
    # row 乙: 4, 6; row 甲: blank (not reported) in 2024-01, 0 in 2024-02
    assert np.ma.getmaskarray(data).tolist() == [False, False, True, False]
    assert np.ma.filled(data, -1).tolist() == [4.0, 6.0, -1, 0.0]
    plt.close(fig)


def test_sector_bars_show_counts_and_shares():
    sectors = pd.DataFrame({"sector": ["工贸", "建筑施工", "工贸", "养老"],
                            "found": [40.0, 52.0, 32.0, 0.0]})
    fig = plots.sector_bars(sectors)
    texts = [t.get_text().strip() for t in fig.axes[0].texts]
    # 工贸 40+32 = 72 of 124 = 58.1%; 建筑施工 52 = 41.9%; 养老 0
    assert texts == ["72，58.1%", "52，41.9%", "0"]
    plt.close(fig)


def test_unit_series_marks_points_beyond_the_limits():
    panel = pd.DataFrame({"unit": "甲", "period": [f"2024-{m:02d}" for m in range(1, 7)],
                          "indicator": "major_hazards_found",
                          "value": [4.0, 4.0, 4.0, 4.0, 4.0, 20.0]})
    # baseline = first 5 months: mean 4, limits (0, 10); June's 20 is beyond
    for baseline in (5, -1):
        fig = plots.unit_series(panel, "甲", baseline_periods=baseline)
        ax = fig.axes[0]
        red = np.asarray(ax.collections[0].get_offsets())
        assert red.tolist() == [[5.0, 20.0]]
        plt.close(fig)
    # with June in the baseline: mean 40/6 = 6.67, upper 6.67 + 3·2.58 = 14.41; June still out
    fig = plots.unit_series(panel, "甲")
    assert np.asarray(fig.axes[0].collections[0].get_offsets()).tolist() == [[5.0, 20.0]]
    plt.close(fig)


def test_digit_bars_last_and_first_digit_shares():
    # last digits of whole numbers ≥ 10: 10, 15, 20, 25 → 0, 5, 0, 5 (7 is too small)
    fig = plots.digit_bars([10, 15, 20, 25, 7], [11, 12], position="last")
    own = [p.get_height() for p in fig.axes[0].patches[:10]]
    ref = [p.get_height() for p in fig.axes[0].patches[10:]]
    assert own == pytest.approx([0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0])
    assert ref == pytest.approx([0, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0])
    plt.close(fig)
    # first digits of 1, 12, 3.5, 200 → 1, 1, 3, 2; Benford line at log10(2) for 1
    fig = plots.digit_bars([1, 12, 3.5, 200, 0], [5], position="first")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches[:9]] == pytest.approx(
        [0.5, 0.25, 0.25, 0, 0, 0, 0, 0, 0])
    assert ax.get_lines()[0].get_ydata()[0] == pytest.approx(np.log10(2))
    plt.close(fig)


def test_heatmap_rows_as_given_capped_and_highlighted():
    # five units with totals 甲 10, 乙 8, 丙 6, 丁 4, 戊 2 over two months
    units = ["甲", "乙", "丙", "丁", "戊"]
    panel = pd.DataFrame({
        "unit": [u for u in units for _ in range(2)],
        "period": ["2024-01", "2024-02"] * 5, "indicator": "major_hazards_found",
        "value": [v for t in (10, 8, 6, 4, 2) for v in (t / 2, t / 2)]})
    # default: the highest totals, at most max_units of them; the title says so
    fig = plots.unit_period_heatmap(panel, max_units=3)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["甲", "乙", "丙"]
    assert "显示3个，共5个单位" in ax.get_title()
    plt.close(fig)
    # given rows in the given order, a unit without figures as a blank row
    fig = plots.unit_period_heatmap(panel, units=["丁", "甲", "无此单位"], highlight=["丁"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["丁", "甲", "无此单位"]
    data = ax.collections[0].get_array()
    assert np.ma.filled(data, -1).ravel().tolist() == [2.0, 2.0, 5.0, 5.0, -1, -1]
    colours = {t.get_text(): t.get_color() for t in ax.get_yticklabels()}
    assert colours["丁"] == "#c62828" and colours["甲"] != "#c62828"
    plt.close(fig)


def test_seaborn_style_keeps_the_cjk_font_and_grid():
    plots.apply_style()
    assert matplotlib.rcParams["font.sans-serif"][0] == plots.CJK_FONT_NAME
    assert matplotlib.rcParams["axes.grid"] is True
    assert matplotlib.colors.to_hex(matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0]) == "#4c72b0"


def test_heatmap_of_an_indicator_the_data_lacks_says_so_instead_of_failing():
    # issue 16: tables without 重大事故隐患排查数 crashed the report's heatmap
    import pandas as pd
    from anquan_analysis import plots
    panel = pd.DataFrame({"unit": ["甲"], "period": ["2024-01"], "indicator": ["drills"],
                          "value": [3.0]})
    fig = plots.unit_period_heatmap(panel, "major_hazards_found")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["本期数据未包含重大事故隐患排查数"]
