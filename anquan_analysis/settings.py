"""The office's settings, kept as data: an optional ``anquan.toml`` in the data folder.

Everything the 通报 says about the office rather than about the figures: who issues it
(发文机关), its document number (发文字号), who it is sent to (主送), the campaign's
name, the key indicator units are ranked on, the opening sentence, the text of
三、下一步工作要求, the reporting deadline and the checks' thresholds.  Every key is
optional; ``Settings()`` holds the defaults, which fit a district office (区安委办)
like the bundled synthetic city's.  An example with every key: README.md
("Office settings").

Unknown keys are an error naming the file and the key (a typo would otherwise leave
a default silently in place).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import InputError

SETTINGS_FILE = "anquan.toml"

DEFAULT_OPENING = (
    "{period}，{scope}各级各部门持续推进{campaign}。按照“每月调度、每季通报”的要求，"
    "{issuer}对各单位报送的调度数据进行了汇总分析，现将有关情况通报如下："
)
DEFAULT_REQUIREMENTS = (
    "（一）压实工作责任。各单位要对照年度重点任务和责任分工逐项抓好落实，主要负责同志要"
    "亲自研究部署、定期调度推进，确保各项行动落地见效。",
    "（二）提升排查质效。对本通报点名的排查数量明显偏低、连续“0”报送的单位，要加强督促"
    "指导，深入企业一线开展排查，推动重大事故隐患应查尽查、应改尽改。",
    "（三）严把数据质量。各单位要严格对照指标口径和重大事故隐患判定标准如实填报，对本通报"
    "列出的需核实数据逐项核查，于下期报送时一并说明情况。",
    "（四）按时准确报送。各单位要在每月{deadline_day}日前报送调度数据，做到不迟报、不漏报、"
    "不错报。{issuer}将继续定期通报各单位工作进展和报送情况。",
)


@dataclass(frozen=True)
class Settings:
    """The settings of one office; see the module docstring and README.md.

    Text fields may hold the placeholders ``{period}`` (2024年第三季度), ``{scope}``,
    ``{campaign}``, ``{issuer}`` and ``{deadline_day}``."""

    issuer: str = "区安全生产委员会办公室"           # 发文机关 (署名 and 版头)
    doc_number: str = "区安委办〔{year}〕{number}号"  # 发文字号 pattern
    number: str = "××"                               # the number, filled in by the office
    recipients: str = "各镇人民政府、街道办事处，区安委会各成员单位，区属国有公司"  # 主送
    scope: str = "全区"                              # 全区 / 全市 / 全县
    campaign: str = "安全生产治本攻坚三年行动"
    key_indicator: str = ""                         # code or Chinese name; '' = from the data
    opening: str = DEFAULT_OPENING
    requirements: tuple[str, ...] = DEFAULT_REQUIREMENTS  # 三、: one paragraph each
    issued: dt.date | None = None                   # 成文日期; None: the day it is written
    public_note: str = ""                           # e.g. （此件公开发布）
    letterhead: bool = True                         # 版头: 发文机关标志, 发文字号, red line
    report_deadline_day: int = 24                   # reports due on this day …
    report_deadline_months_after: int = 0           # … of the month this many after the period's last
    lookback_months: int = 12                       # months each period is judged on; 0 = campaign to date
    suite_level: bool = False                       # the single-unit checks held to one error rate
    thresholds: dict = field(default_factory=dict)  # {check id: {keyword: value}}
    unit_aliases: str = ""                          # the dataset's alias table (alias,unit), relative to its folder

    def fill(self, text: str, **values) -> str:
        """``text`` with the placeholders filled from the settings and ``values``."""
        known = {"scope": self.scope, "campaign": self.campaign, "issuer": self.issuer,
                 "deadline_day": self.report_deadline_day, **values}
        try:
            return text.format(**known)
        except (KeyError, IndexError, ValueError) as err:
            raise InputError(SETTINGS_FILE, f"placeholder {err} in {text[:30]!r}… is not one of "
                             + ", ".join("{" + k + "}" for k in known)) from None

    def document_number(self, year: int) -> str:
        """The 发文字号 of a bulletin issued in ``year``."""
        return self.fill(self.doc_number, year=year, number=self.number)

    def key_indicator_code(self) -> str | None:
        """The key indicator as a catalogue code (a Chinese name is resolved); None
        when the settings name none: the assessment then takes the first finding
        count the data holds (``catalogue.FINDING_COUNTS``: 重大事故隐患排查数, else
        一般隐患排查数 …)."""
        from .catalogue import INDICATORS, resolve_indicator

        if not self.key_indicator:
            return None
        if self.key_indicator in set(INDICATORS["code"]):
            return self.key_indicator
        code = resolve_indicator(self.key_indicator)
        if code is None:
            raise InputError(SETTINGS_FILE, f"key_indicator {self.key_indicator!r} is not an "
                             "indicator of the catalogue (a code such as major_hazards_found, "
                             "or its Chinese name)")
        return code


# One help text for every command that takes --key-indicator (assess, bulletin).
KEY_INDICATOR_HELP = ("the indicator units are ranked on (code or Chinese name; default: "
                      "anquan.toml's key_indicator, else the first finding count the data "
                      "holds: 重大事故隐患排查数, else 一般隐患排查数 …)")


_TYPES = {f.name: f.type for f in fields(Settings)}


def _check(file: str, key: str, value):
    """``value`` of ``key`` as the Settings field needs it; InputError otherwise."""
    kind = _TYPES[key]
    if key == "requirements":
        if isinstance(value, str):
            value = [p.strip() for p in value.split("\n\n")]
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise InputError(file, "requirements must be a text (paragraphs separated by a "
                             "blank line) or a list of texts", column=key)
        return tuple(p for p in value if p)
    if key == "issued":
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InputError(file, "issued must be a date written as 2024-10-15 (no quotes)",
                             column=key)
        return value
    if key == "thresholds":
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise InputError(file, "thresholds must be tables such as [thresholds.low_outlier]",
                             column=key)
        return value
    expected = {"bool": bool, "int": int, "str": str}[kind] if kind in ("bool", "int", "str") \
        else None
    if expected is not None and (type(value) is not expected):
        raise InputError(file, f"{key} must be a {expected.__name__}, not {value!r}", column=key)
    if key == "report_deadline_day" and not 1 <= value <= 31:
        raise InputError(file, "report_deadline_day must be a day of the month (1–31)",
                         column=key)
    if key == "lookback_months" and not 0 <= value <= 120:
        raise InputError(file, "lookback_months must be 0 (the campaign to date) or a number "
                         "of months (at most 120)", column=key)
    if key == "report_deadline_months_after" and not 0 <= value <= 12:
        raise InputError(file, "report_deadline_months_after must be 0–12", column=key)
    return value


def read_settings(path) -> Settings:
    """The settings in a TOML file; InputError naming the file for a syntax error, an
    unknown key or a value of the wrong type."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise InputError(str(path), f"not valid TOML: {err}") from None
    unknown = sorted(set(data) - set(_TYPES))
    if unknown:
        raise InputError(str(path), f"unknown setting {unknown[0]!r}; known: "
                         + ", ".join(_TYPES))
    values = {k: _check(str(path), k, v) for k, v in data.items()}
    settings = replace(Settings(), **values)
    settings.key_indicator_code()  # an unknown indicator is reported now, with the file
    return settings


