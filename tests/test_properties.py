"""Property tests (hypothesis): the number parser never raises and reads back what the
formatter writes; ingest accounts for every row of generated tables full of typos."""

from __future__ import annotations

import csv
import io
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from anquan_analysis.ingest import ingest
from anquan_analysis.numbers import KNOWN_UNITS, MONEY, format_number, parse_number

UNITS = sorted(KNOWN_UNITS)
# Pieces of typed figures, so that generated text is often almost a number.
TOKENS = ["0", "1", "7", "9", "12", ".", ".5", "e", "e9", "e999999999", "E-400", "万", "亿", "千",
          "余", "多", "约", "近", "左右", "+", "-", "−", ",", "，", "１２", "二十三", "十", "三三",
          "百", "元", "万元", "项", "次", "人次", "%", "公里", " ", "—", "无", "=", "=A1", "nan",
          "\x00", "（", "）"]


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.lists(st.sampled_from(TOKENS), max_size=8).map("".join)),
       target=st.sampled_from([None, *UNITS]), assumed=st.sampled_from([None, *UNITS]))
@example(text="1e999999999万元", target="元", assumed=None)
@example(text="1e400", target=None, assumed=None)
def test_parse_number_never_raises(text, target, assumed):
    r = parse_number(text, target_unit=target, assumed_unit=assumed)
    # exactly one of: missing, an error, or a finite non-negative value
    if r.error is not None:
        assert r.value is None and isinstance(r.error, str) and r.error
    elif r.value is not None:
        assert math.isfinite(r.value) and r.value >= 0
        assert target is None or r.unit == target


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(st.integers(0, 10**12), st.floats(0, 1e15, allow_nan=False,
                                                          allow_infinity=False)),
       unit=st.sampled_from([None, *UNITS]), approx=st.booleans())
@example(value=170000, unit=None, approx=True)
@example(value=109.33, unit="万元", approx=False)
def test_format_then_parse_round_trips(value, unit, approx):
    text = format_number(value, unit, approx)
    r = parse_number(text, target_unit=unit)
    assert r.error is None, text
    assert r.value == float(value) and r.approx == approx, text
    if unit not in MONEY and value >= 10000:
        assert "万" in text


def test_format_number_known_forms():
    assert format_number(170000, approx=True) == "17万余"
    assert format_number(580, "次", approx=True) == "580余次"
    assert format_number(109.33, "万元") == "109.33万元"
    assert format_number(21248, "人次") == "2.1248万人次"


# ---------------------------------------------------------------------------
# Ingest accounting on generated tables

GOOD_UNITS = ["区应急局", "花溪街道", "巴源公司", "七星区", "物流基地公司"]
UNIT_CELLS = GOOD_UNITS + ["", " 区应急局", "花溪街道 ", "区应急局"]      # blanks, spaces, repeats
PERIOD_CELLS = ["2024-04", "2024年4月", "2024-05", "2024/5", "2024-13", "上月", "", "45383", "2024Q2"]
VALUE_CELLS = ["0", "3", "17", "１２", "3项", "40余", "2.5", "-1", "见附件", "—", "", "1e400",
               "二十三", "1,234", "=A1", "#REF!", "5人"]
HEADER = ["单位", "期间", "重大事故隐患排查数", "重大事故隐患整改数", "一般隐患排查数"]

rows_strategy = st.lists(
    st.tuples(st.sampled_from(UNIT_CELLS), st.sampled_from(PERIOD_CELLS),
              st.sampled_from(VALUE_CELLS), st.sampled_from(VALUE_CELLS),
              st.sampled_from(VALUE_CELLS)),
    min_size=1, max_size=10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, encoding=st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]))
def test_ingest_accounts_for_every_row(rows, encoding):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([HEADER, *rows])
    data_rows = {i + 2 for i, r in enumerate(rows) if any(c.strip() for c in r)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(buf.getvalue().encode(encoding))
        if not data_rows:
            return                       # a header only: a clear error, tested in the corpus
        ds = ingest(path, aliases=None)
    in_panel = set(ds.panel["source_row"])
    in_rej = set(ds.rejects["row"])
    s = ds.summary.iloc[0]
    assert s["rows_read"] == len(data_rows)
    assert s["rows_read"] == s["rows_clean"] + s["rows_rejected"]
    assert in_panel | in_rej <= data_rows
    # a row not in the panel and not rejected has no figure at all
    for i in data_rows - in_panel - in_rej:
        assert all(v.strip() in ("", "—") for v in rows[i - 2][2:])
    assert s["rows_rejected"] == len(in_rej - in_panel)
    # nothing negative, fractional-count, non-finite or formula-like reached the panel
    v = ds.panel["value"]
    assert ((v >= 0) & (v % 1 == 0) & v.map(math.isfinite)).all()
