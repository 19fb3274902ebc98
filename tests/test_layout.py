"""The tree as README.md describes it (issue 17: "README's 'What is where' matches the
tree", "no module over ~500 lines")."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "anquan_analysis"
# "about 500": a module may run a little over while it keeps one job
MAX_LINES = 550


def _what_is_where() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    m = re.search(r"## What is where\n+```\n(.*?)```", text, re.S)
    assert m, "README.md has no 'What is where' block"
    return m.group(1)


def test_every_module_and_package_of_the_package_is_named_in_what_is_where():
    block = _what_is_where()
    named = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*(?:\.py|/)", block))
    top = {p.name for p in PACKAGE.glob("*.py") if p.name != "__main__.py"}
    top |= {p.name + "/" for p in PACKAGE.iterdir()
            if p.is_dir() and (p / "__init__.py").is_file()}
    assert sorted(top - named) == []


def test_every_check_module_is_named_in_what_is_where():
    block = _what_is_where()
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", block))
    checks = [p.stem for p in (PACKAGE / "checks").rglob("*.py") if p.stem != "__init__"]
    assert sorted(c for c in checks if c not in words) == []


def test_every_folder_named_in_what_is_where_exists():
    block = _what_is_where()
    for folder in re.findall(r"^([a-z_]+/)", block, re.M):
        assert (ROOT / folder).is_dir(), folder
    for nb in re.findall(r"([a-z_]+\.ipynb)", block):
        assert (ROOT / "notebooks" / nb).is_file(), nb


def test_no_module_is_much_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}