def load_settings(data_dir) -> Settings:
    """``read_settings`` of ``anquan.toml`` in ``data_dir`` when there is one, else the
    defaults."""
    path = Path(data_dir) / SETTINGS_FILE
    return read_settings(path) if path.is_file() else Settings()


def check_key_indicator(text: str) -> str:
    """The catalogue code of a key indicator given on the command line (a code or a
    Chinese name); InputError naming ``--key-indicator`` otherwise."""
    try:
        return replace(Settings(), key_indicator=text).key_indicator_code()
    except InputError:
        raise InputError("--key-indicator", f"{text!r} is not an indicator of the catalogue "
                         "(a code such as major_hazards_found, or its Chinese name)") from None


def parse_threshold(text: str) -> tuple[str, str, object]:
    """``check.param=value`` (``--threshold low_outlier.alert=0.05``) as (check id,
    keyword, value): the value read as TOML (numbers, true/false, "text"; a bare word
    is text).  InputError naming ``--threshold`` for another form or an unknown check."""
    from .findings import CHECK_FAMILIES, REPORTING_CHECKS

    head, sep, value = text.partition("=")
    check, dot, key = head.strip().partition(".")
    if not (sep and dot and check and key.strip() and value.strip()):
        raise InputError("--threshold", f"{text!r}: expected check.param=value, such as "
                         "low_outlier.alert=0.05")
    if check not in CHECK_FAMILIES and check not in REPORTING_CHECKS:
        raise InputError("--threshold", f"{check!r} is not a check; checks: "
                         + ", ".join(sorted({*CHECK_FAMILIES, *REPORTING_CHECKS})))
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return check, key.strip(), parsed


def thresholds_from_args(items) -> dict:
    """{check: {param: value}} of repeated ``--threshold check.param=value``; an
    option the check does not take is an InputError naming ``--threshold``."""
    if not items:  # the checks (and scipy.stats, 1 s) are imported only to vet an option
        return {}
    import inspect

    from .checks import CHECKS

    out: dict = {}
    for text in items or ():
        check, key, value = parse_threshold(text)
        if check in CHECKS:
            params = inspect.signature(CHECKS[check]).parameters
            takes = [n for n, p in params.items() if p.kind == p.KEYWORD_ONLY
                     and n not in ("period", "exposure", "ledger_counts")]
            if key not in params and not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                raise InputError("--threshold", f"{check} has no option {key!r}; its options: "
                                 + ", ".join(takes))
        out.setdefault(check, {})[key] = value
    return out


def with_key_indicator(text: str, key_indicator: str) -> str:
    """The text of an anquan.toml with ``key_indicator`` set (the command line's
    ``--key-indicator`` over the file's): its own top-level key_indicator line
    removed, the new one first (top-level keys precede the tables)."""
    return with_setting(text, "key_indicator", key_indicator)


def with_setting(text: str, key: str, value) -> str:
    """The text of an anquan.toml with the top-level ``key`` set to ``value`` (a text
    or an int: ``--key-indicator``, ``--lookback`` over the file's): its own
    top-level line for ``key`` removed, the new one first (top-level keys precede the
    tables)."""
    import json
    import re

    lines = text.splitlines()
    first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")),
                       len(lines))
    kept = [line for i, line in enumerate(lines)
            if i >= first_table or not re.match(rf"\s*{re.escape(key)}\s*=", line)]
    return f"{key} = {json.dumps(value)}\n" + "\n".join(kept) + "\n"
