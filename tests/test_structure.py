"""The house rules that a grep can check: who imports whom."""
from __future__ import annotations

import ast
import re

import pytest

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
                 ("segmenter/export.py", "@, tab or"), ("segmenter/export.py", "character (tab, carriage")}


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


# ----------------------------------------------------------------- import cycles
PACKAGES = ("segmenter", "explainers")


def module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def library_modules() -> dict[str, object]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def resolve(importer: str, is_package: bool, node, modules) -> set[str]:
    """The library modules an import statement loads (absolute or relative, module or names)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if node.level:
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    out = {target} if target in modules else set()
    for alias in node.names:  # "from . import algorithms" loads a module, not a name
        if f"{target}.{alias.name}" in modules:
            out.add(f"{target}.{alias.name}")
    return out


def import_graph() -> dict[str, set[str]]:
    """Every import inside the library, also those inside functions (a lazy import that closes a
    loop is still two modules that need each other)."""
    modules = library_modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= resolve(name, is_package, node, modules)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(out)


def test_the_graph_sees_relative_and_lazy_imports():
    graph = import_graph()
    assert "segmenter.algorithms" in graph["segmenter.model"]  # from . import algorithms as alg
    assert "explainers.local_text" in graph["explainers.analysis"]  # imported inside a function
    assert "explainers.format" in graph["explainers.chat.numbers"]  # from ..format import
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_in_the_library_outside_the_chat():
    graph = {m: {e for e in edges if not e.startswith("explainers.chat")}
             for m, edges in import_graph().items() if not m.startswith("explainers.chat")}
    assert not cycles(graph), cycles(graph)


def test_no_import_cycles_in_the_whole_library_chat_included():
    found = cycles(import_graph())
    assert not found, found
