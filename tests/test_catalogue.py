import pandas as pd
import pytest

from anquan_analysis import catalogue as cat


def test_every_domain_indicator_is_in_the_catalogue():
    domain_codes = """leader_onsite_city leader_onsite_county investment principal_training_sessions
    principal_training_persons standard_publicity_sessions standard_publicity_persons units_inspected
    principal_led_inspections principal_led_enterprises major_hazards_found major_hazards_rectified
    major_hazards_found_dept major_hazards_found_enterprise general_hazards_found general_hazards_rectified
    monitoring_systems upgrade_projects worker_training_sessions worker_training_persons
    flexible_training_sessions flexible_training_persons drill_enterprises drills
    standardized_enterprises benchmark_enterprises assistance_visits assisted_enterprises
    enforcement_training_sessions enforcement_training_persons penalties fines suspensions
    exposed_enterprises warning_letters publicity_audience accidents deaths""".split()
    assert set(domain_codes) <= set(cat.INDICATORS["code"])
    assert cat.INDICATORS["code"].is_unique
    assert len(cat.INDICATORS) >= 45


def test_units_and_actions_are_filled():
    assert cat.INDICATORS["unit"].str.len().gt(0).all()
    assert set(cat.INDICATORS["action"]) <= set(cat.ACTIONS)
    assert cat.indicator_unit("fines") == "万元"
    assert cat.indicator_unit("units_inspected") == "家次"
    assert cat.indicator_name("major_hazards_found") == "重大事故隐患排查数"


@pytest.mark.parametrize("label, code", [
    ("重大事故隐患排查数（项）", "major_hazards_found"),
    ("重大隐患排查数(项)", "major_hazards_found"),
    (" 部门检查发现 ", "major_hazards_found_dept"),
    ("企业自查发现", "major_hazards_found_enterprise"),
    ("罚款金额（万元）", "fines"),
    ("ＦＩＮＥＳ", "fines"),
    ("major_hazards_rectified", "major_hazards_rectified"),
    ("政府和企业投入治本攻坚项目资金", "investment"),
    ("开展应急逃生演练企业", "drill_enterprises"),
    ("no such column", None),
])
def test_resolve_indicator(label, code):
    assert cat.resolve_indicator(label) == code


def test_no_alias_points_to_two_indicators():
    from anquan_analysis.text import normalise_label
    seen = {}
    for row in cat.INDICATORS.itertuples():
        for label in (row.code, row.name_zh, *row.aliases):
            key = normalise_label(label)
            assert seen.setdefault(key, row.code) == row.code, (label, seen[key], row.code)


@pytest.mark.parametrize("label, sector", [("危化", "危险化学品"), ("建设施工", "建筑施工"),
                                           ("文旅", "文化旅游"), ("特种设备（特种作业）", "特种设备"),
                                           ("消防", "消防"), ("火星", None)])
def test_resolve_sector(label, sector):
    assert cat.resolve_sector(label) == sector


def test_unit_types():
    assert cat.resolve_unit_type("镇街") == "town"
    assert cat.resolve_unit_type("区属国有公司") == "soe"
    assert cat.resolve_unit_type("部门") == "department"
    assert cat.unit_type_name("county") == "县(市、区)"


def test_rules_refer_to_catalogue_codes():
    codes = set(cat.INDICATORS["code"])
    for rule in cat.RULES.itertuples():
        assert rule.kind in {"le", "sum", "requires", "monotone"}
        if rule.kind != "monotone":
            assert set(rule.lhs) <= codes and rule.rhs in codes, rule.rule
    kinds = cat.RULES.set_index("rule")["kind"]
    assert kinds["major_rectified_le_found"] == "le"
    assert kinds["major_found_sources_sum"] == "sum"
    assert kinds["fines_need_penalties"] == "requires"
