"""The Dockerfile, checked without a Docker engine: its instructions, and that what it copies exists.

It must build from ``python:3.11-slim`` (the version we test), install ``requirements.txt`` with
the lock, copy every local module the app imports (and the templates), and run ``app.py`` as an
unprivileged user on 0.0.0.0:7860.
"""
from __future__ import annotations

import ast
import fnmatch
import json
import re
import shlex

from conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
KNOWN = {"FROM", "ENV", "RUN", "WORKDIR", "COPY", "USER", "EXPOSE", "CMD", "HEALTHCHECK", "ARG", "LABEL"}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def ignored(path: str) -> bool:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.split("/")[0], p) for p in patterns)


def copied() -> set[str]:
    sources = set()
    for word, args in instructions():
        if word == "COPY":
            parts = [p for p in shlex.split(args) if not p.startswith("--")]
            sources |= {p.rstrip("/") for p in parts[:-1]}
    return sources


def test_instructions_are_known_and_well_formed():
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert {w for w, _ in steps} <= KNOWN, {w for w, _ in steps} - KNOWN
    env = " ".join(a for w, a in steps if w == "ENV")
    assert "GRADIO_SERVER_NAME=0.0.0.0" in env and "GRADIO_SERVER_PORT=7860" in env
    assert ("EXPOSE", "7860") in steps
    cmd = [a for w, a in steps if w == "CMD"]
    assert len(cmd) == 1 and json.loads(cmd[0]) == ["python", "app.py"]
    for word, args in steps:
        if word in ("CMD", "HEALTHCHECK") and "[" in args:
            json.loads(args[args.index("["):])  # exec form must be valid JSON


def test_the_app_runs_as_an_unprivileged_user():
    steps = instructions()
    users = [i for i, (w, _) in enumerate(steps) if w == "USER"]
    assert users and steps[users[-1]][1] not in ("root", "0")
    assert users[-1] < next(i for i, (w, _) in enumerate(steps) if w == "CMD")
    assert any(w == "RUN" and "useradd" in a and steps[users[-1]][1] in a for w, a in steps)


def test_requirements_are_installed_with_the_lock_before_the_code():
    steps = instructions()
    install = next(i for i, (w, a) in enumerate(steps) if w == "RUN" and "pip install -r requirements.txt" in a)
    first_copy = next(i for i, (w, _) in enumerate(steps) if w == "COPY")
    assert set(shlex.split(steps[first_copy][1])[:-1]) == {"requirements.txt", "constraints.txt"}
    assert first_copy < install < max(i for i, (w, _) in enumerate(steps) if w == "COPY")


def test_every_copied_file_exists_and_reaches_the_build():
    for source in copied():
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
        assert not ignored(source), f"COPY {source}: left out by .dockerignore"


def test_every_local_module_the_app_imports_is_copied():
    """app.py, cli.py and what they import of ours, transitively, are in the image."""
    sources, todo, seen = copied(), ["app.py", "cli.py"], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        top = path.split("/")[0]
        assert top in sources or path in sources, f"{path} is not copied into the image"
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                module = ROOT / (name.split(".")[0] + ".py")
                if module.is_file():
                    todo.append(module.name)
    assert "templates" in sources
