"""The install files tell the truth: what the code imports, what pyproject says, what the lock pins.

* ``requirements.txt`` holds exactly the packages that the app, the CLI and the library import
  (found by walking their imports), ``requirements-dask.txt`` the optional Dask engine;
* ``pyproject.toml`` lists the same runtime dependencies and extras;
* ``constraints.txt`` pins every package ``requirements.txt`` pulls in, inside its ranges, and
  the suite runs on exactly those versions (see ``tests/lockfile.py``).
"""
from __future__ import annotations

import ast
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import lockfile
from conftest import ROOT

#: Our own top-level packages and modules (never a distribution).
OURS = {"segmenter", "explainers", "app", "app_session", "cli"}
#: Imported only when an optional feature runs; declared in the file named.
OPTIONAL = {"dask": "requirements-dask.txt", "distributed": "requirements-dask.txt",
            "umap": "requirements-dev.txt"}


def code_files() -> list[Path]:
    files = [*sorted((ROOT / "segmenter").rglob("*.py")), *sorted((ROOT / "explainers").rglob("*.py"))]
    return files + [ROOT / name for name in ("app.py", "app_session.py", "cli.py") if (ROOT / name).is_file()]


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every absolute import in a file (also those inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def third_party_imports() -> dict[str, set[str]]:
    """{top-level module: files importing it} for modules outside the standard library and ours."""
    found: dict[str, set[str]] = {}
    for path in code_files():
        for name in imported_modules(path) - OURS - set(sys.stdlib_module_names):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def declared(filename: str) -> set[str]:
    return {canonicalize_name(r.name) for r in lockfile.requirements(ROOT / filename)}


def test_runtime_requirements_are_exactly_what_the_code_imports():
    dists = metadata.packages_distributions()
    imports = third_party_imports()
    runtime = declared("requirements.txt")
    needed = {}
    for module, files in imports.items():
        assert module in dists, f"{module} (imported by {sorted(files)}) is not installed"
        if module in OPTIONAL:
            assert {canonicalize_name(d) for d in dists[module]} & declared(OPTIONAL[module]), module
            continue
        needed[module] = {canonicalize_name(d) for d in dists[module]}
    undeclared = {m: sorted(f) for m, f in imports.items() if m in needed and not needed[m] & runtime}
    assert not undeclared, f"imported but not in requirements.txt: {undeclared}"
    unused = runtime - set().union(*needed.values())
    assert not unused, f"in requirements.txt but imported nowhere: {sorted(unused)}"


def test_pyproject_lists_the_same_dependencies_and_extras():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def normal(reqs) -> set[str]:
        return {str(Requirement(str(r))) for r in reqs}

    assert normal(project["dependencies"]) == normal(lockfile.requirements(ROOT / "requirements.txt"))
    assert normal(project["optional-dependencies"]["dask"]) == \
        normal(lockfile.requirements(ROOT / "requirements-dask.txt"))
    umap = [r for r in lockfile.requirements(ROOT / "requirements-dev.txt") if r.name == "umap-learn"]
    assert normal(project["optional-dependencies"]["umap"]) == normal(umap)
    assert SpecifierSet(project["requires-python"]).contains(f"{sys.version_info.major}.{sys.version_info.minor}")
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev and "-r requirements-dask.txt" in dev


def test_constraints_pin_what_requirements_pull_in_within_their_ranges():
    pins = lockfile.pins()
    assert (ROOT / "requirements.txt").read_text().count("-c constraints.txt") == 1
    for req in lockfile.requirements(ROOT / "requirements.txt"):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {req.name}=={pins[name]}, outside requirements.txt's {req.specifier}"
    pulled_in = lockfile.closure(lockfile.requirements())
    stray = set(pins) - set(pulled_in)
    assert not stray, f"constraints.txt pins packages requirements.txt does not pull in: {sorted(stray)}"
    if sys.platform == "linux":  # the lock is written on Linux; other systems add their own packages
        missing = set(pulled_in) - set(pins)
        assert not missing, f"pulled in but not pinned (python tests/lockfile.py): {sorted(missing)}"


def test_the_suite_runs_on_the_pinned_versions():
    installed = {name: metadata.version(name) for name in lockfile.pins()}
    wrong = {n: (v, lockfile.pins()[n]) for n, v in installed.items() if v != lockfile.pins()[n]}
    assert not wrong, ("installed versions differ from constraints.txt (installed, pinned): "
                       f"{wrong}; run: python -m pip install -r requirements-dev.txt")


def test_the_space_builds_with_the_pinned_gradio():
    front = (ROOT / "README.md").read_text(encoding="utf-8").split("---")[1]
    sdk = next(line.split(":", 1)[1].strip() for line in front.splitlines() if line.startswith("sdk_version:"))
    assert lockfile.pins()["gradio"] == sdk, "README's sdk_version must be the gradio version we pin"


def test_a_missing_dask_gives_the_install_command(monkeypatch):
    from segmenter import distributed as dist
    from segmenter.errors import MissingDependencyError, SegmenterError

    monkeypatch.setitem(sys.modules, "dask", None)  # import dask now raises ImportError
    monkeypatch.setitem(sys.modules, "distributed", None)
    for call in (dist.require_dask, lambda: dist.assign_parquet_dataset(None, None, "in", "out"),
                 lambda: dist.segment_statistics_dask(None, [], []), lambda: dist.dask_client().__enter__()):
        with pytest.raises(MissingDependencyError, match="pip install -r requirements-dask.txt") as caught:
            call()
        assert isinstance(caught.value, SegmenterError)
