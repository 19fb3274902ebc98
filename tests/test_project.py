"""The project's promises about itself: dependencies agree, CI runs the README's test command."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_specs() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        specs += extra
    return {_name(s): s.replace(" ", "") for s in specs}


def _environment_specs() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    specs = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            specs += [d for d in dep.get("pip", []) if not d.startswith("-")]
        elif _name(dep) not in {"python", "pip"}:
            specs.append(dep)
    return {_name(s): s.replace(" ", "") for s in specs}


def test_environment_lists_the_same_dependencies_as_pyproject():
    py, env = _pyproject_specs(), _environment_specs()
    assert set(py) == set(env), (sorted(set(py) - set(env)), sorted(set(env) - set(py)))
    assert py == env  # same version bounds too
    assert "-e ." in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make assess" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_makefile_test_target_runs_pytest_and_nbval():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_rule = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "pytest tests" in test_rule and "--nbval-lax notebooks" in test_rule


def test_console_script_is_declared():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["scripts"]["anquan"] == "anquan_analysis.cli:main"


def test_one_validator_names_the_missing_column():
    import pandas as pd
    import pytest

    from anquan_analysis.dataset import require_columns
    df = pd.DataFrame({"unit": ["甲"], "value": [1.0]})
    require_columns(df, ["unit", "value"])
    with pytest.raises(ValueError, match=r"funnel_table: missing column 'period' \(needs unit, period"):
        require_columns(df, ["unit", "period", "value"], "funnel_table")
    assert list(df.columns) == ["unit", "value"]
