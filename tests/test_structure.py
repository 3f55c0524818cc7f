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
