"""The house rules that a grep can check: who imports whom."""
from __future__ import annotations

import ast
import re

from conftest import ROOT


def imports_of(path) -> set[str]:
    """Top-level names of the absolute imports in a file, including those inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_bench_imports_the_library_only():
    """Benchmarks use the library (and bench's own helpers), never the tests."""
    for path in sorted((ROOT / "bench").glob("*.py")):
        assert not imports_of(path) & {"tests", "conftest", "app_server", "test_chat_questions"}, path.name
        assert not re.search(r"sys\.path\.\w+\([^)]*tests", path.read_text(encoding="utf-8")), path.name


SCREEN_WORDS = re.compile(r"\b(tabs?|buttons?|pages?|click\w*|screens?)\b", re.I)
#: Lines where the word is the tab *character* (a CSV delimiter), not a screen.
TAB_CHARACTER = {("segmenter/load.py", '"\\t": "tab"'), ("segmenter/load.py", "Pick , ; | or tab"),
                 ("segmenter/export.py", "@, tab or")}


def test_the_library_holds_no_screen_words():
    """Words that name the app's screens belong to app.py / app_session.py, not the library."""
    found = []
    for package in ("segmenter", "explainers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if SCREEN_WORDS.search(line) and not any(f == name and bit in line for f, bit in TAB_CHARACTER):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_modules_that_keep_their_own_copy_agree_with_segmenter_constants():
    """algorithms.py, model.py and profile.py still type these values (see the constants docstring);
    until they import them, this holds them equal."""
    import numpy as np
    import pandas as pd

    from segmenter import algorithms, constants, model
    from segmenter.profile import profile_segments

    assert algorithms.NOISE == constants.NOISE
    assert model.UNSTABLE_JACCARD == constants.UNSTABLE_STABILITY
    features = pd.DataFrame({"plan": ["a", None, "b", "a"], "x": [1.0, 2.0, 3.0, 4.0]})
    profile = profile_segments(features, np.array([1, 1, 2, 2]), ["x"], ["plan"])
    assert constants.MISSING_LEVEL in profile["overall"]["categorical"]["plan"]


def test_one_jinja_environment_factory():
    """Cards, plots and local explanations share explainers.templating.environment (the chat's
    own environment is left to the chat restructure)."""
    builders = [p.relative_to(ROOT).as_posix() for p in [*(ROOT / "explainers").glob("*.py"),
                                                        *(ROOT / "segmenter").glob("*.py"), ROOT / "app_session.py"]
                if "Environment(" in p.read_text(encoding="utf-8")]
    assert builders == ["explainers/templating.py"], builders
    from explainers.templating import environment

    assert environment(markdown=True) is environment(markdown=True)
    assert environment().autoescape("card.html.j2") and not environment().autoescape("card.md.j2")


def test_one_number_formatter_and_one_markdown_escaper():
    """Numbers are formatted and Markdown escaped in explainers/format.py only (the chat's own
    fmt_pct / fmt_value / md_text are left to the chat restructure)."""
    pattern = re.compile(r"^def (fmt_\w+|md_\w+|_md_escape\w*)\(", re.M)
    owners = {}
    for path in [*(ROOT / "explainers").glob("*.py"), *(ROOT / "segmenter").glob("*.py"),
                 ROOT / "app.py", ROOT / "app_session.py", ROOT / "cli.py"]:
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            owners.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    assert all(files == ["explainers/format.py"] for files in owners.values()), owners
    assert "md_escape" in owners and "fmt_number" in owners
